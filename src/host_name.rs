//! The name a Docker host gets in results when none is given ([`host_name_for_url`]), made
//! from its URL: the engine names an endpoint with it, and `meta.json`'s schema-1 upgrade names
//! an old folder's one host with it.
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that results can name a host without depending on the engine.

use std::path::Path;

/// Where the daemon answers when neither a flag nor `DOCKER_HOST` says otherwise.
pub const DEFAULT_SOCKET_URL: &str = "unix:///var/run/docker.sock";

/// The name of the default socket's host in results.
pub const LOCAL_HOST_NAME: &str = "local";

/// The name a host gets when none is given: `local` for the default socket, the socket's file
/// stem for another socket, `host:port` for TCP and the machine for SSH.
pub fn host_name_for_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let name = match scheme {
        "unix" => {
            if url == DEFAULT_SOCKET_URL || rest == "/run/docker.sock" {
                LOCAL_HOST_NAME.to_string()
            } else {
                Path::new(rest)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .filter(|s| !s.is_empty() && s != "docker")
                    .unwrap_or_else(|| LOCAL_HOST_NAME.to_string())
            }
        }
        _ => {
            let host = host_and_port(rest);
            match scheme {
                // The ssh port is a detail of reaching the machine, not part of its identity.
                "ssh" => host.split(':').next().unwrap_or(host).to_string(),
                _ => host.to_string(),
            }
        }
    };
    // The name must pass `check_host_name` (in `engine::endpoint`), as a name given on the
    // command line does: it is read back from results folders under the same rule.
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '@') {
                c
            } else {
                '-'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(64)
        .collect();
    if cleaned.is_empty() {
        LOCAL_HOST_NAME.to_string()
    } else {
        cleaned
    }
}

/// The `host[:port]` of a URL's part after `scheme://`: up to the path, without user info.
pub(crate) fn host_and_port(rest: &str) -> &str {
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit('@').next().unwrap_or(authority)
}

//! Docker hosts: where each one is (`--docker-host [NAME=]URL`, `--context NAME`, or
//! `DOCKER_HOST` / the default socket), what it is called in results, and how to reach it.
//!
//! Endpoints are resolved the way the docker CLI resolves them, so that existing setups work
//! unchanged: `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` give `tcp://` hosts TLS with a verified
//! server certificate, and contexts come from the CLI's own context store.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::host_name::host_and_port;
pub use crate::host_name::{DEFAULT_SOCKET_URL, LOCAL_HOST_NAME, host_name_for_url};
use crate::secrets::without_url_credentials;

/// One Docker host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Name in results and reports (the `host` column).
    pub name: String,
    /// URL as given, credentials included; only [`Endpoint::display_url`] is ever written.
    pub url: String,
    /// Client TLS files, for `tcp://` hosts that use TLS.
    pub tls: Option<TlsFiles>,
    /// The docker CLI context it came from.
    pub context: Option<String>,
}

/// The files of a TLS connection: the CA that must have signed the daemon's certificate, and the
/// client's own certificate and key (used when present, as the daemon may require them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// `ca.pem`.
    pub ca: PathBuf,
    /// `cert.pem`.
    pub cert: PathBuf,
    /// `key.pem`.
    pub key: PathBuf,
}

impl TlsFiles {
    /// `ca.pem`, `cert.pem` and `key.pem` in `dir`.
    pub fn in_dir(dir: &Path) -> TlsFiles {
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

/// A `--docker-host` or `--context` that cannot be used; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EndpointError(pub String);

/// How the bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// A local socket.
    Unix,
    /// TCP, with TLS when the endpoint has TLS files.
    Tcp,
    /// The docker CLI's `ssh://`: `docker system dial-stdio` on the remote machine.
    Ssh,
}

impl Endpoint {
    /// Where the docker CLI would connect: `DOCKER_HOST`, else the current context
    /// (`DOCKER_CONTEXT`, else `currentContext` in the CLI's config.json, as Docker Desktop sets
    /// it), else the default socket; TLS from `DOCKER_TLS_VERIFY`.
    pub fn from_environment() -> Result<Endpoint, EndpointError> {
        let docker_host_set = std::env::var("DOCKER_HOST").is_ok_and(|h| !h.is_empty());
        if !docker_host_set
            && let Some(context) = current_context()?
            && context != "default"
        {
            return Endpoint::from_context(&context);
        }
        Endpoint::from_docker_host()
    }

    /// `DOCKER_HOST`, else the default socket: the CLI's `default` context.
    fn from_docker_host() -> Result<Endpoint, EndpointError> {
        let url = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| DEFAULT_SOCKET_URL.to_string());
        Endpoint::from_url(None, &url, "DOCKER_HOST")
    }

    /// Whether the endpoint is this machine: a unix socket, or a TCP host that is `localhost`
    /// or a loopback address.
    pub fn is_on_this_machine(&self) -> bool {
        let Some((_, rest)) = self.url.split_once("://") else {
            return false;
        };
        if self.scheme() == Scheme::Unix {
            return true;
        }
        let (host, _) = split_host_port(host_and_port(rest));
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// Parses a `--docker-host` value: `[NAME=]URL`.
    pub fn parse_flag(text: &str) -> Result<Endpoint, EndpointError> {
        let (name, url) = match text.split_once('=') {
            Some((name, url)) if !name.contains("://") => (Some(name), url),
            _ => (None, text),
        };
        let shown = without_url_credentials(text);
        Endpoint::from_url(name, url, &format!("--docker-host `{shown}`"))
    }

    fn from_url(name: Option<&str>, url: &str, origin: &str) -> Result<Endpoint, EndpointError> {
        let scheme = scheme_of(url).ok_or_else(|| {
            EndpointError(format!(
                "{origin}: `{}` is not a Docker endpoint; use unix:///path, tcp://host:port or ssh://user@host",
                without_url_credentials(url)
            ))
        })?;
        let name = match name {
            Some(name) => check_host_name(name, origin)?,
            None => host_name_for_url(url),
        };
        let tls = match scheme {
            Scheme::Tcp if tls_verify_requested() => Some(TlsFiles::in_dir(&cert_dir()?)),
            _ => None,
        };
        Ok(Endpoint {
            name,
            url: url.to_string(),
            tls,
            context: None,
        })
    }

    /// The endpoint of a docker CLI context, read from the CLI's context store (in
    /// `$DOCKER_CONFIG`, else `~/.docker`). `default` is the CLI's implicit context:
    /// `DOCKER_HOST` or the default socket.
    pub fn from_context(name: &str) -> Result<Endpoint, EndpointError> {
        if name == "default" {
            let mut endpoint = Endpoint::from_docker_host()?;
            endpoint.name = name.to_string();
            endpoint.context = Some(name.to_string());
            return Ok(endpoint);
        }
        let store = docker_config_dir()?.join("contexts");
        let id = context_id(name);
        let meta_path = store.join("meta").join(&id).join("meta.json");
        let text = std::fs::read_to_string(&meta_path).map_err(|e| {
            EndpointError(format!(
                "--context {name}: the docker CLI has no such context ({}: {e}); `docker context ls` lists them",
                meta_path.display()
            ))
        })?;
        let meta: ContextMeta = serde_json::from_str(&text).map_err(|e| {
            EndpointError(format!(
                "--context {name}: {} is not a docker context: {e}",
                meta_path.display()
            ))
        })?;
        let docker = meta.endpoints.docker.ok_or_else(|| {
            EndpointError(format!(
                "--context {name}: {} has no docker endpoint",
                meta_path.display()
            ))
        })?;
        let origin = format!("--context {name} ({})", meta_path.display());
        let scheme = scheme_of(&docker.host).ok_or_else(|| {
            EndpointError(format!(
                "{origin}: `{}` is not an endpoint stagebench can reach; use unix://, tcp:// or ssh://",
                without_url_credentials(&docker.host)
            ))
        })?;
        let tls_dir = store.join("tls").join(&id).join("docker");
        let tls = match scheme {
            Scheme::Tcp if tls_dir.is_dir() => {
                if docker.skip_tls_verify {
                    return Err(EndpointError(format!(
                        "{origin}: the context sets SkipTLSVerify, and stagebench only talks TLS to a daemon whose certificate it verified"
                    )));
                }
                Some(TlsFiles::in_dir(&tls_dir))
            }
            _ => None,
        };
        Ok(Endpoint {
            name: check_host_name(name, &origin)?,
            url: docker.host,
            tls,
            context: Some(name.to_string()),
        })
    }

    /// How the endpoint is reached.
    pub fn scheme(&self) -> Scheme {
        scheme_of(&self.url).unwrap_or(Scheme::Unix)
    }

    /// Where a `tcp://` or `ssh://` endpoint is: its `host[:port]` and, for SSH, the user it
    /// names. A unix socket's path instead, with no user.
    pub fn address(&self) -> (&str, Option<&str>) {
        let Some((_, rest)) = self.url.split_once("://") else {
            return (&self.url, None);
        };
        if self.scheme() == Scheme::Unix {
            return (rest, None);
        }
        let authority = rest.split('/').next().unwrap_or(rest);
        let user = authority
            .rsplit_once('@')
            .map(|(user, _)| user.split(':').next().unwrap_or(user))
            .filter(|user| !user.is_empty());
        (host_and_port(rest), user)
    }

    /// The URL without credentials (an `ssh://` URL keeps its user): what results and
    /// messages show.
    pub fn display_url(&self) -> String {
        without_url_credentials(&self.url)
    }
}

/// The docker CLI context store keys a context by the SHA-256 of its name.
fn context_id(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(serde::Deserialize)]
struct ContextMeta {
    #[serde(rename = "Endpoints", default)]
    endpoints: ContextEndpoints,
}

#[derive(serde::Deserialize, Default)]
struct ContextEndpoints {
    docker: Option<ContextDockerEndpoint>,
}

#[derive(serde::Deserialize)]
struct ContextDockerEndpoint {
    #[serde(rename = "Host")]
    host: String,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

fn scheme_of(url: &str) -> Option<Scheme> {
    let (scheme, rest) = url.split_once("://")?;
    if rest.is_empty() {
        return None;
    }
    match scheme {
        "unix" => Some(Scheme::Unix),
        "tcp" => Some(Scheme::Tcp),
        "ssh" => Some(Scheme::Ssh),
        _ => None,
    }
}

/// The docker CLI turns TLS verification on for any non-empty `DOCKER_TLS_VERIFY`.
fn tls_verify_requested() -> bool {
    std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty())
}

/// `DOCKER_CERT_PATH`, else the docker CLI's configuration folder.
fn cert_dir() -> Result<PathBuf, EndpointError> {
    match std::env::var("DOCKER_CERT_PATH") {
        Ok(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => docker_config_dir(),
    }
}

/// The docker CLI's current context: `DOCKER_CONTEXT`, else `currentContext` in config.json;
/// `None` when neither names one (or there is no configuration at all).
fn current_context() -> Result<Option<String>, EndpointError> {
    if let Ok(name) = std::env::var("DOCKER_CONTEXT")
        && !name.is_empty()
    {
        return Ok(Some(name));
    }
    let Ok(dir) = docker_config_dir() else {
        return Ok(None);
    };
    let path = dir.join("config.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let config: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        EndpointError(format!(
            "{}: not valid JSON ({e}), so the docker CLI's current context cannot be read",
            path.display()
        ))
    })?;
    Ok(config
        .get("currentContext")
        .and_then(serde_json::Value::as_str)
        .filter(|name| !name.is_empty())
        .map(str::to_string))
}

/// `DOCKER_CONFIG`, else `~/.docker`.
fn docker_config_dir() -> Result<PathBuf, EndpointError> {
    if let Ok(dir) = std::env::var("DOCKER_CONFIG")
        && !dir.is_empty()
    {
        return Ok(PathBuf::from(dir));
    }
    std::env::var("HOME")
        .ok()
        .filter(|h| !h.is_empty())
        .map(|home| Path::new(&home).join(".docker"))
        .ok_or_else(|| {
            EndpointError(
                "neither DOCKER_CONFIG nor HOME is set, so the docker CLI's configuration cannot be found"
                    .to_string(),
            )
        })
}

/// A host name is written in CSV cells and file names, so it is kept to a safe alphabet.
fn check_host_name(name: &str, origin: &str) -> Result<String, EndpointError> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '@'));
    if valid {
        Ok(name.to_string())
    } else {
        Err(EndpointError(format!(
            "{origin}: host name `{name}` must start with a letter or digit and hold only letters, digits and _ . - : @ (at most 64)"
        )))
    }
}

/// `host:port`, `[v6]:port` or `host` apart; the port is `None` when absent or not a number.
pub(super) fn split_host_port(address: &str) -> (&str, Option<u16>) {
    if let Some(v6) = address.strip_prefix('[') {
        let (host, rest) = v6.split_once(']').unwrap_or((v6, ""));
        return (host, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match address.split_once(':') {
        Some((host, port)) => (host, port.parse().ok()),
        None => (address, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_split_off_addresses() {
        assert_eq!(split_host_port("host:2376"), ("host", Some(2376)));
        assert_eq!(split_host_port("host"), ("host", None));
        assert_eq!(split_host_port("localhost:x"), ("localhost", None));
        assert_eq!(split_host_port("[::1]:22"), ("::1", Some(22)));
        assert_eq!(split_host_port("[::1]"), ("::1", None));
    }

    #[test]
    fn names_come_from_the_flag_or_the_url() {
        assert_eq!(host_name_for_url(DEFAULT_SOCKET_URL), "local");
        assert_eq!(host_name_for_url("unix:///run/sb/sb2.sock"), "sb2");
        assert_eq!(host_name_for_url("tcp://127.0.0.1:2376"), "127.0.0.1:2376");
        assert_eq!(host_name_for_url("ssh://me@build-box:2222"), "build-box");
        let named = Endpoint::parse_flag("fast=unix:///tmp/x.sock").unwrap();
        assert_eq!(
            (named.name.as_str(), named.url.as_str()),
            ("fast", "unix:///tmp/x.sock")
        );
        assert_eq!(named.scheme(), Scheme::Unix);
        let unnamed = Endpoint::parse_flag("ssh://me@build-box").unwrap();
        assert_eq!(
            (unnamed.name.as_str(), unnamed.scheme()),
            ("build-box", Scheme::Ssh)
        );
        // A derived name is read back from results folders under the same rule as a given one.
        let long = format!("unix:///run/{}.sock", "x".repeat(200));
        for url in [
            "unix:///tmp/.hidden.sock",
            "tcp://[::1]:2375",
            "../../../escape",
            "tcp://:2375",
            long.as_str(),
        ] {
            let name = host_name_for_url(url);
            assert!(check_host_name(&name, url).is_ok(), "{url} -> {name}");
            assert!(
                crate::names::NameKind::Host.accepts(&name),
                "{url} -> {name}"
            );
        }
    }

    #[test]
    fn bad_endpoints_are_refused_by_name() {
        let error = Endpoint::parse_flag("http://example:80").unwrap_err();
        assert!(
            error.0.contains("--docker-host `http://example:80`"),
            "{error}"
        );
        let error = Endpoint::parse_flag("bad name=unix:///x.sock").unwrap_err();
        assert!(error.0.contains("host name `bad name`"), "{error}");
        assert!(Endpoint::parse_flag("unix://").is_err());
    }

    #[test]
    fn credentials_never_reach_the_results() {
        let endpoint = Endpoint::parse_flag("tcp://admin:s3cret@10.0.0.5:2375").unwrap();
        assert_eq!(endpoint.display_url(), "tcp://10.0.0.5:2375");
        assert_eq!(endpoint.name, "10.0.0.5:2375");
        let ssh = Endpoint::parse_flag("ssh://me@box/path").unwrap();
        assert_eq!(
            ssh.display_url(),
            "ssh://me@box/path",
            "an ssh user says whom to log in as"
        );
        let error = Endpoint::parse_flag("web=http://admin:s3cret@box:80").unwrap_err();
        assert!(
            !error.0.contains("s3cret") && !error.0.contains("admin"),
            "{error}"
        );
        assert!(error.0.contains("`web=http://box:80`"), "{error}");
    }

    #[test]
    fn context_ids_are_sha256_of_the_name() {
        // The docker CLI stores a context under the hex SHA-256 of its name; the integration
        // tests check a context made by the CLI itself.
        assert_eq!(
            context_id(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

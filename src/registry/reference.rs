//! `--registry HOST[:PORT][/PREFIX]`, checked against the grammar Docker's own references use
//! (distribution's `reference` package), so that every repository stagebench names in it is one
//! that `docker push` and the registry accept.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::scenario::{IMAGE_NAMESPACE, image_repository_for, repository_component_for};

/// The longest repository path (without the host) distribution accepts.
const MAX_PATH_CHARS: usize = 255;

/// The longest `PREFIX/stagebench` accepted.
const MAX_PREFIX_CHARS: usize = 128;

/// A parsed `--registry` value: a registry host, and the path prefix under which everything
/// stagebench pushes lives (`PREFIX/stagebench/<scenario>/...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Host name, IPv4 address or bracketed IPv6 address (`[::1]`), as given.
    host: String,
    /// The port, when given.
    port: Option<u16>,
    /// The path components after the host, each checked; empty without a prefix.
    prefix: Vec<String>,
}

impl Registry {
    /// Parses `HOST[:PORT][/PREFIX]`; the error is one sentence naming `--registry`.
    pub fn parse(value: &str) -> Result<Registry, String> {
        let refuse = |why: &str| format!("--registry `{}` {why}", value.escape_debug());
        if value.is_empty() {
            return Err("--registry is empty; give HOST[:PORT][/PREFIX], for example `127.0.0.1:5000` or `ghcr.io/my-org`".to_string());
        }
        if value.contains("://") {
            return Err(refuse(
                "has a scheme; give HOST[:PORT][/PREFIX] without it (stagebench speaks plain http to loopback registries and https to every other)",
            ));
        }
        if value.contains('@') {
            return Err(refuse(
                "holds credentials or a digest; give HOST[:PORT][/PREFIX] only, and put credentials in the docker config with `docker login`",
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse(&format!(
                "holds the character {:?}, which no registry location has",
                c
            )));
        }
        let (address, prefix) = match value.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (value, None),
        };
        let (host, port) = split_host_port(address).map_err(|why| refuse(&why))?;
        check_host(host).map_err(|why| refuse(&why))?;
        // Docker reads the first component of a reference as a registry only when it has a `.`
        // or a `:` or is `localhost`; anything else is a namespace on Docker Hub, where pushes
        // would go instead.
        let names_a_registry =
            host.contains('.') || host.starts_with('[') || port.is_some() || host == "localhost";
        if !names_a_registry {
            return Err(refuse(&format!(
                "starts with `{host}`, which Docker reads as a Docker Hub namespace, not a registry host; give a host with a `.` or a `:PORT`, or localhost"
            )));
        }
        let mut components = Vec::new();
        if let Some(prefix) = prefix {
            for component in prefix.split('/') {
                if component.is_empty() {
                    return Err(refuse(
                        "has an empty path component (`//` or a `/` at an end)",
                    ));
                }
                if !is_path_component(component) {
                    return Err(refuse(&format!(
                        "has the path component `{component}`; a component is lower-case letters and digits, joined by single `.` or `_`, by `__`, or by dashes"
                    )));
                }
                components.push(component.to_string());
            }
        }
        let registry = Registry {
            host: host.to_string(),
            port,
            prefix: components,
        };
        // Distribution takes repository paths of at most 255 characters; a prefix of more than
        // half of that leaves too little for `stagebench/<scenario>/<name>`. Longer scenario and
        // variant names still fit most prefixes; a path past the limit is refused by the
        // registry itself, in the answer to the push.
        if registry.namespace_path().len() > MAX_PREFIX_CHARS {
            return Err(refuse(&format!(
                "has a prefix of more than {MAX_PREFIX_CHARS} characters with /stagebench, which leaves too little of the {MAX_PATH_CHARS} a repository path may have for scenario and variant names"
            )));
        }
        Ok(registry)
    }

    /// `HOST[:PORT]`: the address the docker CLI keys credentials by, and the key of the build's
    /// X-Registry-Config map.
    pub fn server(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// Whether the registry is on this machine (127.0.0.0/8, `localhost`, `[::1]`): stagebench
    /// speaks plain http to it, as dockerd does by default, and https to every other.
    pub fn is_loopback(&self) -> bool {
        if self.host == "localhost" {
            return true;
        }
        if let Some(inner) = self
            .host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
        {
            return inner.parse::<Ipv6Addr>().is_ok_and(|a| a.is_loopback());
        }
        self.host.parse::<Ipv4Addr>().is_ok_and(|a| a.is_loopback())
    }

    /// `http://HOST[:PORT]` or `https://HOST[:PORT]` ([`Registry::is_loopback`]).
    pub fn base_url(&self) -> String {
        let scheme = if self.is_loopback() { "http" } else { "https" };
        format!("{scheme}://{}", self.server())
    }

    /// `PREFIX/stagebench` (or `stagebench` without a prefix): the path everything stagebench
    /// pushes lives under.
    pub fn namespace_path(&self) -> String {
        let namespace = IMAGE_NAMESPACE.trim_end_matches('/');
        if self.prefix.is_empty() {
            namespace.to_string()
        } else {
            format!("{}/{namespace}", self.prefix.join("/"))
        }
    }

    /// `PREFIX/stagebench/<scenario>/<name>`, the repository path (without the host) as the
    /// registry's API names it. The scenario and `name` (a variant or stage name) are each made
    /// one path component by the rule of local image repositories
    /// ([`crate::scenario::repository_component_for`]), so a scenario has the same component
    /// here as in `stagebench/<scenario>` locally.
    pub fn repository_path(&self, scenario: &str, name: &str) -> String {
        let prefix = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix.join("/"))
        };
        format!(
            "{prefix}{}/{}",
            image_repository_for(scenario),
            repository_component_for(name)
        )
    }

    /// `HOST[:PORT]/PREFIX/stagebench/<scenario>/<name>`: the repository to tag and push as
    /// ([`Registry::repository_path`] with the host in front).
    pub fn repository(&self, scenario: &str, name: &str) -> String {
        format!("{}/{}", self.server(), self.repository_path(scenario, name))
    }

    /// Whether `repository_path` (as the registry's API names it, without the host) lies under
    /// `PREFIX/stagebench/`, where everything stagebench pushes lives, and is a well-formed
    /// path: only such a repository is stagebench's to delete from.
    pub fn owns(&self, repository_path: &str) -> bool {
        let Some(rest) = repository_path
            .strip_prefix(&self.namespace_path())
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return false;
        };
        repository_path.len() <= MAX_PATH_CHARS && rest.split('/').all(is_path_component)
    }
}

impl fmt::Display for Registry {
    /// As given: `HOST[:PORT][/PREFIX]` (it can hold nothing secret, credentials are refused).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.server())?;
        for component in &self.prefix {
            write!(f, "/{component}")?;
        }
        Ok(())
    }
}

/// Whether `text` is one path component of a repository: `[a-z0-9]+` joined by `.`, `_`, `__`
/// or one or more `-`, as distribution's reference grammar has it.
pub(crate) fn is_path_component(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(|&b| alnum(b)) || !bytes.last().is_some_and(|&b| alnum(b)) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &text[start..i];
        let fine = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !fine {
            return false;
        }
    }
    true
}

/// Whether `text` is a tag: a word character, then up to 127 word characters, `.` or `-`.
pub(crate) fn is_tag(text: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.len() <= 128
        && text.starts_with(word)
        && text.chars().all(|c| word(c) || c == '.' || c == '-')
}

/// `HOST` and the port of `HOST[:PORT]` (the host may be a bracketed IPv6 address).
fn split_host_port(address: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if address.starts_with('[') {
        match address.find(']') {
            Some(end) => {
                let (host, rest) = address.split_at(end + 1);
                match rest.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None if rest.is_empty() => (host, None),
                    None => {
                        return Err(format!(
                            "has `{rest}` after the IPv6 address; give [ADDRESS]:PORT"
                        ));
                    }
                }
            }
            None => return Err("has a `[` without its `]`".to_string()),
        }
    } else {
        match address.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (address, None),
        }
    };
    let port = match port {
        None => None,
        Some(text) => match text.parse::<u16>() {
            Ok(port)
                if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() =>
            {
                Some(port)
            }
            _ => {
                return Err(format!(
                    "has the port `{text}`; a port is a whole number from 1 to 65535 (a tag or digest does not belong in it)"
                ));
            }
        },
    };
    Ok((host, port))
}

/// A host name (`.`-separated labels of letters, digits and inner `-`), an IPv4 address, or an
/// IPv6 address in brackets.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("has no host; give HOST[:PORT][/PREFIX]".to_string());
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("has `{host}`, which is not an IPv6 address")),
        };
    }
    let label_fine = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label.starts_with(|c: char| c.is_ascii_alphanumeric())
            && label.ends_with(|c: char| c.is_ascii_alphanumeric())
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if host.len() > 253 || !host.split('.').all(label_fine) {
        return Err(format!(
            "has the host `{host}`; a host is letters, digits and `-` in labels joined by single `.`, or an IP address"
        ));
    }
    Ok(())
}

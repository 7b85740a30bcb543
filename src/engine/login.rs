//! Registry logins the engine hands to its daemon: with each push and pull (`X-Registry-Auth`),
//! with each build (`X-Registry-Config`, which the classic builder reads), and through the
//! BuildKit session (see `session`), where BuildKit asks for them by host.

use std::collections::HashMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use bollard::BollardRequest;
use bollard::auth::DockerCredentials;

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryLogin {
    /// The registry as image references name it: `host[:port]`, e.g. `127.0.0.1:5000`.
    pub server: String,
    /// The user name.
    pub username: String,
    /// The password or token; never printed.
    pub password: String,
}

impl fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryLogin")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The registry host of an image reference (`127.0.0.1:5000/app:1` → `127.0.0.1:5000`), or
/// `None` for an image of the daemon's default registry (`busybox`, `library/debian`): as
/// Docker reads a reference, its first component names a registry only when it holds a `.` or
/// a `:` or is `localhost`.
pub(super) fn registry_host(reference: &str) -> Option<&str> {
    let (first, _) = reference.split_once('/')?;
    (first.contains(['.', ':']) || first == "localhost").then_some(first)
}

/// The login for `host` among `logins`, if there is one.
pub(super) fn login_for<'a>(logins: &'a [RegistryLogin], host: &str) -> Option<&'a RegistryLogin> {
    logins.iter().find(|login| login.server == host)
}

/// What the daemon's `X-Registry-Auth` header carries for a push or pull of `reference`: the
/// login of its registry, or an empty one, which the daemon takes as anonymous. A push needs
/// the header even then: without it dockerd 20.10 reads the body as the login and refuses the
/// empty one.
pub(super) fn auth_header(logins: &[RegistryLogin], reference: &str) -> DockerCredentials {
    registry_host(reference)
        .and_then(|host| login_for(logins, host))
        .map(credentials)
        .unwrap_or_default()
}

/// What the daemon's `X-Registry-Config` header carries for a build: every login, by server.
pub(super) fn config_header(logins: &[RegistryLogin]) -> HashMap<String, DockerCredentials> {
    logins
        .iter()
        .map(|login| (login.server.clone(), credentials(login)))
        .collect()
}

fn credentials(login: &RegistryLogin) -> DockerCredentials {
    DockerCredentials {
        username: Some(login.username.clone()),
        password: Some(login.password.clone()),
        serveraddress: Some(login.server.clone()),
        ..DockerCredentials::default()
    }
}

/// `text` with every login's password replaced: an error the daemon relays is shown and
/// recorded, and no password may reach either.
pub(super) fn without_passwords(logins: &[RegistryLogin], text: &str) -> String {
    logins
        .iter()
        .filter(|login| !login.password.is_empty())
        .fold(text.to_string(), |text, login| {
            text.replace(&login.password, "<redacted>")
        })
}

/// The headers that carry logins to the daemon.
const LOGIN_HEADERS: [&str; 2] = ["X-Registry-Auth", "X-Registry-Config"];

/// `request` with its login headers in the base64 alphabet the daemon reads. bollard encodes
/// them with the standard alphabet, but dockerd decodes them with the URL-safe one and, when a
/// `+` or `/` makes that fail, silently goes on without any login: a password would then work
/// or not by the accident of its encoding. Every request of an engine passes through here.
pub(super) fn url_safe_login_headers(mut request: BollardRequest) -> BollardRequest {
    for name in LOGIN_HEADERS {
        let Some(value) = request.headers().get(name) else {
            continue;
        };
        let Ok(decoded) = STANDARD.decode(value.as_bytes()) else {
            continue;
        };
        if let Ok(value) = http::HeaderValue::from_str(&URL_SAFE.encode(decoded)) {
            request.headers_mut().insert(name, value);
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(server: &str) -> RegistryLogin {
        RegistryLogin {
            server: server.to_string(),
            username: "ci".to_string(),
            password: "s3cret-pass".to_string(),
        }
    }

    #[test]
    fn the_registry_host_is_the_first_component_when_docker_reads_it_as_one() {
        assert_eq!(
            registry_host("127.0.0.1:5000/app:1"),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            registry_host("registry.example:443/a/b"),
            Some("registry.example:443")
        );
        assert_eq!(registry_host("localhost/app"), Some("localhost"));
        assert_eq!(registry_host("library/debian:bookworm"), None);
        assert_eq!(registry_host("busybox"), None);
        assert_eq!(registry_host("busybox:1.36"), None);
    }

    #[test]
    fn a_push_or_pull_carries_the_login_of_its_registry_only() {
        let logins = [login("127.0.0.1:5000"), login("127.0.0.1:6000")];
        let header = auth_header(&logins, "127.0.0.1:6000/private/base:1");
        assert_eq!(header.serveraddress.as_deref(), Some("127.0.0.1:6000"));
        assert_eq!(header.username.as_deref(), Some("ci"));
        assert_eq!(header.password.as_deref(), Some("s3cret-pass"));
        let anonymous = auth_header(&logins, "127.0.0.1:7000/app:1");
        assert_eq!(anonymous.username, None);
        assert_eq!(anonymous.password, None);
        assert_eq!(auth_header(&logins, "busybox").password, None);
    }

    #[test]
    fn a_build_carries_every_login_by_server() {
        let header = config_header(&[login("127.0.0.1:5000"), login("localhost:6000")]);
        assert_eq!(header.len(), 2);
        assert_eq!(
            header["localhost:6000"].serveraddress.as_deref(),
            Some("localhost:6000")
        );
    }

    #[test]
    fn login_headers_are_sent_in_the_url_safe_alphabet() {
        // Bytes whose standard encoding holds both `+` and `/`.
        let json = [0xfb_u8, 0xff, 0xbf];
        assert_eq!(STANDARD.encode(json), "+/+/");
        let request = http::Request::post("/images/x/push")
            .header("X-Registry-Auth", STANDARD.encode(json))
            .header("X-Other", "+/+/")
            .body(bollard::body_full(bytes::Bytes::new()))
            .unwrap();
        let request = url_safe_login_headers(request);
        assert_eq!(request.headers()["X-Registry-Auth"], "-_-_");
        assert_eq!(request.headers()["X-Other"], "+/+/");
    }

    #[test]
    fn debug_never_prints_the_password() {
        let printed = format!("{:?}", login("127.0.0.1:5000"));
        assert!(printed.contains("127.0.0.1:5000"), "{printed}");
        assert!(!printed.contains("s3cret-pass"), "{printed}");
    }

    #[test]
    fn passwords_are_taken_out_of_error_text() {
        let text = without_passwords(&[login("h:1")], "denied for ci:s3cret-pass at h:1");
        assert_eq!(text, "denied for ci:<redacted> at h:1");
    }
}

//! Registry credentials as the docker CLI has them, so that `docker login` is all a user does:
//! `auths` entries of config.json (`auth` base64, `username` + `password`, `identitytoken`),
//! `credHelpers` per registry and `credsStore` for all, both through
//! `docker-credential-<name> get`.
//!
//! The reading is the `docker_credential` crate's; stagebench only opens the file itself, so
//! that messages name the file and tests can point at a folder without changing the process
//! environment. The crate's own messages for a failing helper carry the helper's whole output,
//! so they are replaced by a sentence naming the helper.

use std::collections::HashMap;
use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use base64::Engine;
use bollard::auth::DockerCredentials;
use docker_credential::{CredentialRetrievalError, DockerCredential};

use super::RegistryError;

/// The docker CLI's configuration file in its folder.
pub const CONFIG_FILE: &str = "config.json";

/// Credentials for one registry. Its `Debug` never shows the password or token.
#[derive(Clone, PartialEq, Eq)]
pub enum RegistryCredentials {
    /// A user name and password (or access token used as one).
    Password {
        /// The user name.
        username: String,
        /// The password; never printed.
        password: String,
    },
    /// An identity token (a refresh token for the registry's token service), as `docker login`
    /// stores for some registries; never printed.
    IdentityToken(String),
}

impl fmt::Debug for RegistryCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryCredentials::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            RegistryCredentials::IdentityToken(_) => {
                f.debug_tuple("IdentityToken").field(&"<redacted>").finish()
            }
        }
    }
}

impl RegistryCredentials {
    /// The password or token, for redaction from build output.
    pub fn secret(&self) -> &str {
        match self {
            RegistryCredentials::Password { password, .. } => password,
            RegistryCredentials::IdentityToken(token) => token,
        }
    }

    /// `Authorization: Basic ...` for these credentials; none for an identity token, which only
    /// a token service takes.
    pub(crate) fn basic_authorization(&self) -> Option<String> {
        match self {
            RegistryCredentials::Password { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            RegistryCredentials::IdentityToken(_) => None,
        }
    }

    /// The credentials as bollard sends them to the daemon for `server` (`HOST[:PORT]`): the
    /// X-Registry-Auth of a push or pull.
    pub fn docker_credentials(&self, server: &str) -> DockerCredentials {
        match self {
            RegistryCredentials::Password { username, password } => DockerCredentials {
                username: Some(username.clone()),
                password: Some(password.clone()),
                serveraddress: Some(server.to_string()),
                ..DockerCredentials::default()
            },
            RegistryCredentials::IdentityToken(token) => DockerCredentials {
                identitytoken: Some(token.clone()),
                serveraddress: Some(server.to_string()),
                ..DockerCredentials::default()
            },
        }
    }

    /// The X-Registry-Config map of a build (its `cache_from` and pushes): these credentials
    /// keyed by `server`.
    pub fn build_credentials(&self, server: &str) -> HashMap<String, DockerCredentials> {
        HashMap::from([(server.to_string(), self.docker_credentials(server))])
    }
}

/// The docker CLI's configuration folder: `DOCKER_CONFIG`, else `~/.docker`; none without
/// either variable.
pub fn docker_config_dir() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".docker")))
}

/// The credentials `config_dir`'s config.json holds for `server` (`HOST[:PORT]`), asking a
/// credential helper when it names one; none when the file does not exist or has nothing for
/// `server`.
pub fn read_credentials(
    config_dir: &Path,
    server: &str,
) -> Result<Option<RegistryCredentials>, RegistryError> {
    let config = config_dir.join(CONFIG_FILE);
    let failed = |reason: String| RegistryError::Credentials {
        registry: server.to_string(),
        config: config.clone(),
        reason,
    };
    let file = match std::fs::File::open(&config) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(failed(format!("cannot open it: {error}"))),
    };
    match docker_credential::get_credential_from_reader(BufReader::new(file), server) {
        Ok(DockerCredential::UsernamePassword(username, password)) => {
            Ok(Some(RegistryCredentials::Password { username, password }))
        }
        Ok(DockerCredential::IdentityToken(token)) => {
            Ok(Some(RegistryCredentials::IdentityToken(token)))
        }
        Err(CredentialRetrievalError::NoCredentialConfigured) => Ok(None),
        Err(error) => Err(failed(credential_error_sentence(&error, server))),
    }
}

/// What went wrong, without the helper's output (which may hold anything).
fn credential_error_sentence(error: &CredentialRetrievalError, server: &str) -> String {
    match error {
        CredentialRetrievalError::HelperCommunicationError => {
            "its credential helper (credHelpers or credsStore) cannot be run; is docker-credential-<name> on PATH?".to_string()
        }
        CredentialRetrievalError::MalformedHelperResponse => {
            "its credential helper answered with something other than {\"Username\", \"Secret\"} JSON".to_string()
        }
        CredentialRetrievalError::HelperFailure { helper, .. } => {
            format!("`{helper} get` failed for {server}")
        }
        CredentialRetrievalError::CredentialDecodingError => {
            format!("the `auth` of auths.{server} is not base64 of USER:PASSWORD")
        }
        CredentialRetrievalError::CredentialMismatchError => format!(
            "auths.{server} has an `auth` that does not match its `username` and `password`"
        ),
        CredentialRetrievalError::ConfigReadError => "it is not a docker config JSON file".to_string(),
        CredentialRetrievalError::ConfigNotFound | CredentialRetrievalError::NoCredentialConfigured => {
            "it has no credentials for it".to_string()
        }
    }
}

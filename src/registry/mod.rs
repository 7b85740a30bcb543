//! The container registry the CI-style cache modes keep their cache and prebuilt stages in
//! (`--registry HOST[:PORT][/PREFIX]`), independent of the Docker daemon.
//!
//! CI builds start on machines with an empty daemon and find their cache in a registry, so
//! that is what those modes measure; stagebench talks to the registry itself, not through the
//! daemon, for three things the daemon cannot tell it: whether the registry answers and takes
//! the user's credentials before any build starts ([`RegistryClient::check`]), how many bytes a
//! pushed cache occupies ([`RegistryClient::manifest_bytes`]), and removing what a run pushed
//! ([`RegistryClient::delete_tag`]).
//!
//! Everything stagebench pushes lives under `PREFIX/stagebench/<scenario>/` in the registry
//! ([`Registry::repository`]), and [`Registry::owns`] is the one test of whether a repository is
//! stagebench's to delete: a registry usually holds other people's images too.
//!
//! Credentials come from the docker CLI's own configuration ([`credentials`]) and are never
//! printed, recorded or written anywhere.

mod client;
pub mod credentials;
mod error;
mod reference;

#[cfg(test)]
mod tests;

pub use client::{Deleted, REQUEST_TIMEOUT_SECONDS, RegistryClient};
pub use credentials::{RegistryCredentials, docker_config_dir, read_credentials};
pub use error::RegistryError;
pub use reference::Registry;

use std::path::{Path, PathBuf};

/// A registry as a run uses it: where it is, and the credentials for it read once from the
/// docker config when the run's settings were made.
#[derive(Debug, Clone)]
pub struct RegistryAccess {
    /// Where the registry is.
    pub registry: Registry,
    /// The credentials the docker config holds for [`Registry::server`], if any.
    pub credentials: Option<RegistryCredentials>,
    /// The docker config file the credentials were looked up in (it may not exist), named in
    /// messages about them.
    pub docker_config: PathBuf,
}

impl RegistryAccess {
    /// `registry` with the credentials the docker CLI would use for it: from `DOCKER_CONFIG`'s
    /// config.json, else `~/.docker/config.json` (none when neither exists).
    pub fn resolve(registry: Registry) -> Result<RegistryAccess, RegistryError> {
        let config_dir = docker_config_dir().unwrap_or_else(|| PathBuf::from(".docker"));
        RegistryAccess::resolve_in(registry, &config_dir)
    }

    /// As [`RegistryAccess::resolve`], with the docker config folder given.
    pub fn resolve_in(
        registry: Registry,
        config_dir: &Path,
    ) -> Result<RegistryAccess, RegistryError> {
        let credentials = read_credentials(config_dir, &registry.server())?;
        Ok(RegistryAccess {
            registry,
            credentials,
            docker_config: config_dir.join(credentials::CONFIG_FILE),
        })
    }

    /// The engine's logins for this registry: none without credentials. An identity token
    /// goes as BuildKit and the docker CLI send it, with an empty user name.
    pub fn logins(&self) -> Vec<crate::engine::RegistryLogin> {
        let server = self.registry.server();
        match &self.credentials {
            None => Vec::new(),
            Some(RegistryCredentials::Password { username, password }) => {
                vec![crate::engine::RegistryLogin {
                    server,
                    username: username.clone(),
                    password: password.clone(),
                }]
            }
            Some(RegistryCredentials::IdentityToken(token)) => {
                vec![crate::engine::RegistryLogin {
                    server,
                    username: String::new(),
                    password: token.clone(),
                }]
            }
        }
    }

    /// A client for this registry with these credentials.
    pub fn client(&self) -> Result<RegistryClient, RegistryError> {
        RegistryClient::new(self)
    }
}

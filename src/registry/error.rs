//! What can go wrong between stagebench and a registry, each as one sentence naming the
//! registry. No variant holds a credential: the sentences are printed and may be logged by CI.

use std::path::PathBuf;

/// A registry request that failed, or a registry that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No connection: refused, no such host, TLS failure, and the like.
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable {
        /// `HOST[:PORT]`.
        registry: String,
        /// Why, without any credential.
        reason: String,
    },
    /// No answer within the request's time limit.
    #[error("registry {registry} did not answer {endpoint} within {seconds} s")]
    TimedOut {
        /// `HOST[:PORT]`.
        registry: String,
        /// The endpoint asked, e.g. `GET /v2/`.
        endpoint: String,
        /// The time limit.
        seconds: u64,
    },
    /// The registry wants credentials and the docker config has none for it.
    #[error("registry {registry} needs credentials and the docker config ({}) has none for it", config.display())]
    NeedsCredentials {
        /// `HOST[:PORT]`.
        registry: String,
        /// The docker config file looked in.
        config: PathBuf,
    },
    /// The registry (or its token service) refused the credentials.
    #[error("registry {registry} refused the credentials for it in {}", config.display())]
    CredentialsRefused {
        /// `HOST[:PORT]`.
        registry: String,
        /// The docker config file they came from.
        config: PathBuf,
    },
    /// An answer other than the ones the endpoint gives on success.
    #[error("registry {registry} answered {endpoint} with HTTP {status}{detail}")]
    Status {
        /// `HOST[:PORT]`.
        registry: String,
        /// The endpoint asked, e.g. `GET /v2/ci/stagebench/app/multi/tags/list`.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's own error codes and messages, `: CODE message`, or nothing.
        detail: String,
    },
    /// An answer that cannot be read.
    #[error(
        "registry {registry} answered {endpoint} with something stagebench cannot read: {reason}"
    )]
    Malformed {
        /// `HOST[:PORT]`.
        registry: String,
        /// The endpoint asked.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A repository outside `PREFIX/stagebench/`, which stagebench never deletes from.
    #[error(
        "{repository} is not under {namespace}/ in registry {registry}, where everything stagebench pushes lives, so stagebench does not delete from it"
    )]
    NotOurs {
        /// `HOST[:PORT]`.
        registry: String,
        /// The repository path asked for.
        repository: String,
        /// `PREFIX/stagebench`.
        namespace: String,
    },
    /// A repository path or tag that no registry accepts.
    #[error("`{name}` is not a {what} a registry accepts")]
    InvalidName {
        /// The name.
        name: String,
        /// `repository path` or `tag`.
        what: &'static str,
    },
    /// The docker config, or a credential helper it names, cannot give the credentials.
    #[error("cannot read the credentials for registry {registry} from {}: {reason}", config.display())]
    Credentials {
        /// `HOST[:PORT]`.
        registry: String,
        /// The docker config file.
        config: PathBuf,
        /// Why, without any credential.
        reason: String,
    },
    /// The TLS client cannot be set up.
    #[error("cannot set up TLS for registry {registry}: {reason}")]
    TlsSetup {
        /// `HOST[:PORT]`.
        registry: String,
        /// Why.
        reason: String,
    },
}

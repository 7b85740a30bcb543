//! Errors a user reads: each message is one sentence naming the file, key or endpoint at fault.

use std::path::PathBuf;

/// Something wrong with a scenario directory or its `scenario.toml`.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The path given is not a directory.
    #[error("scenario directory {} does not exist or is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// No `<variant>.Dockerfile` was found.
    #[error("{} holds no <variant>.Dockerfile (for example single.Dockerfile), so it is not a scenario", .0.display())]
    NoVariants(PathBuf),
    /// `scenario.toml` does not parse or has an unknown key.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Manifest {
        /// The manifest file.
        file: PathBuf,
        /// 1-based line of the problem, when known.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// A value in the scenario refers to something that is not there.
    #[error("{}: {message}", file.display())]
    Invalid {
        /// The file whose content is wrong.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// What to try when nothing answered at `endpoint` (a display URL).
fn unreachable_hint(endpoint: &str) -> &'static str {
    if endpoint.starts_with("ssh://") {
        "check that `ssh` reaches that machine without a prompt (stagebench runs it with BatchMode=yes) and that `docker system dial-stdio` works there"
    } else {
        "start dockerd (scripts/docker-up does) or set DOCKER_HOST"
    }
}

/// The daemon could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Nothing answered at the endpoint.
    #[error(
        "cannot reach the Docker daemon at {endpoint} ({reason}); {}",
        unreachable_hint(endpoint)
    )]
    Unreachable {
        /// `DOCKER_HOST` or the default socket.
        endpoint: String,
        /// The shortest cause available.
        reason: String,
    },
    /// A request failed.
    #[error("the Docker daemon at {endpoint} refused to {action}: {reason}")]
    Request {
        /// `DOCKER_HOST` or the default socket.
        endpoint: String,
        /// What was asked, e.g. `pull debian:bookworm-slim`.
        action: String,
        /// The daemon's message.
        reason: String,
    },
    /// A build's Dockerfile could not be read again, to tell which images its printed lines
    /// may start from.
    #[error("cannot read {}: {source}", path.display())]
    Dockerfile {
        /// The Dockerfile.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

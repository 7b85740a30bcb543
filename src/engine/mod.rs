//! The engine: the only code that talks to a container engine's daemon.
//!
//! The runner asks at the height of a build, through [`BuildEngine`]: what the daemon is, what
//! an image is, run this build (whose outcome also says what the daemon confirms the build
//! made), empty the run's build cache for a cold build, remove one of the run's images; and,
//! for the CI modes and the image analysis, pull, push, tag and export. How a daemon answers
//! those questions stays in here: which build-cache records are the run's (`run_cache`), which
//! images a build committed and which containers a build cut short left (`ownership`), when an
//! image is still the run's to remove (`removal`). The runner keeps its own bookkeeping: the
//! plan loop, the image ledger it persists for `--resume`, the events.
//!
//! [`Engine`] (`docker_api`) implements the trait over the Docker API through bollard, for
//! Docker and for Podman's Docker-compatible service alike; where the two differ, a row of the
//! capability table in [`crate::builder`] says how. The runner's tests implement it with a fake
//! (`fake`), so that the loop's bookkeeping (order, priming, resume, cancellation, cleanup) is
//! tested without a daemon, while everything about building, sizes and caching is tested
//! against a real daemon through [`Engine`].
//!
//! A new engine is one file plus one row:
//! - `engine/<name>.rs` implements [`BuildEngine`], using the kits here where they fit
//!   (`RunCache` for a build cache listed record by record, `removal`'s rules for removing the
//!   run's images);
//! - `builder.rs` gets its [`EngineKind`] row (its names, how it is told apart, what it
//!   refuses), and a [`Builder`] row when it brings a builder of its own;
//! - [`connect`] hands its endpoints to it (an engine that speaks the Docker API needs no arm:
//!   [`Engine`] asks which program answered).
//!
//! [`EngineKind`]: crate::builder::EngineKind
//! [`Builder`]: crate::builder::Builder

mod build_cache;
mod docker_api;
mod endpoint;
#[cfg(test)]
pub(crate) mod fake;
mod login;
mod output;
mod ownership;
mod removal;
mod run_cache;
mod session;
mod ssh;
mod steps;
mod tls;
mod trail;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::builder::Builder;
use crate::cache_mode::PruneMode;
use crate::context::BuildContext;
pub use crate::daemon_facts::DaemonFacts;
use crate::error::EngineError;
use crate::secrets::{BuildSecretValues, Secrets};
pub use build_cache::CacheRecord;
pub use docker_api::Engine;
pub use endpoint::{
    DEFAULT_SOCKET_URL, Endpoint, EndpointError, LOCAL_HOST_NAME, Scheme, TlsFiles,
    host_name_for_url,
};
pub use login::RegistryLogin;
pub use run_cache::CacheLeft;
pub use steps::{StepCounts, StepTiming, classic_stream_steps, is_from_instruction, stream_steps};

/// What the runner needs from a container engine, asked at the height of a build. Object-safe,
/// so that one run holds hosts of different engines; each host's work runs on its own task.
#[async_trait::async_trait]
pub trait BuildEngine: Send + Sync {
    /// Version, resources and storage driver of the daemon.
    async fn facts(&self) -> Result<DaemonFacts, EngineError>;

    /// Facts about a local image, or `None` when the daemon does not have it.
    async fn image(&self, name: &str) -> Result<Option<ImageFacts>, EngineError>;

    /// Runs one build to its end, or until `stop` resolves (a timeout, Ctrl-C), calling
    /// `on_step` with each step as it starts.
    ///
    /// The build is cut short inside the engine rather than by dropping this future, so that
    /// the engine can still settle with the daemon what the cut build made. `Err` only when a
    /// request around the build fails (what the daemon held before it, what it made); the
    /// build's own failure is in the outcome.
    async fn build(
        &self,
        request: &BuildRequest<'_>,
        on_step: &mut (dyn for<'s> FnMut(&'s str) + Send),
        stop: BuildStop<'_>,
    ) -> Result<BuildOutcome, EngineError>;

    /// Empties the build cache for a cold build: only the records this engine's builds made
    /// during the run with [`PruneMode::New`], everything with [`PruneMode::All`]. Says what
    /// it had to leave. Before any build it removes nothing, and so tells whether the engine
    /// can tell the run's records apart at all.
    async fn reset_run_cache(&self, scope: PruneMode) -> Result<CacheLeft, EngineError>;

    /// Removes an image of the run's, as far as `removal` allows and the daemon's answers say
    /// it is still the run's, never by force. Returns `false` when nothing was removed: the
    /// image is gone, is no longer (only) the run's, or another image or a container uses it.
    async fn remove_image(&self, removal: ImageRemoval<'_>) -> Result<bool, EngineError>;

    /// Adds `repository:tag` to an image.
    async fn tag_image(&self, image: &str, repository: &str, tag: &str) -> Result<(), EngineError>;

    /// Pulls an image, calling `on_status` with each progress line the daemon sends.
    async fn pull(
        &self,
        name: &str,
        on_status: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<(), EngineError>;

    /// Pushes a local image to the registry its name says, calling `on_status` with each
    /// progress line the daemon sends.
    async fn push(
        &self,
        name: &str,
        on_status: &mut (dyn for<'s> FnMut(&'s str) + Send),
    ) -> Result<(), EngineError>;

    /// Streams the image's export (`docker save`: a tar of its layers, config and manifest)
    /// into `chunks` as it arrives, and stops early when the receiver is gone.
    async fn export_image(
        &self,
        id: &str,
        chunks: tokio::sync::mpsc::Sender<bytes::Bytes>,
    ) -> Result<(), EngineError>;
}

/// Connects to the engine at `endpoint`, whose BuildKit builds are given `build_secrets` for
/// `RUN --mount=type=secret` and which logs in to registries with `registry_logins`.
///
/// Every engine stagebench drives speaks the Docker API at its endpoint's URL, and [`Engine`]
/// asks which program answered; an engine that does not is chosen here, by its endpoint.
pub async fn connect(
    endpoint: &Endpoint,
    build_secrets: &Arc<BuildSecretValues>,
    registry_logins: &Arc<Vec<RegistryLogin>>,
) -> Result<Arc<dyn BuildEngine>, EngineError> {
    let engine = Engine::connect(endpoint)
        .await?
        .with_build_secrets(Arc::clone(build_secrets))
        .with_registry_logins(Arc::clone(registry_logins));
    Ok(Arc::new(engine))
}

/// What cuts a build short: a future that resolves, with the reason, when the caller wants the
/// build stopped.
pub type BuildStop<'a> = Pin<Box<dyn Future<Output = CutShort> + Send + 'a>>;

/// A [`BuildStop`] that never resolves: the build runs to its end.
pub fn run_to_end() -> BuildStop<'static> {
    Box::pin(std::future::pending())
}

/// Why the caller cut a build short; the sentence is the caller's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CutShort {
    /// The build took longer than it may.
    TimedOut(String),
    /// The user interrupted the run.
    Interrupted(String),
}

/// Facts about one local image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageFacts {
    /// Content-addressed ID (`sha256:...`).
    pub id: String,
    /// Size the daemon reports for the image.
    pub image_bytes: u64,
    /// Number of filesystem layers.
    pub layers: u32,
    /// The layers' diff IDs, bottom first: an image built `FROM` another starts with its layers.
    pub layer_ids: Vec<String>,
    /// Registry digests, when the image came from a registry.
    pub repo_digests: Vec<String>,
    /// Every `repository:tag` naming the image.
    pub repo_tags: Vec<String>,
}

/// Why a build did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildFailure {
    /// The daemon ran the build and reports it failed (a failing step, a missing base image, a
    /// Dockerfile it cannot parse); the message is the daemon's.
    Daemon(String),
    /// The connection broke off and the daemon no longer answers: nothing was measured.
    ConnectionLost(String),
    /// The caller's [`BuildStop`] cut it short.
    CutShort(CutShort),
}

/// One build to run.
pub struct BuildRequest<'a> {
    /// The build context and Dockerfile.
    pub context: &'a BuildContext,
    /// Tag given to the result.
    pub tag: &'a str,
    /// `--build-arg` values.
    pub build_args: &'a BTreeMap<String, String>,
    /// Stage to stop at.
    pub target: Option<&'a str>,
    /// Which builder runs it.
    pub builder: Builder,
    /// Ignore every cache (the classic builder's cold mode).
    pub no_cache: bool,
    /// Redacted from everything the build's stream says, as it arrives.
    pub secrets: &'a Secrets,
    /// Images whose inline build cache the build may use (`--cache-from`); BuildKit fetches
    /// their cache metadata from the registry, with the engine's logins.
    pub cache_from: &'a [String],
    /// Write the build cache's metadata into the image (BuildKit's `BUILDKIT_INLINE_CACHE=1`),
    /// so that a pushed copy can serve `cache_from` elsewhere. Sent with the request only:
    /// `build_args` stays what the caller records.
    pub inline_cache: bool,
    /// Whether the run accounts for what the build makes: then the outcome names the images
    /// the daemon confirms it made, and the containers of a build cut short are removed. It
    /// holds the images the run built before, from which the build may start a step. `None`
    /// for builds whose images the run does not keep track of (prebuilds, a previous CI job's).
    pub account: Option<&'a [String]>,
}

/// How a build ended.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// Wall time of the build request, from sending the context to the end of the response
    /// (or to the cut, for a build cut short).
    pub build_seconds: f64,
    /// Why the build did not succeed.
    pub result: Result<(), BuildFailure>,
    /// Dockerfile steps run and taken from cache (none for a build cut short).
    pub steps: StepCounts,
    /// Every step with its start and duration, in order of start (none for a build cut short).
    pub step_timings: Vec<StepTiming>,
    /// The image under the request's tag after a successful build.
    pub image: Option<ImageFacts>,
    /// Full IDs of the images the daemon confirms the build made, each after the image it was
    /// committed on; empty unless the request asked ([`BuildRequest::account`]) and the daemon
    /// still answers.
    pub made_images: Vec<String>,
    /// What could not be cleaned up after a build cut short, one sentence each.
    pub cleanup_problems: Vec<String>,
}

impl BuildOutcome {
    /// The outcome of a build that ended with `result` before any step, having made nothing.
    pub fn without_steps(build_seconds: f64, result: Result<(), BuildFailure>) -> BuildOutcome {
        BuildOutcome {
            build_seconds,
            result,
            steps: StepCounts::default(),
            step_timings: Vec::new(),
            image: None,
            made_images: Vec::new(),
            cleanup_problems: Vec::new(),
        }
    }
}

/// One of the run's images to remove, and on what condition: the run says which images are its
/// own (its image ledger); the engine asks the daemon whether each still is, when it removes it.
#[derive(Clone, Copy)]
pub enum ImageRemoval<'a> {
    /// A name the run gave (one of its tags, or a registry copy it tagged): the tag goes, and
    /// the image with it when no other tag names it.
    Tag(&'a str),
    /// An image the run built, by ID: removed only while every tag that names it is one the
    /// run gave (`is_run_tag`); a tag someone added keeps it.
    Built {
        /// The image's ID.
        id: &'a str,
        /// Whether a tag is one the run gives.
        is_run_tag: &'a (dyn Fn(&str) -> bool + Sync),
    },
    /// An image a tag of the run's named before the tag moved, by ID: removed only while no tag
    /// names it any more.
    Untagged(&'a str),
    /// The image `id` the run built under `tag`, which someone else may have moved since:
    /// through the tag while it still names the image, else by ID while no tag names it.
    BuiltUnder {
        /// The tag the run built it under.
        tag: &'a str,
        /// The image's ID.
        id: &'a str,
    },
}

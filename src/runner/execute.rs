//! One timed build: bounded by `--timeout`, cut short by Ctrl-C, and honest about which of the
//! two stopped it.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::engine::{
    BuildEngine, BuildFailure, BuildRequest, BuildStop, CutShort, ImageFacts, StepCounts,
};
use crate::error::EngineError;
use crate::step_timing::StepTiming;

/// How a build ended, as the runner records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum BuildEnd {
    /// The daemon finished the build.
    Succeeded,
    /// The daemon reports the build failed; its message.
    Failed(String),
    /// `--timeout` cancelled it.
    TimedOut(String),
    /// Ctrl-C or SIGTERM cancelled it.
    Interrupted(String),
    /// The daemon stopped answering during the build.
    ConnectionLost(String),
}

impl BuildEnd {
    /// The same end with `redact` applied to its message.
    fn redacted(self, redact: impl Fn(&str) -> String) -> BuildEnd {
        match self {
            BuildEnd::Succeeded => BuildEnd::Succeeded,
            BuildEnd::Failed(m) => BuildEnd::Failed(redact(&m)),
            BuildEnd::TimedOut(m) => BuildEnd::TimedOut(redact(&m)),
            BuildEnd::Interrupted(m) => BuildEnd::Interrupted(redact(&m)),
            BuildEnd::ConnectionLost(m) => BuildEnd::ConnectionLost(redact(&m)),
        }
    }
}

impl Execution {
    /// The same execution with `redact` applied to every text that came from the daemon.
    pub(super) fn redacted(self, redact: impl Fn(&str) -> String) -> Execution {
        Execution {
            step_timings: self
                .step_timings
                .into_iter()
                .map(|t| StepTiming {
                    instruction: redact(&t.instruction),
                    ..t
                })
                .collect(),
            end: self.end.redacted(&redact),
            ..self
        }
    }
}

/// A build as the runner saw it, finished or cut short.
#[derive(Debug, Clone)]
pub(super) struct Execution {
    pub end: BuildEnd,
    /// Wall time of the build request (up to the cut when cut short).
    pub build_seconds: f64,
    /// Steps run and cached (zero when cut short).
    pub steps: StepCounts,
    /// Each step's start and duration (none when cut short: the build's stream is dropped).
    pub step_timings: Vec<StepTiming>,
    /// The image under the build's tag after a successful build.
    pub image: Option<ImageFacts>,
    /// The images the daemon confirms the build made, when the request asked.
    pub made_images: Vec<String>,
    /// What could not be cleaned up after a build cut short.
    pub cleanup_problems: Vec<String>,
}

/// Runs `request` on `engine`; `on_step` sees each step as it starts. `Err` when a request
/// around the build fails (see `BuildEngine::build`).
pub(super) async fn execute(
    engine: &dyn BuildEngine,
    request: &BuildRequest<'_>,
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    on_step: impl Fn(&str) + Send + Sync,
) -> Result<Execution, EngineError> {
    let stop: BuildStop<'_> = Box::pin(async move {
        let limit = async {
            match timeout {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = limit => CutShort::TimedOut(format!(
                "the build did not finish within --timeout {} s and was cancelled",
                timeout.map_or(0.0, |t| t.as_secs_f64())
            )),
            () = cancel.cancelled() => CutShort::Interrupted(
                "interrupted by the user; the build was cancelled".to_string(),
            ),
        }
    });
    let outcome = engine
        .build(request, &mut |step: &str| on_step(step), stop)
        .await?;
    Ok(Execution {
        end: match outcome.result {
            Ok(()) => BuildEnd::Succeeded,
            Err(BuildFailure::Daemon(message)) => BuildEnd::Failed(message),
            Err(BuildFailure::ConnectionLost(message)) => BuildEnd::ConnectionLost(format!(
                "the daemon stopped answering during the build: {message}"
            )),
            Err(BuildFailure::CutShort(CutShort::TimedOut(message))) => BuildEnd::TimedOut(message),
            Err(BuildFailure::CutShort(CutShort::Interrupted(message))) => {
                BuildEnd::Interrupted(message)
            }
        },
        build_seconds: outcome.build_seconds,
        steps: outcome.steps,
        step_timings: outcome.step_timings,
        image: outcome.image,
        made_images: outcome.made_images,
        cleanup_problems: outcome.cleanup_problems,
    })
}

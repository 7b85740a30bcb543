//! One timed build: bounded by `--timeout`, cut short by Ctrl-C, and honest about which of the
//! two stopped it.

use std::time::Duration;

// tokio's clock is the system's, except in tests that pause it to run timeouts instantly.
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::{BuildEvent, BuildFailure, BuildRequest, Daemon, StepCounts, StepTiming};

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
    /// Images the classic builder committed, including those of a build cut short.
    pub created_images: Vec<String>,
}

/// Runs `request` on `daemon`; `on_step` sees each step as it starts.
pub(super) async fn execute<D: Daemon>(
    daemon: &D,
    request: &BuildRequest<'_>,
    timeout: Option<Duration>,
    cancel: &CancellationToken,
    on_step: impl Fn(&str) + Send + Sync,
) -> Execution {
    let started = Instant::now();
    let mut created_images = Vec::new();
    let mut on_event = |event: BuildEvent<'_>| match event {
        BuildEvent::Step(step) => on_step(step),
        BuildEvent::ImageCreated(id) => created_images.push(id.to_string()),
    };
    let finished = {
        let build = daemon.build(request, &mut on_event);
        let bounded = async {
            match timeout {
                Some(limit) => tokio::time::timeout(limit, build).await.ok(),
                None => Some(build.await),
            }
        };
        tokio::select! {
            finished = bounded => match finished {
                Some(outcome) => Ok(outcome),
                None => Err(BuildEnd::TimedOut(format!(
                    "the build did not finish within --timeout {} s and was cancelled",
                    timeout.map_or(0.0, |t| t.as_secs_f64())
                ))),
            },
            () = cancel.cancelled() => Err(BuildEnd::Interrupted(
                "interrupted by the user; the build was cancelled".to_string(),
            )),
        }
    };
    match finished {
        Ok(outcome) => Execution {
            end: match outcome.result {
                Ok(()) => BuildEnd::Succeeded,
                Err(BuildFailure::Daemon(message)) => BuildEnd::Failed(message),
                Err(BuildFailure::ConnectionLost(message)) => BuildEnd::ConnectionLost(format!(
                    "the daemon stopped answering during the build: {message}"
                )),
            },
            build_seconds: outcome.build_seconds,
            steps: outcome.steps,
            step_timings: outcome.step_timings,
            created_images,
        },
        Err(end) => Execution {
            end,
            build_seconds: started.elapsed().as_secs_f64(),
            steps: StepCounts::default(),
            step_timings: Vec::new(),
            created_images,
        },
    }
}

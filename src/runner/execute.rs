//! One timed build: bounded by `--timeout`, cut short by Ctrl-C, and honest about which of the
//! two stopped it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// tokio's clock is the system's, except in tests that pause it to run timeouts instantly.
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::engine::{BuildEvent, BuildFailure, BuildRequest, Daemon, StepCounts};
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
    /// Whether `--timeout` or Ctrl-C stopped the build before the daemon finished it.
    pub(super) fn cut_short(&self) -> bool {
        match self {
            BuildEnd::TimedOut(_) | BuildEnd::Interrupted(_) => true,
            BuildEnd::Succeeded | BuildEnd::Failed(_) | BuildEnd::ConnectionLost(_) => false,
        }
    }

    /// Whether the daemon still answers after the build, so that it can be asked what the
    /// build made.
    pub(super) fn connected(&self) -> bool {
        match self {
            BuildEnd::ConnectionLost(_) => false,
            BuildEnd::Succeeded
            | BuildEnd::Failed(_)
            | BuildEnd::TimedOut(_)
            | BuildEnd::Interrupted(_) => true,
        }
    }

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
    /// What the build's stream said it made, including a build cut short.
    pub trail: BuildTrail,
}

/// What a build's stream said it made, as it arrived. The runner confirms it with the daemon
/// before it counts anything as the run's (see `ownership` and `build_cache`).
#[derive(Debug, Clone, Default)]
pub(super) struct BuildTrail {
    /// Image IDs in the stream's structured `aux` field.
    pub reported_images: Vec<String>,
    /// IDs of classic ` ---> <id>` lines: candidates only.
    pub printed_images: Vec<String>,
    /// IDs of classic ` ---> Running in <id>` lines where the daemon names a step's container:
    /// candidates only.
    pub printed_containers: Vec<String>,
    /// BuildKit vertices by digest.
    pub vertices: BTreeMap<String, VertexSpan>,
    /// The smallest (arrival on this machine's clock − start on the daemon's) of any vertex
    /// update: maps a time on this machine's clock onto the daemon's, erring early.
    daemon_clock_shift_s: Option<f64>,
    /// When the build request was sent, on this machine's clock (Unix seconds).
    started_s: f64,
    /// When the build answered or was cut short, on this machine's clock (Unix seconds).
    ended_s: f64,
}

/// When a BuildKit vertex ran, on the daemon's clock (Unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct VertexSpan {
    /// The earliest start any update gave.
    pub started_s: Option<f64>,
    /// The latest completion any update gave.
    pub completed_s: Option<f64>,
}

impl BuildTrail {
    fn observe(&mut self, event: &BuildEvent<'_>) {
        match *event {
            BuildEvent::Step(_) => {}
            BuildEvent::ImageReported(id) => push_new(&mut self.reported_images, id),
            BuildEvent::ImagePrinted(id) => push_new(&mut self.printed_images, id),
            BuildEvent::ContainerPrinted(id) => push_new(&mut self.printed_containers, id),
            BuildEvent::Vertex {
                digest,
                started_s,
                completed_s,
                cached: _,
            } => {
                let span = self.vertices.entry(digest.to_string()).or_default();
                if let Some(started) = started_s {
                    span.started_s = Some(span.started_s.map_or(started, |s| s.min(started)));
                    let shift = now_s() - started;
                    self.daemon_clock_shift_s =
                        Some(self.daemon_clock_shift_s.map_or(shift, |s| s.min(shift)));
                }
                if let Some(completed) = completed_s {
                    span.completed_s =
                        Some(span.completed_s.map_or(completed, |c| c.max(completed)));
                }
            }
        }
    }

    /// When the build ran, on the daemon's clock: from the moment its request was sent until
    /// it answered or was cut short (or its last vertex completed, if later), this machine's
    /// times moved onto the daemon's clock as near as the vertex updates tell, erring early.
    /// Nothing when no vertex ever reported a start, since then nothing tells the two clocks
    /// apart.
    ///
    /// The whole build, and not each vertex's own span: the record of a build's context was
    /// seen created up to 60 ms before its vertex said it started, while only cached vertices
    /// had started.
    pub(super) fn running_window(&self) -> Option<(f64, f64)> {
        let shift = self.daemon_clock_shift_s?;
        let first_start = self
            .vertices
            .values()
            .filter_map(|span| span.started_s)
            .min_by(f64::total_cmp)?;
        let last_completion = self
            .vertices
            .values()
            .filter_map(|span| span.completed_s)
            .max_by(f64::total_cmp)
            .unwrap_or(first_start);
        let requested = (self.started_s - shift).min(first_start);
        let ended = (self.ended_s - shift).max(last_completion);
        Some((requested, ended))
    }
}

fn push_new(list: &mut Vec<String>, id: &str) {
    if !list.iter().any(|known| known == id) {
        list.push(id.to_string());
    }
}

/// Now on this machine's clock, in Unix seconds.
fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
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
    let mut trail = BuildTrail {
        started_s: now_s(),
        ..BuildTrail::default()
    };
    let mut on_event = |event: BuildEvent<'_>| {
        if let BuildEvent::Step(step) = event {
            on_step(step);
        }
        trail.observe(&event);
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
    trail.ended_s = now_s();
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
            trail,
        },
        Err(end) => Execution {
            end,
            build_seconds: started.elapsed().as_secs_f64(),
            steps: StepCounts::default(),
            step_timings: Vec::new(),
            trail,
        },
    }
}

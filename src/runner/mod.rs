//! The runner: executes the plan on each host, times builds, and appends every result to
//! disk the moment it exists.
//!
//! - `mod.rs` (this file): one task per host, the outcome.
//! - [`events`]: what the run tells the progress display, as data.
//! - [`folders`]: the results folders and their meta.json, created or reopened.
//! - [`host`]: one host's task, scenario after scenario.
//! - [`scenario`]: one scenario on one host, build after build; [`images`]: its base images and
//!   prebuilds.
//! - [`prepare`]: what a build needs before it starts, from its cache mode's [`Preparation`].
//! - [`execute`]: one timed build, bounded by `--timeout` and cut short by Ctrl-C.
//! - [`judge`]: what a build that ended is worth (its row's status, whether it is redone), from
//!   what the daemon answered alone.
//! - [`analysis`]: each variant's image, analysed once per host between builds.
//! - [`ledger`]: the images a run created (as the engine confirms them), so that it removes what
//!   it made and nothing else.
//!
//! The runner reads the [`Plan`], whose scenario plans carry each scenario as this run builds it,
//! a [`RunPolicy`] and a [`ResultsLayout`]: nothing of the command line or the scenario files.
//!
//! Hosts work in parallel, each on its own task, and each runs one build at a time, so that a
//! build's time is never shared with another build on the same machine. Statistics are
//! deliberately absent here: the loop only measures and records, so a bug in a summary can never
//! cost a measurement. The runner talks to daemons only through [`BuildEngine`], at the height of
//! a build (how a daemon tells what a build made, or which build-cache records are the run's,
//! is the engine's business), and its tests use the engine's fake.
//!
//! [`Preparation`]: crate::cache_mode::Preparation

mod analysis;
mod ci;
mod events;
mod execute;
mod folders;
mod host;
mod images;
mod judge;
mod ledger;
mod prepare;
mod scenario;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_util::sync::CancellationToken;

use crate::builder::{Builder, EngineKind};
use crate::cache_mode::PruneMode;
use crate::daemon_facts::DaemonFacts;
use crate::engine::{BuildEngine, Endpoint};
use crate::error::EngineError;
use crate::plan::Plan;
use crate::results::{BuildRecord, BuildStatus, HostEnvironment, ResultsFolder};
use crate::results_layout::ResultsLayout;
use crate::run_policy::RunPolicy;

pub use events::{Activity, FinishedBuild, PlannedBuildId, RunEvent, RunNote, StartedBuild};

/// Where the runner's events go.
pub trait EventSink: Send + Sync {
    /// Takes one event.
    fn emit(&self, event: RunEvent);
}

/// One host as the run found it.
pub struct Host {
    /// Where it is.
    pub endpoint: Endpoint,
    /// The connected engine and what its daemon says about itself, or why it could not be
    /// reached. Each host has an engine of its own, so one run may hold hosts of different
    /// engines.
    pub connection: Result<(Arc<dyn BuildEngine>, DaemonFacts), EngineError>,
}

/// What a finished (or interrupted) run leaves for the caller.
#[derive(Debug, Default)]
pub struct RunOutcome {
    /// Results folders written, one per scenario unless `--out` gathered them.
    pub out_dirs: Vec<PathBuf>,
    /// Every row this invocation wrote to results.csv.
    pub records: Vec<BuildRecord>,
    /// Sentences about failures outside measured builds (hosts, prebuilds, cleanup).
    pub problems: Vec<String>,
    /// Whether Ctrl-C (or SIGTERM) stopped the run.
    pub interrupted: bool,
    /// Whether builds of the plan remain undone (interrupted, or on a host that stopped), so
    /// that `--resume` has something to do.
    pub unfinished: bool,
}

impl RunOutcome {
    /// Rows this invocation wrote with `status`.
    pub fn count(&self, status: BuildStatus) -> usize {
        self.records.iter().filter(|r| r.status == status).count()
    }
}

/// " in DIR", unless `source` already names a file of DIR (or DIR itself) first.
fn in_dir_unless_named(dir: &Path, source: &std::io::Error) -> String {
    if source.to_string().starts_with(&dir.display().to_string()) {
        String::new()
    } else {
        format!(" in {}", dir.display())
    }
}

/// A problem that stops the run before any build.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The daemon failed a request that is not a build.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A results folder could not be written.
    #[error("cannot write results{}: {source}", in_dir_unless_named(dir, source))]
    Output {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A scenario file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The edited content of an incremental run could not be made.
    #[error("cannot prepare the [incremental] touch files of {}: {source}", dir.display())]
    Touch {
        /// The scenario directory.
        dir: PathBuf,
        /// The cause, naming the file.
        source: std::io::Error,
    },
    /// A build context could not be prepared.
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
    /// No Docker host answers.
    #[error("{0}")]
    NoHost(String),
    /// A host's builder cannot do what the run asks; the sentence names the host and the flag.
    #[error("{0}")]
    HostCannot(String),
    /// The registry of the CI modes refused or failed a request; the sentence names it.
    #[error("{0}")]
    Registry(String),
    /// Someone changed a scenario's files while the run went on.
    #[error(
        "in scenario {scenario}, {difference} while the run went on; the rows measured so far are kept, but measuring on would mix two versions of its files: start a new run"
    )]
    InputsChanged {
        /// The scenario.
        scenario: String,
        /// Which file, and how.
        difference: String,
    },
    /// A prebuild would move a tag that names someone else's image.
    #[error(
        "{}: [[prebuild]] tag = \"{tag}\" names an image that already exists on host {host} and that this run did not build, so building the prebuild would take that tag from it: give the prebuild a tag under stagebench/ (for example \"{suggestion}\"), or remove that image first",
        file.display()
    )]
    PrebuildTagTaken {
        /// The scenario's manifest.
        file: PathBuf,
        /// The prebuild's tag.
        tag: String,
        /// The host that has an image under it.
        host: String,
        /// The same tag under `stagebench/`.
        suggestion: String,
    },
    /// A resumed host is not the machine the run started on.
    #[error("cannot resume {}: {reason}", dir.display())]
    Resume {
        /// The folder.
        dir: PathBuf,
        /// Why.
        reason: String,
    },
}

/// What every host's task shares.
pub(crate) struct Shared {
    policy: Arc<RunPolicy>,
    events: Arc<dyn EventSink>,
    cancel: CancellationToken,
    /// One per results folder.
    folders: Vec<Arc<ResultsFolder>>,
    /// For each scenario (by index), its folder's index in `folders`.
    folder_of: Vec<usize>,
    /// Layer analyses by digest, so that a layer shared by variants, hosts or runs is compressed
    /// and listed once.
    layers: Arc<crate::image_analysis::LayerCache>,
    /// When the run started, for `--time-budget` (tokio's clock, which is the system's outside
    /// tests and paused within them).
    started: tokio::time::Instant,
}

impl Shared {
    /// Whether `--time-budget` is spent: no build starts after that.
    fn budget_spent(&self) -> bool {
        self.policy
            .time_budget
            .is_some_and(|budget| self.started.elapsed() >= budget)
    }

    fn folder(&self, scenario: usize) -> Arc<ResultsFolder> {
        let index = self.folder_of.get(scenario).copied().unwrap_or(0);
        Arc::clone(&self.folders[index])
    }

    /// Hands `event` to the sink with every text it carries redacted: its names and the
    /// daemon's messages all reach the terminal.
    fn emit(&self, event: RunEvent) {
        let redact = |text: &str| self.policy.secrets.redact(text);
        self.events.emit(event.redacted(&redact));
    }
}

/// What one host's task hands back.
#[derive(Debug, Default)]
pub(crate) struct HostOutcome {
    /// Rows written.
    pub records: Vec<BuildRecord>,
    /// Sentences about what went wrong outside measured builds.
    pub problems: Vec<String>,
    /// Whether planned builds were left undone.
    pub unfinished: bool,
}

/// One host's task.
pub(crate) struct HostWorker {
    pub(super) engine: Arc<dyn BuildEngine>,
    /// The host's name.
    pub(super) host: String,
    pub(super) shared: Arc<Shared>,
    /// The `seq` of the last row this host wrote.
    pub(super) seq: u32,
    pub(super) outcome: HostOutcome,
    /// What a cold run prunes on this host: the run's own build-cache records only when the
    /// builder lists them and `--prune` asks for it; set before the first build.
    pub(super) cache_scope: PruneMode,
    /// The program that serves this host's API.
    pub(super) engine_kind: EngineKind,
    /// The builder that runs this host's builds: its engine's answer to `--builder`.
    pub(super) builder: Builder,
}

impl HostWorker {
    fn new(
        engine: Arc<dyn BuildEngine>,
        host: String,
        engine_kind: EngineKind,
        shared: Arc<Shared>,
        last_seq: u32,
    ) -> Self {
        HostWorker {
            engine,
            host,
            engine_kind,
            builder: engine_kind.builder(shared.policy.builder),
            shared,
            seq: last_seq,
            outcome: HostOutcome::default(),
            cache_scope: PruneMode::All,
        }
    }
}

/// The program that serves each reachable host's API, by host name.
pub fn engines(hosts: &[Host]) -> BTreeMap<String, EngineKind> {
    hosts
        .iter()
        .filter_map(|h| {
            h.connection
                .as_ref()
                .ok()
                .map(|(_, facts)| (h.endpoint.name.clone(), facts.engine))
        })
        .collect()
}

/// Runs `plan` on `hosts` (in the plan's host order) as `policy` says, writing the rows where
/// `layout` says. Hosts that could not be reached are reported and their scenarios recorded as
/// not run; the other hosts go on. `cancel` is triggered by Ctrl-C.
pub async fn run(
    plan: Plan,
    policy: RunPolicy,
    layout: ResultsLayout,
    hosts: Vec<Host>,
    events: Arc<dyn EventSink>,
    cancel: CancellationToken,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    if hosts.iter().all(|h| h.connection.is_err()) {
        let reasons: Vec<String> = hosts
            .iter()
            .filter_map(|h| h.connection.as_ref().err())
            .map(ToString::to_string)
            .collect();
        return Err(RunError::NoHost(match reasons.as_slice() {
            [one] => one.clone(),
            _ => format!("no Docker host answers: {}", reasons.join("; ")),
        }));
    }
    let environments: Vec<Option<HostEnvironment>> = hosts
        .iter()
        .map(|h| {
            h.connection
                .as_ref()
                .ok()
                .map(|(_, facts)| HostEnvironment {
                    name: h.endpoint.name.clone(),
                    endpoint: h.endpoint.display_url(),
                    daemon: facts.clone(),
                })
        })
        .collect();
    folders::check_resumed_hosts(layout.resumed.as_ref(), &environments)?;
    for host in &hosts {
        if let Ok((_, facts)) = &host.connection
            && let Some(refusal) = policy.host_needs.refusal(&host.endpoint.name, facts)
        {
            return Err(RunError::HostCannot(refusal));
        }
    }
    for host_plan in &plan.hosts {
        if let Some(Host {
            endpoint,
            connection: Ok((engine, _)),
        }) = hosts.get(host_plan.host)
        {
            let resumed = layout.resumed.as_ref().map(|r| &r.meta);
            images::check_prebuild_tags(
                resumed,
                engine.as_ref(),
                &endpoint.name,
                &host_plan.scenarios,
            )
            .await?;
        }
    }

    let (folders, folder_of, notes) = folders::open_folders(
        &layout,
        &plan,
        &hosts,
        &environments,
        &policy.run_id,
        &started_at,
    )?;
    let policy = Arc::new(policy);
    let shared = Arc::new(Shared {
        policy: Arc::clone(&policy),
        events,
        cancel,
        folders,
        folder_of,
        layers: Arc::new(crate::image_analysis::LayerCache::at_default_location()),
        started: tokio::time::Instant::now(),
    });
    let mut outcome = RunOutcome::default();
    for note in notes {
        shared.emit(RunEvent::Note { host: None, note });
    }
    for folder in &shared.folders {
        shared.emit(RunEvent::Note {
            host: None,
            note: RunNote::WritingResults {
                dir: folder.dir().to_path_buf(),
            },
        });
    }

    let last_seq = layout
        .resumed
        .as_ref()
        .map(|r| r.last_seq_by_host.clone())
        .unwrap_or_default();
    let mut tasks = Vec::new();
    let mut host_plans: BTreeMap<usize, _> = plan.hosts.into_iter().map(|h| (h.host, h)).collect();
    for (index, host) in hosts.into_iter().enumerate() {
        let Some(host_plan) = host_plans.remove(&index) else {
            continue;
        };
        match host.connection {
            Ok((engine, facts)) => {
                let worker = HostWorker::new(
                    engine,
                    host.endpoint.name.clone(),
                    facts.engine,
                    Arc::clone(&shared),
                    last_seq.get(&host.endpoint.name).copied().unwrap_or(0),
                );
                tasks.push(tokio::spawn(worker.run(host_plan.scenarios)));
            }
            Err(error) => {
                let builds: u64 = host_plan
                    .scenarios
                    .iter()
                    .map(|s| (s.builds.len() + s.prebuilds) as u64)
                    .sum();
                if !host_plan.scenarios.is_empty() {
                    outcome.unfinished = true;
                    outcome.problems.push(format!(
                        "host {} was not reached, so its scenarios were not run: {error}",
                        host.endpoint.name
                    ));
                }
                shared.emit(RunEvent::PlanShrank { builds });
            }
        }
    }
    for task in tasks {
        let HostOutcome {
            records,
            problems,
            unfinished,
        } = match task.await {
            Ok(host_outcome) => host_outcome,
            Err(error) => HostOutcome {
                problems: vec![format!("a host's task ended abnormally: {error}")],
                unfinished: true,
                ..HostOutcome::default()
            },
        };
        outcome.records.extend(records);
        outcome.problems.extend(problems);
        outcome.unfinished |= unfinished;
    }
    for problem in &mut outcome.problems {
        *problem = policy.secrets.redact(problem);
    }
    outcome.interrupted = shared.cancel.is_cancelled();
    outcome.unfinished |= outcome.interrupted || outcome.count(BuildStatus::Interrupted) > 0;

    let ended_at = now_rfc3339();
    let wall_seconds = started.elapsed().as_secs_f64();
    for folder in &shared.folders {
        let run_id = &policy.run_id;
        folder
            .update_meta(|meta| {
                if let Some(invocation) = meta.invocations.iter_mut().find(|i| &i.run_id == run_id)
                {
                    invocation.ended_at = Some(ended_at.clone());
                    invocation.wall_seconds = Some(wall_seconds);
                    invocation.interrupted = outcome.interrupted;
                }
                meta.stagebench_version = env!("CARGO_PKG_VERSION").to_string();
            })
            .map_err(|source| RunError::Output {
                dir: folder.dir().to_path_buf(),
                source,
            })?;
        // The image ledger is only needed to clean up after a run that did not end cleanly.
        if !outcome.unfinished
            && let Err(error) = folder.clear_state()
        {
            outcome.problems.push(format!("cleanup: {error}"));
        }
        outcome.out_dirs.push(folder.dir().to_path_buf());
    }
    Ok(outcome)
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

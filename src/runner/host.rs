//! One Docker host's task: its scenarios one after another (each one a [`ScenarioRun`]); a
//! problem that stops a scenario stops the host, and the other hosts go on.

use std::sync::Arc;

use super::scenario::ScenarioRun;
use super::{RunEvent, Shared};
use crate::engine::Daemon;
use crate::plan::ScenarioPlan;
use crate::results::BuildRecord;

/// What one host's task hands back.
#[derive(Debug, Default)]
pub(super) struct HostOutcome {
    /// Rows written.
    pub records: Vec<BuildRecord>,
    /// Sentences about what went wrong outside measured builds.
    pub problems: Vec<String>,
    /// Whether planned builds were left undone.
    pub unfinished: bool,
}

/// One host's task.
pub(super) struct HostWorker<D> {
    pub(super) daemon: D,
    /// The host's name.
    pub(super) host: String,
    pub(super) shared: Arc<Shared>,
    /// The `seq` of the last row this host wrote.
    pub(super) seq: u32,
    pub(super) outcome: HostOutcome,
}

impl<D: Daemon> HostWorker<D> {
    pub(super) fn new(daemon: D, host: String, shared: Arc<Shared>, last_seq: u32) -> Self {
        HostWorker {
            daemon,
            host,
            shared,
            seq: last_seq,
            outcome: HostOutcome::default(),
        }
    }

    /// Runs the host's scenarios in order. A problem that stops one scenario (a request the
    /// daemon refuses, a lost connection) stops the host, since its next scenario would meet it
    /// too; the other hosts go on.
    pub(super) async fn run(mut self, scenarios: Vec<ScenarioPlan>) -> HostOutcome {
        let mut remaining = scenarios.into_iter();
        while let Some(plan) = remaining.next() {
            if self.shared.cancel.is_cancelled() {
                self.outcome.unfinished = true;
                break;
            }
            let stop = match ScenarioRun::start(&mut self, &plan).await {
                Ok(mut run) => {
                    let result = run.execute().await;
                    run.finish().await;
                    result
                }
                Err(error) => Err(error),
            };
            if let Err(error) = stop {
                let scenario = &self.shared.settings.scenarios[plan.scenario].name;
                self.outcome.problems.push(format!(
                    "host {} stopped during scenario {scenario}: {error}",
                    self.host
                ));
                self.outcome.unfinished = true;
                let skipped: u64 = remaining
                    .map(|s| (s.builds.len() + s.prebuilds) as u64)
                    .sum();
                self.shared.emit(RunEvent::PlanShrank { builds: skipped });
                break;
            }
        }
        self.outcome
    }

    pub(super) fn emit_note(&self, text: String) {
        self.shared.emit(RunEvent::Note {
            host: Some(self.host.clone()),
            text,
        });
    }
}

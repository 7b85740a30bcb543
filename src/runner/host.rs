//! One Docker host's task: its scenarios one after another (each one a [`ScenarioRun`]); a
//! problem that stops a scenario stops the host, and the other hosts go on.

use super::scenario::ScenarioRun;
use super::{HostOutcome, HostWorker, RunEvent};
use crate::engine::Daemon;
use crate::plan::ScenarioPlan;

impl<D: Daemon> HostWorker<D> {
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

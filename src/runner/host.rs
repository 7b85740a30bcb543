//! One Docker host's task: its scenarios one after another (each one a [`ScenarioRun`]); a
//! problem that stops a scenario stops the host, and the other hosts go on.

use super::scenario::ScenarioRun;
use super::{HostOutcome, HostWorker, RunEvent, RunNote};
use crate::cache_mode::PruneMode;
use crate::plan::ScenarioPlan;

impl HostWorker {
    /// Runs the host's scenarios in order. A problem that stops one scenario (a request the
    /// daemon refuses, a lost connection) stops the host, since its next scenario would meet it
    /// too; the other hosts go on.
    pub(super) async fn run(mut self, scenarios: Vec<ScenarioPlan>) -> HostOutcome {
        let prune = self.shared.policy.prune;
        if self.builder.capabilities().lists_build_cache {
            // The run's records are told apart by listing them: a daemon that cannot list them
            // is not used, rather than pruning blind. Before any build a reset of the run's
            // records lists them and removes nothing.
            let listed = match prune {
                PruneMode::All => Ok(()),
                PruneMode::New => self
                    .engine
                    .reset_run_cache(PruneMode::New)
                    .await
                    .map(|_| ()),
            };
            match listed {
                Ok(()) => self.cache_scope = prune,
                Err(error) => {
                    self.outcome.problems.push(format!(
                        "host {} was not used: {error}; with --prune all a cold run empties the whole build cache instead of only what this run made",
                        self.host
                    ));
                    self.outcome.unfinished = true;
                    let skipped: u64 = scenarios
                        .iter()
                        .map(|s| (s.builds.len() + s.prebuilds) as u64)
                        .sum();
                    self.shared.emit(RunEvent::PlanShrank { builds: skipped });
                    return self.outcome;
                }
            }
        }
        self.run_scenarios(scenarios).await;
        // Leave the build cache as the run found it: what this run made goes, the rest stays.
        if let PruneMode::New = self.cache_scope {
            let rm = self.shared.policy.rm;
            match self.engine.reset_run_cache(PruneMode::New).await {
                Ok(left) => {
                    if left.held > 0 {
                        self.outcome.problems.push(format!(
                            "cleanup: {} build-cache records this run made on host {} are still held by a build and were left",
                            left.held, self.host
                        ));
                    }
                    // Without --rm the kept final images hold records by design.
                    if rm && left.behind_images > 0 {
                        self.emit_note(RunNote::RecordsBehindImages {
                            records: left.behind_images,
                        });
                    }
                }
                Err(error) => self.outcome.problems.push(format!(
                    "cleanup: the build cache this run made on host {} could not be pruned: {error}",
                    self.host
                )),
            }
        }
        self.outcome
    }

    async fn run_scenarios(&mut self, scenarios: Vec<ScenarioPlan>) {
        let mut remaining = scenarios.into_iter();
        while let Some(plan) = remaining.next() {
            if self.shared.cancel.is_cancelled() {
                self.outcome.unfinished = true;
                break;
            }
            let stop = match ScenarioRun::start(self, &plan).await {
                Ok(mut run) => {
                    let result = run.execute().await;
                    run.finish().await;
                    result
                }
                Err(error) => Err(error),
            };
            if let Err(error) = stop {
                let scenario = &plan.scenario.name;
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
    }

    pub(super) fn emit_note(&self, note: RunNote) {
        self.shared.emit(RunEvent::Note {
            host: Some(self.host.clone()),
            note,
        });
    }
}

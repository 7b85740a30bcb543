//! One scenario on one host: base images, prebuilds ([`images`](super::images)), then the
//! planned builds one after another, each prepared as its cache mode says, timed, and appended to
//! results.csv the moment it ends; finally the cleanup and the cost.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ci::{CiBuild, CiState};
use super::execute::{Execution, execute};
use super::judge::{Answer, Next, Verdict, judge};
use super::ledger::ImageLedger;
use super::prepare::{Housekeeping, Prepared, prepare};
use super::{
    Activity, FinishedBuild, HostWorker, PlannedBuildId, RunError, RunEvent, RunNote, Shared,
    StartedBuild,
};
use crate::cache_mode::{CacheMode, Preparation, PrimedCaches};
use crate::context::BuildContext;
use crate::dockerfile;
use crate::engine::{BuildRequest, ImageFacts, ImageRemoval};
use crate::error::EngineError;
use crate::plan::{PlannedBuild, Purpose, ScenarioPlan};
use crate::planned_scenario::{PlannedScenario, PlannedVariant, image_tag_for};
use crate::recorded_scenario::ScenarioInputs;
use crate::results::{
    BuildDetails, BuildRecord, BuildStatus, ImageRows, ResultsFolder, RunCost, ScenarioMeta,
    StepRecord, first_miss_column, first_misses,
};
use crate::run_policy::{RoundDecision, RunPolicy};

/// One variant as this run builds it, with the context its builds send.
pub(super) struct VariantBuild {
    /// What the plan says of it.
    pub(super) variant: PlannedVariant,
    /// Its build context, read when the scenario starts on the host.
    pub(super) context: BuildContext,
}

/// What became of a build that ran to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Built {
    /// Its row was written (or it primed the cache).
    Recorded,
    /// It is not recorded: it must be built again with the cache ignored.
    RedoWithoutCache,
}

/// A build whose preparation is done, about to start.
struct ReadyBuild {
    /// What a CI-mode build is given; `None` in the other modes.
    ci: Option<CiBuild>,
    /// The context to send, and whether the cache is ignored.
    prepared: Prepared,
    /// When the build started (RFC 3339), for its row.
    started_at: String,
}

/// A build the daemon ran, finished or cut short.
struct RanBuild {
    /// How it ended, its time and its steps.
    execution: Execution,
    /// The image under the variant's tag after a successful build.
    image: Option<ImageFacts>,
}

/// Why the rest of a scenario's builds cannot run.
pub(super) enum Stop {
    /// The host is gone or refuses requests.
    Error(RunError),
    /// Ctrl-C.
    Cancelled,
}

impl From<RunError> for Stop {
    fn from(error: RunError) -> Stop {
        Stop::Error(error)
    }
}

impl From<EngineError> for Stop {
    fn from(error: EngineError) -> Stop {
        Stop::Error(RunError::Engine(error))
    }
}

/// One scenario on one host.
pub(super) struct ScenarioRun<'w> {
    pub(super) worker: &'w mut HostWorker,
    pub(super) plan: &'w ScenarioPlan,
    pub(super) policy: Arc<RunPolicy>,
    pub(super) folder: Arc<ResultsFolder>,
    pub(super) variants: Vec<VariantBuild>,
    pub(super) ledger: ImageLedger,
    /// What the CI modes did on the registry and to the local prebuilds.
    pub(super) ci: CiState,
    /// Whether each variant's cache holds a build this invocation made.
    primed: PrimedCaches,
    /// Whether each variant's image has been analysed on this host (by this or an earlier
    /// invocation of the run).
    analysed: Vec<bool>,
    pub(super) cost: RunCost,
    /// The scenario's inputs (size, time, mode) when it started here, to notice a change.
    inputs_stamp: Option<ScenarioInputs>,
    /// Prebuild tags this invocation built, with the image each got (removed at the end with
    /// `--rm`).
    pub(super) prebuilt_here: Vec<(String, String)>,
    started: Instant,
}

impl<'w> ScenarioRun<'w> {
    /// Sets the scenario up: its variants' contexts and tags, and the image ledger.
    pub(super) async fn start(
        worker: &'w mut HostWorker,
        plan: &'w ScenarioPlan,
    ) -> Result<ScenarioRun<'w>, RunError> {
        let policy = Arc::clone(&worker.shared.policy);
        let scenario = &plan.scenario;
        let folder = worker.shared.folder(scenario.index);
        let mut variants = Vec::new();
        for variant in &scenario.variants {
            variants.push(VariantBuild {
                context: BuildContext::new(&variant.context_dir, &variant.dockerfile)?,
                variant: variant.clone(),
            });
        }
        let mut ledger = ImageLedger::new(
            &worker.host,
            &scenario.name,
            &policy.first_run_id,
            folder.recorded_images(),
        );
        for variant in &variants {
            if let Some(image) = worker.engine.image(&variant.variant.tag).await? {
                ledger
                    .note_replaced(&folder, &variant.variant.name, &image.id)
                    .map_err(|source| RunError::Output {
                        dir: folder.dir().to_path_buf(),
                        source,
                    })?;
            }
        }
        for note in &plan.notes {
            worker.emit_note(RunNote::Plan {
                scenario: scenario.name.clone(),
                text: note.clone(),
            });
        }
        if plan.already_done > 0 {
            worker.emit_note(RunNote::AlreadyDone {
                scenario: scenario.name.clone(),
                builds: plan.already_done,
            });
        }
        let variant_count = variants.len();
        let analysed_before = folder.analysed_variants(&worker.host, &scenario.name);
        let analysed = variants
            .iter()
            .map(|v| analysed_before.contains(&v.variant.name))
            .collect();
        let inputs_stamp = scenario.stamp_inputs().and_then(Result::ok);
        Ok(ScenarioRun {
            worker,
            plan,
            policy,
            folder,
            variants,
            ledger,
            ci: CiState::default(),
            primed: PrimedCaches::new(variant_count),
            analysed,
            cost: RunCost::default(),
            inputs_stamp,
            prebuilt_here: Vec::new(),
            started: Instant::now(),
        })
    }

    pub(super) fn scenario(&self) -> &PlannedScenario {
        &self.plan.scenario
    }

    pub(super) fn shared(&self) -> &Shared {
        &self.worker.shared
    }

    pub(super) fn host(&self) -> &str {
        &self.worker.host
    }

    pub(super) fn emit(&self, event: RunEvent) {
        self.worker.shared.emit(event);
    }

    fn output_error(&self) -> impl Fn(std::io::Error) -> RunError + '_ {
        |source| RunError::Output {
            dir: self.folder.dir().to_path_buf(),
            source,
        }
    }

    pub(super) fn update_entry(
        &self,
        change: impl FnOnce(&mut ScenarioMeta),
    ) -> Result<(), RunError> {
        let (name, host) = (self.scenario().name.clone(), self.host().to_string());
        self.folder
            .update_meta(|meta| {
                if let Some(entry) = meta
                    .scenarios
                    .iter_mut()
                    .find(|s| s.name == name && s.host == host)
                {
                    change(entry);
                }
            })
            .map_err(self.output_error())
    }

    /// Base images, prebuilds, then the planned builds.
    pub(super) async fn execute(&mut self) -> Result<(), RunError> {
        let prepare_started = Instant::now();
        let base_images = self.prepare_base_images().await?;
        let prepare_seconds = prepare_started.elapsed().as_secs_f64();
        self.update_entry(|entry| {
            entry.base_images = base_images;
            entry.prepare_seconds = prepare_seconds;
            // A resumed run has a budget of its own (or none): an earlier invocation's spent
            // budget would otherwise close the looks again at the round it ended after.
            entry.budget_spent_after = None;
        })?;

        match self.build_prebuilds().await {
            Ok(true) => {}
            Ok(false) => {
                let skipped = self.plan.builds.len() as u64;
                self.emit(RunEvent::PlanShrank { builds: skipped });
                return Ok(());
            }
            Err(Stop::Cancelled) => return Ok(()),
            Err(Stop::Error(error)) => return Err(error),
        }

        let mut previous: Option<&PlannedBuild> = None;
        // `--runs auto`: the series the last look stopped, and the rounds it was taken after.
        let mut stopped: BTreeSet<(String, CacheMode)> = BTreeSet::new();
        let mut looked_after = 0_u32;
        let mut skipped = 0_u64;
        let mut finished_early = false;
        let builds = &self.plan.builds;
        for (index, planned) in builds.iter().enumerate() {
            if self.shared().cancel.is_cancelled() {
                self.worker.outcome.unfinished = true;
                break;
            }
            let rounds_done = if planned.key.warmup {
                0
            } else {
                planned.key.run.saturating_sub(1)
            };
            if rounds_done > looked_after {
                looked_after = rounds_done;
                if let Some(decision) = self.look(rounds_done) {
                    if decision.finished {
                        skipped += (builds.len() - index) as u64;
                        finished_early = true;
                        break;
                    }
                    stopped = decision.stopped;
                }
            }
            // A stopped series' build is skipped before the budget is asked: were the budget
            // spent there, the round it belongs to would be recorded as incomplete although every
            // series that needed it has its row, and the look after it would be lost.
            let is_stopped = |planned: &PlannedBuild| {
                let variant = &self.variants[planned.variant].variant.name;
                stopped.contains(&(variant.clone(), planned.key.cache))
            };
            if is_stopped(planned) {
                skipped += 1;
                continue;
            }
            if self.shared().budget_spent() {
                let left = builds.len() - index;
                // What the budget keeps from being built: not the stopped series' builds.
                let not_run = builds[index..].iter().filter(|b| !is_stopped(b)).count() as u64;
                self.spend_budget(rounds_done, not_run)?;
                skipped += left as u64;
                finished_early = true;
                break;
            }
            match self.run_planned(planned, previous).await {
                Ok(()) => {}
                Err(Stop::Cancelled) => {
                    self.worker.outcome.unfinished = true;
                    break;
                }
                Err(Stop::Error(error)) => return Err(error),
            }
            previous = Some(planned);
        }
        if skipped > 0 {
            self.emit(RunEvent::PlanShrank { builds: skipped });
        }
        // The last look, after the last round, says where every series ended.
        let last_round = builds
            .iter()
            .filter(|b| !b.key.warmup)
            .map(|b| b.key.run)
            .max()
            .unwrap_or(0);
        if !self.worker.outcome.unfinished && !finished_early && last_round > looked_after {
            self.look(last_round);
        }
        Ok(())
    }

    /// `--runs auto`: after `rounds` complete rounds, the judge's decision, which the progress
    /// display shows; `None` (every series goes on) without one, or when it cannot judge.
    fn look(&self, rounds: u32) -> Option<RoundDecision> {
        let judge = self.policy.round_judge.as_ref()?;
        let scenario = self.scenario().name.clone();
        match judge.after_round(self.folder.dir(), &scenario, self.host(), rounds) {
            Ok(decision) => {
                if !decision.lines.is_empty() {
                    self.worker.emit_note(RunNote::Looked {
                        scenario,
                        rounds,
                        lines: decision.lines.clone(),
                    });
                }
                Some(decision)
            }
            Err(reason) => {
                self.worker
                    .emit_note(RunNote::NotLooked { scenario, reason });
                None
            }
        }
    }

    /// `--time-budget` is spent: the scenario records after how many complete rounds, says so,
    /// and (with `--runs auto`) shows what that leaves unsettled.
    fn spend_budget(&mut self, rounds: u32, builds: u64) -> Result<(), RunError> {
        self.update_entry(|entry| entry.budget_spent_after = Some(rounds))?;
        self.worker.emit_note(RunNote::BudgetSpent {
            scenario: self.scenario().name.clone(),
            rounds,
            builds,
        });
        self.look(rounds);
        Ok(())
    }

    /// Runs a planned build, first filling the variant's cache if an earlier build of it failed
    /// (a warm number without a filled cache would be a lie).
    async fn run_planned(
        &mut self,
        planned: &PlannedBuild,
        previous: Option<&PlannedBuild>,
    ) -> Result<(), Stop> {
        self.check_inputs_unchanged()?;
        let builder = self.worker.builder;
        let preparation = planned.preparation;
        let just_primed = previous.is_some_and(|p| match p.purpose {
            Purpose::Prime => p.key == planned.key,
            Purpose::Measure => false,
        });
        if matches_measure(planned.purpose)
            && self.primed.needs_prime(planned.variant, &preparation)
            && !just_primed
        {
            self.emit(RunEvent::PlanGrew { builds: 1 });
            let prime = PlannedBuild {
                purpose: Purpose::Prime,
                preparation: Preparation::for_mode(CacheMode::Warm, builder),
                ..planned.clone()
            };
            self.build(&prime, prime.preparation).await?;
        }
        match self.build(planned, preparation).await? {
            Built::Recorded => Ok(()),
            Built::RedoWithoutCache => {
                // With the cache ignored, a second redo cannot be asked for.
                let ignoring_cache = Preparation {
                    no_cache: true,
                    ..preparation
                };
                self.build(planned, ignoring_cache).await.map(|_| ())
            }
        }
    }

    /// Stops the scenario when someone changed its files since it started: later rows would
    /// measure other inputs than the earlier ones.
    fn check_inputs_unchanged(&self) -> Result<(), Stop> {
        let Some(before) = &self.inputs_stamp else {
            return Ok(());
        };
        let scenario = self.scenario();
        let Some(now) = scenario.stamp_inputs() else {
            return Ok(());
        };
        let now: ScenarioInputs = now.map_err(|e| RunError::InputsChanged {
            scenario: scenario.name.clone(),
            difference: e.to_string(),
        })?;
        match now.first_difference(before) {
            None => Ok(()),
            Some(difference) => Err(Stop::Error(RunError::InputsChanged {
                scenario: scenario.name.clone(),
                difference,
            })),
        }
    }

    /// Prepares, runs, judges and records one build.
    async fn build(
        &mut self,
        planned: &PlannedBuild,
        preparation: Preparation,
    ) -> Result<Built, Stop> {
        if self.shared().cancel.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        let ready = self.prepare_build(planned, &preparation).await?;
        let ran = self.execute_build(planned, &ready).await?;
        let verdict = judge(&Answer {
            end: &ran.execution.end,
            image_found: ran.image.is_some(),
            tag: &self.variants[planned.variant].variant.tag,
            steps: ran.execution.steps,
            cache: planned.key.cache,
            no_cache: preparation.no_cache,
            purpose: planned.purpose,
        });
        self.record_build(planned, ready, ran, verdict).await
    }

    /// Does what `preparation` asks before a build of `planned`'s variant (a fresh CI machine,
    /// or the prebuilds back in place; images removed, the cache pruned, sources edited).
    async fn prepare_build(
        &mut self,
        planned: &PlannedBuild,
        preparation: &Preparation,
    ) -> Result<ReadyBuild, Stop> {
        // The plan is borrowed for longer than `self`, so its scenario can be read while the
        // ledger and the caches below change.
        let plan = self.plan;
        let scenario = &plan.scenario;
        let index = planned.variant;
        self.emit(RunEvent::Step {
            host: self.host().to_string(),
            activity: Activity::Preparing,
        });
        let ci = if preparation.fresh_machine {
            Some(self.prepare_ci(index, preparation.imports).await?)
        } else {
            self.restore_prebuilds().await?;
            None
        };
        let renamed_images = ci.as_ref().map(CiBuild::renamed_images).unwrap_or_default();
        let prepared = prepare(
            self.worker.engine.as_ref(),
            preparation,
            scenario,
            &self.variants[index].context,
            &self.variants[index].variant.name,
            &mut self.ledger,
            Housekeeping {
                keep_images: self.policy.keep_images,
                cache_scope: self.worker.cache_scope,
                renamed_images: &renamed_images,
            },
        )
        .await?;
        self.cost.prune_seconds += prepared.prune_seconds;
        self.primed.prepared(index, preparation);

        Ok(ReadyBuild {
            ci,
            prepared,
            started_at: now_rfc3339(),
        })
    }

    /// Runs the build, timed, then keeps what the daemon confirms it made: the images it built
    /// go into the ledger (the engine removes the containers of a build cut short), the
    /// variant's cache is primed when an image came out, and `--keep-images` tags a measured
    /// build's image.
    async fn execute_build(
        &mut self,
        planned: &PlannedBuild,
        ready: &ReadyBuild,
    ) -> Result<RanBuild, Stop> {
        let policy = Arc::clone(&self.policy);
        let index = planned.variant;
        let variant = &self.variants[index].variant;
        let built_before: Vec<String> = self.ledger.built_ids().collect();
        let request = BuildRequest {
            context: &ready.prepared.context,
            tag: &variant.tag,
            build_args: &variant.build_args,
            target: variant.target.as_deref(),
            builder: self.worker.builder,
            no_cache: ready.prepared.no_cache,
            secrets: &policy.secrets,
            cache_from: ready.ci.as_ref().map_or(&[], |ci| ci.cache_from.as_slice()),
            inline_cache: false,
            account: Some(&built_before),
        };
        self.emit(RunEvent::BuildStarted {
            host: self.host().to_string(),
            build: StartedBuild::Planned(self.planned_id(planned)),
        });
        let mut execution = self.timed(&request).await?;
        let image = execution.image.take();
        self.ledger
            .note_built(
                &self.folder,
                &self.variants[index].variant.name,
                &execution.made_images,
            )
            .map_err(self.output_error())?;
        for problem in std::mem::take(&mut execution.cleanup_problems) {
            self.worker
                .outcome
                .problems
                .push(format!("cleanup: {problem}"));
        }
        self.primed.set(index, image.is_some());
        if let Some(image) = image
            .as_ref()
            .filter(|_| policy.keep_images && matches_measure(planned.purpose))
        {
            let run_tag = image_tag_for(&format!(
                "{}-{}-{}-{}{}",
                self.variants[index].variant.name,
                policy.first_run_id,
                planned.key.cache,
                if planned.key.warmup { "warmup" } else { "run" },
                planned.key.run
            ));
            self.worker
                .engine
                .tag_image(&image.id, &self.scenario().image_repository, &run_tag)
                .await?;
        }
        Ok(RanBuild { execution, image })
    }

    /// Shows how the build ended and keeps what it is worth: a priming build's cost, a
    /// discarded cold build's cost, or a measured build's row (with its image's analysis, the
    /// first time the variant's image is there). Then goes on, redoes, or stops as `verdict`
    /// says.
    async fn record_build(
        &mut self,
        planned: &PlannedBuild,
        ready: ReadyBuild,
        ran: RanBuild,
        verdict: Verdict,
    ) -> Result<Built, Stop> {
        let Verdict {
            status,
            error,
            next,
        } = verdict;
        let execution = &ran.execution;
        self.emit(RunEvent::BuildFinished {
            host: self.host().to_string(),
            build: FinishedBuild::Planned {
                build: self.planned_id(planned),
                status,
                build_seconds: execution.build_seconds,
                image_bytes: ran.image.as_ref().map(|i| i.image_bytes),
                cached_steps: execution.steps.cached_steps,
                total_steps: execution.steps.total_steps,
                reason: error.clone(),
            },
        });

        match (planned.purpose, &next) {
            (Purpose::Prime, _) => {
                self.cost.priming_build_seconds += execution.build_seconds;
                self.cost.priming_builds += 1;
            }
            (Purpose::Measure, Next::RedoWithoutCache) => {
                self.worker.emit_note(RunNote::ColdBuildRedone {
                    build: self.planned_id(planned),
                    cached_steps: execution.steps.cached_steps,
                    total_steps: execution.steps.total_steps,
                });
                self.cost.discarded_cold_builds += 1;
                self.cost.discarded_cold_seconds += execution.build_seconds;
            }
            (Purpose::Measure, Next::GoOn | Next::Stop | Next::HostLost(_)) => {
                self.cost.measured_build_seconds += execution.build_seconds;
                self.write_row(planned, ready, ran, status, error).await?;
            }
        }
        match next {
            Next::GoOn => Ok(Built::Recorded),
            Next::RedoWithoutCache => Ok(Built::RedoWithoutCache),
            Next::Stop => Err(Stop::Cancelled),
            Next::HostLost(message) => Err(Stop::Error(RunError::NoHost(format!(
                "the connection to host {} was lost: {message}",
                self.host()
            )))),
        }
    }

    /// Appends a measured build's row, its steps and (the first time the variant's image is
    /// there) its image's analysis to the results.
    async fn write_row(
        &mut self,
        planned: &PlannedBuild,
        ready: ReadyBuild,
        ran: RanBuild,
        status: BuildStatus,
        error: String,
    ) -> Result<(), Stop> {
        let policy = Arc::clone(&self.policy);
        let index = planned.variant;
        let RanBuild { execution, image } = ran;
        let analysed = match (&status, &image) {
            (BuildStatus::Ok, Some(image)) if !self.analysed[index] => {
                let analysed = self.analyse_image(index, image).await?;
                self.analysed[index] = analysed.is_some();
                analysed
            }
            _ => None,
        };
        self.worker.seq += 1;
        let ci = ready.ci.as_ref();
        let record = BuildRecord {
            scenario: self.scenario().name.clone(),
            variant: self.variants[index].variant.name.clone(),
            builder: self.worker.builder,
            cache: planned.key.cache,
            run: planned.key.run,
            warmup: planned.key.warmup,
            status,
            build_seconds: execution.build_seconds,
            image_id: image.as_ref().map(|i| i.id.clone()).unwrap_or_default(),
            image_bytes: image.as_ref().map(|i| i.image_bytes),
            layers: image.as_ref().map(|i| i.layers),
            cached_steps: execution.steps.cached_steps,
            total_steps: execution.steps.total_steps,
            started_at: ready.started_at,
            error,
            host: self.host().to_string(),
            run_id: policy.run_id.clone(),
            seq: self.worker.seq,
            compressed_bytes: None,
            pull_seconds: ci.and_then(|ci| ci.pull_seconds(&execution.step_timings)),
            export_seconds: ci.and_then(|ci| ci.export_seconds),
            cache_bytes: ci.and_then(|ci| ci.cache_bytes),
            first_miss: String::new(),
            engine: self.worker.engine_kind,
        };
        let steps = StepRecord::of_build(&record, &execution.step_timings);
        // The steps' instructions are already redacted (`timed`); the cell is redacted again as
        // a whole, like every other text written to results.csv.
        let first_miss = if planned.key.cache.expects_cache() {
            let misses = first_misses(&steps, &self.stage_order(index));
            policy.secrets.redact(&first_miss_column(&misses))
        } else {
            String::new()
        };
        let record = BuildRecord {
            compressed_bytes: analysed.as_ref().map(|a| a.analysis.compressed_bytes()),
            first_miss,
            ..record
        };
        let details = BuildDetails {
            steps,
            image: analysed.as_ref().map(|a| {
                let mut rows = ImageRows::of(&record, &a.analysis, a.base_layers, &a.base_image);
                // An image's history names the build arguments a RUN step saw.
                for layer in &mut rows.layers {
                    layer.created_by = policy.secrets.redact(&layer.created_by);
                }
                for waste in &mut rows.waste {
                    waste.created_by = policy.secrets.redact(&waste.created_by);
                    waste.removed_by = policy.secrets.redact(&waste.removed_by);
                }
                rows
            }),
        };
        self.folder
            .append(&record, &details)
            .map_err(self.output_error())?;
        self.worker.outcome.records.push(record);
        Ok(())
    }

    /// Runs a build with the run's limit and cancellation, showing its steps. `Err` when a
    /// request around the build fails (see `BuildEngine::build`).
    pub(super) async fn timed(&self, request: &BuildRequest<'_>) -> Result<Execution, EngineError> {
        // Step events go through `Shared::emit`, which redacts them like every other event.
        let shared = &self.worker.shared;
        let host = self.host().to_string();
        let on_step = {
            let shared = Arc::clone(shared);
            move |step: &str| {
                shared.emit(RunEvent::Step {
                    host: host.clone(),
                    activity: Activity::Daemon {
                        step: step.to_string(),
                    },
                });
            }
        };
        let execution = execute(
            self.worker.engine.as_ref(),
            request,
            shared.policy.timeout,
            &shared.cancel,
            on_step,
        )
        .await?;
        Ok(execution.redacted(|text| shared.policy.secrets.redact(text)))
    }

    /// The stages of variant `index`'s Dockerfile in the order it declares them; empty when it
    /// cannot be read now, and `first_misses` then lists stages in the order the build reported
    /// them: a row is never lost over the order of one of its cells.
    fn stage_order(&self, index: usize) -> Vec<String> {
        let variant = &self.variants[index];
        crate::text_file::read_string_no_follow(&variant.variant.dockerfile)
            .map(|text| dockerfile::read_facts(&text, &variant.variant.build_args).stage_order)
            .unwrap_or_default()
    }

    /// Removes what the scenario's run built (except each variant's final image, unless
    /// `--keep-images` keeps everything) and records where the time went.
    pub(super) async fn finish(&mut self) {
        let problems = self.finish_ci(self.policy.rm).await;
        self.worker.outcome.problems.extend(problems);
        if !self.policy.keep_images {
            let owners: Vec<(String, String)> = self
                .variants
                .iter()
                .map(|v| (v.variant.name.clone(), v.variant.tag.clone()))
                .collect();
            let rm = self.policy.rm;
            let problems = self
                .ledger
                .clean_up(self.worker.engine.as_ref(), &owners, !rm)
                .await;
            self.worker.outcome.problems.extend(problems);
            if rm {
                for (tag, id) in std::mem::take(&mut self.prebuilt_here) {
                    // Through the tag while it still names the image, else (another run moved
                    // the tag) by ID while no tag names it.
                    let removal = ImageRemoval::BuiltUnder { tag: &tag, id: &id };
                    if let Err(error) = self.worker.engine.remove_image(removal).await {
                        self.worker
                            .outcome
                            .problems
                            .push(format!("cleanup: {error}"));
                    }
                }
            }
        }
        self.cost.wall_seconds = self.started.elapsed().as_secs_f64();
        let cost = self.cost;
        if let Err(error) = self.update_entry(|entry| match &mut entry.cost {
            Some(total) => total.add(&cost),
            None => entry.cost = Some(cost),
        }) {
            self.worker.outcome.problems.push(error.to_string());
        }
    }

    /// `planned` as events name it.
    fn planned_id(&self, planned: &PlannedBuild) -> PlannedBuildId {
        let policy = &self.policy;
        PlannedBuildId {
            key: planned.key.clone(),
            run_count: if planned.key.warmup {
                policy.warmup
            } else {
                policy.runs
            },
            purpose: planned.purpose,
        }
    }
}

/// Whether a build is measured (written to results.csv).
fn matches_measure(purpose: Purpose) -> bool {
    match purpose {
        Purpose::Measure => true,
        Purpose::Prime => false,
    }
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

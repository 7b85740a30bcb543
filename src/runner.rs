//! The runner: executes the plan against the engine, times builds, and appends every result to
//! disk the moment it exists.
//!
//! Statistics are deliberately absent here: the loop only measures and records, so a bug in a
//! summary can never cost a measurement.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_util::sync::CancellationToken;

use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::config::{OutputLocation, RunSettings};
use crate::context::BuildContext;
use crate::dockerfile;
use crate::engine::{BuildEvent, BuildRequest, Engine, StepCounts};
use crate::measurement::{BuildRecord, BuildStatus, ResultsFile};
use crate::meta::{
    BaseImageMeta, HostInfo, META_SCHEMA_VERSION, PrebuildMeta, RunMeta, ScenarioMeta, VariantMeta,
};
use crate::plan::{PlannedBuild, Purpose, ScenarioPlan, plan_scenario};
use crate::progress::Progress;
use crate::scenario::{BuildArgs, Scenario, Variant};
use crate::touch::TouchedFiles;

/// What a finished (or interrupted) run leaves for the caller.
#[derive(Debug, Default)]
pub struct RunOutcome {
    /// Results folders written, one per scenario unless `--out` gathered them.
    pub out_dirs: Vec<PathBuf>,
    /// Every row written to results.csv.
    pub records: Vec<BuildRecord>,
    /// Sentences about failures outside measured builds (prebuilds, cleanup).
    pub problems: Vec<String>,
    /// Whether Ctrl-C (or SIGTERM) stopped the run.
    pub interrupted: bool,
}

impl RunOutcome {
    /// Measured builds that failed.
    pub fn failed_builds(&self) -> usize {
        self.records
            .iter()
            .filter(|r| r.status == BuildStatus::Failed)
            .count()
    }
}

/// A fatal problem: one that stops the run before or between builds.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The daemon failed a request that is not a build.
    #[error(transparent)]
    Engine(#[from] crate::error::EngineError),
    /// A results folder could not be written.
    #[error("cannot write results in {}: {source}", dir.display())]
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
    /// An incremental edit could not be made or undone.
    #[error("cannot edit or restore the [incremental] touch files of {}: {source}", dir.display())]
    Touch {
        /// The scenario directory.
        dir: PathBuf,
        /// The cause, naming the file.
        source: std::io::Error,
    },
    /// A build context could not be prepared.
    #[error(transparent)]
    Context(#[from] crate::context::ContextError),
}

/// Runs every scenario of `settings` in order; `cancel` is triggered by Ctrl-C.
pub async fn run(
    engine: &Engine,
    settings: &RunSettings,
    progress: &mut Progress,
    cancel: &CancellationToken,
) -> Result<RunOutcome, RunError> {
    let daemon = engine.daemon_info().await?;
    let mut outcome = RunOutcome::default();
    for (out_dir, scenarios) in output_groups(settings) {
        if cancel.is_cancelled() {
            break;
        }
        std::fs::create_dir_all(&out_dir).map_err(|source| RunError::Output {
            dir: out_dir.clone(),
            source,
        })?;
        let output_error = |source| RunError::Output {
            dir: out_dir.clone(),
            source,
        };
        let mut results = ResultsFile::create(&out_dir).map_err(output_error)?;
        let mut meta = RunMeta {
            schema_version: META_SCHEMA_VERSION,
            stagebench_version: env!("CARGO_PKG_VERSION").to_string(),
            command_line: settings.command_line.clone(),
            started_at: now_rfc3339(),
            ended_at: None,
            interrupted: false,
            builder: settings.builder,
            profile: settings.profile.clone(),
            runs: settings.runs,
            warmup: settings.warmup,
            cache_modes: settings.cache_modes.clone(),
            command_line_build_args: settings.build_args.clone(),
            timeout_seconds: settings.timeout.map(|t| t.as_secs_f64()),
            daemon: daemon.clone(),
            client_host: HostInfo::current(),
            scenarios: Vec::new(),
        };
        meta.write(&out_dir).map_err(output_error)?;
        progress.note(&format!("writing results to {}", out_dir.display()));

        for scenario in scenarios {
            if cancel.is_cancelled() {
                break;
            }
            let mut scenario_run = ScenarioRun::new(engine, settings, scenario, progress, cancel);
            let result = scenario_run
                .execute(&mut results, &mut meta, &out_dir, &mut outcome)
                .await;
            scenario_run.clean_up(&mut outcome).await;
            meta.write(&out_dir).map_err(output_error)?;
            result?;
        }
        meta.ended_at = Some(now_rfc3339());
        meta.interrupted = cancel.is_cancelled();
        meta.write(&out_dir).map_err(output_error)?;
        outcome.out_dirs.push(out_dir);
    }
    outcome.interrupted = cancel.is_cancelled();
    Ok(outcome)
}

/// Folders and the scenarios written into each: `--out` gathers all, the default gives each
/// scenario `reports/<scenario>/<UTC timestamp>/`.
fn output_groups(settings: &RunSettings) -> Vec<(PathBuf, Vec<&Scenario>)> {
    match &settings.out {
        OutputLocation::Explicit(dir) => vec![(dir.clone(), settings.scenarios.iter().collect())],
        OutputLocation::Default {
            reports_root,
            timestamp,
        } => settings
            .scenarios
            .iter()
            .map(|s| {
                (
                    unused_dir(&reports_root.join(&s.name).join(timestamp)),
                    vec![s],
                )
            })
            .collect(),
    }
}

/// `dir`, or `dir-2`, `dir-3` ... when a run in the same second already wrote there.
fn unused_dir(dir: &Path) -> PathBuf {
    let mut candidate = dir.to_path_buf();
    let mut n = 2;
    while candidate.exists() {
        candidate = PathBuf::from(format!("{}-{n}", dir.display()));
        n += 1;
    }
    candidate
}

fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A build as the runner saw it, finished or cut short.
struct TimedBuild {
    /// `Err` holds the daemon's message, or why the build was cancelled.
    result: Result<(), String>,
    /// Wall time of the build request.
    build_seconds: f64,
    /// Steps run and cached (zero when cut short).
    steps: StepCounts,
    /// Whether a timeout or Ctrl-C cut the build short.
    cancelled: bool,
    /// Images the classic builder committed, including those of a build cut short.
    created_images: Vec<String>,
}

/// One variant as this run builds it.
struct VariantBuild {
    variant: Variant,
    context: BuildContext,
    build_args: BuildArgs,
    tag: String,
    /// Images this run made for the variant (final and intermediate), oldest first, for cleanup.
    images: Vec<String>,
    /// The image the tag named before this run (an earlier run's final image). Moving the tag
    /// leaves it untagged, so cleanup removes it rather than leave a dangling image per run.
    replaced_image: Option<String>,
    /// Whether the last build of this variant succeeded, so its cache is filled.
    primed: bool,
}

struct ScenarioRun<'a> {
    engine: &'a Engine,
    settings: &'a RunSettings,
    scenario: &'a Scenario,
    progress: &'a mut Progress,
    cancel: &'a CancellationToken,
    variants: Vec<VariantBuild>,
}

impl<'a> ScenarioRun<'a> {
    fn new(
        engine: &'a Engine,
        settings: &'a RunSettings,
        scenario: &'a Scenario,
        progress: &'a mut Progress,
        cancel: &'a CancellationToken,
    ) -> ScenarioRun<'a> {
        ScenarioRun {
            engine,
            settings,
            scenario,
            progress,
            cancel,
            variants: Vec::new(),
        }
    }

    async fn execute(
        &mut self,
        results: &mut ResultsFile,
        meta: &mut RunMeta,
        out_dir: &Path,
        outcome: &mut RunOutcome,
    ) -> Result<(), RunError> {
        let scenario = self.scenario;
        let profile = self.settings.profile_args(scenario);
        for variant in self.settings.selected_variants(scenario) {
            let build_args =
                scenario.merged_build_args(&variant.build_args, profile, &self.settings.build_args);
            let tag = format!("{}:{}", scenario.image_repository(), variant.name);
            let replaced_image = self.engine.image(&tag).await?.map(|image| image.id);
            self.variants.push(VariantBuild {
                context: BuildContext::new(&scenario.context_dir, &variant.dockerfile)?,
                tag,
                variant: variant.clone(),
                build_args,
                images: Vec::new(),
                replaced_image,
                primed: false,
            });
        }
        let plan = plan_scenario(
            self.variants.len(),
            !scenario.touch.is_empty(),
            &self.settings.plan_settings(),
        );
        let root = scenario.root();
        meta.scenarios.push(ScenarioMeta {
            name: scenario.name.clone(),
            dir: scenario.dir.display().to_string(),
            description: scenario.description.clone(),
            baseline: scenario.baseline.clone(),
            variants: self
                .variants
                .iter()
                .map(|v| VariantMeta {
                    name: v.variant.name.clone(),
                    dockerfile: v
                        .variant
                        .dockerfile
                        .strip_prefix(&root)
                        .unwrap_or(&v.variant.dockerfile)
                        .display()
                        .to_string(),
                    target: v.variant.target.clone(),
                    build_args: v.build_args.clone(),
                    image_tag: v.tag.clone(),
                })
                .collect(),
            touched_files: scenario
                .touch
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            notes: plan.notes.clone(),
            ..ScenarioMeta::default()
        });
        for note in &plan.notes {
            self.progress.note(&format!("{}: {note}", scenario.name));
        }
        let scenario_index = meta.scenarios.len() - 1;

        let prepare_started = Instant::now();
        let base_images = self.prepare_base_images(profile, outcome).await?;
        meta.scenarios[scenario_index].base_images = base_images;
        meta.scenarios[scenario_index].prepare_seconds = prepare_started.elapsed().as_secs_f64();
        meta.write(out_dir).map_err(|source| RunError::Output {
            dir: out_dir.to_path_buf(),
            source,
        })?;

        let prebuilds = self.build_prebuilds(profile).await?;
        let prebuild_failed = prebuilds.iter().find(|p| !p.error.is_empty()).cloned();
        meta.scenarios[scenario_index].prebuilds = prebuilds;
        if let Some(failed) = prebuild_failed {
            outcome.problems.push(format!(
                "{}: prebuild {} failed, so no variant was built: {}",
                scenario.name, failed.tag, failed.error
            ));
            return Ok(());
        }
        self.execute_plan(&plan, results, outcome).await
    }

    /// Makes every image the Dockerfiles start from present, pulling what is missing.
    ///
    /// An image that cannot be pulled is reported, not fatal: the variants that need it fail with
    /// the daemon's own message and the others are still measured.
    async fn prepare_base_images(
        &mut self,
        profile: Option<&BuildArgs>,
        outcome: &mut RunOutcome,
    ) -> Result<Vec<BaseImageMeta>, RunError> {
        let scenario = self.scenario;
        let prebuild_tags: BTreeSet<&str> =
            scenario.prebuilds.iter().map(|p| p.tag.as_str()).collect();
        let mut needed = BTreeSet::new();
        let dockerfiles = self
            .variants
            .iter()
            .map(|v| (v.variant.dockerfile.clone(), v.build_args.clone()))
            .chain(scenario.prebuilds.iter().map(|p| {
                (
                    p.dockerfile.clone(),
                    scenario.merged_build_args(&p.build_args, profile, &self.settings.build_args),
                )
            }));
        for (path, build_args) in dockerfiles {
            let text = std::fs::read_to_string(&path).map_err(|source| RunError::Read {
                path: path.clone(),
                source,
            })?;
            for image in dockerfile::read_facts(&text, &build_args).images {
                if !prebuild_tags.contains(image.name.as_str()) {
                    needed.insert(image.name);
                }
            }
        }
        let mut found = Vec::new();
        for name in needed {
            let mut pulled = false;
            let facts = match self.engine.image(&name).await? {
                Some(facts) => facts,
                None => {
                    self.progress
                        .note(&format!("{}: pulling base image {name}", scenario.name));
                    self.progress.start_build(&format!("pull {name}"));
                    let progress = &*self.progress;
                    let pull = self
                        .engine
                        .pull(&name, |status| progress.set_step(status))
                        .await;
                    self.progress.finish_build(&format!(
                        "{}: {} {name}",
                        scenario.name,
                        if pull.is_ok() {
                            "pulled"
                        } else {
                            "could not pull"
                        }
                    ));
                    if let Err(error) = pull {
                        outcome.problems.push(format!(
                            "{}: base image {name} is not present and could not be pulled: {error}",
                            scenario.name
                        ));
                        continue;
                    }
                    pulled = true;
                    match self.engine.image(&name).await? {
                        Some(facts) => facts,
                        None => continue,
                    }
                }
            };
            found.push(BaseImageMeta {
                name,
                id: facts.id,
                repo_digests: facts.repo_digests,
                pulled,
            });
        }
        Ok(found)
    }

    /// Builds the `[[prebuild]]` images in order, with cache, outside any measurement.
    async fn build_prebuilds(
        &mut self,
        profile: Option<&BuildArgs>,
    ) -> Result<Vec<PrebuildMeta>, RunError> {
        let mut built = Vec::new();
        for prebuild in &self.scenario.prebuilds {
            if self.cancel.is_cancelled() {
                break;
            }
            let context = BuildContext::new(&prebuild.context_dir, &prebuild.dockerfile)?;
            let build_args = self.scenario.merged_build_args(
                &prebuild.build_args,
                profile,
                &self.settings.build_args,
            );
            let request = BuildRequest {
                context: &context,
                tag: &prebuild.tag,
                build_args: &build_args,
                target: prebuild.target.as_deref(),
                builder: self.settings.builder,
                no_cache: false,
            };
            let replaced_image = self
                .engine
                .image(&prebuild.tag)
                .await?
                .map(|image| image.id);
            self.progress
                .start_build(&format!("{} prebuild {}", self.scenario.name, prebuild.tag));
            let TimedBuild {
                result,
                build_seconds,
                ..
            } = self.timed_build(&request).await;
            let image = match &result {
                Ok(()) => self.engine.image(&prebuild.tag).await?,
                Err(_) => None,
            };
            // A changed prebuild moves its tag; the image it named before would stay behind
            // untagged. It goes only when nothing names it any more, and removal refuses (and is
            // skipped) while a container or another image still uses it.
            if let (Some(old), Some(new)) = (&replaced_image, &image)
                && *old != new.id
                && self.engine.is_untagged(old).await?
            {
                self.engine.remove_image(old).await?;
            }
            let error = result.err().unwrap_or_default();
            self.progress.finish_build(&format!(
                "{}: prebuild {} {} in {build_seconds:.1} s (not counted in any variant's time)",
                self.scenario.name,
                prebuild.tag,
                if error.is_empty() { "built" } else { "FAILED" }
            ));
            let failed = !error.is_empty();
            built.push(PrebuildMeta {
                tag: prebuild.tag.clone(),
                build_seconds,
                image_id: image.as_ref().map(|i| i.id.clone()).unwrap_or_default(),
                image_bytes: image.map(|i| i.image_bytes),
                error,
            });
            if failed {
                break;
            }
        }
        Ok(built)
    }

    async fn execute_plan(
        &mut self,
        plan: &ScenarioPlan,
        results: &mut ResultsFile,
        outcome: &mut RunOutcome,
    ) -> Result<(), RunError> {
        for planned in &plan.builds {
            if self.cancel.is_cancelled() {
                break;
            }
            if planned.purpose == Purpose::Measure
                && planned.cache != CacheMode::Cold
                && !self.variants[planned.variant].primed
            {
                // An earlier build of this variant failed; a warm number without a filled cache
                // would be a lie, so the cache is filled first.
                let prime = PlannedBuild {
                    purpose: Purpose::Prime,
                    ..*planned
                };
                self.run_one(&prime, results, outcome).await?;
                if self.cancel.is_cancelled() {
                    break;
                }
            }
            self.run_one(planned, results, outcome).await?;
        }
        Ok(())
    }

    async fn run_one(
        &mut self,
        planned: &PlannedBuild,
        results: &mut ResultsFile,
        outcome: &mut RunOutcome,
    ) -> Result<(), RunError> {
        let builder = self.settings.builder;
        let index = planned.variant;
        let label = self.label(planned);
        if planned.cache == CacheMode::Cold && planned.purpose == Purpose::Measure {
            self.progress.set_step("cold reset");
            if !self.settings.keep_images {
                let images = std::mem::take(&mut self.variants[index].images);
                self.remove_images(images.iter().rev()).await?;
            }
            if builder == Builder::BuildKit {
                self.engine.prune_build_cache().await?;
            }
            self.variants[index].primed = false;
        }

        // Changed files are put back when this guard drops, whatever happens below.
        let touched =
            if planned.cache == CacheMode::Incremental && planned.purpose == Purpose::Measure {
                let token = uuid::Uuid::new_v4().simple().to_string();
                Some(
                    TouchedFiles::apply(&self.scenario.root(), &self.scenario.touch, &token)
                        .map_err(|source| RunError::Touch {
                            dir: self.scenario.dir.clone(),
                            source,
                        })?,
                )
            } else {
                None
            };

        let variant = &self.variants[index];
        let request = BuildRequest {
            context: &variant.context,
            tag: &variant.tag,
            build_args: &variant.build_args,
            target: variant.variant.target.as_deref(),
            builder,
            no_cache: planned.cache == CacheMode::Cold && builder == Builder::Classic,
        };
        let started_at = now_rfc3339();
        let containers_before = if builder == Builder::Classic {
            self.engine.container_ids().await.ok()
        } else {
            None
        };
        self.progress.start_build(&label);
        let TimedBuild {
            result,
            build_seconds,
            steps,
            cancelled,
            created_images,
        } = self.timed_build(&request).await;
        if let Some(touched) = touched {
            touched.restore().map_err(|source| RunError::Touch {
                dir: self.scenario.dir.clone(),
                source,
            })?;
        }
        if let Some(before) = containers_before.filter(|_| cancelled) {
            self.remove_new_containers(&before).await;
        }

        let tag = self.variants[index].tag.clone();
        let image = match &result {
            Ok(()) => self.engine.image(&tag).await?,
            Err(_) => None,
        };
        {
            let variant = &mut self.variants[index];
            let made = created_images
                .into_iter()
                .chain(image.iter().map(|i| i.id.clone()));
            for id in made {
                if !variant.images.contains(&id) {
                    variant.images.push(id);
                }
            }
            variant.primed = result.is_ok();
        }
        if let Some(image) = image
            .as_ref()
            .filter(|_| self.settings.keep_images && planned.purpose == Purpose::Measure)
        {
            let run_tag = format!(
                "{}-{}-{}{}",
                self.variants[index].variant.name,
                planned.cache,
                if planned.warmup { "warmup" } else { "run" },
                planned.run
            );
            self.engine
                .tag_image(&image.id, &self.scenario.image_repository(), &run_tag)
                .await?;
        }

        let status_text = match (&result, &image) {
            (Ok(()), Some(image)) => format!(
                "ok {build_seconds:7.2} s  {:>9}  {}/{} steps cached",
                human_bytes(image.image_bytes),
                steps.cached_steps,
                steps.total_steps
            ),
            (Err(error), _) => format!("FAILED after {build_seconds:.2} s: {error}"),
            (Ok(()), None) => format!("FAILED: the build ended but {tag} is not there"),
        };
        let purpose = if planned.purpose == Purpose::Prime {
            " (priming the cache, not measured)"
        } else {
            ""
        };
        self.progress
            .finish_build(&format!("{label}{purpose}  {status_text}"));

        if planned.purpose == Purpose::Measure {
            let error = match (&result, &image) {
                (Err(error), _) => error.clone(),
                (Ok(()), None) => format!("the build ended but {tag} is not there"),
                _ => String::new(),
            };
            let record = BuildRecord {
                scenario: self.scenario.name.clone(),
                variant: self.variants[index].variant.name.clone(),
                builder,
                cache: planned.cache,
                run: planned.run,
                warmup: planned.warmup,
                status: if error.is_empty() {
                    BuildStatus::Ok
                } else {
                    BuildStatus::Failed
                },
                build_seconds,
                image_id: image.as_ref().map(|i| i.id.clone()).unwrap_or_default(),
                image_bytes: image.as_ref().map(|i| i.image_bytes),
                layers: image.as_ref().map(|i| i.layers),
                cached_steps: steps.cached_steps,
                total_steps: steps.total_steps,
                started_at,
                error,
            };
            results.append(&record).map_err(|source| RunError::Output {
                dir: results.path().to_path_buf(),
                source,
            })?;
            outcome.records.push(record);
        }
        Ok(())
    }

    /// Runs a build, bounded by `--timeout` and cut short by Ctrl-C.
    async fn timed_build(&self, request: &BuildRequest<'_>) -> TimedBuild {
        let started = Instant::now();
        let progress = &*self.progress;
        let mut created_images = Vec::new();
        let timeout = self.settings.timeout;
        let (result, finished) = {
            let build = self.engine.build(request, |event| match event {
                BuildEvent::Step(step) => progress.set_step(step),
                BuildEvent::ImageCreated(id) => created_images.push(id.to_string()),
            });
            let bounded = async {
                match timeout {
                    Some(limit) => tokio::time::timeout(limit, build).await.ok(),
                    None => Some(build.await),
                }
            };
            tokio::select! {
                finished = bounded => match finished {
                    Some(outcome) => (outcome.result.clone(), Some(outcome)),
                    None => (
                        Err(format!(
                            "the build did not finish within --timeout {} s and was cancelled",
                            timeout.map_or(0.0, |t| t.as_secs_f64())
                        )),
                        None,
                    ),
                },
                () = self.cancel.cancelled() => (
                    Err("interrupted by the user; the build was cancelled".to_string()),
                    None,
                ),
            }
        };
        TimedBuild {
            result,
            build_seconds: finished
                .as_ref()
                .map_or_else(|| started.elapsed().as_secs_f64(), |o| o.build_seconds),
            steps: finished.as_ref().map(|o| o.steps).unwrap_or_default(),
            cancelled: finished.is_none(),
            created_images,
        }
    }

    /// Removes containers that appeared during an interrupted classic build. The daemon removes
    /// them itself once it notices the closed connection, but not always before we exit.
    async fn remove_new_containers(&self, before: &std::collections::HashSet<String>) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let Ok(now) = self.engine.container_ids().await else {
                return;
            };
            let new: Vec<&String> = now.difference(before).collect();
            if new.is_empty() {
                return;
            }
            for id in new {
                let _ = self.engine.remove_container(id).await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn remove_images(&self, ids: impl Iterator<Item = &String>) -> Result<(), RunError> {
        for id in ids {
            self.engine.remove_image(id).await?;
        }
        Ok(())
    }

    /// Removes everything this scenario's run built except each variant's final tagged image
    /// (unless `--keep-images`).
    async fn clean_up(&mut self, outcome: &mut RunOutcome) {
        if self.settings.keep_images {
            return;
        }
        for index in 0..self.variants.len() {
            let tag = self.variants[index].tag.clone();
            let keep = match self.engine.image(&tag).await {
                Ok(image) => image.map(|i| i.id),
                Err(e) => {
                    outcome.problems.push(format!("cleanup: {e}"));
                    continue;
                }
            };
            // The classic builder prints short IDs; the final image may appear in either form.
            let is_kept = |id: &str| {
                keep.as_deref().is_some_and(|k| {
                    k.trim_start_matches("sha256:")
                        .starts_with(id.trim_start_matches("sha256:"))
                })
            };
            // The replaced image goes only if nothing names it any more: `--keep-images` of an
            // earlier run may have tagged it too, and a person may have.
            let replaced = match &self.variants[index].replaced_image {
                Some(id) if !is_kept(id) => match self.engine.is_untagged(id).await {
                    Ok(true) => Some(id.clone()),
                    Ok(false) => None,
                    Err(e) => {
                        outcome.problems.push(format!("cleanup: {e}"));
                        None
                    }
                },
                _ => None,
            };
            let images: Vec<String> = replaced
                .into_iter()
                .chain(self.variants[index].images.iter().cloned())
                .filter(|id| !is_kept(id))
                .collect();
            // Newest first, so children go before the parents they pin.
            for id in images.iter().rev() {
                if let Err(e) = self.engine.remove_image(id).await {
                    outcome.problems.push(format!("cleanup: {e}"));
                }
            }
        }
    }

    fn label(&self, planned: &PlannedBuild) -> String {
        let total = if planned.warmup {
            self.settings.warmup
        } else {
            self.settings.runs
        };
        format!(
            "{} {} {} {} {}/{}",
            self.scenario.name,
            self.variants[planned.variant].variant.name,
            planned.cache,
            if planned.warmup { "warmup" } else { "run" },
            planned.run,
            total
        )
    }
}

/// Sizes for progress lines, in decimal megabytes as `docker images` shows them.
fn human_bytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

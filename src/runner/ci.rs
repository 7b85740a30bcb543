//! Builds as CI runs them: a fresh machine whose cache and prebuilt stages come from a registry.
//!
//! A CI job starts with base images only, imports whatever cache the previous job exported and
//! pulls the prebuilt stage images its Dockerfile names. Before a CI-mode build the runner plays
//! the previous job once per variant (untimed, except what it pays to export: the extra stage
//! builds and the pushes), pushes the prebuilds once, then makes the daemon a fresh machine:
//! every image of the scenario this run made and the prebuild images removed, the run's
//! build-cache records pruned. The timed build names each prebuild by its registry copy, so it
//! pulls it, and imports the inline caches its mode names. What each mode imports is said in
//! `cache_mode.rs`; nothing here decides it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::execute::BuildEnd;
use super::prepare::edited_context;
use super::scenario::{ScenarioRun, Stop};
use super::{Activity, RunError, RunEvent, StartedBuild};
use crate::cache_mode::CacheImport;
use crate::context::BuildContext;
use crate::dockerfile;
use crate::engine::{BuildRequest, ImageRemoval};
use crate::registry::{Deleted, RegistryAccess};
use crate::step_timing::StepTiming;

/// What this invocation did on the registry and to the local prebuilds, for one scenario.
#[derive(Debug, Default)]
pub(super) struct CiState {
    /// Each prebuild's local tag with the registry reference it was pushed as, once pushed.
    prebuild_refs: Option<Vec<(String, String)>>,
    /// Whether the local prebuild images were removed for a fresh machine (and must come back
    /// before a build that expects them).
    prebuilds_removed: bool,
    /// The previous job's export per variant and import, once made.
    exports: BTreeMap<(usize, ImportKey), Export>,
    /// Every `repository_path:tag` pushed, for `--rm`.
    pub(super) pushed: Vec<(String, String)>,
}

/// [`CacheImport`] as a map key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ImportKey {
    FinalImage,
    EveryStage,
}

/// What the previous job exported for a variant.
#[derive(Debug, Clone)]
struct Export {
    /// The references the timed build imports the inline cache of.
    refs: Vec<String>,
    /// What exporting cost beyond the job's own build: the stage builds and every push.
    export_seconds: f64,
    /// The compressed bytes of those images in the registry, each blob counted once.
    cache_bytes: u64,
}

/// What a CI-mode build of a variant is given, and what its row records of it.
#[derive(Debug, Clone, Default)]
pub(super) struct CiBuild {
    /// Each prebuild's local tag with the registry reference the CI job's Dockerfile names.
    pub(super) renames: Vec<(String, String)>,
    /// The inline caches to import.
    pub(super) cache_from: Vec<String>,
    /// The previous job's export cost, when the build imports what it exported.
    pub(super) export_seconds: Option<f64>,
    /// The imported cache's compressed bytes in the registry.
    pub(super) cache_bytes: Option<u64>,
    /// The prebuilds' registry references, whose pulls the build's `FROM` steps time.
    pub(super) prebuild_refs: Vec<String>,
}

impl CiBuild {
    /// The Dockerfile renames, local tag to registry reference.
    pub(super) fn renamed_images(&self) -> BTreeMap<String, String> {
        self.renames.iter().cloned().collect()
    }

    /// Seconds the timed build spent pulling prebuilds: resolving each registry copy's manifest
    /// (BuildKit's "load metadata for") and its `FROM` step, as a stage's base or a
    /// `COPY --from` source; `None` when the variant uses none.
    pub(super) fn pull_seconds(&self, timings: &[StepTiming]) -> Option<f64> {
        pull_seconds(&self.prebuild_refs, timings)
    }
}

/// The wall time during which at least one pull step ran: the prebuilds of different stages are
/// pulled side by side, so their steps' durations overlap and their sum would exceed the build.
fn pull_seconds(refs: &[String], timings: &[StepTiming]) -> Option<f64> {
    let mut spans: Vec<(f64, f64)> = timings
        .iter()
        .filter(|t| {
            let instruction = t.instruction.trim_start_matches("[internal] ");
            instruction
                .strip_prefix("FROM ")
                .or_else(|| instruction.strip_prefix("load metadata for "))
                .is_some_and(|image| refs.iter().any(|r| image.starts_with(r.as_str())))
        })
        .map(|t| (t.started_offset_s, t.started_offset_s + t.seconds))
        .collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut covered = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (start, end) in spans {
        current = match current {
            Some((open, close)) if start <= close => Some((open, close.max(end))),
            Some((open, close)) => {
                covered += close - open;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((open, close)) = current {
        covered += close - open;
    }
    Some(covered)
}

impl ScenarioRun<'_> {
    fn registry(&self) -> Result<&RegistryAccess, RunError> {
        self.policy.registry.as_ref().ok_or_else(|| {
            RunError::Registry("a CI cache mode needs --registry (or STAGEBENCH_REGISTRY)".into())
        })
    }

    /// Plays the previous job for variant `index` if this invocation has not yet, then makes
    /// the daemon a fresh machine. Returns what the timed build is given.
    pub(super) async fn prepare_ci(
        &mut self,
        index: usize,
        imports: CacheImport,
    ) -> Result<CiBuild, Stop> {
        let prebuild_refs = self.push_prebuilds().await?;
        let renames: BTreeMap<String, String> = prebuild_refs.iter().cloned().collect();
        let export = match imports {
            CacheImport::Nothing => None,
            CacheImport::FinalImage => {
                Some(self.export(index, ImportKey::FinalImage, &renames).await?)
            }
            CacheImport::EveryStage => {
                Some(self.export(index, ImportKey::EveryStage, &renames).await?)
            }
        };
        self.make_fresh_machine().await?;
        Ok(CiBuild {
            renames: prebuild_refs.clone(),
            cache_from: export.as_ref().map(|e| e.refs.clone()).unwrap_or_default(),
            export_seconds: export.as_ref().map(|e| e.export_seconds),
            cache_bytes: export.as_ref().map(|e| e.cache_bytes),
            prebuild_refs: prebuild_refs.into_iter().map(|(_, r)| r).collect(),
        })
    }

    /// Pushes each prebuild once (untimed: it was pushed before any CI job ran) and returns
    /// each local tag with its registry reference.
    async fn push_prebuilds(&mut self) -> Result<Vec<(String, String)>, Stop> {
        if let Some(refs) = &self.ci.prebuild_refs {
            return Ok(refs.clone());
        }
        let registry = self.registry()?.registry.clone();
        let scenario = Arc::clone(&self.plan.scenario);
        let run_id = self.policy.first_run_id.clone();
        let mut refs = Vec::new();
        for (number, prebuild) in scenario.prebuilds.iter().enumerate() {
            let repository_path = registry.repository_path(&scenario.name, "prebuilds");
            let tag = format!("{run_id}-{}", number + 1);
            let reference = format!("{}/{repository_path}:{tag}", registry.server());
            self.worker
                .engine
                .tag_image(
                    &prebuild.tag,
                    &format!("{}/{repository_path}", registry.server()),
                    &tag,
                )
                .await?;
            self.push_own(&reference, &repository_path, &tag).await?;
            refs.push((prebuild.tag.clone(), reference));
        }
        self.ci.prebuild_refs = Some(refs.clone());
        Ok(refs)
    }

    /// Pushes `reference` (tagged here by this run) and removes the local tag again: a fresh
    /// machine has only what it pulls. Returns the push's seconds.
    async fn push_own(
        &mut self,
        reference: &str,
        repository_path: &str,
        tag: &str,
    ) -> Result<f64, Stop> {
        self.emit(RunEvent::Step {
            host: self.host().to_string(),
            activity: Activity::Pushing {
                reference: reference.to_string(),
            },
        });
        let started = Instant::now();
        let pushed = self.worker.engine.push(reference, &mut |_| {}).await;
        let push_seconds = started.elapsed().as_secs_f64();
        self.cost.registry_seconds += push_seconds;
        let pushed_tag = (repository_path.to_string(), tag.to_string());
        if !self.ci.pushed.contains(&pushed_tag) {
            self.ci.pushed.push(pushed_tag);
        }
        self.worker
            .engine
            .remove_image(ImageRemoval::Tag(reference))
            .await?;
        pushed?;
        Ok(push_seconds)
    }

    /// The previous job of variant `index`: its build with the inline cache, pushed; for
    /// every-stage caching also each named stage built with its target and pushed to its own
    /// tag. Made once per variant and kind, and its cost recorded on each row that imports it.
    ///
    /// A pipeline's jobs push on top of what earlier jobs pushed, so a push uploads only the
    /// layers its commit changed. The job is therefore played twice: first on the unedited
    /// source (the history, untimed), then on the scenario's edit with a token of its own (the
    /// commit before the one under test), whose stage builds and pushes are the export cost.
    /// Every kind of job pays the first upload of its layers in the untimed part, whichever
    /// kind ran first.
    async fn export(
        &mut self,
        index: usize,
        kind: ImportKey,
        renames: &BTreeMap<String, String>,
    ) -> Result<Export, Stop> {
        if let Some(done) = self.ci.exports.get(&(index, kind)) {
            return Ok(done.clone());
        }
        let registry = self.registry()?.clone();
        let scenario_name = self.scenario().name.clone();
        let variant = self.variants[index].variant.clone();
        let run_id = self.policy.first_run_id.clone();
        let repository_path = registry
            .registry
            .repository_path(&scenario_name, &variant.name);
        let repository = format!("{}/{repository_path}", registry.registry.server());
        let stages = match kind {
            ImportKey::FinalImage => Vec::new(),
            ImportKey::EveryStage => {
                let path = self.variants[index].context.dockerfile_path();
                let text = crate::text_file::read_string_no_follow(path).map_err(|source| {
                    RunError::Read {
                        path: path.to_path_buf(),
                        source,
                    }
                })?;
                dockerfile::named_stages_before(&text, variant.target.as_deref())
            }
        };
        // Each kind of job pushes under tags of its own, so that one job's push never changes
        // what another's rows recorded.
        let final_tag = match kind {
            ImportKey::FinalImage => format!("{run_id}-inline"),
            ImportKey::EveryStage => format!("{run_id}-stages-final"),
        };
        let final_reference = format!("{repository}:{final_tag}");
        // A stage name (`[a-z][a-z0-9_.-]*`, lower-cased by the reader) is a valid tag part.
        let stage_tags: Vec<String> = stages
            .iter()
            .map(|stage| format!("{run_id}-stage-{stage}"))
            .collect();
        let stage_refs: Vec<String> = stage_tags
            .iter()
            .map(|tag| format!("{repository}:{tag}"))
            .collect();
        let mut export_seconds = 0.0;
        for edited in [false, true] {
            // The edited job has a token of its own, so it never shares the timed build's edit.
            let context = edited_context(
                self.scenario(),
                &self.variants[index].context,
                edited,
                renames,
            )?;
            // The job's own build comes first and is not an export cost: the job builds the
            // image anyway. Its stages are then in the local cache, as in the job that exports
            // them.
            self.export_build(
                index,
                &context,
                &final_reference,
                variant.target.as_deref(),
                &scenario_name,
            )
            .await?;
            let mut job_seconds = 0.0;
            for ((stage, reference), tag) in stages.iter().zip(&stage_refs).zip(&stage_tags) {
                job_seconds += self
                    .export_build(index, &context, reference, Some(stage), &scenario_name)
                    .await?;
                job_seconds += self.push_own(reference, &repository_path, tag).await?;
            }
            job_seconds += self
                .push_own(&final_reference, &repository_path, &final_tag)
                .await?;
            if edited {
                export_seconds = job_seconds;
            }
        }
        let refs: Vec<String> = stage_refs
            .into_iter()
            .chain(std::iter::once(final_reference))
            .collect();
        let tags: Vec<String> = stage_tags
            .into_iter()
            .chain(std::iter::once(final_tag))
            .collect();

        let client = registry
            .client()
            .map_err(|e| RunError::Registry(e.to_string()))?;
        let mut blobs = BTreeMap::new();
        for tag in &tags {
            let sizes = client
                .blob_sizes(&repository_path, tag)
                .await
                .map_err(|e| RunError::Registry(e.to_string()))?;
            blobs.extend(sizes);
        }
        let export = Export {
            refs,
            export_seconds,
            cache_bytes: blobs.values().sum(),
        };
        self.ci.exports.insert((index, kind), export.clone());
        Ok(export)
    }

    /// One build of the previous job, with the inline cache written into the image; returns its
    /// seconds. A failure stops the scenario: rows of a CI mode without the cache they claim to
    /// import would be wrong.
    async fn export_build(
        &mut self,
        index: usize,
        context: &BuildContext,
        reference: &str,
        target: Option<&str>,
        scenario_name: &str,
    ) -> Result<f64, Stop> {
        let policy = Arc::clone(&self.policy);
        let variant = &self.variants[index];
        let request = BuildRequest {
            context,
            tag: reference,
            build_args: &variant.variant.build_args,
            target,
            builder: self.worker.builder,
            no_cache: false,
            secrets: &policy.secrets,
            cache_from: &[],
            inline_cache: true,
            account: None,
        };
        self.emit(RunEvent::BuildStarted {
            host: self.host().to_string(),
            build: StartedBuild::PreviousCiJob {
                scenario: scenario_name.to_string(),
                variant: variant.variant.name.clone(),
                stage: target.map(str::to_string),
            },
        });
        let execution = self.timed(&request).await?;
        self.cost.ci_previous_job_seconds += execution.build_seconds;
        match execution.end {
            BuildEnd::Succeeded => Ok(execution.build_seconds),
            BuildEnd::Interrupted(_) => Err(Stop::Cancelled),
            BuildEnd::Failed(message)
            | BuildEnd::TimedOut(message)
            | BuildEnd::ConnectionLost(message) => Err(Stop::Error(RunError::Registry(format!(
                "{scenario_name} {} previous CI job: {} failed, so its CI rows cannot be measured: {message}",
                self.variants[index].variant.name,
                target.map_or_else(|| "final image".to_string(), |t| format!("stage {t}"))
            )))),
        }
    }

    /// Removes everything of the scenario this run has locally (every variant's images, the
    /// prebuild images); the caller's preparation prunes the run's build-cache records. Base
    /// images stay, as a runner image has them.
    async fn make_fresh_machine(&mut self) -> Result<(), Stop> {
        if !self.policy.keep_images {
            let names: Vec<String> = self
                .variants
                .iter()
                .map(|v| v.variant.name.clone())
                .collect();
            for name in names {
                self.ledger
                    .remove_built(self.worker.engine.as_ref(), &name)
                    .await?;
            }
        }
        if !self.ci.prebuilds_removed {
            let tags: Vec<String> = self
                .scenario()
                .prebuilds
                .iter()
                .map(|p| p.tag.clone())
                .collect();
            for tag in tags {
                self.worker
                    .engine
                    .remove_image(ImageRemoval::Tag(&tag))
                    .await?;
            }
            self.ci.prebuilds_removed = true;
        }
        Ok(())
    }

    /// Brings the prebuild images back under their local tags, pulled from the registry
    /// (untimed), when a CI build removed them: builds in the other modes start from them.
    pub(super) async fn restore_prebuilds(&mut self) -> Result<(), Stop> {
        if !self.ci.prebuilds_removed {
            return Ok(());
        }
        let refs = self.ci.prebuild_refs.clone().unwrap_or_default();
        for (local, reference) in refs {
            self.emit(RunEvent::Step {
                host: self.host().to_string(),
                activity: Activity::RestoringPrebuild { tag: local.clone() },
            });
            let started = Instant::now();
            self.pull_surely(&reference).await?;
            self.cost.registry_seconds += started.elapsed().as_secs_f64();
            let (repository, tag) = split_reference(&local);
            self.worker
                .engine
                .tag_image(&reference, repository, tag)
                .await?;
            self.worker
                .engine
                .remove_image(ImageRemoval::Tag(&reference))
                .await?;
        }
        self.ci.prebuilds_removed = false;
        Ok(())
    }
}

impl ScenarioRun<'_> {
    /// At the scenario's end: the prebuilds back in place, and with `--rm` the run's pushed tags
    /// deleted from the registry. Returns sentences about what failed.
    pub(super) async fn finish_ci(&mut self, rm: bool) -> Vec<String> {
        let mut problems = Vec::new();
        match self.restore_prebuilds().await {
            Ok(()) => {}
            Err(Stop::Cancelled) => {}
            Err(Stop::Error(error)) => problems.push(format!("cleanup: {error}")),
        }
        let pushed = std::mem::take(&mut self.ci.pushed);
        if !rm || pushed.is_empty() {
            return problems;
        }
        let Some(access) = self.policy.registry.clone() else {
            return problems;
        };
        let client = match access.client() {
            Ok(client) => client,
            Err(error) => {
                problems.push(format!("cleanup: {error}"));
                return problems;
            }
        };
        let mut refused = 0;
        for (repository_path, tag) in &pushed {
            match client.delete_tag(repository_path, tag).await {
                Ok(Deleted::Removed { .. } | Deleted::Absent) => {}
                Ok(Deleted::Refused) => refused += 1,
                Err(error) => problems.push(format!("cleanup: {error}")),
            }
        }
        if refused > 0 {
            problems.push(format!(
                "cleanup: registry {} refuses deletes, so {refused} tags this run pushed stay under {}",
                access.registry,
                access.registry.namespace_path()
            ));
        }
        problems
    }
}

impl ScenarioRun<'_> {
    /// Pulls `reference`, asked once more when the answer broke off: the daemon's progress
    /// stream now and then ends in a cut-off line ("bytes remaining on stream") after the pull
    /// itself went through, which the daemon's image store then shows.
    async fn pull_surely(&self, reference: &str) -> Result<(), crate::error::EngineError> {
        let engine = &self.worker.engine;
        let mut last_error = None;
        for _ in 0..2 {
            match engine.pull(reference, &mut |_| {}).await {
                Ok(()) => return Ok(()),
                Err(error) => {
                    if engine.image(reference).await?.is_some() {
                        return Ok(());
                    }
                    last_error = Some(error);
                }
            }
        }
        match last_error {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

/// `repository` and `tag` of a reference (`latest` when it names none).
fn split_reference(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repository, tag)) if !tag.contains('/') => (repository, tag),
        _ => (reference, "latest"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(instruction: &str, started_offset_s: f64, seconds: f64) -> StepTiming {
        StepTiming {
            stage: "0".into(),
            step: 1,
            instruction: instruction.into(),
            started_offset_s,
            seconds,
            cached: false,
        }
    }

    #[test]
    fn pull_time_is_the_from_steps_that_name_a_prebuild_s_registry_copy() {
        let refs = vec!["127.0.0.1:5000/stagebench/p/prebuilds:r-1".to_string()];
        let timings = [
            timing(
                "[internal] load metadata for 127.0.0.1:5000/stagebench/p/prebuilds:r-1",
                0.0,
                0.5,
            ),
            timing(
                "FROM 127.0.0.1:5000/stagebench/p/prebuilds:r-1@sha256:ab",
                1.0,
                1.5,
            ),
            timing("FROM docker.io/library/debian:bookworm-slim", 0.0, 0.25),
            timing("RUN make", 3.0, 4.0),
        ];
        assert_eq!(pull_seconds(&refs, &timings), Some(2.0));
        assert_eq!(pull_seconds(&[], &timings), None);
    }

    #[test]
    fn pulls_side_by_side_count_once() {
        let refs = vec![
            "127.0.0.1:5000/stagebench/p/prebuilds:r-1".to_string(),
            "127.0.0.1:5000/stagebench/p/prebuilds:r-2".to_string(),
        ];
        // Two stages' prebuilds pulled at once, as python-node's prebuilt variant does.
        let timings = [
            timing(
                "FROM 127.0.0.1:5000/stagebench/p/prebuilds:r-1@sha256:ab",
                0.25,
                8.0,
            ),
            timing(
                "FROM 127.0.0.1:5000/stagebench/p/prebuilds:r-2@sha256:cd",
                0.25,
                5.0,
            ),
        ];
        assert_eq!(pull_seconds(&refs, &timings), Some(8.0));
    }

    #[test]
    fn a_reference_splits_at_its_tag_not_at_a_registry_port() {
        assert_eq!(split_reference("stagebench/p:py"), ("stagebench/p", "py"));
        assert_eq!(
            split_reference("127.0.0.1:5000/p"),
            ("127.0.0.1:5000/p", "latest")
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/p:1"),
            ("127.0.0.1:5000/p", "1")
        );
    }
}

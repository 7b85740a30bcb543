//! The images a scenario's builds start from: base images made present (pulled if missing)
//! and prebuilds built, both outside any measurement.
//!
//! A prebuild's tag is named by the scenario, so it cannot carry the run's identity. Under
//! `stagebench/` it is stagebench's own namespace and a run may move it. Anywhere else, a tag
//! that already names an image this run did not build is refused before any build: building
//! the prebuild would take the tag from the user's own image. In both cases the image a tag
//! named before is removed only when this run built it, and `--rm` removes only the prebuild
//! images this run built.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::execute::BuildEnd;
use super::scenario::{ScenarioRun, Stop};
use super::{Activity, FinishedBuild, RunError, RunEvent, RunNote, StartedBuild};
use crate::context::BuildContext;
use crate::dockerfile;
use crate::engine::{BuildEngine, BuildRequest, ImageRemoval};
use crate::plan::ScenarioPlan;
use crate::planned_scenario::IMAGE_NAMESPACE;
use crate::results::{BaseImageMeta, PrebuildMeta, RunMeta};

/// Refuses, before any build, a prebuild whose tag outside `stagebench/` already names an image
/// on `engine` that this run did not build (an earlier invocation of the run, recorded in
/// meta.json, may have).
pub(super) async fn check_prebuild_tags(
    resumed: Option<&RunMeta>,
    engine: &dyn BuildEngine,
    host: &str,
    scenarios: &[ScenarioPlan],
) -> Result<(), RunError> {
    for plan in scenarios {
        let scenario = &plan.scenario;
        for prebuild in &scenario.prebuilds {
            if prebuild.tag.starts_with(IMAGE_NAMESPACE) {
                continue;
            }
            let Some(image) = engine.image(&prebuild.tag).await? else {
                continue;
            };
            let built_by_this_run = resumed.is_some_and(|meta| {
                meta.scenarios
                    .iter()
                    .filter(|s| s.name == scenario.name && s.host == host)
                    .flat_map(|s| &s.prebuilds)
                    .any(|p| p.tag == prebuild.tag && p.error.is_empty() && p.image_id == image.id)
            });
            if !built_by_this_run {
                return Err(RunError::PrebuildTagTaken {
                    file: scenario.manifest(),
                    tag: prebuild.tag.clone(),
                    host: host.to_string(),
                    suggestion: format!("{IMAGE_NAMESPACE}{}", prebuild.tag.replace('/', "-")),
                });
            }
        }
    }
    Ok(())
}

impl ScenarioRun<'_> {
    /// Makes every image the Dockerfiles start from present, pulling what is missing.
    ///
    /// An image that cannot be pulled is reported, not fatal: the variants that need it fail with
    /// the daemon's own message and the others are still measured.
    pub(super) async fn prepare_base_images(&mut self) -> Result<Vec<BaseImageMeta>, RunError> {
        let scenario = &self.plan.scenario;
        let prebuild_tags: BTreeSet<&str> =
            scenario.prebuilds.iter().map(|p| p.tag.as_str()).collect();
        let mut needed = BTreeSet::new();
        let dockerfiles = scenario
            .variants
            .iter()
            .map(|v| (&v.dockerfile, &v.build_args))
            .chain(
                scenario
                    .prebuilds
                    .iter()
                    .map(|p| (&p.dockerfile, &p.build_args)),
            );
        for (path, build_args) in dockerfiles {
            let text =
                crate::text_file::read_string_no_follow(path).map_err(|source| RunError::Read {
                    path: path.clone(),
                    source,
                })?;
            for image in dockerfile::read_facts(&text, build_args).images {
                if !prebuild_tags.contains(image.name.as_str()) {
                    needed.insert(image.name);
                }
            }
        }
        let mut found = Vec::new();
        for name in needed {
            let mut pulled = false;
            let facts = match self.worker.engine.image(&name).await? {
                Some(facts) => facts,
                None => {
                    let host = self.host().to_string();
                    self.worker.emit_note(RunNote::PullingBaseImage {
                        scenario: scenario.name.clone(),
                        image: name.clone(),
                    });
                    // A pull is not in the plan's count.
                    self.emit(RunEvent::PlanGrew { builds: 1 });
                    self.emit(RunEvent::BuildStarted {
                        host: host.clone(),
                        build: StartedBuild::BaseImagePull {
                            scenario: scenario.name.clone(),
                            image: name.clone(),
                        },
                    });
                    // Through `Shared::emit`, which redacts the pull's progress like every
                    // other event.
                    let shared = Arc::clone(&self.worker.shared);
                    let step_host = host.clone();
                    let pull = self
                        .worker
                        .engine
                        .pull(&name, &mut |status: &str| {
                            shared.emit(RunEvent::Step {
                                host: step_host.clone(),
                                activity: Activity::Daemon {
                                    step: status.to_string(),
                                },
                            });
                        })
                        .await;
                    self.emit(RunEvent::BuildFinished {
                        host,
                        build: FinishedBuild::BaseImagePull {
                            scenario: scenario.name.clone(),
                            image: name.clone(),
                            pulled: pull.is_ok(),
                        },
                    });
                    if let Err(error) = pull {
                        self.worker.outcome.problems.push(format!(
                            "{}: base image {name} is not present and could not be pulled: {error}",
                            scenario.name
                        ));
                        continue;
                    }
                    pulled = true;
                    match self.worker.engine.image(&name).await? {
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

    /// Builds the `[[prebuild]]` images in order, with cache, outside any measurement. A
    /// prebuild an earlier invocation of this run made, whose image is still tagged, is kept.
    /// Returns whether every prebuild is there.
    pub(super) async fn build_prebuilds(&mut self) -> Result<bool, Stop> {
        let policy = Arc::clone(&self.policy);
        let scenario = &self.plan.scenario;
        let earlier: Vec<PrebuildMeta> = self
            .folder
            .meta()
            .scenario(&scenario.name, self.host())
            .map(|s| s.prebuilds.clone())
            .unwrap_or_default();
        for (index, prebuild) in scenario.prebuilds.iter().enumerate() {
            if self.shared().cancel.is_cancelled() {
                return Err(Stop::Cancelled);
            }
            let current = self.worker.engine.image(&prebuild.tag).await?;
            // The image an earlier invocation of this run built under the tag, if any.
            let ours_before = earlier
                .get(index)
                .filter(|before| before.tag == prebuild.tag && before.error.is_empty())
                .map(|before| before.image_id.clone());
            if let Some(image) = &current
                && ours_before.as_deref() == Some(image.id.as_str())
            {
                self.emit(RunEvent::BuildFinished {
                    host: self.host().to_string(),
                    build: FinishedBuild::PrebuildKept {
                        scenario: scenario.name.clone(),
                        tag: prebuild.tag.clone(),
                    },
                });
                continue;
            }
            let context = BuildContext::new(&prebuild.context_dir, &prebuild.dockerfile)
                .map_err(RunError::from)?;
            let request = BuildRequest {
                context: &context,
                tag: &prebuild.tag,
                build_args: &prebuild.build_args,
                target: prebuild.target.as_deref(),
                builder: self.worker.builder,
                no_cache: false,
                secrets: &policy.secrets,
                cache_from: &[],
                inline_cache: false,
                account: None,
            };
            self.emit(RunEvent::BuildStarted {
                host: self.host().to_string(),
                build: StartedBuild::Prebuild {
                    scenario: scenario.name.clone(),
                    tag: prebuild.tag.clone(),
                },
            });
            let mut execution = self.timed(&request).await?;
            self.cost.prebuild_seconds += execution.build_seconds;
            let image = execution.image.take();
            // A changed prebuild moves its tag; the image it named before would stay behind
            // untagged. It goes only when this run built it and nothing names it any more, and
            // removal refuses (and is skipped) while a container or another image still uses it.
            if let (Some(old), Some(new)) = (&current, &image)
                && old.id != new.id
                && ours_before.as_deref() == Some(old.id.as_str())
            {
                self.worker
                    .engine
                    .remove_image(ImageRemoval::Untagged(&old.id))
                    .await?;
            }
            if let Some(new) = &image
                && current.as_ref().is_none_or(|old| old.id != new.id)
            {
                self.prebuilt_here
                    .push((prebuild.tag.clone(), new.id.clone()));
            }
            let error = match (&execution.end, &image) {
                (BuildEnd::Succeeded, Some(_)) => String::new(),
                (BuildEnd::Succeeded, None) => {
                    format!("the build ended but {} is not there", prebuild.tag)
                }
                (
                    BuildEnd::Failed(message)
                    | BuildEnd::TimedOut(message)
                    | BuildEnd::Interrupted(message)
                    | BuildEnd::ConnectionLost(message),
                    _,
                ) => message.clone(),
            };
            self.emit(RunEvent::BuildFinished {
                host: self.host().to_string(),
                build: FinishedBuild::Prebuild {
                    scenario: scenario.name.clone(),
                    tag: prebuild.tag.clone(),
                    built: error.is_empty(),
                    build_seconds: execution.build_seconds,
                },
            });
            let record = PrebuildMeta {
                tag: prebuild.tag.clone(),
                build_seconds: execution.build_seconds,
                image_id: image.as_ref().map(|i| i.id.clone()).unwrap_or_default(),
                image_bytes: image.map(|i| i.image_bytes),
                error: error.clone(),
            };
            self.update_entry(|entry| {
                if entry.prebuilds.len() > index {
                    entry.prebuilds[index] = record;
                } else {
                    entry.prebuilds.push(record);
                }
            })?;
            match execution.end {
                BuildEnd::Interrupted(_) => return Err(Stop::Cancelled),
                BuildEnd::ConnectionLost(message) => {
                    return Err(Stop::Error(RunError::NoHost(format!(
                        "the connection to host {} was lost: {message}",
                        self.host()
                    ))));
                }
                BuildEnd::Succeeded | BuildEnd::Failed(_) | BuildEnd::TimedOut(_) => {}
            }
            if !error.is_empty() {
                let remaining = (scenario.prebuilds.len() - index - 1) as u64;
                self.emit(RunEvent::PlanShrank { builds: remaining });
                self.worker.outcome.problems.push(format!(
                    "{}: prebuild {} failed, so no variant was built: {error}",
                    scenario.name, prebuild.tag
                ));
                return Ok(false);
            }
        }
        Ok(true)
    }
}

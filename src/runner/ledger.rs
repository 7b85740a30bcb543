//! The image ledger: every image a run built, and every image a tag named before the run moved
//! it, so that cleanup removes what the run made and nothing else.
//!
//! "Built" means confirmed by the daemon (the engine's `BuildOutcome::made_images`), never read
//! from a build's text. The ledger says which images are the run's; the engine decides from the
//! daemon's answers whether each still is when it removes it ([`ImageRemoval`]): an image is
//! removed by ID only while no tag but the run's own names it.
//!
//! Each entry is also appended to the results folder's `.stagebench/images.csv` the moment it is
//! known, so that a run killed outright (SIGKILL, a power cut) leaves a list a `--resume` of it
//! reads to clean up after both invocations.

use std::collections::BTreeMap;
use std::io;

use crate::engine::{BuildEngine, ImageRemoval};
use crate::error::EngineError;
use crate::results::{ImageRecord, ImageRole, ResultsFolder};

/// Images of one scenario on one host, by owner (a variant's name).
pub(super) struct ImageLedger {
    host: String,
    scenario: String,
    /// Images built for each owner, oldest first.
    built: BTreeMap<String, Vec<String>>,
    /// The image each owner's tag named before this run (or the first of the resumed ones).
    replaced: BTreeMap<String, Vec<String>>,
    /// The run's identity, which every tag it gives carries (see
    /// `RunSettings::first_run_id`).
    run_id: String,
}

impl ImageLedger {
    /// A ledger holding what earlier invocations of the same run recorded for this host and
    /// scenario.
    pub(super) fn new(
        host: &str,
        scenario: &str,
        run_id: &str,
        earlier: Vec<ImageRecord>,
    ) -> ImageLedger {
        let mut ledger = ImageLedger {
            host: host.to_string(),
            scenario: scenario.to_string(),
            built: BTreeMap::new(),
            replaced: BTreeMap::new(),
            run_id: run_id.to_string(),
        };
        for record in earlier
            .into_iter()
            .filter(|r| r.host == host && r.scenario == scenario)
        {
            let list = match record.role {
                ImageRole::Built => ledger.built.entry(record.owner).or_default(),
                ImageRole::Replaced => ledger.replaced.entry(record.owner).or_default(),
            };
            if !list.contains(&record.image_id) {
                list.push(record.image_id);
            }
        }
        ledger
    }

    /// Every image the run built for this scenario on this host, whatever its owner.
    pub(super) fn built_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.built.values().flatten().cloned()
    }

    /// Every owner the run built an image for.
    pub(super) fn owners(&self) -> Vec<String> {
        self.built.keys().cloned().collect()
    }

    /// Whether `tag` is one this run gives (`stagebench/<scenario>:<variant>-<run_id>...`).
    fn is_own_tag(&self, tag: &str) -> bool {
        tag.starts_with(crate::planned_scenario::IMAGE_NAMESPACE) && tag.contains(&self.run_id)
    }

    /// Removes the image `id` unless a tag that is not the run's names it.
    async fn remove_own(&self, engine: &dyn BuildEngine, id: &str) -> Result<bool, EngineError> {
        let is_run_tag = |tag: &str| self.is_own_tag(tag);
        engine
            .remove_image(ImageRemoval::Built {
                id,
                is_run_tag: &is_run_tag,
            })
            .await
    }

    /// Records the image `owner`'s tag names before the run builds it again.
    pub(super) fn note_replaced(
        &mut self,
        folder: &ResultsFolder,
        owner: &str,
        image_id: &str,
    ) -> io::Result<()> {
        self.note(folder, owner, image_id, ImageRole::Replaced)
    }

    /// Records images a build of `owner` made.
    pub(super) fn note_built(
        &mut self,
        folder: &ResultsFolder,
        owner: &str,
        image_ids: &[String],
    ) -> io::Result<()> {
        for id in image_ids {
            self.note(folder, owner, id, ImageRole::Built)?;
        }
        Ok(())
    }

    fn note(
        &mut self,
        folder: &ResultsFolder,
        owner: &str,
        image_id: &str,
        role: ImageRole,
    ) -> io::Result<()> {
        let list = match role {
            ImageRole::Built => self.built.entry(owner.to_string()).or_default(),
            ImageRole::Replaced => self.replaced.entry(owner.to_string()).or_default(),
        };
        if list.iter().any(|id| id == image_id) {
            return Ok(());
        }
        list.push(image_id.to_string());
        folder.record_image(&ImageRecord {
            host: self.host.clone(),
            scenario: self.scenario.clone(),
            owner: owner.to_string(),
            image_id: image_id.to_string(),
            role,
        })
    }

    /// Removes every image built for `owner` so far (a cold reset), newest first so that
    /// children go before the parents they pin.
    pub(super) async fn remove_built(
        &mut self,
        engine: &dyn BuildEngine,
        owner: &str,
    ) -> Result<(), EngineError> {
        let images = self.built.remove(owner).unwrap_or_default();
        // An image that stays (another run's tag names the same image, when its build came
        // out identical) is tried again when the run ends.
        let mut left = Vec::new();
        for id in images.iter().rev() {
            if !self.remove_own(engine, id).await? && engine.image(id).await?.is_some() {
                left.push(id.clone());
            }
        }
        left.reverse();
        if !left.is_empty() {
            self.built.insert(owner.to_string(), left);
        }
        Ok(())
    }

    /// Removes everything built for each owner except the image its tag names now (unless
    /// `keep_final` is false, with `--rm`, and this run built it), and the image the tag named
    /// before the run when nothing names it any more (an earlier run's `--keep-images` tag, or
    /// a person's, keeps it). Returns sentences about what failed.
    pub(super) async fn clean_up(
        &mut self,
        engine: &dyn BuildEngine,
        owners: &[(String, String)],
        keep_final: bool,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for (owner, tag) in owners {
            let mut keep = match engine.image(tag).await {
                Ok(image) => image.map(|i| i.id),
                Err(error) => {
                    problems.push(format!("cleanup: {error}"));
                    continue;
                }
            };
            let built_here = keep.as_ref().is_some_and(|k| {
                self.built
                    .get(owner)
                    .is_some_and(|built| built.iter().any(|id| id == k))
            });
            if !keep_final && built_here {
                // Untagging removes the image too when nothing else names it.
                match engine.remove_image(ImageRemoval::Tag(tag)).await {
                    Ok(_) => keep = None,
                    Err(error) => problems.push(format!("cleanup: {error}")),
                }
            }
            // The classic builder prints short IDs; the final image may appear in either form.
            let is_kept = |id: &str| {
                keep.as_deref().is_some_and(|k| {
                    k.trim_start_matches("sha256:")
                        .starts_with(id.trim_start_matches("sha256:"))
                })
            };
            // The replaced image goes only when no tag names it any more (an earlier invocation's
            // tag of the same run moved away from it); a built one unless a tag not the run's
            // names it.
            let replaced: Vec<String> = self
                .replaced
                .remove(owner)
                .unwrap_or_default()
                .into_iter()
                .filter(|id| !is_kept(id))
                .collect();
            let built: Vec<String> = self
                .built
                .remove(owner)
                .unwrap_or_default()
                .into_iter()
                .filter(|id| !is_kept(id))
                .collect();
            for id in replaced.iter().rev() {
                if let Err(error) = engine.remove_image(ImageRemoval::Untagged(id)).await {
                    problems.push(format!("cleanup: {error}"));
                }
            }
            for id in built.iter().rev() {
                if let Err(error) = self.remove_own(engine, id).await {
                    problems.push(format!("cleanup: {error}"));
                }
            }
        }
        problems
    }
}

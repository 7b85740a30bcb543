//! What a build needs before it starts, done as its cache mode's [`Preparation`] says: remove
//! the variant's earlier images, prune the build cache, edit the touched sources.

use std::collections::BTreeMap;
use std::time::Instant;

use super::RunError;
use super::ledger::ImageLedger;
use crate::cache_mode::{CacheScope, Preparation, PruneMode};
use crate::context::BuildContext;
use crate::engine::BuildEngine;
use crate::planned_scenario::PlannedScenario;
use crate::touch::SourceEdits;

/// A build, ready to start.
pub(super) struct Prepared {
    /// The context to send (with the edits of an incremental run).
    pub context: BuildContext,
    /// Whether the daemon must ignore its cache.
    pub no_cache: bool,
    /// Time spent pruning the build cache.
    pub prune_seconds: f64,
}

/// What the run allows a preparation to remove.
#[derive(Debug, Clone, Copy)]
pub(super) struct Housekeeping<'a> {
    /// `--keep-images`: earlier images of the variant stay.
    pub keep_images: bool,
    /// Which build-cache records a prune removes: the run's own, or every one.
    pub cache_scope: PruneMode,
    /// Image references the Dockerfile names under another name (a CI build names each
    /// prebuild by its registry copy); empty for the other modes.
    pub renamed_images: &'a BTreeMap<String, String>,
}

/// Does what `preparation` asks for a build of `variant`.
pub(super) async fn prepare(
    engine: &dyn BuildEngine,
    preparation: &Preparation,
    scenario: &PlannedScenario,
    context: &BuildContext,
    variant: &str,
    ledger: &mut ImageLedger,
    housekeeping: Housekeeping<'_>,
) -> Result<Prepared, RunError> {
    if !housekeeping.keep_images {
        match preparation.remove_images_of {
            CacheScope::Nothing => {}
            CacheScope::ThisVariant => ledger.remove_built(engine, variant).await?,
            CacheScope::EveryVariant => {
                for owner in ledger.owners() {
                    ledger.remove_built(engine, &owner).await?;
                }
            }
        }
    }
    let mut prune_seconds = 0.0;
    if preparation.prune_build_cache {
        let started = Instant::now();
        engine.reset_run_cache(housekeeping.cache_scope).await?;
        prune_seconds = started.elapsed().as_secs_f64();
    }
    let context = edited_context(
        scenario,
        context,
        preparation.edit_sources,
        housekeeping.renamed_images,
    )?;
    Ok(Prepared {
        context,
        no_cache: preparation.no_cache,
        prune_seconds,
    })
}

/// `context` as a build sees it: with `edit`, the scenario's edit under a token of its own; with
/// renames, the Dockerfile naming each prebuild by its registry copy (in the edited text when the
/// Dockerfile is itself a touched file). A timed build and a previous CI job both go through here,
/// so their contexts differ only in what they are asked for.
pub(super) fn edited_context(
    scenario: &PlannedScenario,
    context: &BuildContext,
    edit: bool,
    renamed_images: &BTreeMap<String, String>,
) -> Result<BuildContext, RunError> {
    let mut edits = if edit {
        let token = uuid::Uuid::new_v4().simple().to_string();
        scenario
            .source_edits(&token)
            .map_err(|source| RunError::Touch {
                dir: scenario.dir.clone(),
                source,
            })?
    } else {
        SourceEdits::default()
    };
    if !renamed_images.is_empty() {
        let path = context.dockerfile_path().to_path_buf();
        let original = match edits.files.iter().position(|(edited, _)| *edited == path) {
            Some(at) => edits.files.remove(at).1,
            None => crate::text_file::read_no_follow(&path).map_err(|source| RunError::Read {
                path: path.clone(),
                source,
            })?,
        };
        let text = String::from_utf8_lossy(&original);
        let renamed = crate::dockerfile::with_images_renamed(&text, renamed_images);
        edits.files.push((path, renamed.into_bytes()));
    }
    if edits.files.is_empty() && !edit {
        Ok(context.clone())
    } else {
        Ok(context.with_edits(edits)?)
    }
}

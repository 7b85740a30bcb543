//! When an image is still the run's to remove: the rules behind [`ImageRemoval`], decided from
//! the daemon's answers (an image's ID and the tags naming it), never from a build's text.
//!
//! An image is removed by ID only while no tag but the run's own names it: a tag someone added
//! to one of the run's images keeps it (Docker removes an image by ID, tag and all, when it has
//! one tag). Removal is never forced, so an image that others are built on, or that a container
//! uses, stays (the engine's own removal says how it finds out).

use super::{ImageFacts, ImageRemoval};
use crate::error::EngineError;

/// The two answers the rules need from an engine, and the one removal they lead to.
#[async_trait::async_trait]
pub(crate) trait ImageStore: Send + Sync {
    /// Facts about the image `name` names, or `None` when there is none.
    async fn look_up(&self, name: &str) -> Result<Option<ImageFacts>, EngineError>;

    /// Removes the tag or image `name`, without force; `false` when it was gone or is still
    /// used by another image or a container.
    async fn remove_unforced(&self, name: &str) -> Result<bool, EngineError>;
}

/// Removes what `removal` allows from `store`; whether anything was removed.
pub(crate) async fn remove(
    store: &dyn ImageStore,
    removal: ImageRemoval<'_>,
) -> Result<bool, EngineError> {
    match removal {
        ImageRemoval::Tag(tag) => store.remove_unforced(tag).await,
        ImageRemoval::Built { id, is_run_tag } => match store.look_up(id).await? {
            Some(image) if image.repo_tags.iter().all(|t| is_run_tag(t)) => {
                store.remove_unforced(id).await
            }
            Some(_) | None => Ok(false),
        },
        ImageRemoval::Untagged(id) => remove_untagged(store, id).await,
        ImageRemoval::BuiltUnder { tag, id } => match store.look_up(tag).await? {
            Some(image) if image.id == id => store.remove_unforced(tag).await,
            Some(_) | None => remove_untagged(store, id).await,
        },
    }
}

/// Removes the image `id` while no `repository:tag` names it: what a moved tag leaves behind.
async fn remove_untagged(store: &dyn ImageStore, id: &str) -> Result<bool, EngineError> {
    match store.look_up(id).await? {
        Some(image) if image.repo_tags.is_empty() => store.remove_unforced(id).await,
        Some(_) | None => Ok(false),
    }
}

//! Which build-cache records a BuildKit cold run removes: by default only those made since the
//! invocation started, so that benchmarking on a developer's own daemon keeps every other
//! project's cache; with `--prune all`, everything (a daemon kept for benchmarking).
//!
//! A daemon of API 1.41 prunes a record by id only when no other record names it as parent,
//! and takes one id per request: so the new records are pruned leaves first, round after round,
//! until none is left. A record a build still holds is waited for a few seconds, then left; one
//! behind an image (a kept final image's layers) cannot go before the image and is left.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use tokio::time::Instant;

use crate::cache_mode::PruneMode;
use crate::engine::{CacheRecord, Daemon};
use crate::error::EngineError;

/// How long records a build still holds are waited for before they are left alone.
const HELD_PATIENCE: Duration = Duration::from_secs(5);
/// How often they are looked at meanwhile.
const HELD_POLL: Duration = Duration::from_millis(100);

/// What a cold run may prune on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PruneScope {
    /// The whole build cache.
    All,
    /// Records whose ID is not in this set, taken before the invocation's first build.
    NewSince(BTreeSet<String>),
}

impl PruneScope {
    /// The scope `mode` asks for, reading the records that exist now.
    pub(crate) async fn take<D: Daemon>(
        daemon: &D,
        mode: PruneMode,
    ) -> Result<PruneScope, EngineError> {
        match mode {
            PruneMode::All => Ok(PruneScope::All),
            PruneMode::New => Ok(PruneScope::NewSince(
                daemon
                    .build_cache_records()
                    .await?
                    .into_iter()
                    .map(|r| r.id)
                    .collect(),
            )),
        }
    }

    /// Prunes what the scope allows; says what it had to leave.
    pub(crate) async fn prune<D: Daemon>(&self, daemon: &D) -> Result<PruneLeft, EngineError> {
        let existing = match self {
            PruneScope::All => {
                daemon.prune_build_cache().await?;
                return Ok(PruneLeft::default());
            }
            PruneScope::NewSince(existing) => existing,
        };
        // Records the daemon refused to delete while no build held them: an image's layers
        // (the kept final images), which go only with the image.
        let mut refused: HashSet<String> = HashSet::new();
        let mut stuck_since: Option<Instant> = None;
        loop {
            let records = daemon.build_cache_records().await?;
            let held = records
                .iter()
                .filter(|r| r.in_use && !existing.contains(&r.id))
                .count();
            let mut deleted = false;
            for id in prunable_leaves(&records, existing) {
                if refused.contains(&id) {
                    continue;
                }
                if daemon.prune_build_cache_record(&id).await? {
                    deleted = true;
                } else {
                    refused.insert(id);
                }
            }
            if deleted {
                stuck_since = None;
                continue;
            }
            let left = PruneLeft {
                held,
                behind_images: refused.len(),
            };
            if held == 0 {
                return Ok(left);
            }
            // A build that just ended still holds its records for a moment: wait for them.
            let since = *stuck_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= HELD_PATIENCE {
                return Ok(left);
            }
            tokio::time::sleep(HELD_POLL).await;
        }
    }
}

/// New records a prune had to leave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PruneLeft {
    /// Held by a build for longer than [`HELD_PATIENCE`].
    pub held: usize,
    /// Refused while no build held them: they back an image's layers (a kept final image, or
    /// an image elsewhere with the very same layers) and can go only after it.
    pub behind_images: usize,
}

/// New records (not in `existing`) that no record names as parent and no build holds.
fn prunable_leaves(records: &[CacheRecord], existing: &BTreeSet<String>) -> Vec<String> {
    let parents: HashSet<&str> = records.iter().filter_map(|r| r.parent.as_deref()).collect();
    records
        .iter()
        .filter(|r| !existing.contains(&r.id) && !r.in_use && !parents.contains(r.id.as_str()))
        .map(|r| r.id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, parent: Option<&str>) -> CacheRecord {
        CacheRecord {
            id: id.to_string(),
            parent: parent.map(str::to_string),
            in_use: false,
        }
    }

    #[test]
    fn only_new_leaves_are_pruned_and_old_records_never() {
        // old <- new1 <- new2, and old <- theirs (an older record on top of an older one).
        let records = [
            record("old", None),
            record("theirs", Some("old")),
            record("new1", Some("old")),
            record("new2", Some("new1")),
            CacheRecord {
                in_use: true,
                ..record("busy", None)
            },
        ];
        let existing: BTreeSet<String> = ["old", "theirs"].map(String::from).into();
        assert_eq!(prunable_leaves(&records, &existing), ["new2"]);
        let after: Vec<CacheRecord> = records.iter().filter(|r| r.id != "new2").cloned().collect();
        assert_eq!(prunable_leaves(&after, &existing), ["new1"]);
    }
}

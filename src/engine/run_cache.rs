//! Which build-cache records a BuildKit cold run removes: by default only those this
//! invocation's builds made, so that benchmarking on a developer's own daemon keeps every other
//! project's cache; with `--prune all`, everything (a daemon kept for benchmarking).
//!
//! A record carries nothing that names the build that made it: on API 1.41 (Docker 20.10) a
//! record's ID is BuildKit's own random one, and its fields (`Parent`, `Type`, `Description`,
//! `InUse`, `Shared`, `CreatedAt`, `LastUsedAt`, `UsageCount`) name no build, session or vertex;
//! the build's status stream names vertices by the digests of their operations, never a record.
//! What links the two is the daemon's clock. So a record is the run's when its `CreatedAt`
//! falls, give or take [`CLOCK_SLACK_S`], within the time one of the run's builds ran: from the
//! moment its request was sent until it answered or was cut short, on the daemon's clock as the
//! build's own vertex updates tell it (see `BuildTrail::running_window`). Each vertex's own span
//! would be narrower, but it misses the run's own records: the record of a build's context was
//! seen created up to 60 ms before its vertex said it started, between two vertices.
//!
//! The times are kept, not the records: a build that has just answered may still hold records
//! and commit one more as it lets go (seen about 30 ms later, stamped inside the build), so the
//! records are listed only when they are pruned, and nothing is waited for after a build. What
//! someone else builds between two of the run's builds is never touched, however long it holds
//! its records. What remains: a record another build on the same daemon creates while one of
//! the run's builds runs counts as the run's, and is pruned.
//!
//! A daemon of API 1.41 prunes a record by id only when no other record names it as parent,
//! and takes one id per request: so the run's records are pruned leaves first, round after
//! round, until none is left. A record of the run that a build still holds is waited for a few
//! seconds, then left; one behind an image (a kept final image's layers) cannot go before the
//! image and is left.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::CacheRecord;
use crate::cache_mode::PruneMode;
use crate::error::EngineError;

/// How long records a build still holds are waited for before they are left alone.
const HELD_PATIENCE: Duration = Duration::from_secs(5);
/// How far outside the time a build ran a record it made may be stamped: the build's start and
/// end are moved from this machine's clock onto the daemon's, which errs early by the delay of
/// the quickest vertex update.
const CLOCK_SLACK_S: f64 = 0.05;
/// How often they are looked at meanwhile.
const HELD_POLL: Duration = Duration::from_millis(100);

/// A build cache that can be listed record by record and pruned one record at a time: what an
/// engine gives [`RunCache`] to work on.
#[async_trait::async_trait]
pub(crate) trait CacheRecords: Send + Sync {
    /// Every record the cache holds.
    async fn records(&self) -> Result<Vec<CacheRecord>, EngineError>;

    /// Prunes the one record `id`, which must have no child and be held by no build; returns
    /// whether it was deleted.
    async fn prune_record(&self, id: &str) -> Result<bool, EngineError>;

    /// Empties the whole build cache.
    async fn prune_all(&self) -> Result<(), EngineError>;
}

/// The times the run's builds ran on one engine, on the daemon's clock (see the module's
/// documentation), and the cold reset they allow.
#[derive(Debug, Default)]
pub(crate) struct RunCache {
    windows: Mutex<Vec<(f64, f64)>>,
}

impl RunCache {
    /// Takes the time a build of the run ran (see `BuildTrail::running_window`), on the
    /// daemon's clock.
    pub(crate) fn note_build(&self, ran: Option<(f64, f64)>) {
        if let Ok(mut windows) = self.windows.lock() {
            windows.extend(ran);
        }
    }

    /// The IDs of the records in `records` that the run made.
    fn made(&self, records: &[CacheRecord]) -> BTreeSet<String> {
        let Ok(windows) = self.windows.lock() else {
            return BTreeSet::new();
        };
        records
            .iter()
            .filter(|r| made_while_running(r, &windows))
            .map(|r| r.id.clone())
            .collect()
    }

    /// Prunes what `scope` allows of `cache`; says what it had to leave.
    pub(crate) async fn reset(
        &self,
        scope: PruneMode,
        cache: &dyn CacheRecords,
    ) -> Result<CacheLeft, EngineError> {
        match scope {
            PruneMode::All => {
                cache.prune_all().await?;
                return Ok(CacheLeft::default());
            }
            PruneMode::New => {}
        }
        // Records the daemon refused to delete while no build held them: an image's layers
        // (the kept final images), which go only with the image.
        let mut refused: HashSet<String> = HashSet::new();
        let mut stuck_since: Option<Instant> = None;
        loop {
            let records = cache.records().await?;
            let made = self.made(&records);
            let held = records
                .iter()
                .filter(|r| r.in_use && made.contains(&r.id))
                .count();
            let mut deleted = false;
            for id in prunable_leaves(&records, &made) {
                if refused.contains(&id) {
                    continue;
                }
                if cache.prune_record(&id).await? {
                    deleted = true;
                } else {
                    refused.insert(id);
                }
            }
            if deleted {
                stuck_since = None;
                continue;
            }
            let left = CacheLeft {
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

/// Records of the run's that a cold reset had to leave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheLeft {
    /// Held by a build for longer than the reset waits.
    pub held: usize,
    /// Refused while no build held them: they back an image's layers (a kept final image, or
    /// an image elsewhere with the very same layers) and can go only after it.
    pub behind_images: usize,
}

/// Whether `record` was created while one of the `ran` intervals lasted.
fn made_while_running(record: &CacheRecord, ran: &[(f64, f64)]) -> bool {
    record.created_s.is_some_and(|created| {
        ran.iter().any(|&(started, completed)| {
            started - CLOCK_SLACK_S <= created && created <= completed + CLOCK_SLACK_S
        })
    })
}

/// The run's records (in `made`) that no record names as parent and no build holds.
fn prunable_leaves(records: &[CacheRecord], made: &BTreeSet<String>) -> Vec<String> {
    let parents: HashSet<&str> = records.iter().filter_map(|r| r.parent.as_deref()).collect();
    records
        .iter()
        .filter(|r| made.contains(&r.id) && !r.in_use && !parents.contains(r.id.as_str()))
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
            created_s: None,
        }
    }

    #[test]
    fn a_record_is_the_run_s_only_when_made_while_one_of_its_builds_ran() {
        let at = |created: f64| CacheRecord {
            created_s: Some(created),
            ..record("r", None)
        };
        let ran = [(100.0, 101.0), (105.0, 105.5)];
        assert!(made_while_running(&at(100.5), &ran));
        assert!(made_while_running(&at(99.99), &ran), "within the slack");
        assert!(made_while_running(&at(105.5), &ran));
        assert!(
            !made_while_running(&at(103.0), &ran),
            "between two vertices"
        );
        assert!(!made_while_running(&at(99.0), &ran));
        assert!(!made_while_running(&record("r", None), &ran), "no time");
        assert!(!made_while_running(&at(100.5), &[]), "nothing ran");
    }

    #[test]
    fn only_the_run_s_leaves_are_pruned_and_other_records_never() {
        // old <- new1 <- new2, and old <- theirs (someone else's record on top of an older one).
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
        let made: BTreeSet<String> = ["new1", "new2", "busy"].map(String::from).into();
        assert_eq!(prunable_leaves(&records, &made), ["new2"]);
        let after: Vec<CacheRecord> = records.iter().filter(|r| r.id != "new2").cloned().collect();
        assert_eq!(prunable_leaves(&after, &made), ["new1"]);
    }
}

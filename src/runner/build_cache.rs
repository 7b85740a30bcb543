//! Which build-cache records a BuildKit cold run removes: by default only those this
//! invocation's builds made, so that benchmarking on a developer's own daemon keeps every other
//! project's cache; with `--prune all`, everything (a daemon kept for benchmarking).
//!
//! A record carries nothing that names the build that made it: on API 1.41 (Docker 20.10) a
//! record's ID is BuildKit's own random one, and its fields (`Parent`, `Type`, `Description`,
//! `InUse`, `Shared`, `CreatedAt`, ...) name no build, session or vertex; the build's status
//! stream names vertices by the digests of their operations, never a record. What does link
//! the two is the daemon's clock: each vertex reports when it started and completed, and a
//! record is created while the vertex that makes it runs. So a record counts as made by one of
//! the run's builds only when
//!
//! - it is absent from a listing taken just before the build, and
//! - its `CreatedAt` falls within the time one of the build's vertices ran, as the build's own
//!   status stream reports it (a vertex taken from cache ran nothing; one never reported
//!   complete ran until the build answered or was cut short), give or take [`CLOCK_SLACK_S`].
//!
//! A build that has just answered may still hold records and commit one more as it lets go
//! (seen about 30 ms later, with a `CreatedAt` inside the vertex that began it), so the records
//! are listed again while one that counts is held, for at most [`HELD_PATIENCE`]; a held record
//! that does not count is never waited for. What someone else builds between two of the run's
//! builds, or while only cached steps of ours run, is never touched. What remains: a record
//! another build on the same daemon creates while one of our vertices runs counts as ours.
//!
//! A daemon of API 1.41 prunes a record by id only when no other record names it as parent,
//! and takes one id per request: so the new records are pruned leaves first, round after round,
//! until none is left. A record a build still holds is waited for a few seconds, then left; one
//! behind an image (a kept final image's layers) cannot go before the image and is left.

use std::collections::{BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::cache_mode::PruneMode;
use crate::engine::{CacheRecord, Daemon};
use crate::error::EngineError;

/// How long records a build still holds are waited for before they are left alone.
const HELD_PATIENCE: Duration = Duration::from_secs(5);
/// How far before a vertex's reported start (or after its completion) a record it made may be
/// stamped: the record of a build's context was seen created 1 to 4 ms before its vertex said
/// it started, both on the daemon's clock.
const CLOCK_SLACK_S: f64 = 0.05;
/// How often they are looked at meanwhile.
const HELD_POLL: Duration = Duration::from_millis(100);
/// How often a build that has just answered is looked at until it lets go of its records.
const SETTLE_POLL: Duration = Duration::from_millis(20);

/// What a cold run may prune on one host.
#[derive(Debug)]
pub(crate) enum PruneScope {
    /// The whole build cache.
    All,
    /// The records the run's builds made (see the module's documentation).
    Made(Mutex<BTreeSet<String>>),
}

/// The records that existed just before a build, to compare with those just after it.
pub(crate) struct BeforeBuild(Option<BTreeSet<String>>);

impl PruneScope {
    /// The scope `mode` asks for.
    pub(crate) fn new(mode: PruneMode) -> PruneScope {
        match mode {
            PruneMode::All => PruneScope::All,
            PruneMode::New => PruneScope::Made(Mutex::default()),
        }
    }

    /// Lists the records just before a build (nothing to do for [`PruneScope::All`]).
    pub(crate) async fn before_build<D: Daemon>(&self, daemon: &D) -> BeforeBuild {
        match self {
            PruneScope::All => BeforeBuild(None),
            PruneScope::Made(_) => BeforeBuild(record_ids(daemon).await),
        }
    }

    /// Counts the records the build made (see the module's documentation) as the run's own.
    /// `ran` holds the intervals in which the build's vertices ran, on the daemon's clock. When a
    /// listing fails, what it would have shown is not counted: a record left behind is safer
    /// than someone else's removed.
    pub(crate) async fn after_build<D: Daemon>(
        &self,
        daemon: &D,
        before: BeforeBuild,
        ran: &[(f64, f64)],
    ) {
        let (PruneScope::Made(made), BeforeBuild(Some(before))) = (self, before) else {
            return;
        };
        if ran.is_empty() {
            return;
        }
        let deadline = Instant::now() + HELD_PATIENCE;
        loop {
            let Ok(records) = daemon.build_cache_records().await else {
                return;
            };
            let ours: Vec<&CacheRecord> = records
                .iter()
                .filter(|r| !before.contains(&r.id) && made_while_running(r, ran))
                .collect();
            if let Ok(mut made) = made.lock() {
                made.extend(ours.iter().map(|r| r.id.clone()));
            }
            let held = ours.iter().any(|r| r.in_use);
            if !held || Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(SETTLE_POLL).await;
        }
    }

    /// The records counted as the run's own so far.
    fn made(&self) -> BTreeSet<String> {
        match self {
            PruneScope::All => BTreeSet::new(),
            PruneScope::Made(made) => made.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }

    /// Prunes what the scope allows; says what it had to leave.
    pub(crate) async fn prune<D: Daemon>(&self, daemon: &D) -> Result<PruneLeft, EngineError> {
        if let PruneScope::All = self {
            daemon.prune_build_cache().await?;
            return Ok(PruneLeft::default());
        }
        let made = self.made();
        // Records the daemon refused to delete while no build held them: an image's layers
        // (the kept final images), which go only with the image.
        let mut refused: HashSet<String> = HashSet::new();
        let mut stuck_since: Option<Instant> = None;
        loop {
            let records = daemon.build_cache_records().await?;
            let held = records
                .iter()
                .filter(|r| r.in_use && made.contains(&r.id))
                .count();
            let mut deleted = false;
            for id in prunable_leaves(&records, &made) {
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

/// Every record's id, or nothing when the daemon does not answer.
async fn record_ids<D: Daemon>(daemon: &D) -> Option<BTreeSet<String>> {
    let records = daemon.build_cache_records().await.ok()?;
    Some(records.into_iter().map(|r| r.id).collect())
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
    fn a_record_is_the_build_s_only_when_made_while_one_of_its_vertices_ran() {
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

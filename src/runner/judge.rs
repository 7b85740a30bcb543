//! What a build that ended is worth: the status and error cell of its row, and what the run does
//! next. Decided from what the daemon answered alone (no daemon, no files), so that every outcome
//! is tested without one.

use super::execute::BuildEnd;
use crate::cache_mode::{CacheCheck, CacheMode};
use crate::engine::StepCounts;
use crate::plan::Purpose;
use crate::results::BuildStatus;

/// What the daemon answered about one build, and what the build was asked to be.
#[derive(Debug, Clone, Copy)]
pub(super) struct Answer<'a> {
    /// How the build request ended.
    pub end: &'a BuildEnd,
    /// Whether the daemon has an image under the build's tag now (asked only after a success).
    pub image_found: bool,
    /// The tag the build was asked to make, for the error when no image is under it.
    pub tag: &'a str,
    /// Steps run and taken from cache (zero when the build was cut short).
    pub steps: StepCounts,
    /// The cache mode of the build's key: a priming build carries the mode it primes for.
    pub cache: CacheMode,
    /// Whether the daemon was asked to ignore its cache.
    pub no_cache: bool,
    /// Measured, or priming the cache.
    pub purpose: Purpose,
}

/// The judgement of one build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Verdict {
    /// The row's status.
    pub status: BuildStatus,
    /// The row's `error` cell: the daemon's message, or why the row is not ok; empty when ok.
    pub error: String,
    /// What the run does once the build is recorded.
    pub next: Next,
}

/// What the run does after a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    /// Goes on with the next build.
    GoOn,
    /// A measured cold build took steps from cache the prune could not remove: it is not
    /// recorded, and is built again with the cache ignored.
    RedoWithoutCache,
    /// Ctrl-C cut the build short: the scenario stops once the build is recorded.
    Stop,
    /// The daemon stopped answering: the host stops once the build is recorded. The message
    /// says how the connection was lost.
    HostLost(String),
}

/// Judges a build from what the daemon answered.
///
/// A finished build is ok only with its image there. A measured one must also be in the cache
/// state its mode names ([`CacheCheck`]): one that was not is marked `cache_mismatch`, except a
/// cold build that took steps from cache without ignoring it, which is redone instead, since a
/// prune cannot reach every record. A priming build is never marked: nothing measures it.
pub(super) fn judge(answer: &Answer<'_>) -> Verdict {
    let check = CacheCheck::of(
        answer.cache,
        answer.no_cache,
        answer.steps.cached_steps,
        answer.steps.total_steps,
    );
    let (status, error, next) = match (answer.end, answer.image_found) {
        (BuildEnd::Succeeded, true) => match (check, answer.purpose) {
            (CacheCheck::Mismatch(reason), Purpose::Measure) => {
                (BuildStatus::CacheMismatch, reason, Next::GoOn)
            }
            (CacheCheck::RedoWithoutCache, Purpose::Measure) => {
                (BuildStatus::Ok, String::new(), Next::RedoWithoutCache)
            }
            (CacheCheck::Holds, Purpose::Measure)
            | (
                CacheCheck::Holds | CacheCheck::RedoWithoutCache | CacheCheck::Mismatch(_),
                Purpose::Prime,
            ) => (BuildStatus::Ok, String::new(), Next::GoOn),
        },
        (BuildEnd::Succeeded, false) => (
            BuildStatus::Failed,
            format!("the build ended but {} is not there", answer.tag),
            Next::GoOn,
        ),
        (BuildEnd::Failed(message), _) => (BuildStatus::Failed, message.clone(), Next::GoOn),
        (BuildEnd::TimedOut(message), _) => (BuildStatus::TimedOut, message.clone(), Next::GoOn),
        (BuildEnd::Interrupted(message), _) => {
            (BuildStatus::Interrupted, message.clone(), Next::Stop)
        }
        (BuildEnd::ConnectionLost(message), _) => (
            BuildStatus::Interrupted,
            message.clone(),
            Next::HostLost(message.clone()),
        ),
    };
    Verdict {
        status,
        error,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(end: &BuildEnd, cache: CacheMode, cached_steps: u32, total_steps: u32) -> Answer<'_> {
        Answer {
            end,
            image_found: true,
            tag: "stagebench/s:single",
            steps: StepCounts {
                total_steps,
                cached_steps,
            },
            cache,
            no_cache: false,
            purpose: Purpose::Measure,
        }
    }

    fn verdict(status: BuildStatus, error: &str, next: Next) -> Verdict {
        Verdict {
            status,
            error: error.to_string(),
            next,
        }
    }

    #[test]
    fn a_finished_build_in_its_mode_s_cache_state_is_ok() {
        let end = BuildEnd::Succeeded;
        for (cache, cached_steps) in [
            (CacheMode::Cold, 0),
            (CacheMode::Warm, 4),
            (CacheMode::Incremental, 1),
            (CacheMode::CiCold, 0),
            (CacheMode::CiInline, 2),
            (CacheMode::CiStages, 3),
        ] {
            assert_eq!(
                judge(&answer(&end, cache, cached_steps, 4)),
                verdict(BuildStatus::Ok, "", Next::GoOn),
                "{cache}"
            );
        }
    }

    #[test]
    fn a_finished_build_without_its_image_failed() {
        let end = BuildEnd::Succeeded;
        let missing = Answer {
            image_found: false,
            ..answer(&end, CacheMode::Warm, 4, 4)
        };
        assert_eq!(
            judge(&missing),
            verdict(
                BuildStatus::Failed,
                "the build ended but stagebench/s:single is not there",
                Next::GoOn
            )
        );
    }

    #[test]
    fn a_measured_build_outside_its_mode_s_cache_state_is_a_mismatch() {
        let end = BuildEnd::Succeeded;
        assert_eq!(
            judge(&answer(&end, CacheMode::Warm, 3, 5)),
            verdict(
                BuildStatus::CacheMismatch,
                "a warm build ran 2 of 5 steps instead of taking them from cache",
                Next::GoOn
            )
        );
        let ignoring_cache = Answer {
            no_cache: true,
            ..answer(&end, CacheMode::Cold, 2, 5)
        };
        assert_eq!(
            judge(&ignoring_cache),
            verdict(
                BuildStatus::CacheMismatch,
                "a cold build took 2 of 5 steps from cache even with the cache ignored",
                Next::GoOn
            )
        );
    }

    #[test]
    fn a_measured_cold_build_served_from_cache_is_redone_without_it() {
        let end = BuildEnd::Succeeded;
        for cache in [CacheMode::Cold, CacheMode::CiCold] {
            assert_eq!(
                judge(&answer(&end, cache, 2, 5)),
                verdict(BuildStatus::Ok, "", Next::RedoWithoutCache),
                "{cache}"
            );
        }
    }

    #[test]
    fn a_priming_build_is_never_a_mismatch_nor_redone() {
        let end = BuildEnd::Succeeded;
        for (cache, cached_steps) in [(CacheMode::Warm, 3), (CacheMode::Cold, 2)] {
            let prime = Answer {
                purpose: Purpose::Prime,
                ..answer(&end, cache, cached_steps, 5)
            };
            assert_eq!(
                judge(&prime),
                verdict(BuildStatus::Ok, "", Next::GoOn),
                "{cache}"
            );
        }
    }

    #[test]
    fn a_failed_or_timed_out_build_keeps_the_daemon_s_message_and_the_run_goes_on() {
        let failed = BuildEnd::Failed("exit code 1".to_string());
        let timed_out = BuildEnd::TimedOut("did not finish within --timeout 1 s".to_string());
        for (end, status, message) in [
            (&failed, BuildStatus::Failed, "exit code 1"),
            (
                &timed_out,
                BuildStatus::TimedOut,
                "did not finish within --timeout 1 s",
            ),
        ] {
            // What the cache check would say of the steps counted so far does not matter.
            let answer = Answer {
                image_found: false,
                ..answer(end, CacheMode::Warm, 0, 5)
            };
            assert_eq!(judge(&answer), verdict(status, message, Next::GoOn));
        }
    }

    #[test]
    fn an_interrupted_build_stops_the_scenario_and_a_lost_daemon_the_host() {
        let interrupted = BuildEnd::Interrupted("interrupted by the user".to_string());
        assert_eq!(
            judge(&answer(&interrupted, CacheMode::Cold, 0, 0)),
            verdict(
                BuildStatus::Interrupted,
                "interrupted by the user",
                Next::Stop
            )
        );
        let lost = BuildEnd::ConnectionLost("the daemon stopped answering".to_string());
        assert_eq!(
            judge(&answer(&lost, CacheMode::Warm, 0, 0)),
            verdict(
                BuildStatus::Interrupted,
                "the daemon stopped answering",
                Next::HostLost("the daemon stopped answering".to_string())
            )
        );
    }
}

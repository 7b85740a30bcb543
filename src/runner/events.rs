//! What the run tells the progress display: events that carry keys, statuses and numbers, never
//! sentences. [`crate::progress`] alone puts them into words, so the runner's logic and the
//! wording change apart, and its tests match data instead of text.
//!
//! Every text field reaches the terminal, so the runner redacts secrets from each before it
//! hands an event out ([`RunEvent::redacted`]): no sink ever sees a secret.

use std::path::PathBuf;

use crate::plan::Purpose;
use crate::results::{BuildKey, BuildStatus};

/// Something the run did, for the progress display to render. The runner never prints.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// Something worth keeping on screen.
    Note {
        /// The host it concerns, if any.
        host: Option<String>,
        /// What happened.
        note: RunNote,
    },
    /// A build (or pull, or prebuild) started.
    BuildStarted {
        /// Host.
        host: String,
        /// Which build.
        build: StartedBuild,
    },
    /// The host is busy with something: a step of the running build, or the runner's own work
    /// around builds.
    Step {
        /// Host.
        host: String,
        /// What it does.
        activity: Activity,
    },
    /// A build (or pull, or prebuild) ended.
    BuildFinished {
        /// Host.
        host: String,
        /// Which build, and how it ended.
        build: FinishedBuild,
    },
    /// Builds the plan did not foresee were added (a priming build after a failure).
    PlanGrew {
        /// How many.
        builds: u64,
    },
    /// Builds the plan foresaw will not run (a host that does not answer, a failed prebuild).
    PlanShrank {
        /// How many.
        builds: u64,
    },
}

/// A build of the plan, as events name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBuildId {
    /// Scenario, variant, cache mode, run number, whether it is a warmup, and host. A priming
    /// build carries the key of the build it primes for.
    pub key: BuildKey,
    /// How many runs of its kind (warmup or timed) each variant gets in each mode: the 3 of
    /// "run 2/3".
    pub run_count: u32,
    /// Measured, or priming the cache.
    pub purpose: Purpose,
}

/// Which build (or pull) a host started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartedBuild {
    /// A build of the plan, measured or priming the cache.
    Planned(PlannedBuildId),
    /// A base image missing on the host, pulled.
    BaseImagePull {
        /// The scenario that needs it.
        scenario: String,
        /// The image's name as the Dockerfile gives it.
        image: String,
    },
    /// A `[[prebuild]]` image, built outside any measurement.
    Prebuild {
        /// Scenario.
        scenario: String,
        /// The prebuild's tag.
        tag: String,
    },
    /// A build of the previous CI job, whose cache a CI-mode build imports.
    PreviousCiJob {
        /// Scenario.
        scenario: String,
        /// Variant.
        variant: String,
        /// The named stage built with its target; `None` for the final image.
        stage: Option<String>,
    },
}

/// Which build (or pull) ended on a host, and how.
#[derive(Debug, Clone, PartialEq)]
pub enum FinishedBuild {
    /// A build of the plan, measured or priming the cache.
    Planned {
        /// Which build.
        build: PlannedBuildId,
        /// How it ended (as its row records it, for a measured build).
        status: BuildStatus,
        /// Wall time of the build request, up to the cut when it was cut short.
        build_seconds: f64,
        /// The image's size, when the build made one.
        image_bytes: Option<u64>,
        /// Steps taken from cache.
        cached_steps: u32,
        /// Steps run or taken from cache.
        total_steps: u32,
        /// Why the status is not ok: the daemon's message, or how the cache state differs from
        /// the mode's; empty when ok.
        reason: String,
    },
    /// A base image's pull.
    BaseImagePull {
        /// The scenario that needs it.
        scenario: String,
        /// The image's name as the Dockerfile gives it.
        image: String,
        /// Whether the pull succeeded.
        pulled: bool,
    },
    /// A prebuild an earlier invocation of the run built, still under its tag, is kept without
    /// a build.
    PrebuildKept {
        /// Scenario.
        scenario: String,
        /// The prebuild's tag.
        tag: String,
    },
    /// A prebuild's build.
    Prebuild {
        /// Scenario.
        scenario: String,
        /// The prebuild's tag.
        tag: String,
        /// Whether its image is there.
        built: bool,
        /// Wall time of the build request.
        build_seconds: f64,
    },
}

/// What a host is busy with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// Getting the daemon ready for a build as its cache mode says.
    Preparing,
    /// What the daemon reports: a build's step as it names it, or a pull's progress.
    Daemon {
        /// The daemon's words.
        step: String,
    },
    /// Analysing the image a variant built.
    AnalysingImage {
        /// Variant.
        variant: String,
    },
    /// Pushing an image to the registry of the CI modes.
    Pushing {
        /// The registry reference.
        reference: String,
    },
    /// Pulling a prebuild back from the registry under its local tag.
    RestoringPrebuild {
        /// The prebuild's local tag.
        tag: String,
    },
}

/// Something the run tells the user along the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunNote {
    /// The last row of a resumed folder's results.csv was cut off when the run died; that
    /// build is redone.
    LastRowCut {
        /// The results folder.
        dir: PathBuf,
    },
    /// Where results are written.
    WritingResults {
        /// The results folder.
        dir: PathBuf,
    },
    /// A sentence of the plan about a scenario (a mode it skips), as meta.json records it.
    Plan {
        /// Scenario.
        scenario: String,
        /// The plan's sentence.
        text: String,
    },
    /// Measured builds an earlier invocation of the run finished are skipped.
    AlreadyDone {
        /// Scenario.
        scenario: String,
        /// How many builds.
        builds: usize,
    },
    /// A base image is missing on the host and is pulled.
    PullingBaseImage {
        /// The scenario that needs it.
        scenario: String,
        /// The image's name as the Dockerfile gives it.
        image: String,
    },
    /// A measured cold build that did not ignore the cache (`ci-cold`) took steps from build
    /// cache older than the run; it is built again with the cache ignored.
    ColdBuildRedone {
        /// Which build.
        build: PlannedBuildId,
        /// Steps taken from cache.
        cached_steps: u32,
        /// Steps run or taken from cache.
        total_steps: u32,
    },
    /// A variant's image could not be analysed, so its layers, pull size and waste are not
    /// recorded.
    AnalysisFailed {
        /// Scenario.
        scenario: String,
        /// Variant.
        variant: String,
        /// Why.
        reason: String,
    },
    /// A layer analysis kept from an earlier run could not be used, or one could not be kept
    /// for later runs; the figures are unaffected (the layer is analysed again).
    LayerCacheIgnored {
        /// The sentence saying which entry or folder, and why.
        reason: String,
    },
    /// Build-cache records the run made stay, since images kept elsewhere share their layers.
    RecordsBehindImages {
        /// How many records.
        records: usize,
    },
    /// `--runs auto` looked at a scenario after a round: where each series stands.
    Looked {
        /// Scenario.
        scenario: String,
        /// Rounds complete.
        rounds: u32,
        /// One line per series: still running and why, or what stopped it.
        lines: Vec<String>,
    },
    /// `--runs auto` could not look at a scenario, so its series go on to `--max-runs`.
    NotLooked {
        /// Scenario.
        scenario: String,
        /// Why.
        reason: String,
    },
    /// `--time-budget` was spent: the scenario starts no more builds on this host.
    BudgetSpent {
        /// Scenario.
        scenario: String,
        /// Rounds complete.
        rounds: u32,
        /// Planned builds not run.
        builds: u64,
    },
}

impl RunEvent {
    /// The same event with `redact` applied to every text it carries.
    pub(super) fn redacted(self, redact: &dyn Fn(&str) -> String) -> RunEvent {
        match self {
            RunEvent::Note { host, note } => RunEvent::Note {
                host: host.map(|h| redact(&h)),
                note: note.redacted(redact),
            },
            RunEvent::BuildStarted { host, build } => RunEvent::BuildStarted {
                host: redact(&host),
                build: build.redacted(redact),
            },
            RunEvent::Step { host, activity } => RunEvent::Step {
                host: redact(&host),
                activity: activity.redacted(redact),
            },
            RunEvent::BuildFinished { host, build } => RunEvent::BuildFinished {
                host: redact(&host),
                build: build.redacted(redact),
            },
            RunEvent::PlanGrew { builds } => RunEvent::PlanGrew { builds },
            RunEvent::PlanShrank { builds } => RunEvent::PlanShrank { builds },
        }
    }
}

impl PlannedBuildId {
    fn redacted(self, redact: &dyn Fn(&str) -> String) -> PlannedBuildId {
        let PlannedBuildId {
            key:
                BuildKey {
                    scenario,
                    variant,
                    cache,
                    run,
                    warmup,
                    host,
                },
            run_count,
            purpose,
        } = self;
        PlannedBuildId {
            key: BuildKey {
                scenario: redact(&scenario),
                variant: redact(&variant),
                cache,
                run,
                warmup,
                host: redact(&host),
            },
            run_count,
            purpose,
        }
    }
}

impl StartedBuild {
    fn redacted(self, redact: &dyn Fn(&str) -> String) -> StartedBuild {
        match self {
            StartedBuild::Planned(build) => StartedBuild::Planned(build.redacted(redact)),
            StartedBuild::BaseImagePull { scenario, image } => StartedBuild::BaseImagePull {
                scenario: redact(&scenario),
                image: redact(&image),
            },
            StartedBuild::Prebuild { scenario, tag } => StartedBuild::Prebuild {
                scenario: redact(&scenario),
                tag: redact(&tag),
            },
            StartedBuild::PreviousCiJob {
                scenario,
                variant,
                stage,
            } => StartedBuild::PreviousCiJob {
                scenario: redact(&scenario),
                variant: redact(&variant),
                stage: stage.map(|s| redact(&s)),
            },
        }
    }
}

impl FinishedBuild {
    fn redacted(self, redact: &dyn Fn(&str) -> String) -> FinishedBuild {
        match self {
            FinishedBuild::Planned {
                build,
                status,
                build_seconds,
                image_bytes,
                cached_steps,
                total_steps,
                reason,
            } => FinishedBuild::Planned {
                build: build.redacted(redact),
                status,
                build_seconds,
                image_bytes,
                cached_steps,
                total_steps,
                reason: redact(&reason),
            },
            FinishedBuild::BaseImagePull {
                scenario,
                image,
                pulled,
            } => FinishedBuild::BaseImagePull {
                scenario: redact(&scenario),
                image: redact(&image),
                pulled,
            },
            FinishedBuild::PrebuildKept { scenario, tag } => FinishedBuild::PrebuildKept {
                scenario: redact(&scenario),
                tag: redact(&tag),
            },
            FinishedBuild::Prebuild {
                scenario,
                tag,
                built,
                build_seconds,
            } => FinishedBuild::Prebuild {
                scenario: redact(&scenario),
                tag: redact(&tag),
                built,
                build_seconds,
            },
        }
    }
}

impl Activity {
    fn redacted(self, redact: &dyn Fn(&str) -> String) -> Activity {
        match self {
            Activity::Preparing => Activity::Preparing,
            Activity::Daemon { step } => Activity::Daemon {
                step: redact(&step),
            },
            Activity::AnalysingImage { variant } => Activity::AnalysingImage {
                variant: redact(&variant),
            },
            Activity::Pushing { reference } => Activity::Pushing {
                reference: redact(&reference),
            },
            Activity::RestoringPrebuild { tag } => {
                Activity::RestoringPrebuild { tag: redact(&tag) }
            }
        }
    }
}

impl RunNote {
    fn redacted(self, redact: &dyn Fn(&str) -> String) -> RunNote {
        match self {
            RunNote::LastRowCut { dir } => RunNote::LastRowCut {
                dir: redacted_path(dir, redact),
            },
            RunNote::WritingResults { dir } => RunNote::WritingResults {
                dir: redacted_path(dir, redact),
            },
            RunNote::Plan { scenario, text } => RunNote::Plan {
                scenario: redact(&scenario),
                text: redact(&text),
            },
            RunNote::AlreadyDone { scenario, builds } => RunNote::AlreadyDone {
                scenario: redact(&scenario),
                builds,
            },
            RunNote::PullingBaseImage { scenario, image } => RunNote::PullingBaseImage {
                scenario: redact(&scenario),
                image: redact(&image),
            },
            RunNote::ColdBuildRedone {
                build,
                cached_steps,
                total_steps,
            } => RunNote::ColdBuildRedone {
                build: build.redacted(redact),
                cached_steps,
                total_steps,
            },
            RunNote::AnalysisFailed {
                scenario,
                variant,
                reason,
            } => RunNote::AnalysisFailed {
                scenario: redact(&scenario),
                variant: redact(&variant),
                reason: redact(&reason),
            },
            RunNote::LayerCacheIgnored { reason } => RunNote::LayerCacheIgnored {
                reason: redact(&reason),
            },
            RunNote::RecordsBehindImages { records } => RunNote::RecordsBehindImages { records },
            RunNote::Looked {
                scenario,
                rounds,
                lines,
            } => RunNote::Looked {
                scenario: redact(&scenario),
                rounds,
                lines: lines.iter().map(|l| redact(l)).collect(),
            },
            RunNote::NotLooked { scenario, reason } => RunNote::NotLooked {
                scenario: redact(&scenario),
                reason: redact(&reason),
            },
            RunNote::BudgetSpent {
                scenario,
                rounds,
                builds,
            } => RunNote::BudgetSpent {
                scenario: redact(&scenario),
                rounds,
                builds,
            },
        }
    }
}

/// `path` with `redact` applied to the text it is shown as; the very same path when that text
/// holds no secret, so that a path that is not UTF-8 is never altered for nothing.
fn redacted_path(path: PathBuf, redact: &dyn Fn(&str) -> String) -> PathBuf {
    let shown = path.to_string_lossy();
    let redacted = redact(&shown);
    if redacted == shown {
        path
    } else {
        PathBuf::from(redacted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache_mode::CacheMode;

    fn hide(text: &str) -> String {
        text.replace("hunter2", "***")
    }

    fn key(secret: &str) -> BuildKey {
        BuildKey {
            scenario: format!("s-{secret}"),
            variant: format!("v-{secret}"),
            cache: CacheMode::Warm,
            run: 1,
            warmup: false,
            host: format!("h-{secret}"),
        }
    }

    #[test]
    fn every_text_of_an_event_is_redacted_and_nothing_else_changes() {
        let build = PlannedBuildId {
            key: key("hunter2"),
            run_count: 3,
            purpose: Purpose::Prime,
        };
        let event = RunEvent::BuildFinished {
            host: "box-hunter2".to_string(),
            build: FinishedBuild::Planned {
                build,
                status: BuildStatus::Failed,
                build_seconds: 1.5,
                image_bytes: Some(7),
                cached_steps: 1,
                total_steps: 2,
                reason: "token hunter2 refused".to_string(),
            },
        };
        let expected = RunEvent::BuildFinished {
            host: "box-***".to_string(),
            build: FinishedBuild::Planned {
                build: PlannedBuildId {
                    key: key("***"),
                    run_count: 3,
                    purpose: Purpose::Prime,
                },
                status: BuildStatus::Failed,
                build_seconds: 1.5,
                image_bytes: Some(7),
                cached_steps: 1,
                total_steps: 2,
                reason: "token *** refused".to_string(),
            },
        };
        assert_eq!(event.redacted(&hide), expected);

        let note = RunEvent::Note {
            host: None,
            note: RunNote::WritingResults {
                dir: PathBuf::from("/out/hunter2"),
            },
        };
        assert_eq!(
            note.redacted(&hide),
            RunEvent::Note {
                host: None,
                note: RunNote::WritingResults {
                    dir: PathBuf::from("/out/***"),
                },
            }
        );
        let step = RunEvent::Step {
            host: "box".to_string(),
            activity: Activity::Daemon {
                step: "RUN echo hunter2".to_string(),
            },
        };
        assert_eq!(
            step.redacted(&hide),
            RunEvent::Step {
                host: "box".to_string(),
                activity: Activity::Daemon {
                    step: "RUN echo ***".to_string(),
                },
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_path_without_a_secret_is_kept_as_it_is_even_when_it_is_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(b"/out/\xff"));
        assert_eq!(redacted_path(path.clone(), &hide), path);
    }
}

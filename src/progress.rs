//! What the user sees while builds run: a rendering of the runner's [`RunEvent`]s.
//!
//! The runner's events carry keys, statuses and numbers; this is the one place that puts them
//! into words.
//!
//! On a terminal: one live line per host (scenario, variant, cache mode, run i/N, elapsed time,
//! current step) above an overall bar whose length is the plan's exact build count. Elsewhere
//! (CI logs): one plain line per build. `--quiet`: nothing but errors. With more than one host,
//! every line starts with the host's name.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::plan::Purpose;
pub use crate::progress_mode::ProgressMode;
use crate::results::BuildStatus;
use crate::runner::{
    Activity, EventSink, FinishedBuild, PlannedBuildId, RunEvent, RunNote, StartedBuild,
};

/// Progress display for a whole run.
pub struct Progress {
    mode: ProgressMode,
    multi: MultiProgress,
    overall: ProgressBar,
    /// Whether lines name their host.
    several_hosts: bool,
    /// The live line of each host's running build.
    current: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    /// Starts the display for `total_builds` planned builds on `hosts` hosts.
    pub fn new(mode: ProgressMode, total_builds: u64, hosts: usize) -> Progress {
        let multi = MultiProgress::with_draw_target(match mode {
            ProgressMode::Terminal => ProgressDrawTarget::stderr(),
            ProgressMode::Plain | ProgressMode::Quiet => ProgressDrawTarget::hidden(),
        });
        let overall = multi.add(ProgressBar::new(total_builds));
        overall.set_style(
            ProgressStyle::with_template(
                "{bar:30.cyan/blue} {pos}/{len} builds, {elapsed} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Progress {
            mode,
            multi,
            overall,
            several_hosts: hosts > 1,
            current: Mutex::new(HashMap::new()),
        }
    }

    /// Prints a line that stays (above the bars on a terminal).
    pub fn note(&self, line: &str) {
        match self.mode {
            ProgressMode::Terminal => {
                if self.multi.println(line).is_err() {
                    eprintln!("{line}");
                }
            }
            ProgressMode::Plain => eprintln!("{line}"),
            ProgressMode::Quiet => {}
        }
    }

    /// Builds done and planned so far, as the bar counts them.
    pub fn position(&self) -> (u64, u64) {
        (self.overall.position(), self.overall.length().unwrap_or(0))
    }

    /// Removes the bars.
    pub fn finish(&self) {
        for (_, bar) in self.bars().drain() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, HashMap<String, ProgressBar>> {
        // A poisoned lock only means a panic mid-draw; the bars are still usable.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn prefixed(&self, host: Option<&str>, text: &str) -> String {
        match host {
            Some(host) if self.several_hosts => format!("[{host}] {text}"),
            _ => text.to_string(),
        }
    }
}

impl EventSink for Progress {
    fn emit(&self, event: RunEvent) {
        match event {
            RunEvent::Note { host, note } => {
                self.note(&self.prefixed(host.as_deref(), &note_line(&note)));
            }
            RunEvent::BuildStarted { host, build } => {
                if self.mode != ProgressMode::Terminal {
                    return;
                }
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} {elapsed:>4} {wide_msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bar.set_prefix(self.prefixed(Some(&host), &started_label(&build)));
                bar.enable_steady_tick(Duration::from_millis(120));
                if let Some(old) = self.bars().insert(host, bar) {
                    old.finish_and_clear();
                    self.multi.remove(&old);
                }
            }
            RunEvent::Step { host, activity } => {
                if let Some(bar) = self.bars().get(&host) {
                    bar.set_message(activity_text(activity));
                }
            }
            RunEvent::BuildFinished { host, build } => {
                if let Some(bar) = self.bars().remove(&host) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.overall.inc(1);
                self.note(&self.prefixed(Some(&host), &finished_line(&build)));
            }
            RunEvent::PlanGrew { builds } => self.overall.inc_length(builds),
            RunEvent::PlanShrank { builds } => {
                let length = self.overall.length().unwrap_or(0);
                self.overall.set_length(length.saturating_sub(builds));
            }
        }
    }
}

/// A planned build's name on its live line: scenario, variant, cache mode, run i/N.
fn planned_label(build: &PlannedBuildId) -> String {
    let key = &build.key;
    format!(
        "{} {} {} {} {}/{}",
        key.scenario,
        key.variant,
        key.cache,
        if key.warmup { "warmup" } else { "run" },
        key.run,
        build.run_count
    )
}

/// What a host's live line says it builds.
fn started_label(build: &StartedBuild) -> String {
    match build {
        StartedBuild::Planned(build) => planned_label(build),
        StartedBuild::BaseImagePull { scenario: _, image } => format!("pull {image}"),
        StartedBuild::Prebuild { scenario, tag } => format!("{scenario} prebuild {tag}"),
        StartedBuild::PreviousCiJob {
            scenario,
            variant,
            stage,
        } => format!(
            "{scenario} {variant} previous CI job: {}",
            stage.as_ref().map_or_else(
                || "final image".to_string(),
                |stage| format!("stage {stage}")
            )
        ),
    }
}

/// The line that stays when a build ends.
fn finished_line(build: &FinishedBuild) -> String {
    match build {
        FinishedBuild::Planned {
            build,
            status,
            build_seconds,
            image_bytes,
            cached_steps,
            total_steps,
            reason,
        } => {
            let outcome = match (status, image_bytes) {
                (BuildStatus::Ok, Some(image_bytes)) => format!(
                    "ok {build_seconds:7.2} s  {:>9}  {cached_steps}/{total_steps} steps cached",
                    human_bytes(*image_bytes),
                ),
                (BuildStatus::TimedOut, _) => format!("TIMED OUT after {build_seconds:.2} s"),
                (BuildStatus::CacheMismatch, _) => {
                    format!("CACHE MISMATCH after {build_seconds:.2} s: {reason}")
                }
                (BuildStatus::Interrupted, _) => {
                    format!("INTERRUPTED after {build_seconds:.2} s: {reason}")
                }
                // An ok build always has its image; without one it could only have failed.
                (BuildStatus::Failed, _) | (BuildStatus::Ok, None) => {
                    format!("FAILED after {build_seconds:.2} s: {reason}")
                }
            };
            let purpose = match build.purpose {
                Purpose::Prime => " (priming the cache, not measured)",
                Purpose::Measure => "",
            };
            format!("{}{purpose}  {outcome}", planned_label(build))
        }
        FinishedBuild::BaseImagePull {
            scenario,
            image,
            pulled,
        } => format!(
            "{scenario}: {} {image}",
            if *pulled { "pulled" } else { "could not pull" }
        ),
        FinishedBuild::PrebuildKept { scenario, tag } => {
            format!("{scenario}: prebuild {tag} kept from the earlier invocation")
        }
        FinishedBuild::Prebuild {
            scenario,
            tag,
            built,
            build_seconds,
        } => format!(
            "{scenario}: prebuild {tag} {} in {build_seconds:.1} s (not counted in any variant's time)",
            if *built { "built" } else { "FAILED" }
        ),
    }
}

/// What a host's live line says it is busy with.
fn activity_text(activity: Activity) -> String {
    match activity {
        Activity::Preparing => "preparing".to_string(),
        Activity::Daemon { step } => step,
        Activity::AnalysingImage { variant } => format!("analysing the image of {variant}"),
        Activity::Pushing { reference } => format!("pushing {reference}"),
        Activity::RestoringPrebuild { tag } => format!("restoring prebuild {tag}"),
    }
}

/// A note's line.
fn note_line(note: &RunNote) -> String {
    match note {
        RunNote::LastRowCut { dir } => format!(
            "{}: the last row of results.csv was cut off when the run died; that build is redone",
            dir.display()
        ),
        RunNote::WritingResults { dir } => format!("writing results to {}", dir.display()),
        RunNote::Plan { scenario, text } => format!("{scenario}: {text}"),
        RunNote::AlreadyDone { scenario, builds } => {
            format!("{scenario}: {builds} builds already done by an earlier invocation are skipped")
        }
        RunNote::PullingBaseImage { scenario, image } => {
            format!("{scenario}: pulling base image {image}")
        }
        RunNote::ColdBuildRedone {
            build,
            cached_steps,
            total_steps,
        } => format!(
            "{}: {cached_steps} of {total_steps} steps came from build cache older than this run; building it again with the cache ignored",
            planned_label(build)
        ),
        RunNote::AnalysisFailed {
            scenario,
            variant,
            reason,
        } => format!(
            "{scenario}: the image of {variant} could not be analysed, so its layers, pull size and waste are not recorded: {reason}"
        ),
        RunNote::LayerCacheIgnored { reason } => reason.clone(),
        RunNote::RecordsBehindImages { records } => format!(
            "{records} build-cache records this run made share their layers with images kept elsewhere, so they stay until those images go"
        ),
        RunNote::Looked {
            scenario,
            rounds,
            lines,
        } => {
            let mut text = format!("{scenario} after {rounds} runs:");
            for line in lines {
                text.push_str("\n  ");
                text.push_str(line);
            }
            text
        }
        RunNote::NotLooked { scenario, reason } => format!(
            "{scenario}: cannot tell which series are settled after this round, so every series still running goes on (until a later look can tell, or to --max-runs): {reason}"
        ),
        RunNote::BudgetSpent {
            scenario,
            rounds,
            builds,
        } => format!(
            "{scenario}: the time budget is spent after {rounds} complete rounds; {builds} planned builds are not run"
        ),
    }
}

/// Sizes for progress lines, in decimal megabytes as `docker images` shows them.
fn human_bytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::cache_mode::CacheMode;
    use crate::results::BuildKey;

    fn planned(cache: CacheMode, warmup: bool, purpose: Purpose) -> PlannedBuildId {
        PlannedBuildId {
            key: BuildKey {
                scenario: "python-node".to_string(),
                variant: "multi".to_string(),
                cache,
                run: 2,
                warmup,
                host: "box".to_string(),
            },
            run_count: 3,
            purpose,
        }
    }

    fn finished(status: BuildStatus, image_bytes: Option<u64>, reason: &str) -> FinishedBuild {
        FinishedBuild::Planned {
            build: planned(CacheMode::Warm, false, Purpose::Measure),
            status,
            build_seconds: 12.345,
            image_bytes,
            cached_steps: 4,
            total_steps: 5,
            reason: reason.to_string(),
        }
    }

    #[test]
    fn a_started_build_is_named_on_its_live_line() {
        let cases = [
            (
                StartedBuild::Planned(planned(CacheMode::Cold, false, Purpose::Measure)),
                "python-node multi cold run 2/3",
            ),
            (
                StartedBuild::Planned(planned(CacheMode::Incremental, true, Purpose::Prime)),
                "python-node multi incremental warmup 2/3",
            ),
            (
                StartedBuild::BaseImagePull {
                    scenario: "python-node".to_string(),
                    image: "python:3.12-slim".to_string(),
                },
                "pull python:3.12-slim",
            ),
            (
                StartedBuild::Prebuild {
                    scenario: "python-node".to_string(),
                    tag: "stagebench/deps:1".to_string(),
                },
                "python-node prebuild stagebench/deps:1",
            ),
            (
                StartedBuild::PreviousCiJob {
                    scenario: "python-node".to_string(),
                    variant: "multi".to_string(),
                    stage: None,
                },
                "python-node multi previous CI job: final image",
            ),
            (
                StartedBuild::PreviousCiJob {
                    scenario: "python-node".to_string(),
                    variant: "multi".to_string(),
                    stage: Some("deps".to_string()),
                },
                "python-node multi previous CI job: stage deps",
            ),
        ];
        for (build, label) in cases {
            assert_eq!(started_label(&build), label);
        }
    }

    #[test]
    fn a_planned_build_s_line_says_how_it_ended() {
        let prefix = "python-node multi warm run 2/3  ";
        let cases = [
            (
                finished(BuildStatus::Ok, Some(123_456_789), ""),
                "ok   12.35 s   123.5 MB  4/5 steps cached",
            ),
            (
                finished(BuildStatus::TimedOut, None, "did not finish"),
                "TIMED OUT after 12.35 s",
            ),
            (
                finished(BuildStatus::CacheMismatch, Some(1), "ran 1 of 5"),
                "CACHE MISMATCH after 12.35 s: ran 1 of 5",
            ),
            (
                finished(BuildStatus::Interrupted, None, "interrupted by the user"),
                "INTERRUPTED after 12.35 s: interrupted by the user",
            ),
            (
                finished(BuildStatus::Failed, None, "exit code 1"),
                "FAILED after 12.35 s: exit code 1",
            ),
        ];
        for (build, outcome) in cases {
            assert_eq!(finished_line(&build), format!("{prefix}{outcome}"));
        }
        let prime = FinishedBuild::Planned {
            build: planned(CacheMode::Warm, false, Purpose::Prime),
            status: BuildStatus::Ok,
            build_seconds: 1.0,
            image_bytes: Some(2_000_000),
            cached_steps: 0,
            total_steps: 5,
            reason: String::new(),
        };
        assert_eq!(
            finished_line(&prime),
            "python-node multi warm run 2/3 (priming the cache, not measured)  ok    1.00 s     2.0 MB  0/5 steps cached"
        );
    }

    #[test]
    fn pulls_and_prebuilds_say_what_became_of_them() {
        let scenario = || "python-node".to_string();
        let cases = [
            (
                FinishedBuild::BaseImagePull {
                    scenario: scenario(),
                    image: "python:3.12-slim".to_string(),
                    pulled: true,
                },
                "python-node: pulled python:3.12-slim",
            ),
            (
                FinishedBuild::BaseImagePull {
                    scenario: scenario(),
                    image: "python:3.12-slim".to_string(),
                    pulled: false,
                },
                "python-node: could not pull python:3.12-slim",
            ),
            (
                FinishedBuild::PrebuildKept {
                    scenario: scenario(),
                    tag: "stagebench/deps:1".to_string(),
                },
                "python-node: prebuild stagebench/deps:1 kept from the earlier invocation",
            ),
            (
                FinishedBuild::Prebuild {
                    scenario: scenario(),
                    tag: "stagebench/deps:1".to_string(),
                    built: true,
                    build_seconds: 3.25,
                },
                "python-node: prebuild stagebench/deps:1 built in 3.2 s (not counted in any variant's time)",
            ),
            (
                FinishedBuild::Prebuild {
                    scenario: scenario(),
                    tag: "stagebench/deps:1".to_string(),
                    built: false,
                    build_seconds: 0.5,
                },
                "python-node: prebuild stagebench/deps:1 FAILED in 0.5 s (not counted in any variant's time)",
            ),
        ];
        for (build, line) in cases {
            assert_eq!(finished_line(&build), line);
        }
    }

    #[test]
    fn activities_and_notes_read_as_sentences() {
        let activities = [
            (Activity::Preparing, "preparing"),
            (
                Activity::Daemon {
                    step: "[2/3] RUN make".to_string(),
                },
                "[2/3] RUN make",
            ),
            (
                Activity::AnalysingImage {
                    variant: "multi".to_string(),
                },
                "analysing the image of multi",
            ),
            (
                Activity::Pushing {
                    reference: "r:5000/s/multi:x".to_string(),
                },
                "pushing r:5000/s/multi:x",
            ),
            (
                Activity::RestoringPrebuild {
                    tag: "stagebench/deps:1".to_string(),
                },
                "restoring prebuild stagebench/deps:1",
            ),
        ];
        for (activity, text) in activities {
            assert_eq!(activity_text(activity), text);
        }
        let notes = [
            (
                RunNote::LastRowCut {
                    dir: PathBuf::from("/r/out"),
                },
                "/r/out: the last row of results.csv was cut off when the run died; that build is redone",
            ),
            (
                RunNote::WritingResults {
                    dir: PathBuf::from("/r/out"),
                },
                "writing results to /r/out",
            ),
            (
                RunNote::Plan {
                    scenario: "s".to_string(),
                    text: "incremental runs skipped".to_string(),
                },
                "s: incremental runs skipped",
            ),
            (
                RunNote::AlreadyDone {
                    scenario: "s".to_string(),
                    builds: 4,
                },
                "s: 4 builds already done by an earlier invocation are skipped",
            ),
            (
                RunNote::PullingBaseImage {
                    scenario: "s".to_string(),
                    image: "busybox:latest".to_string(),
                },
                "s: pulling base image busybox:latest",
            ),
            (
                RunNote::ColdBuildRedone {
                    build: planned(CacheMode::CiCold, false, Purpose::Measure),
                    cached_steps: 2,
                    total_steps: 5,
                },
                "python-node multi ci-cold run 2/3: 2 of 5 steps came from build cache older than this run; building it again with the cache ignored",
            ),
            (
                RunNote::AnalysisFailed {
                    scenario: "s".to_string(),
                    variant: "multi".to_string(),
                    reason: "truncated export".to_string(),
                },
                "s: the image of multi could not be analysed, so its layers, pull size and waste are not recorded: truncated export",
            ),
            (
                RunNote::LayerCacheIgnored {
                    reason: "the layer cache entry /c/x.json is ignored and the layer analysed again: not an entry".to_string(),
                },
                "the layer cache entry /c/x.json is ignored and the layer analysed again: not an entry",
            ),
            (
                RunNote::RecordsBehindImages { records: 3 },
                "3 build-cache records this run made share their layers with images kept elsewhere, so they stay until those images go",
            ),
        ];
        for (note, line) in notes {
            assert_eq!(note_line(&note), line);
        }
    }
}

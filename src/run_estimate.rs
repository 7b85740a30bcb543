//! What `run` says before its first build: how many builds each scenario's plan makes, and about
//! how long they take, judged by an earlier run of the same scenario and profile.
//!
//! The count and the estimate are pure functions of the plan and of the earlier run's
//! measurements ([`PriorRun`]); only [`find_prior`] reads folders. An estimate is never made up:
//! without an earlier run that measured every planned cell, the line says there is none yet.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::cache_mode::CacheMode;
use crate::plan::{Purpose, ScenarioPlan};
use crate::results::{BuildRecord, BuildStatus, RESULTS_FILE, RunCost, RunMeta, is_results_folder};

/// How many builds one scenario's plan on one host makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCount {
    /// Variants it builds.
    pub variants: usize,
    /// Cache modes it measures.
    pub modes: usize,
    /// Timed runs per cell.
    pub runs: u32,
    /// Timed builds planned.
    pub timed: usize,
    /// Warmup builds planned (measured, left out of statistics).
    pub warmups: usize,
    /// Untimed builds that fill a cache a warm or incremental run needs.
    pub priming: usize,
    /// Prebuilds, built once before the variants.
    pub prebuilds: usize,
    /// Measured builds an earlier invocation already made (a resumed run).
    pub already_done: usize,
}

impl PlanCount {
    /// Counts `plan`, made with `runs` timed runs per cell.
    pub fn of(plan: &ScenarioPlan, runs: u32) -> PlanCount {
        let measured = plan.builds.iter().filter(|b| b.purpose == Purpose::Measure);
        let modes: BTreeSet<CacheMode> = measured.clone().map(|b| b.key.cache).collect();
        PlanCount {
            variants: plan.scenario.variants.len(),
            modes: modes.len(),
            runs,
            timed: measured.clone().filter(|b| !b.key.warmup).count(),
            warmups: measured.filter(|b| b.key.warmup).count(),
            priming: plan
                .builds
                .iter()
                .filter(|b| b.purpose == Purpose::Prime)
                .count(),
            prebuilds: plan.prebuilds,
            already_done: plan.already_done,
        }
    }

    /// Every build the runner starts: the progress bar's length for this scenario.
    pub fn total(&self) -> usize {
        self.timed + self.warmups + self.priming + self.prebuilds
    }

    /// "4 variants x 3 modes x 3 runs = 36 timed builds, plus 2 prebuilds".
    pub fn sentence(&self) -> String {
        let whole = self.variants * self.modes * self.runs as usize;
        let mut text = if self.already_done == 0 && self.timed == whole {
            format!(
                "{} x {} x {} = {}",
                count(self.variants, "variant"),
                count(self.modes, "mode"),
                count(self.runs as usize, "run"),
                count(self.timed, "timed build")
            )
        } else {
            count(self.timed, "timed build")
        };
        if self.already_done > 0 {
            text.push_str(&format!(" left ({} done before)", self.already_done));
        }
        for (number, what) in [
            (self.warmups, "warmup build"),
            (self.priming, "priming build"),
            (self.prebuilds, "prebuild"),
        ] {
            if number > 0 {
                text.push_str(&format!(", plus {}", count(number, what)));
            }
        }
        text
    }
}

fn count(number: usize, what: &str) -> String {
    if number == 1 {
        format!("1 {what}")
    } else {
        format!("{number} {what}s")
    }
}

/// Where an earlier run was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriorSource {
    /// Next to this run's results folder, on this machine.
    Here,
    /// Under the `reports` folder of the working directory (the committed reports), maybe
    /// measured on another machine.
    Committed,
}

/// What an earlier run of the same scenario and profile measured on a host of the same name.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorRun {
    /// Its results folder.
    pub folder: PathBuf,
    /// Where it was found.
    pub source: PriorSource,
    /// Whether the scenario's files (Dockerfiles, context, manifest) were the same as now.
    pub same_inputs: bool,
    /// Seconds of each successful timed build, by variant and cache mode.
    pub cells: BTreeMap<(String, CacheMode), Vec<f64>>,
    /// Where its wall time went.
    pub cost: RunCost,
    /// Builds it started: its rows and its priming builds.
    pub builds: usize,
    /// Variants it built (each image analysed once).
    pub variants: usize,
    /// Its rows of the CI-style cache modes, whose previous jobs and registry transfers its
    /// cost counts apart.
    pub ci_builds: usize,
    /// Prebuilds it made.
    pub prebuilds: usize,
}

/// A range of seconds the plan is expected to take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Every build as fast as its fastest earlier run.
    pub low_seconds: f64,
    /// Every build as slow as its slowest earlier run.
    pub high_seconds: f64,
}

/// The time `plan` would take if every build took what its cell took in `prior` (the fastest
/// of its runs for the low end, the slowest for the high end), plus `prior`'s prebuilds and
/// image analyses scaled to what is planned, plus the CI modes' previous jobs and registry
/// transfers per CI-mode build planned, plus its remaining time per build (cache prunes,
/// cleanup, bookkeeping). `Err` says which planned work `prior` did not measure.
pub fn estimate(plan: &ScenarioPlan, prior: &PriorRun) -> Result<Estimate, String> {
    let mut low_seconds = 0.0;
    let mut high_seconds = 0.0;
    for build in &plan.builds {
        let variant = &plan.scenario.variants[build.variant].name;
        // A priming build fills a cache that is empty or unknown: it costs about a cold build.
        let mode = match build.purpose {
            Purpose::Measure => build.key.cache,
            Purpose::Prime => CacheMode::Cold,
        };
        let times = prior
            .cells
            .get(&(variant.clone(), mode))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| format!("it has no successful {mode} build of {variant}"))?;
        low_seconds += times.iter().copied().fold(f64::INFINITY, f64::min);
        high_seconds += times.iter().copied().fold(0.0, f64::max);
    }
    let cost = &prior.cost;
    let prebuild_seconds = match (plan.prebuilds, prior.prebuilds) {
        (0, _) => 0.0,
        (_, 0) => return Err("it made no prebuilds".to_string()),
        (planned, made) => cost.prebuild_seconds * planned as f64 / made as f64,
    };
    let analysis_seconds = if prior.variants == 0 {
        0.0
    } else {
        cost.analysis_seconds * plan.scenario.variants.len() as f64 / prior.variants as f64
    };
    let ci_seconds =
        cost.ci_previous_job_seconds + cost.registry_seconds + cost.discarded_cold_seconds;
    let planned_ci = plan.builds.iter().filter(|b| b.key.cache.is_ci()).count();
    let ci_part = match (planned_ci, prior.ci_builds) {
        (0, _) => 0.0,
        (_, 0) => return Err("it ran no build of a CI mode".to_string()),
        (planned, made) => ci_seconds * planned as f64 / made as f64,
    };
    let other_seconds = (cost.wall_seconds
        - cost.measured_build_seconds
        - cost.priming_build_seconds
        - cost.prebuild_seconds
        - cost.analysis_seconds
        - ci_seconds)
        .max(0.0);
    let other_per_build = if prior.builds == 0 {
        0.0
    } else {
        other_seconds / prior.builds as f64
    };
    let fixed =
        prebuild_seconds + analysis_seconds + ci_part + other_per_build * plan.builds.len() as f64;
    Ok(Estimate {
        low_seconds: low_seconds + fixed,
        high_seconds: high_seconds + fixed,
    })
}

/// "about 3-4 min", "about 40-55 s": whole minutes from 90 seconds up.
pub fn about(estimate: &Estimate) -> String {
    let (low, high) = (
        estimate.low_seconds,
        estimate.high_seconds.max(estimate.low_seconds),
    );
    if high < 90.0 {
        let (low, high) = (round_to(low, 5.0).max(5.0), round_to(high, 5.0).max(5.0));
        if low == high {
            format!("about {low:.0} s")
        } else {
            format!("about {low:.0}-{high:.0} s")
        }
    } else {
        let low = (low / 60.0).floor().max(1.0);
        let high = (high / 60.0).ceil().max(low);
        if low == high {
            format!("about {low:.0} min")
        } else {
            format!("about {low:.0}-{high:.0} min")
        }
    }
}

/// "4 min", "45 s": whole minutes (rounded up) from 90 seconds up, else seconds rounded up to 5.
pub fn minutes_or_seconds(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{:.0} s", (seconds / 5.0).ceil().max(1.0) * 5.0)
    } else {
        format!("{:.0} min", (seconds / 60.0).ceil())
    }
}

fn round_to(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

/// The line `run` prints for one scenario's plan before building: what it builds, and the
/// estimate with its source, or why there is none.
pub fn plan_line(
    scenario: &str,
    profile: Option<&str>,
    host: Option<&str>,
    count: &PlanCount,
    prior: Option<&PriorRun>,
    estimate: Option<Result<Estimate, String>>,
) -> String {
    let profile = profile.map(|p| format!(" ({p})")).unwrap_or_default();
    let host = host.map(|h| format!(" on {h}")).unwrap_or_default();
    let judged = match (prior, estimate) {
        (Some(prior), Some(Ok(estimate))) => {
            let source = match prior.source {
                PriorSource::Here => "the last run of this scenario and profile here",
                PriorSource::Committed => {
                    "the last committed report of this scenario and profile, maybe from another machine"
                }
            };
            let differed = if prior.same_inputs {
                ""
            } else {
                ", whose scenario files differed"
            };
            format!(
                "{}, judging by {source} ({}{differed})",
                about(&estimate),
                prior.folder.display()
            )
        }
        (Some(prior), Some(Err(reason))) => format!(
            "no estimate: the last run of this scenario and profile ({}) cannot tell: {reason}",
            prior.folder.display()
        ),
        _ => "no estimate yet: no earlier run of this scenario and profile was found next to the results folder, nor a report of these scenario files under reports/".to_string(),
    };
    format!("{scenario}{profile}{host}: {}; {judged}", count.sentence())
}

/// The most recent earlier run of `scenario` with `profile` on the host named `host`, found among
/// the results folders directly inside `dirs` (in order of preference: the first dir that has
/// one wins), one whose inputs' hash is `inputs_sha256` preferred over a later one whose is not.
/// A committed report counts only with the same inputs: one of other scenario files says
/// nothing of this checkout's builds, where the user's own earlier run (before an edit) still
/// says something. Folders that cannot be read, and `exclude` (the folder this run writes), are
/// passed over.
pub fn find_prior(
    dirs: &[(PathBuf, PriorSource)],
    scenario: &str,
    profile: Option<&str>,
    host: &str,
    inputs_sha256: &str,
    exclude: &[PathBuf],
) -> Option<PriorRun> {
    for (dir, source) in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut best: Option<(bool, String, PriorRun)> = None;
        for entry in entries.filter_map(Result::ok) {
            let folder = entry.path();
            if exclude.iter().any(|e| same_dir(e, &folder))
                || folder.is_symlink()
                || !is_results_folder(&folder)
            {
                continue;
            }
            let Some((started_at, prior)) =
                read_prior(&folder, *source, scenario, profile, host, inputs_sha256)
            else {
                continue;
            };
            if *source == PriorSource::Committed && !prior.same_inputs {
                continue;
            }
            let rank = (prior.same_inputs, started_at.clone());
            if best
                .as_ref()
                .is_none_or(|(same, started, _)| rank > (*same, started.clone()))
            {
                best = Some((rank.0, rank.1, prior));
            }
        }
        if let Some((_, _, prior)) = best {
            return Some(prior);
        }
    }
    None
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The earlier run of `scenario` in `folder`, with the time its last invocation started.
fn read_prior(
    folder: &Path,
    source: PriorSource,
    scenario: &str,
    profile: Option<&str>,
    host: &str,
    inputs_sha256: &str,
) -> Option<(String, PriorRun)> {
    let meta = RunMeta::read(folder).ok()?;
    if meta.settings.options.profile.as_deref() != profile {
        return None;
    }
    let entry = meta
        .scenarios
        .iter()
        .find(|s| s.name == scenario && s.host == host && s.not_run.is_none())?;
    let cost = entry.cost?;
    let records: Vec<BuildRecord> = crate::results::read_rows(&folder.join(RESULTS_FILE)).ok()?;
    let records: Vec<&BuildRecord> = records
        .iter()
        .filter(|r| r.scenario == scenario && r.host == host)
        .collect();
    let mut cells: BTreeMap<(String, CacheMode), Vec<f64>> = BTreeMap::new();
    for record in records
        .iter()
        .filter(|r| r.status == BuildStatus::Ok && !r.warmup)
    {
        cells
            .entry((record.variant.clone(), record.cache))
            .or_default()
            .push(record.build_seconds);
    }
    let variants: BTreeSet<&str> = records.iter().map(|r| r.variant.as_str()).collect();
    let started_at = meta
        .invocations
        .iter()
        .map(|i| i.started_at.clone())
        .max()
        .unwrap_or_default();
    Some((
        started_at,
        PriorRun {
            folder: folder.to_path_buf(),
            source,
            same_inputs: entry.inputs.sha256 == inputs_sha256,
            cells,
            cost,
            builds: records.len() + cost.priming_builds as usize,
            variants: variants.len(),
            ci_builds: records.iter().filter(|r| r.cache.is_ci()).count(),
            prebuilds: entry.prebuilds.len(),
        },
    ))
}

#[cfg(test)]
mod tests;

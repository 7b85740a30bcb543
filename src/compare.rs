//! The regression gate: a current set of results against a baseline, series by series, with the
//! one [contrast](crate::stats::contrast) for build time and an exact comparison for image size.
//!
//! The gate fails closed: a night that measured less than the baseline cannot pass.
//! - A series the baseline has that is missing now, or whose every build now failed, is a
//!   regression.
//! - A series whose build time the gate cannot judge is "not gated", and a comparison with one
//!   exits 2 rather than 0: when a side has fewer successful runs than `--require-runs`
//!   ([`Thresholds::required_runs`]), when the statistics form no contrast of the two samples,
//!   and when only the current side has the series (nothing to compare it with).
//!
//! CI runners are noisy, so the gate is built not to cry wolf either:
//! - a time regression needs the contrast to say `slower` (its interval simultaneous across every
//!   series of the comparison) *and* the whole interval to lie above `1 + time threshold`;
//! - a size regression needs growth above both a relative threshold and an absolute floor, of
//!   the image or of its pull size (compressed, when both sides analysed the image);
//! - samples of different machines are not compared unless asked to.

use std::collections::{BTreeMap, BTreeSet};

use crate::keys::SeriesKey;
use crate::results::{BuildStatus, HostEnvironment, ResultSet};
use crate::run_options::DEFAULT_NOISE_THRESHOLD;
use crate::stats::stopping::{Families, GateAgainst, replay_gated};
use crate::stats::{
    Contrast, GroupSummary, NoContrast, Outcome, ScenarioLayout, Status, analyze, contrast_family,
};

/// Fewest successful runs per side `--require-runs` accepts: with one run no variance can be
/// estimated, so no interval, and no verdict, exists.
pub const MIN_REQUIRED_RUNS: usize = 2;
/// Most successful runs per side `--require-runs` accepts. No benchmark needs more; a larger
/// number is a typing slip that would make every series "not gated".
pub const MAX_REQUIRED_RUNS: usize = 1000;
/// Successful runs per side the gate needs unless told otherwise: stagebench's default `--runs`.
pub const DEFAULT_REQUIRED_RUNS: usize = 3;
/// `--time-threshold` unless told otherwise (10 percent), as a fraction.
pub const DEFAULT_TIME_THRESHOLD: f64 = 0.10;

/// When a change counts as a regression, and when the gate can judge one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Half-width of the contrast's noise band (fraction).
    pub noise: f64,
    /// A time regression's interval must lie wholly above `1 + time` (fraction).
    pub time: f64,
    /// Image growth must exceed this fraction of the baseline's size...
    pub size: f64,
    /// ...and this many bytes.
    pub size_floor_bytes: u64,
    /// Successful runs each side needs for its build time to be judged (`--require-runs`),
    /// from [`MIN_REQUIRED_RUNS`] to [`MAX_REQUIRED_RUNS`].
    pub required_runs: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            noise: DEFAULT_NOISE_THRESHOLD,
            time: 0.10,
            size: 0.01,
            size_floor_bytes: 1_000_000,
            required_runs: DEFAULT_REQUIRED_RUNS,
        }
    }
}

/// One side's timed builds of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSide {
    /// Median build time of the successful runs; `None` when none succeeded.
    pub median_seconds: Option<f64>,
    /// Successful timed runs.
    pub runs_ok: usize,
    /// Timed runs that did not succeed, by status, in [`BuildStatus`] order; statuses with no
    /// run are left out.
    pub unsuccessful: Vec<(BuildStatus, usize)>,
}

impl SeriesSide {
    fn of(group: &GroupSummary) -> SeriesSide {
        let unsuccessful = [
            (BuildStatus::Failed, group.runs_failed),
            (BuildStatus::TimedOut, group.runs_timed_out),
            (BuildStatus::Interrupted, group.runs_interrupted),
            (BuildStatus::CacheMismatch, group.runs_cache_mismatch),
        ]
        .into_iter()
        .filter(|(_, runs)| *runs > 0)
        .collect();
        SeriesSide {
            median_seconds: group.build_seconds.as_ref().map(|s| s.median),
            runs_ok: group.runs_ok,
            unsuccessful,
        }
    }

    /// Timed builds, whatever their status.
    pub fn builds(&self) -> usize {
        self.runs_ok
            + self
                .unsuccessful
                .iter()
                .map(|(_, runs)| runs)
                .sum::<usize>()
    }
}

/// Why the gate cannot judge a series' build time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotGated {
    /// Only the current results have the series: there is nothing to compare it with.
    NotInBaseline,
    /// A side has fewer successful runs than [`Thresholds::required_runs`].
    TooFewRuns {
        /// The runs each side needs.
        required: usize,
    },
    /// Both sides have the runs, but the statistics formed no contrast of the two samples.
    NoContrast {
        /// Why not, as the statistics say it.
        reason: NoContrast,
    },
}

/// Why a series failed the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regression {
    /// The baseline has the series; the current results do not.
    Missing,
    /// Every timed build of the series failed now (or timed out, was interrupted or missed its
    /// cache state): nothing was measured.
    AllBuildsFailed {
        /// How many builds there were.
        builds: usize,
    },
    /// Build time regressed beyond the thresholds.
    Time,
    /// The image or its pull size grew beyond the thresholds.
    Size,
}

/// What the gate concludes, for one series or for a whole comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Judged, and nothing regressed.
    Pass,
    /// Nothing regressed, but a build time could not be judged.
    NotGated,
    /// Something regressed.
    Regression,
}

/// One series of the comparison, on either side or both.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesChange {
    /// The series (the current side's key when both have it and hosts were allowed to differ).
    pub key: SeriesKey,
    /// The baseline's builds; `None` when only the current results have the series.
    pub baseline: Option<SeriesSide>,
    /// The current builds; `None` when the series is missing from the current results.
    pub current: Option<SeriesSide>,
    /// Current against baseline; `None` when the statistics form none (a side with fewer than 2
    /// successful runs, or a sample they cannot compare).
    pub contrast: Option<Contrast>,
    /// Median image size of each side.
    pub image: SizeChange,
    /// Pull size (`compressed_bytes`) of each side, where its image was analysed.
    pub pull: SizeChange,
    /// Whether build time regressed beyond the thresholds (only ever for a gated series).
    pub time_regression: bool,
    /// Whether the image or its pull size grew beyond the thresholds.
    pub size_regression: bool,
    /// Why the build time is not judged, when it is not (never set for a series that is
    /// missing or whose builds all failed: those are regressions).
    pub not_gated: Option<NotGated>,
    /// When the current side ran with `--runs auto`: the rounds after which the gate's look read
    /// `contrast`. The series may have run on for the run's own comparisons, so its run count can
    /// be higher.
    pub read_after_rounds: Option<usize>,
}

impl SeriesChange {
    /// Every way the series failed the gate, most basic first.
    pub fn regressions(&self) -> Vec<Regression> {
        let mut found = Vec::new();
        match &self.current {
            None => found.push(Regression::Missing),
            Some(current) if current.runs_ok == 0 => {
                found.push(Regression::AllBuildsFailed {
                    builds: current.builds(),
                });
            }
            Some(_) => {}
        }
        if self.time_regression {
            found.push(Regression::Time);
        }
        if self.size_regression {
            found.push(Regression::Size);
        }
        found
    }

    /// Whether anything regressed.
    pub fn is_regression(&self) -> bool {
        !self.regressions().is_empty()
    }

    /// The series' verdict: a regression outweighs a build time that is not gated.
    pub fn verdict(&self) -> Verdict {
        if self.is_regression() {
            Verdict::Regression
        } else if self.not_gated.is_some() {
            Verdict::NotGated
        } else {
            Verdict::Pass
        }
    }

    /// Successful runs of each side (0 for a side without the series).
    pub fn runs(&self) -> (usize, usize) {
        let runs = |side: &Option<SeriesSide>| side.as_ref().map_or(0, |s| s.runs_ok);
        (runs(&self.baseline), runs(&self.current))
    }
}

/// A size on both sides of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeChange {
    /// The baseline's bytes, when it measured them.
    pub baseline_bytes: Option<u64>,
    /// The current side's bytes, when it measured them.
    pub current_bytes: Option<u64>,
}

impl SizeChange {
    /// Current bytes minus baseline bytes, when both are known.
    pub fn change_bytes(&self) -> Option<i128> {
        Some(i128::from(self.current_bytes?) - i128::from(self.baseline_bytes?))
    }

    /// Whether the size grew by more than both the relative threshold and the floor.
    pub fn grew_beyond(&self, thresholds: &Thresholds) -> bool {
        match (self.baseline_bytes, self.current_bytes) {
            (Some(before), Some(after)) if after > before => {
                let growth = after - before;
                growth > thresholds.size_floor_bytes
                    && growth as f64 > thresholds.size * before as f64
            }
            _ => false,
        }
    }
}

/// Everything a comparison found.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareResult {
    /// Every series of either side: those of the current side in its order, then those only
    /// the baseline has (missing now) in its order.
    pub changes: Vec<SeriesChange>,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// How the environments differ, when `--allow-different-hosts` let them.
    pub host_differences: Vec<String>,
    /// When the current side ran with `--runs auto`: how its looks were taken, which is what its
    /// intervals' levels mean.
    pub sequential_method: Option<String>,
}

impl CompareResult {
    /// Series that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &SeriesChange> {
        self.changes.iter().filter(|c| c.is_regression())
    }

    /// Series whose build time is not judged and that did not regress otherwise.
    pub fn not_gated(&self) -> impl Iterator<Item = &SeriesChange> {
        self.changes
            .iter()
            .filter(|c| c.verdict() == Verdict::NotGated)
    }

    /// The comparison's verdict: any regression, else anything not gated, else a pass. An
    /// empty comparison judged nothing, so it is not gated.
    pub fn verdict(&self) -> Verdict {
        self.changes
            .iter()
            .map(SeriesChange::verdict)
            .max()
            .unwrap_or(Verdict::NotGated)
    }
}

/// The two sides were measured on different machines, and that was not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the two sides were not measured on the same hosts: {0}; pass --allow-different-hosts to compare them anyway"
)]
pub struct DifferentHosts(pub String);

/// Compares `current` with `baseline`. With `allow_different_hosts`, series are matched without
/// their host when each side measured them on one host only.
pub fn compare(
    baseline: &ResultSet,
    current: &ResultSet,
    thresholds: Thresholds,
    allow_different_hosts: bool,
) -> Result<CompareResult, DifferentHosts> {
    let differences = host_differences(baseline, current);
    if !differences.is_empty() && !allow_different_hosts {
        return Err(DifferentHosts(differences.join("; ")));
    }
    let baseline_groups = groups(baseline, thresholds.noise);
    let current_groups = groups(current, thresholds.noise);
    let match_key = |key: &SeriesKey, groups: &[GroupSummary]| -> SeriesKey {
        let hosts = groups
            .iter()
            .filter(|g| same_series_but_host(&g.key, key))
            .count();
        if allow_different_hosts && hosts == 1 {
            SeriesKey {
                host: String::new(),
                ..key.clone()
            }
        } else {
            key.clone()
        }
    };
    let baseline_by_key: BTreeMap<SeriesKey, &GroupSummary> = baseline_groups
        .iter()
        .map(|g| (match_key(&g.key, &baseline_groups), g))
        .collect();
    let mut matched = BTreeSet::new();
    let mut pairs = Vec::new();
    let mut only_in_current = Vec::new();
    for group in &current_groups {
        let key = match_key(&group.key, &current_groups);
        match baseline_by_key.get(&key) {
            Some(base) => {
                matched.insert(key);
                pairs.push((*base, group));
            }
            None => only_in_current.push(group),
        }
    }
    let only_in_baseline: Vec<&GroupSummary> = baseline_groups
        .iter()
        .filter(|g| !matched.contains(&match_key(&g.key, &baseline_groups)))
        .collect();
    let samples: Vec<(&[f64], &[f64])> = pairs
        .iter()
        .map(|(base, current)| {
            (
                base.samples_seconds.as_slice(),
                current.samples_seconds.as_slice(),
            )
        })
        .collect();
    let contrasts = match sequential_contrasts(
        baseline,
        current,
        &thresholds,
        allow_different_hosts,
        &pairs,
    ) {
        Some(contrasts) => contrasts,
        None => contrast_family(&samples, thresholds.noise)
            .into_iter()
            .map(|contrast| (contrast, None))
            .collect(),
    };
    let mut changes: Vec<SeriesChange> = pairs
        .into_iter()
        .zip(contrasts)
        .map(|((base, current), read)| both_sides(base, current, read, &thresholds))
        .collect();
    changes.extend(only_in_current.into_iter().map(|current| SeriesChange {
        key: current.key.clone(),
        baseline: None,
        current: Some(SeriesSide::of(current)),
        contrast: None,
        image: SizeChange {
            baseline_bytes: None,
            current_bytes: current.image_bytes,
        },
        pull: SizeChange {
            baseline_bytes: None,
            current_bytes: current.compressed_bytes,
        },
        time_regression: false,
        size_regression: false,
        not_gated: (current.runs_ok > 0).then_some(NotGated::NotInBaseline),
        read_after_rounds: None,
    }));
    changes.extend(only_in_baseline.into_iter().map(|base| SeriesChange {
        key: base.key.clone(),
        baseline: Some(SeriesSide::of(base)),
        current: None,
        contrast: None,
        image: SizeChange {
            baseline_bytes: base.image_bytes,
            current_bytes: None,
        },
        pull: SizeChange {
            baseline_bytes: base.compressed_bytes,
            current_bytes: None,
        },
        time_regression: false,
        size_regression: false,
        not_gated: None,
        read_after_rounds: None,
    }));
    let sequential_method = current.meta.settings.options.stopping.and_then(|stopping| {
        let design = crate::stats::SequentialDesign::new(
            stopping.min_runs as usize,
            stopping.max_runs as usize,
        )
        .ok()?;
        Some(crate::stats::method::sequential_gate_sentence(&design))
    });
    Ok(CompareResult {
        changes,
        thresholds,
        host_differences: differences,
        sequential_method,
    })
}

/// A series' contrast with the baseline (or why there is none), and the rounds after which a
/// sequential look read it.
type ReadContrast = (Result<Contrast, NoContrast>, Option<usize>);

/// When the current side was run with `--runs auto`, each series' contrast with the baseline is
/// the one the gate's looks read, taken again from the rows (see
/// [`stopping`](crate::stats::stopping)): the settling look's, or the last look's when it was left
/// unsettled. An interval read afresh at the run counts the looks chose would be a look the error
/// rate never paid for. Each comes with the rounds its look came after. `None` for a run of
/// fixed counts.
fn sequential_contrasts(
    baseline: &ResultSet,
    current: &ResultSet,
    thresholds: &Thresholds,
    allow_different_hosts: bool,
    pairs: &[(&GroupSummary, &GroupSummary)],
) -> Option<Vec<ReadContrast>> {
    current.meta.settings.options.stopping?;
    // The gate's verdicts are the looks' only when the run took its looks under this same gate;
    // otherwise the run's own comparisons say which rows it made, and the gate's are read on
    // those.
    let same_gate = current
        .meta
        .settings
        .options
        .gated_looks
        .as_ref()
        .is_some_and(|looks| {
            baseline.meta.run_id() == looks.baseline_run_id
                && (looks.time_threshold - thresholds.time).abs() < 1e-12
                && looks.required_runs == thresholds.required_runs
                && looks.allow_different_hosts == allow_different_hosts
        });
    let families = if same_gate {
        Families::Gate
    } else {
        Families::GateAfterTheFact
    };
    let against = GateAgainst {
        baseline,
        time_threshold: thresholds.time,
        required_runs: thresholds.required_runs,
        allow_different_hosts,
    };
    let sections: Vec<_> = current
        .meta
        .scenarios
        .iter()
        .filter_map(|entry| {
            replay_gated(
                &current.meta,
                entry,
                &current.records,
                None,
                against,
                families,
            )
            .and_then(Result::ok)
        })
        .collect();
    Some(
        pairs
            .iter()
            .map(|(base, now)| {
                let read = sections
                    .iter()
                    .find(|s| s.scenario == now.key.scenario && s.host == now.key.host)
                    .and_then(|s| s.gate_comparison(&now.key.variant, now.key.cache));
                match read {
                    Some((Status::Settled(settled), _)) => {
                        (Ok(settled.contrast.clone()), Some(settled.look.rounds))
                    }
                    Some((Status::Unsettled { rounds, .. }, Some(read))) => {
                        (read.clone(), Some(*rounds))
                    }
                    Some((Status::Open { .. }, Some(read))) => (read.clone(), None),
                    _ => (
                        Err(NoContrast::TooFewRuns {
                            reference_runs: base.runs_ok,
                            current_runs: now.runs_ok,
                        }),
                        None,
                    ),
                }
            })
            .collect(),
    )
}

/// A series both sides have, judged by `contrast`, read after the rounds it names when a
/// sequential look read it.
fn both_sides(
    base: &GroupSummary,
    current: &GroupSummary,
    (contrast, read_after_rounds): ReadContrast,
    thresholds: &Thresholds,
) -> SeriesChange {
    // No interval exists below 2 runs, whatever a library caller asks for.
    let required = thresholds.required_runs.max(MIN_REQUIRED_RUNS);
    let not_gated = if current.runs_ok == 0 {
        // Every build failed: a regression, not something the gate could not judge.
        None
    } else if base.runs_ok < required || current.runs_ok < required {
        Some(NotGated::TooFewRuns { required })
    } else if let Err(reason) = contrast {
        Some(NotGated::NoContrast { reason })
    } else {
        None
    };
    let time_regression = not_gated.is_none()
        && contrast.as_ref().is_ok_and(|c| match c.outcome {
            Outcome::Slower => c.interval.low > 1.0 + thresholds.time,
            Outcome::Faster | Outcome::Same | Outcome::Inconclusive => false,
        });
    let image = SizeChange {
        baseline_bytes: base.image_bytes,
        current_bytes: current.image_bytes,
    };
    let pull = SizeChange {
        baseline_bytes: base.compressed_bytes,
        current_bytes: current.compressed_bytes,
    };
    // Sizes are exact, so one successful run a side is enough to judge them.
    let size_regression = image.grew_beyond(thresholds) || pull.grew_beyond(thresholds);
    SeriesChange {
        key: current.key.clone(),
        baseline: Some(SeriesSide::of(base)),
        current: Some(SeriesSide::of(current)),
        contrast: contrast.ok(),
        image,
        pull,
        time_regression,
        size_regression,
        not_gated,
        read_after_rounds,
    }
}

fn same_series_but_host(a: &SeriesKey, b: &SeriesKey) -> bool {
    a.scenario == b.scenario
        && a.variant == b.variant
        && a.builder == b.builder
        && a.cache == b.cache
}

fn groups(set: &ResultSet, noise: f64) -> Vec<GroupSummary> {
    let mut layouts: BTreeMap<String, ScenarioLayout> = BTreeMap::new();
    for scenario in &set.meta.scenarios {
        layouts
            .entry(scenario.name.clone())
            .or_insert_with(|| ScenarioLayout {
                baseline: None,
                variants: scenario.variants.iter().map(|v| v.name.clone()).collect(),
            });
    }
    analyze(&set.records, &layouts, noise).groups
}

/// Sentences about hosts whose rows are compared but whose environments differ, or that only one
/// side has.
fn host_differences(baseline: &ResultSet, current: &ResultSet) -> Vec<String> {
    let used = |set: &ResultSet| -> BTreeSet<String> {
        set.records.iter().map(|r| r.host.clone()).collect()
    };
    let (before, after) = (used(baseline), used(current));
    let mut differences = Vec::new();
    for name in before.intersection(&after) {
        let environment =
            |set: &ResultSet| -> Option<HostEnvironment> { set.meta.host(name).cloned() };
        if let (Some(a), Some(b)) = (environment(baseline), environment(current))
            && let Some(difference) = a.difference(&b)
        {
            differences.push(format!(
                "host {name} differs ({difference}, baseline first)"
            ));
        }
    }
    let only = |a: &BTreeSet<String>, b: &BTreeSet<String>| -> Vec<String> {
        a.difference(b).cloned().collect()
    };
    let (baseline_only, current_only) = (only(&before, &after), only(&after, &before));
    // A side with no rows ran nowhere: its series are missing (or new), which the gate says
    // in those words rather than as a difference of hosts.
    let both_ran = !before.is_empty() && !after.is_empty();
    if both_ran && (!baseline_only.is_empty() || !current_only.is_empty()) {
        differences.push(format!(
            "the baseline ran on {} and the current results on {}",
            list(&before),
            list(&after)
        ));
    }
    differences
}

fn list(names: &BTreeSet<String>) -> String {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    format!("host {}", names.join(", "))
}

#[cfg(test)]
mod tests;

//! The regression gate: a current set of results against a baseline, series by series, with the
//! one [contrast](crate::stats::contrast) for build time and an exact comparison for image size.
//!
//! CI runners are noisy, so the gate is built not to cry wolf:
//! - a time regression needs the contrast to say `slower` (its interval simultaneous across every
//!   series of the comparison) *and* the whole interval to lie above `1 + time threshold`;
//! - a size regression needs growth above both a relative threshold and an absolute floor, of
//!   the image or of its pull size (compressed, when both sides analysed the image);
//! - samples of different machines are not compared unless asked to.

use std::collections::{BTreeMap, BTreeSet};

use crate::results::{DEFAULT_NOISE_THRESHOLD, HostEnvironment, ResultSet, SeriesKey};
use crate::stats::{
    Contrast, GroupSummary, NoContrast, Outcome, ScenarioLayout, analyze, contrast_family,
};

/// When a change counts as a regression.
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
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            noise: DEFAULT_NOISE_THRESHOLD,
            time: 0.10,
            size: 0.01,
            size_floor_bytes: 1_000_000,
        }
    }
}

/// One series present on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesChange {
    /// The series (the current side's host when hosts were allowed to differ).
    pub key: SeriesKey,
    /// Median build time of each side, when it has a successful run.
    pub baseline_median_seconds: Option<f64>,
    /// See `baseline_median_seconds`.
    pub current_median_seconds: Option<f64>,
    /// Successful timed runs of each side.
    pub baseline_runs: usize,
    /// See `baseline_runs`.
    pub current_runs: usize,
    /// Current against baseline, or why there is none (too few runs, no noise).
    pub contrast: Result<Contrast, NoContrast>,
    /// Median image size of each side.
    pub image: SizeChange,
    /// Pull size (`compressed_bytes`) of each side, where its image was analysed.
    pub pull: SizeChange,
    /// Whether build time regressed beyond the thresholds.
    pub time_regression: bool,
    /// Whether the image or its pull size grew beyond the thresholds.
    pub size_regression: bool,
}

impl SeriesChange {
    /// Whether anything regressed.
    pub fn is_regression(&self) -> bool {
        self.time_regression || self.size_regression
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
    /// Series on both sides, in the current side's order.
    pub changes: Vec<SeriesChange>,
    /// Series only the baseline has.
    pub only_in_baseline: Vec<SeriesKey>,
    /// Series only the current side has.
    pub only_in_current: Vec<SeriesKey>,
    /// The thresholds used.
    pub thresholds: Thresholds,
    /// How the environments differ, when `--allow-different-hosts` let them.
    pub host_differences: Vec<String>,
}

impl CompareResult {
    /// Series that regressed.
    pub fn regressions(&self) -> impl Iterator<Item = &SeriesChange> {
        self.changes.iter().filter(|c| c.is_regression())
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
            None => only_in_current.push(group.key.clone()),
        }
    }
    let only_in_baseline = baseline_groups
        .iter()
        .filter(|g| !matched.contains(&match_key(&g.key, &baseline_groups)))
        .map(|g| g.key.clone())
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
    let contrasts = contrast_family(&samples, thresholds.noise);
    let changes = pairs
        .into_iter()
        .zip(contrasts)
        .map(|((base, current), contrast)| {
            let time_regression = contrast.as_ref().is_ok_and(|c| match c.outcome {
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
            let size_regression = image.grew_beyond(&thresholds) || pull.grew_beyond(&thresholds);
            SeriesChange {
                key: current.key.clone(),
                baseline_median_seconds: base.build_seconds.as_ref().map(|s| s.median),
                current_median_seconds: current.build_seconds.as_ref().map(|s| s.median),
                baseline_runs: base.runs_ok,
                current_runs: current.runs_ok,
                contrast,
                image,
                pull,
                time_regression,
                size_regression,
            }
        })
        .collect();
    Ok(CompareResult {
        changes,
        only_in_baseline,
        only_in_current,
        thresholds,
        host_differences: differences,
    })
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
    if !baseline_only.is_empty() || !current_only.is_empty() {
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
mod tests {
    use super::*;
    use crate::builder::Builder;
    use crate::cache_mode::CacheMode;
    use crate::results::{BuildRecord, BuildStatus, RunMeta};

    /// A result set of one scenario on host `local` of `meta`, with `seconds` per variant and
    /// cache mode and the image sizes given.
    fn set(meta: &RunMeta, series: &[(&str, CacheMode, &[f64], u64)]) -> ResultSet {
        let mut records = Vec::new();
        for (variant, cache, seconds, bytes) in series {
            for (run, s) in seconds.iter().enumerate() {
                records.push(BuildRecord {
                    scenario: "app".to_string(),
                    variant: variant.to_string(),
                    builder: Builder::BuildKit,
                    cache: *cache,
                    run: run as u32 + 1,
                    warmup: false,
                    status: BuildStatus::Ok,
                    build_seconds: *s,
                    image_id: "sha256:x".to_string(),
                    image_bytes: Some(*bytes),
                    layers: Some(3),
                    cached_steps: 0,
                    total_steps: 3,
                    started_at: String::new(),
                    error: String::new(),
                    host: "local".to_string(),
                    run_id: "r".to_string(),
                    seq: records.len() as u32 + 1,
                    compressed_bytes: None,
                });
            }
        }
        ResultSet::with_identity(meta.clone(), records)
    }

    fn fixture_meta() -> RunMeta {
        RunMeta::read(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service"),
        )
        .unwrap()
    }

    const COLD: CacheMode = CacheMode::Cold;
    const STEADY: &[f64] = &[100.0, 101.0, 99.0, 100.5, 99.5, 100.2];

    #[test]
    fn identical_data_passes() {
        let meta = fixture_meta();
        let base = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
        let result = compare(&base, &base, Thresholds::default(), false).unwrap();
        assert_eq!(result.changes.len(), 1);
        assert_eq!(result.regressions().count(), 0);
        assert_eq!(
            result.changes[0].contrast.as_ref().unwrap().outcome,
            Outcome::Same
        );
    }

    #[test]
    fn a_twofold_slowdown_fails() {
        let meta = fixture_meta();
        let base = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
        let doubled: Vec<f64> = STEADY.iter().map(|s| s * 2.0).collect();
        let current = set(&meta, &[("single", COLD, &doubled, 500_000_000)]);
        let result = compare(&base, &current, Thresholds::default(), false).unwrap();
        let change = &result.changes[0];
        assert!(change.time_regression && !change.size_regression);
        assert_eq!(change.contrast.as_ref().unwrap().outcome, Outcome::Slower);
    }

    #[test]
    fn a_three_percent_change_within_wide_noise_passes() {
        let meta = fixture_meta();
        let noisy = [10.0, 14.0, 9.0, 12.5, 11.0, 13.0];
        let shifted: Vec<f64> = noisy.iter().map(|s| s * 1.03).collect();
        let base = set(&meta, &[("single", COLD, &noisy, 1)]);
        let current = set(&meta, &[("single", COLD, &shifted, 1)]);
        let result = compare(&base, &current, Thresholds::default(), false).unwrap();
        assert_eq!(result.regressions().count(), 0);
        assert_eq!(
            result.changes[0].contrast.as_ref().unwrap().outcome,
            Outcome::Inconclusive
        );
    }

    #[test]
    fn a_significant_slowdown_inside_the_time_threshold_passes() {
        let meta = fixture_meta();
        let slower: Vec<f64> = STEADY.iter().map(|s| s * 1.07).collect();
        let base = set(&meta, &[("single", COLD, STEADY, 1)]);
        let current = set(&meta, &[("single", COLD, &slower, 1)]);
        let result = compare(&base, &current, Thresholds::default(), false).unwrap();
        let change = &result.changes[0];
        assert_eq!(change.contrast.as_ref().unwrap().outcome, Outcome::Slower);
        assert!(!change.time_regression, "7% is below the 10% threshold");
    }

    #[test]
    fn image_growth_fails_above_the_floor_and_passes_below_it() {
        let meta = fixture_meta();
        let base = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
        let grown = set(&meta, &[("single", COLD, STEADY, 510_000_000)]);
        let result = compare(&base, &grown, Thresholds::default(), false).unwrap();
        assert!(result.changes[0].size_regression, "2% and 10 MB");
        // A small image growing by 50% but 600 kB stays under the 1 MB floor.
        let small = set(&meta, &[("single", COLD, STEADY, 1_200_000)]);
        let bigger = set(&meta, &[("single", COLD, STEADY, 1_800_000)]);
        let result = compare(&small, &bigger, Thresholds::default(), false).unwrap();
        assert!(!result.changes[0].size_regression);
        // And 1.5 MB on 500 MB is under 1%.
        let slight = set(&meta, &[("single", COLD, STEADY, 501_500_000)]);
        let result = compare(&base, &slight, Thresholds::default(), false).unwrap();
        assert!(!result.changes[0].size_regression);
    }

    #[test]
    fn pull_size_growth_fails_even_when_the_image_size_holds() {
        let meta = fixture_meta();
        let with_pull = |bytes: u64| {
            let mut set = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
            set.records[0].compressed_bytes = Some(bytes);
            set
        };
        let base = with_pull(200_000_000);
        let result = compare(&base, &with_pull(230_000_000), Thresholds::default(), false).unwrap();
        let change = &result.changes[0];
        assert_eq!(change.image.change_bytes(), Some(0));
        assert_eq!(change.pull.change_bytes(), Some(30_000_000));
        assert!(change.size_regression, "15% and 30 MB more to pull");
        let result = compare(&base, &with_pull(200_500_000), Thresholds::default(), false).unwrap();
        assert!(
            !result.changes[0].size_regression,
            "500 kB is under the floor"
        );
        // A side that never analysed its image has no pull size to regress.
        let unanalysed = set(&meta, &[("single", COLD, STEADY, 500_000_000)]);
        let result = compare(
            &unanalysed,
            &with_pull(900_000_000),
            Thresholds::default(),
            false,
        )
        .unwrap();
        assert_eq!(result.changes[0].pull.change_bytes(), None);
        assert!(!result.changes[0].size_regression);
    }

    #[test]
    fn different_fingerprints_are_refused_unless_allowed() {
        let meta = fixture_meta();
        let mut other = meta.clone();
        other.hosts[0].daemon.kernel_version = "6.99".to_string();
        let base = set(&meta, &[("single", COLD, STEADY, 1)]);
        let current = set(&other, &[("single", COLD, STEADY, 1)]);
        let error = compare(&base, &current, Thresholds::default(), false).unwrap_err();
        assert!(error.to_string().contains("host local differs"), "{error}");
        assert!(error.to_string().contains("kernel"), "{error}");
        let allowed = compare(&base, &current, Thresholds::default(), true).unwrap();
        assert_eq!(allowed.changes.len(), 1);
        assert_eq!(allowed.host_differences.len(), 1);
    }

    #[test]
    fn series_on_one_side_only_are_listed() {
        let meta = fixture_meta();
        let base = set(
            &meta,
            &[("single", COLD, STEADY, 1), ("old", COLD, STEADY, 1)],
        );
        let current = set(
            &meta,
            &[("single", COLD, STEADY, 1), ("new", COLD, STEADY, 1)],
        );
        let result = compare(&base, &current, Thresholds::default(), false).unwrap();
        assert_eq!(result.changes.len(), 1);
        assert_eq!(result.only_in_baseline[0].variant, "old");
        assert_eq!(result.only_in_current[0].variant, "new");
    }
}

//! From measurement rows to per-group summaries and variant-against-baseline comparisons.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::contrast::{Contrast, NoContrast, Outcome, contrast_family};
use super::sample::{SampleSummary, median, summarize};
use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::keys::SeriesKey;
use crate::results::{BuildRecord, BuildStatus};

/// Summary of the timed runs of one series: one variant of one scenario, with one builder, in
/// one cache mode, on one Docker host. Samples of two hosts are never pooled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Which series.
    #[serde(flatten)]
    pub key: SeriesKey,
    /// Timed (non-warmup) runs that succeeded.
    pub runs_ok: usize,
    /// Timed (non-warmup) runs that failed.
    pub runs_failed: usize,
    /// Timed (non-warmup) runs cut short by `--timeout`: no build time, so not sampled.
    #[serde(default)]
    pub runs_timed_out: usize,
    /// Timed (non-warmup) runs cut short by an interruption: they measured nothing.
    #[serde(default)]
    pub runs_interrupted: usize,
    /// Timed (non-warmup) runs not in the cache state their mode names (`cache_mismatch`):
    /// counted apart, never sampled as that mode.
    #[serde(default)]
    pub runs_cache_mismatch: usize,
    /// Summary of `build_seconds` over the successful timed runs; `None` when none succeeded.
    pub build_seconds: Option<SampleSummary>,
    /// Median image size in bytes over the successful timed runs that reported one (the mean of
    /// the middle two rounded to the nearest byte, halves up); `None` when none did.
    pub image_bytes: Option<u64>,
    /// Median pull size (`compressed_bytes`) over the successful timed runs whose image was
    /// analysed (one per variant and host in a run); `None` when none was.
    #[serde(default)]
    pub compressed_bytes: Option<u64>,
    /// Median `export_seconds` over the successful timed runs that record one: what the previous
    /// CI job paid to export the cache the series imports (the same for every run of a series in
    /// one invocation). `None` for a series that imports no exported cache; left out of the
    /// JSON then, so that summaries of runs without CI modes keep their shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_seconds: Option<f64>,
    /// Median `cache_bytes` over the successful timed runs that record one: the compressed
    /// bytes, in the registry, of the cache the series imports. `None` (and left out of the
    /// JSON) for a series that imports none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_bytes: Option<u64>,
    /// `build_seconds` of every successful timed run, in run-number order, so that charts can
    /// draw each run.
    pub samples_seconds: Vec<f64>,
}

/// One variant against its scenario's baseline variant, for one builder, cache mode and host.
///
/// Written, never read back: `summary.json` carries it for people and tools downstream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The variant's series; the baseline's differs only in the variant.
    #[serde(flatten)]
    pub key: SeriesKey,
    /// The baseline variant it is compared against.
    pub baseline: String,
    /// Geometric mean of the variant's build times over the baseline's (a unitless ratio): below
    /// 1 the variant builds faster.
    pub time_ratio: f64,
    /// The contrast of the variant against the baseline (interval, simultaneous across the
    /// analysis, and outcome), or why there is none. In JSON, `contrast` (null when there is
    /// none) and, when there is none, `no_contrast` with its `reason`.
    #[serde(flatten, serialize_with = "contrast_fields")]
    pub contrast: Result<Contrast, NoContrast>,
    /// Baseline image bytes / variant image bytes (a unitless ratio): above 1 means the variant's
    /// image is smaller. `None` when either size is unknown or the variant's is 0. Image size is
    /// deterministic, so it is compared exactly.
    pub size_ratio: Option<f64>,
}

impl Comparison {
    /// Baseline time over variant time: above 1 the variant builds faster ("2.0× faster").
    pub fn speedup(&self) -> f64 {
        1.0 / self.time_ratio
    }

    /// The verdict, or `None` when there is no contrast.
    pub fn outcome(&self) -> Option<Outcome> {
        self.contrast.as_ref().ok().map(|c| c.outcome)
    }
}

/// A contrast or the reason for its absence, as JSON fields that only ever grow: `contrast` is
/// what it always was (null when there is none), and `no_contrast` is added where there is none.
fn contrast_fields<S: serde::Serializer>(
    contrast: &Result<Contrast, NoContrast>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Fields<'a> {
        contrast: Option<&'a Contrast>,
        #[serde(skip_serializing_if = "Option::is_none")]
        no_contrast: Option<&'a NoContrast>,
    }
    Fields {
        contrast: contrast.as_ref().ok(),
        no_contrast: contrast.as_ref().err(),
    }
    .serialize(serializer)
}

/// Everything the statistics make of one set of measurements.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Analysis {
    /// One summary per series (scenario, variant, builder, cache mode, host) with at least one
    /// timed run.
    pub groups: Vec<GroupSummary>,
    /// One comparison per non-baseline variant and (builder, cache mode, host) where it and the
    /// baseline both have a successful timed run.
    pub comparisons: Vec<Comparison>,
}

impl Analysis {
    /// How many comparisons have a contrast: the size of the family their intervals share.
    pub fn family_size(&self) -> usize {
        self.comparisons
            .iter()
            .filter(|c| c.contrast.is_ok())
            .count()
    }
}

/// Summarises `records` per series and compares each variant with its scenario's baseline on
/// the same builder, cache mode and host.
///
/// `scenarios` maps a scenario name to its layout (baseline and variant order); scenarios absent
/// from it, or without a baseline, get summaries but no comparisons. Warmup rows are left out entirely (a group with only warmup rows
/// does not appear). Failed, timed-out and interrupted runs are counted apart and never sampled.
///
/// Order, of groups and of comparisons alike: scenarios by first appearance in `records`; then
/// hosts by first appearance anywhere in `records`; within a scenario the baseline variant
/// first, then the others by first appearance; then builders by first appearance anywhere in
/// `records`; then cache modes in [`CacheMode`] order (cold, warm, incremental). "Appearance"
/// counts timed rows only.
///
/// The contrasts of all comparisons form one family (see [`method`](super::method)), with the
/// noise band `noise_threshold`. A comparison is left out when its time ratio is not a finite number,
/// which only a build time of 0 or less could cause; no real build records one.
pub fn analyze(
    records: &[BuildRecord],
    scenarios: &BTreeMap<String, ScenarioLayout>,
    noise_threshold: f64,
) -> Analysis {
    let baselines: BTreeMap<String, String> = scenarios
        .iter()
        .filter_map(|(name, layout)| layout.baseline.clone().map(|b| (name.clone(), b)))
        .collect();
    let baselines = &baselines;
    let timed: Vec<&BuildRecord> = records.iter().filter(|r| !r.warmup).collect();
    let order = FirstAppearance::of(&timed, baselines, scenarios);

    let mut accumulators: BTreeMap<GroupKey, Accumulator<'_>> = BTreeMap::new();
    for record in &timed {
        let Some(key) = order.key(record) else {
            continue;
        };
        let accumulator = accumulators.entry(key).or_insert_with(|| Accumulator {
            key: record.series_key(),
            ok_runs: Vec::new(),
            runs_failed: 0,
            runs_timed_out: 0,
            runs_interrupted: 0,
            runs_cache_mismatch: 0,
        });
        match record.status {
            BuildStatus::Ok => accumulator.ok_runs.push(record),
            BuildStatus::Failed => accumulator.runs_failed += 1,
            BuildStatus::TimedOut => accumulator.runs_timed_out += 1,
            BuildStatus::Interrupted => accumulator.runs_interrupted += 1,
            BuildStatus::CacheMismatch => accumulator.runs_cache_mismatch += 1,
        }
    }

    let groups: Vec<(GroupKey, GroupSummary)> = accumulators
        .into_iter()
        .map(|(key, accumulator)| (key, accumulator.summarize()))
        .collect();
    let by_key: BTreeMap<GroupKey, &GroupSummary> =
        groups.iter().map(|(key, group)| (*key, group)).collect();

    let pairs: Vec<(&str, &GroupSummary, &GroupSummary)> = groups
        .iter()
        .filter(|(key, _)| key.variant != BASELINE_RANK)
        .filter_map(|(key, variant)| {
            let baseline_name = baselines.get(&variant.key.scenario)?;
            let baseline = by_key.get(&GroupKey {
                variant: BASELINE_RANK,
                ..*key
            })?;
            Some((baseline_name.as_str(), *baseline, variant))
        })
        .filter(|(_, baseline, variant)| time_ratio(baseline, variant).is_some())
        .collect();
    let samples: Vec<(&[f64], &[f64])> = pairs
        .iter()
        .map(|(_, baseline, variant)| {
            (
                baseline.samples_seconds.as_slice(),
                variant.samples_seconds.as_slice(),
            )
        })
        .collect();
    let contrasts = contrast_family(&samples, noise_threshold);
    let comparisons = pairs
        .into_iter()
        .zip(contrasts)
        .filter_map(|((baseline_name, baseline, variant), contrast)| {
            Some(Comparison {
                key: variant.key.clone(),
                baseline: baseline_name.to_string(),
                time_ratio: time_ratio(baseline, variant)?,
                contrast,
                size_ratio: size_ratio(baseline, variant),
            })
        })
        .collect();

    Analysis {
        groups: groups.into_iter().map(|(_, group)| group).collect(),
        comparisons,
    }
}

/// What the statistics need to know of a scenario besides its rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioLayout {
    /// The variant the others are compared with.
    pub baseline: Option<String>,
    /// Variants in display order (baseline first, as meta.json lists them).
    pub variants: Vec<String>,
}

/// Rank of the baseline variant within its scenario; other variants rank from 1.
const BASELINE_RANK: usize = 0;

/// Where a group sorts; field order is sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct GroupKey {
    scenario: usize,
    host: usize,
    variant: usize,
    builder: usize,
    cache: CacheMode,
}

/// First-appearance ranks of scenarios, hosts, variants (per scenario) and builders.
struct FirstAppearance<'a> {
    scenarios: Vec<&'a str>,
    hosts: Vec<&'a str>,
    /// Per scenario (same index as `scenarios`), its variants in rank order, the baseline (when
    /// it has timed rows) at `BASELINE_RANK` and otherwise a placeholder `None` there.
    variants: Vec<Vec<Option<&'a str>>>,
    builders: Vec<Builder>,
}

impl<'a> FirstAppearance<'a> {
    fn of(
        timed: &[&'a BuildRecord],
        baselines: &BTreeMap<String, String>,
        layouts: &BTreeMap<String, ScenarioLayout>,
    ) -> FirstAppearance<'a> {
        let mut order = FirstAppearance {
            scenarios: Vec::new(),
            hosts: Vec::new(),
            variants: Vec::new(),
            builders: Vec::new(),
        };
        for record in timed {
            let scenario = match order.scenarios.iter().position(|s| *s == record.scenario) {
                Some(index) => index,
                None => {
                    order.scenarios.push(&record.scenario);
                    // The slot at BASELINE_RANK is reserved so that the baseline sorts first
                    // whenever it appears.
                    order.variants.push(vec![None]);
                    order.scenarios.len() - 1
                }
            };
            let is_baseline = baselines.get(&record.scenario) == Some(&record.variant);
            if let Some(variants) = order.variants.get_mut(scenario) {
                if is_baseline {
                    if let Some(slot) = variants.get_mut(BASELINE_RANK) {
                        *slot = Some(&record.variant);
                    }
                } else if !variants.contains(&Some(record.variant.as_str())) {
                    variants.push(Some(&record.variant));
                }
            }
            if !order.builders.contains(&record.builder) {
                order.builders.push(record.builder);
            }
            if !order.hosts.contains(&record.host.as_str()) {
                order.hosts.push(&record.host);
            }
        }
        // Variants the layout lists come in its order, the others after them as they appeared:
        // a run's shuffled order must not reorder its tables.
        for (scenario, variants) in order.scenarios.iter().zip(order.variants.iter_mut()) {
            let listed = layouts
                .get(*scenario)
                .map(|l| l.variants.as_slice())
                .unwrap_or_default();
            if let Some(others) = variants.get_mut(BASELINE_RANK + 1..) {
                others.sort_by_key(|v| {
                    v.and_then(|v| listed.iter().position(|l| l == v))
                        .unwrap_or(usize::MAX)
                });
            }
        }
        order
    }

    /// The record's group key; `None` only if the record was not seen by [`FirstAppearance::of`].
    fn key(&self, record: &BuildRecord) -> Option<GroupKey> {
        let scenario = self.scenarios.iter().position(|s| *s == record.scenario)?;
        let variant = self
            .variants
            .get(scenario)?
            .iter()
            .position(|v| *v == Some(record.variant.as_str()))?;
        let builder = self.builders.iter().position(|b| *b == record.builder)?;
        let host = self.hosts.iter().position(|h| *h == record.host)?;
        Some(GroupKey {
            scenario,
            host,
            variant,
            builder,
            cache: record.cache,
        })
    }
}

/// Timed rows of one group, gathered before summarising.
struct Accumulator<'a> {
    key: SeriesKey,
    ok_runs: Vec<&'a BuildRecord>,
    runs_failed: usize,
    runs_timed_out: usize,
    runs_interrupted: usize,
    runs_cache_mismatch: usize,
}

impl Accumulator<'_> {
    fn summarize(mut self) -> GroupSummary {
        // Stable, so rows sharing a run number (merged result files) keep their file order.
        self.ok_runs.sort_by_key(|record| record.run);
        let samples_seconds: Vec<f64> = self.ok_runs.iter().map(|r| r.build_seconds).collect();
        let image_sizes: Vec<u64> = self.ok_runs.iter().filter_map(|r| r.image_bytes).collect();
        let pull_sizes: Vec<u64> = self
            .ok_runs
            .iter()
            .filter_map(|r| r.compressed_bytes)
            .collect();
        let export_seconds: Vec<f64> = self
            .ok_runs
            .iter()
            .filter_map(|r| r.export_seconds)
            .collect();
        let cache_sizes: Vec<u64> = self.ok_runs.iter().filter_map(|r| r.cache_bytes).collect();
        GroupSummary {
            key: self.key,
            runs_ok: self.ok_runs.len(),
            runs_failed: self.runs_failed,
            runs_timed_out: self.runs_timed_out,
            runs_interrupted: self.runs_interrupted,
            runs_cache_mismatch: self.runs_cache_mismatch,
            build_seconds: summarize(&samples_seconds),
            image_bytes: median_bytes(image_sizes),
            compressed_bytes: median_bytes(pull_sizes),
            export_seconds: median(&export_seconds),
            cache_bytes: median_bytes(cache_sizes),
            samples_seconds,
        }
    }
}

/// Median of byte counts, computed in integers so that no size loses precision; the mean of the
/// middle two is rounded to the nearest byte, halves up. `None` when there are none.
fn median_bytes(mut sizes: Vec<u64>) -> Option<u64> {
    sizes.sort_unstable();
    let upper = *sizes.get(sizes.len() / 2)?;
    if sizes.len() % 2 == 1 {
        return Some(upper);
    }
    let lower = *sizes.get(sizes.len() / 2 - 1)?;
    // In u128 so that the sum cannot overflow; the halved sum is at most u64::MAX again.
    u64::try_from((u128::from(lower) + u128::from(upper)).div_ceil(2)).ok()
}

/// Geometric mean of the variant's times over the baseline's; `None` when either side has no
/// successful run or the ratio is not finite.
fn time_ratio(baseline: &GroupSummary, variant: &GroupSummary) -> Option<f64> {
    let log_mean = |samples: &[f64]| -> Option<f64> {
        (!samples.is_empty())
            .then(|| samples.iter().map(|x| x.ln()).sum::<f64>() / samples.len() as f64)
    };
    let ratio = (log_mean(&variant.samples_seconds)? - log_mean(&baseline.samples_seconds)?).exp();
    (ratio.is_finite() && ratio > 0.0).then_some(ratio)
}

/// Baseline bytes over variant bytes, when both are known and the variant's is not 0.
fn size_ratio(baseline: &GroupSummary, variant: &GroupSummary) -> Option<f64> {
    match (baseline.image_bytes, variant.image_bytes) {
        (Some(baseline_bytes), Some(variant_bytes)) if variant_bytes != 0 => {
            Some(baseline_bytes as f64 / variant_bytes as f64)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A timed, successful row; tests override fields with struct update syntax.
    fn row(
        scenario: &str,
        variant: &str,
        builder: Builder,
        cache: CacheMode,
        run: u32,
        seconds: f64,
    ) -> BuildRecord {
        BuildRecord {
            scenario: scenario.to_string(),
            variant: variant.to_string(),
            builder,
            cache,
            run,
            warmup: false,
            status: BuildStatus::Ok,
            build_seconds: seconds,
            image_id: format!("sha256:{run}"),
            image_bytes: Some(1000),
            layers: Some(3),
            cached_steps: 0,
            total_steps: 4,
            started_at: "2026-11-28T00:00:00Z".to_string(),
            error: String::new(),
            host: "local".to_string(),
            run_id: "r".to_string(),
            seq: run,
            compressed_bytes: None,
            pull_seconds: None,
            export_seconds: None,
            cache_bytes: None,
            first_miss: String::new(),
            engine: crate::builder::EngineKind::Docker,
        }
    }

    fn rows(
        scenario: &str,
        variant: &str,
        builder: Builder,
        cache: CacheMode,
        seconds: &[f64],
        image_bytes: u64,
    ) -> Vec<BuildRecord> {
        seconds
            .iter()
            .zip(1..)
            .map(|(&s, run)| BuildRecord {
                image_bytes: Some(image_bytes),
                ..row(scenario, variant, builder, cache, run, s)
            })
            .collect()
    }

    fn baselines(pairs: &[(&str, &str)]) -> BTreeMap<String, ScenarioLayout> {
        pairs
            .iter()
            .map(|(s, v)| {
                (
                    s.to_string(),
                    ScenarioLayout {
                        baseline: Some(v.to_string()),
                        variants: Vec::new(),
                    },
                )
            })
            .collect()
    }

    fn group_keys(analysis: &Analysis) -> Vec<(String, String, Builder, CacheMode)> {
        analysis
            .groups
            .iter()
            .map(|g| {
                (
                    g.key.scenario.clone(),
                    g.key.variant.clone(),
                    g.key.builder,
                    g.key.cache,
                )
            })
            .collect()
    }

    fn key(s: &str, v: &str, b: Builder, c: CacheMode) -> (String, String, Builder, CacheMode) {
        (s.to_string(), v.to_string(), b, c)
    }

    use Builder::{BuildKit, Classic};
    use CacheMode::{Cold, Incremental, Warm};

    #[test]
    fn groups_are_ordered_and_warmup_only_groups_left_out() {
        let mut records = Vec::new();
        // Scenario "web" first; its non-baseline variant "single" appears before the baseline
        // "multi"; Classic appears before BuildKit; Warm before Cold.
        records.extend(rows("web", "single", Classic, Warm, &[1.0], 10));
        records.extend(rows("web", "single", Classic, Cold, &[5.0], 10));
        records.extend(rows("api", "only", BuildKit, Incremental, &[2.0], 10));
        records.extend(rows("web", "multi", BuildKit, Cold, &[4.0], 10));
        records.extend(rows("web", "multi", Classic, Cold, &[4.0], 10));
        records.extend(rows("web", "third", Classic, Cold, &[3.0], 10));
        // Only a warmup row: no group, and it does not count as an appearance either.
        records.push(BuildRecord {
            warmup: true,
            ..row("web", "warmup-only", Classic, Incremental, 1, 9.0)
        });
        records.push(BuildRecord {
            warmup: true,
            ..row("never-timed", "x", Classic, Cold, 1, 9.0)
        });
        let analysis = analyze(&records, &baselines(&[("web", "multi")]), 0.05);
        assert_eq!(
            group_keys(&analysis),
            [
                key("web", "multi", Classic, Cold),
                key("web", "multi", BuildKit, Cold),
                key("web", "single", Classic, Cold),
                key("web", "single", Classic, Warm),
                key("web", "third", Classic, Cold),
                key("api", "only", BuildKit, Incremental),
            ]
        );
        // Comparisons in the same order, only where the baseline has the same builder and cache;
        // none for "api", which has no baseline.
        let compared: Vec<_> = analysis
            .comparisons
            .iter()
            .map(|c| key(&c.key.scenario, &c.key.variant, c.key.builder, c.key.cache))
            .collect();
        assert_eq!(
            compared,
            [
                key("web", "single", Classic, Cold),
                key("web", "third", Classic, Cold)
            ]
        );
        assert!(analysis.comparisons.iter().all(|c| c.baseline == "multi"));
    }

    #[test]
    fn a_ci_series_carries_the_median_export_cost_and_cache_bytes_of_its_ok_runs_only() {
        let mut records = rows(
            "web",
            "multi",
            BuildKit,
            CacheMode::CiStages,
            &[4.0, 4.2, 4.1],
            10,
        );
        for (record, (export_seconds, cache_bytes)) in
            records
                .iter_mut()
                .zip([(0.9, 12_300_000), (0.7, 12_100_000), (1.1, 12_200_000)])
        {
            record.export_seconds = Some(export_seconds);
            record.cache_bytes = Some(cache_bytes);
        }
        records.push(BuildRecord {
            status: BuildStatus::Failed,
            export_seconds: Some(50.0),
            cache_bytes: Some(1),
            ..row("web", "multi", BuildKit, CacheMode::CiStages, 4, 9.0)
        });
        records.extend(rows("web", "multi", BuildKit, Cold, &[5.0], 10));
        let analysis = analyze(&records, &baselines(&[]), 0.05);
        let ci = &analysis.groups[1];
        assert_eq!(ci.key.cache, CacheMode::CiStages);
        assert_eq!(ci.export_seconds, Some(0.9));
        assert_eq!(ci.cache_bytes, Some(12_200_000));
        let cold = &analysis.groups[0];
        assert_eq!((cold.export_seconds, cold.cache_bytes), (None, None));
        let json = serde_json::to_value(cold).unwrap();
        assert!(
            json.get("export_seconds").is_none() && json.get("cache_bytes").is_none(),
            "a series without an imported cache keeps the summary's old shape: {json}"
        );
    }

    #[test]
    fn failed_runs_are_counted_but_not_sampled_and_warmups_are_ignored() {
        let mut records = vec![
            BuildRecord {
                warmup: true,
                ..row("s", "v", BuildKit, Cold, 1, 500.0)
            },
            row("s", "v", BuildKit, Cold, 3, 12.0),
            BuildRecord {
                status: BuildStatus::Failed,
                image_bytes: None,
                error: "RUN false".to_string(),
                ..row("s", "v", BuildKit, Cold, 2, 0.5)
            },
            BuildRecord {
                image_bytes: Some(3000),
                ..row("s", "v", BuildKit, Cold, 1, 10.0)
            },
        ];
        records.push(BuildRecord {
            status: BuildStatus::Failed,
            image_bytes: None,
            ..row("s", "all-failed", BuildKit, Cold, 1, 1.0)
        });
        let analysis = analyze(&records, &baselines(&[("s", "all-failed")]), 0.05);
        let [all_failed, group] = analysis.groups.as_slice() else {
            panic!("two groups expected: {:?}", analysis.groups);
        };
        assert_eq!(group.runs_ok, 2);
        assert_eq!(group.runs_failed, 1);
        // Run-number order, not file order; the warmup's 500 s and the failure's 0.5 s are out.
        assert_eq!(group.samples_seconds, [10.0, 12.0]);
        assert_eq!(group.build_seconds.as_ref().map(|s| s.median), Some(11.0));
        // Median of 3000 and 1000.
        assert_eq!(group.image_bytes, Some(2000));
        assert_eq!(all_failed.runs_ok, 0);
        assert_eq!(all_failed.runs_failed, 1);
        assert_eq!(all_failed.build_seconds, None);
        assert_eq!(all_failed.image_bytes, None);
        assert!(all_failed.samples_seconds.is_empty());
        // The baseline has no successful run, so there is nothing to compare against.
        assert!(analysis.comparisons.is_empty());
    }

    #[test]
    fn verdicts() {
        let mut records = Vec::new();
        // Cold: a clear 10x difference with 3 runs each.
        records.extend(rows(
            "s",
            "base",
            BuildKit,
            Cold,
            &[100.0, 101.0, 99.0],
            4000,
        ));
        records.extend(rows("s", "new", BuildKit, Cold, &[10.0, 10.5, 9.8], 1000));
        // Warm: one run each.
        records.extend(rows("s", "base", BuildKit, Warm, &[1.0], 4000));
        records.extend(rows("s", "new", BuildKit, Warm, &[0.5], 1000));
        // Incremental: overlapping noisy samples.
        records.extend(rows(
            "s",
            "base",
            BuildKit,
            Incremental,
            &[10.0, 14.0, 9.0, 12.5],
            4000,
        ));
        records.extend(rows(
            "s",
            "new",
            BuildKit,
            Incremental,
            &[11.0, 9.5, 13.0],
            1000,
        ));
        // Classic: the new variant clearly slower.
        records.extend(rows("s", "base", Classic, Cold, &[10.0, 10.5, 9.8], 4000));
        records.extend(rows("s", "new", Classic, Cold, &[100.0, 101.0, 99.0], 1000));
        let analysis = analyze(&records, &baselines(&[("s", "base")]), 0.05);
        let verdicts: Vec<_> = analysis
            .comparisons
            .iter()
            .map(|c| (c.key.builder, c.key.cache, c.outcome()))
            .collect();
        assert_eq!(
            verdicts,
            [
                (BuildKit, Cold, Some(Outcome::Faster)),
                (BuildKit, Warm, None),
                (BuildKit, Incremental, Some(Outcome::Inconclusive)),
                (Classic, Cold, Some(Outcome::Slower)),
            ]
        );
        let faster = &analysis.comparisons[0];
        // scipy / numpy: np.exp(np.mean(np.log(new)) - np.mean(np.log(base))) = 0.10096083539488328;
        // sizes 4000 and 1000.
        assert!((faster.time_ratio - 0.10096083539488328).abs() < 1e-12);
        assert_eq!(faster.size_ratio, Some(4.0));
        // scipy: t = ttest_ind(np.log(new), np.log(base), equal_var=False).statistic,
        // 2 * scipy.stats.t.sf(abs(t), 2) = 8.608799207572918e-05 (min(3, 3) - 1 = 2 df).
        let contrast = faster.contrast.as_ref().unwrap();
        assert!((contrast.p_value - 8.608799207572918e-05).abs() < 1e-10);
        assert_eq!(
            contrast.family_size, 3,
            "the three contrasts of the analysis, one family"
        );
        assert!(
            contrast.interval.low <= faster.time_ratio
                && faster.time_ratio <= contrast.interval.high
        );
        let too_few = &analysis.comparisons[1];
        assert_eq!(
            (too_few.time_ratio, &too_few.contrast),
            (
                0.5,
                &Err(NoContrast::TooFewRuns {
                    reference_runs: 1,
                    current_runs: 1
                })
            )
        );
        // scipy, the same way with 2 df: p = 0.940519726822456 for the incremental pair.
        let noisy = analysis.comparisons[2].contrast.as_ref().unwrap();
        assert!((noisy.p_value - 0.940519726822456).abs() < 1e-6);
    }

    #[test]
    fn hosts_are_never_pooled_and_comparisons_stay_within_a_host() {
        let on = |host: &str, records: Vec<BuildRecord>| -> Vec<BuildRecord> {
            records
                .into_iter()
                .map(|r| BuildRecord {
                    host: host.to_string(),
                    ..r
                })
                .collect()
        };
        let mut records = on(
            "fast",
            rows("s", "base", BuildKit, Cold, &[10.0, 10.5, 9.5], 4),
        );
        records.extend(on(
            "slow",
            rows("s", "base", BuildKit, Cold, &[40.0, 42.0, 38.0], 4),
        ));
        records.extend(on(
            "slow",
            rows("s", "new", BuildKit, Cold, &[20.0, 21.0, 19.0], 2),
        ));
        records.extend(on(
            "fast",
            rows("s", "new", BuildKit, Cold, &[5.0, 5.25, 4.75], 2),
        ));
        let analysis = analyze(&records, &baselines(&[("s", "base")]), 0.05);
        let groups: Vec<(&str, &str, f64)> = analysis
            .groups
            .iter()
            .map(|g| {
                (
                    g.key.host.as_str(),
                    g.key.variant.as_str(),
                    g.build_seconds.as_ref().unwrap().median,
                )
            })
            .collect();
        assert_eq!(
            groups,
            [
                ("fast", "base", 10.0),
                ("fast", "new", 5.0),
                ("slow", "base", 40.0),
                ("slow", "new", 20.0)
            ]
        );
        let speedups: Vec<(&str, f64)> = analysis
            .comparisons
            .iter()
            .map(|c| (c.key.host.as_str(), c.speedup()))
            .collect();
        let hosts: Vec<&str> = speedups.iter().map(|(host, _)| *host).collect();
        assert_eq!(hosts, ["fast", "slow"]);
        assert!(
            speedups.iter().all(|(_, s)| (s - 2.0).abs() < 1e-12),
            "{speedups:?}"
        );
        assert!(
            analysis
                .comparisons
                .iter()
                .all(|c| c.contrast.as_ref().unwrap().family_size == 2)
        );
    }

    #[test]
    fn listing_variants_or_rows_in_another_order_changes_no_verdict_interval_or_level() {
        // Two variants with identical samples tie on every p-value: with a step-down
        // adjustment the one listed first would get the other's level.
        let mut records = Vec::new();
        for (cache, base, shift) in [
            (Cold, 60.0, 0.97),
            (Warm, 0.05, 0.8),
            (Incremental, 2.0, 1.3),
        ] {
            let noisy = |scale: f64| -> Vec<f64> {
                [1.0, 1.04, 0.97, 1.02, 0.99, 1.01]
                    .iter()
                    .map(|x| x * base * scale)
                    .collect()
            };
            records.extend(rows("s", "single", BuildKit, cache, &noisy(1.0), 10));
            records.extend(rows("s", "twin-a", BuildKit, cache, &noisy(shift), 10));
            records.extend(rows("s", "twin-b", BuildKit, cache, &noisy(shift), 10));
            records.extend(rows("s", "other", BuildKit, cache, &noisy(1.0 / shift), 10));
        }
        let layout = |variants: [&str; 4]| {
            BTreeMap::from([(
                "s".to_string(),
                ScenarioLayout {
                    baseline: Some("single".to_string()),
                    variants: variants.map(String::from).to_vec(),
                },
            )])
        };
        let by_series = |analysis: Analysis| -> BTreeMap<(String, CacheMode), Comparison> {
            analysis
                .comparisons
                .into_iter()
                .map(|c| ((c.key.variant.clone(), c.key.cache), c))
                .collect()
        };
        let listed = by_series(analyze(
            &records,
            &layout(["single", "twin-a", "twin-b", "other"]),
            0.05,
        ));
        assert_eq!(listed.len(), 9);
        let mut reversed_rows = records.clone();
        reversed_rows.reverse();
        for (rows, variants) in [
            (&records, ["single", "other", "twin-b", "twin-a"]),
            (&reversed_rows, ["single", "twin-a", "twin-b", "other"]),
            (&reversed_rows, ["single", "twin-b", "other", "twin-a"]),
        ] {
            assert_eq!(
                by_series(analyze(rows, &layout(variants), 0.05)),
                listed,
                "{variants:?}"
            );
        }
        let twin = |name: &str| listed[&(name.to_string(), Warm)].contrast.clone().unwrap();
        assert_eq!(
            (twin("twin-a").interval, twin("twin-a").outcome),
            (twin("twin-b").interval, twin("twin-b").outcome)
        );
    }

    #[test]
    fn a_comparison_of_two_constant_series_says_why_it_has_no_verdict() {
        let mut records = rows("s", "base", BuildKit, Warm, &[0.05, 0.05, 0.05], 10);
        records.extend(rows("s", "new", BuildKit, Warm, &[0.04, 0.04, 0.04], 10));
        let analysis = analyze(&records, &baselines(&[("s", "base")]), 0.05);
        assert_eq!(analysis.comparisons[0].contrast, Err(NoContrast::NoNoise));
        assert_eq!(analysis.family_size(), 0);
        let json = serde_json::to_value(&analysis.comparisons[0]).unwrap();
        assert_eq!(json["contrast"], serde_json::Value::Null);
        assert_eq!(json["no_contrast"]["reason"], "no_noise");
    }

    #[test]
    fn timed_out_and_interrupted_runs_are_counted_apart_and_never_sampled() {
        let mut records = rows("s", "v", BuildKit, Cold, &[3.0, 4.0], 10);
        for (run, status) in [
            (3, BuildStatus::TimedOut),
            (4, BuildStatus::Interrupted),
            (5, BuildStatus::Interrupted),
            (6, BuildStatus::Failed),
        ] {
            records.push(BuildRecord {
                status,
                image_bytes: None,
                ..row("s", "v", BuildKit, Cold, run, 600.0)
            });
        }
        let analysis = analyze(&records, &BTreeMap::new(), 0.05);
        let group = &analysis.groups[0];
        assert_eq!(
            (
                group.runs_ok,
                group.runs_failed,
                group.runs_timed_out,
                group.runs_interrupted
            ),
            (2, 1, 1, 2)
        );
        assert_eq!(group.samples_seconds, [3.0, 4.0]);
    }

    #[test]
    fn variants_follow_the_layout_not_the_shuffled_order_of_the_rows() {
        let mut records = rows("s", "prebuilt", BuildKit, Cold, &[1.0], 10);
        records.extend(rows("s", "multi", BuildKit, Cold, &[2.0], 10));
        records.extend(rows("s", "single", BuildKit, Cold, &[3.0], 10));
        records.extend(rows("s", "extra", BuildKit, Cold, &[3.0], 10));
        let layout = BTreeMap::from([(
            "s".to_string(),
            ScenarioLayout {
                baseline: Some("single".to_string()),
                variants: ["single", "multi", "prebuilt"].map(String::from).to_vec(),
            },
        )]);
        let analysis = analyze(&records, &layout, 0.05);
        let variants: Vec<&str> = analysis
            .groups
            .iter()
            .map(|g| g.key.variant.as_str())
            .collect();
        assert_eq!(variants, ["single", "multi", "prebuilt", "extra"]);
    }

    #[test]
    fn size_ratio_is_absent_when_a_size_is_unknown_or_zero() {
        let mut records = rows("s", "base", BuildKit, Cold, &[2.0, 2.0], 100);
        records.extend(rows("s", "zero", BuildKit, Cold, &[1.0, 1.0], 0));
        records.push(BuildRecord {
            image_bytes: None,
            ..row("s", "unknown", BuildKit, Cold, 1, 1.0)
        });
        let analysis = analyze(&records, &baselines(&[("s", "base")]), 0.05);
        let ratios: Vec<_> = analysis.comparisons.iter().map(|c| c.size_ratio).collect();
        assert_eq!(ratios, [None, None]);
    }

    #[test]
    fn median_bytes_rounds_half_up_without_overflow() {
        assert_eq!(median_bytes(vec![]), None);
        assert_eq!(median_bytes(vec![3, 1, 2]), Some(2));
        assert_eq!(median_bytes(vec![1, 2]), Some(2));
        assert_eq!(median_bytes(vec![u64::MAX, u64::MAX]), Some(u64::MAX));
    }

    #[test]
    fn no_records_give_an_empty_analysis() {
        assert_eq!(analyze(&[], &BTreeMap::new(), 0.05), Analysis::default());
    }

    /// Relative tolerance of the swap test: a swapped ratio is `y / x` where the original is
    /// `x / y`, equal to `1 / (x / y)` up to two roundings, far below 1e-12.
    const SWAP_RELATIVE_TOLERANCE: f64 = 1e-12;

    fn reciprocal_of(actual: f64, original: f64) -> bool {
        let expected = 1.0 / original;
        (actual - expected).abs() <= SWAP_RELATIVE_TOLERANCE * expected.abs()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn swapping_baseline_and_variant_inverts_the_comparison(
            a in prop::collection::vec(0.01..1e4_f64, 1..12),
            b in prop::collection::vec(0.01..1e4_f64, 1..12),
            a_bytes in 1..u64::MAX / 2,
            b_bytes in 1..u64::MAX / 2,
        ) {
            let mut records = rows("s", "a", BuildKit, Cold, &a, a_bytes);
            records.extend(rows("s", "b", BuildKit, Cold, &b, b_bytes));
            let forward = analyze(&records, &baselines(&[("s", "a")]), 0.05);
            let backward = analyze(&records, &baselines(&[("s", "b")]), 0.05);
            let (forward, backward) = (&forward.comparisons[0], &backward.comparisons[0]);
            prop_assert!(reciprocal_of(backward.time_ratio, forward.time_ratio));
            prop_assert!(reciprocal_of(backward.size_ratio.unwrap(), forward.size_ratio.unwrap()));
            match (&forward.contrast, &backward.contrast) {
                (Ok(f), Ok(b)) => {
                    prop_assert!(f.interval.low <= f.time_ratio && f.time_ratio <= f.interval.high);
                    prop_assert!(reciprocal_of(b.interval.low, f.interval.high));
                    prop_assert!(reciprocal_of(b.interval.high, f.interval.low));
                    let flipped = match f.outcome {
                        Outcome::Faster => Outcome::Slower,
                        Outcome::Slower => Outcome::Faster,
                        other => other,
                    };
                    prop_assert_eq!(b.outcome, flipped);
                }
                (Err(forward_reason), Err(backward_reason)) => {
                    prop_assert!(a.len() < 2 || b.len() < 2, "{:?}", forward_reason);
                    prop_assert_eq!(forward_reason.as_str(), backward_reason.as_str());
                }
                other => prop_assert!(false, "one-sided contrast: {:?}", other),
            }
        }
    }
}

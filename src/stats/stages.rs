//! Where a build's time goes, stage by stage: each stage's span in the builds of a series, its
//! share of the build, and whether it lies on the build's critical path.
//!
//! A stage's time is its span, from its first step's start to its last step's end, so that two
//! stages BuildKit runs side by side each count their whole time and the shares of a build may
//! add up to more than 1. The critical path is read off the timings alone, because a report is
//! remade from `results.csv`, `steps.csv` and `meta.json` without the Dockerfile: going back
//! from the step that ends the build, each step is preceded by the steps that ended when it
//! started (within a tolerance), or, when none did, by the one that ended last before it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::sample::median;
use crate::keys::SeriesKey;
use crate::results::{BuildRecord, BuildStatus, StepRecord};

/// Least slack between one step's end and the next one's start for the two to be chained:
/// the trace's own timestamps and the report delay that maps them are good to about this.
const CHAIN_TOLERANCE_SECONDS: f64 = 0.1;
/// Beyond the fixed slack, this share of the build's time: long builds report more coarsely.
const CHAIN_TOLERANCE_SHARE: f64 = 0.02;

/// A build within a series: its run id and sequence number on the series' host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildRef {
    /// The invocation that made the build.
    pub run_id: String,
    /// Its position among the measured builds of its host.
    pub seq: u32,
}

/// One stage of the builds of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSummary {
    /// The stage's `AS` name, or its index.
    pub stage: String,
    /// Its Dockerfile steps in the median run (`FROM` not counted).
    pub steps: usize,
    /// Of those, the steps taken from cache.
    pub cached_steps: usize,
    /// Share of the stage's steps taken from cache, over every build of the series (each
    /// build's steps counted, not only the median run's); 0 to 1.
    #[serde(default)]
    pub cached_share: f64,
    /// Median over the builds that ran the stage of its span, first step's start to last
    /// step's end.
    pub median_seconds: f64,
    /// `median_seconds` over the series' median build time.
    pub share_of_build: f64,
    /// Whether, in the median run, a chain of steps leads from this stage to the end of the
    /// build (see the module's documentation).
    pub on_critical_path: bool,
}

/// Where the time of one series' builds goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageBreakdown {
    /// The series.
    #[serde(flatten)]
    pub key: SeriesKey,
    /// The build whose time is the series' median (the lower of the middle two for an even
    /// count): the one a timeline shows.
    pub median_run: BuildRef,
    /// Its stages, in order of their first step's start in the median run (stages only other
    /// builds ran come last).
    pub stages: Vec<StageSummary>,
}

/// A successful timed build and its steps.
type TimedBuild<'a> = (&'a BuildRecord, &'a [&'a StepRecord]);

/// The stage breakdown of every series whose successful timed builds have steps.
pub fn stage_breakdowns(records: &[BuildRecord], steps: &[StepRecord]) -> Vec<StageBreakdown> {
    let mut steps_by_build: BTreeMap<(&str, &str, u32), Vec<&StepRecord>> = BTreeMap::new();
    for step in steps {
        steps_by_build
            .entry((step.run_id.as_str(), step.host.as_str(), step.seq))
            .or_default()
            .push(step);
    }
    let mut series: Vec<(SeriesKey, Vec<TimedBuild<'_>>)> = Vec::new();
    for record in records {
        if record.warmup || record.status != BuildStatus::Ok {
            continue;
        }
        let Some(build_steps) =
            steps_by_build.get(&(record.run_id.as_str(), record.host.as_str(), record.seq))
        else {
            continue;
        };
        let key = record.series_key();
        match series.iter_mut().find(|(k, _)| *k == key) {
            Some((_, builds)) => builds.push((record, build_steps)),
            None => series.push((key, vec![(record, build_steps)])),
        }
    }
    series
        .into_iter()
        .filter_map(|(key, builds)| breakdown(key, builds))
        .collect()
}

fn breakdown(
    key: SeriesKey,
    mut builds: Vec<(&BuildRecord, &[&StepRecord])>,
) -> Option<StageBreakdown> {
    builds.sort_by(|a, b| {
        a.0.build_seconds
            .total_cmp(&b.0.build_seconds)
            .then_with(|| a.0.seq.cmp(&b.0.seq))
    });
    let (median_record, median_steps) = *builds.get((builds.len() - 1) / 2)?;
    let build_times: Vec<f64> = builds.iter().map(|(r, _)| r.build_seconds).collect();
    let median_build = median(&build_times)?;

    let spans_per_build: Vec<BTreeMap<&str, (f64, f64)>> =
        builds.iter().map(|(_, steps)| stage_spans(steps)).collect();
    let median_spans = stage_spans(median_steps);
    let mut order: Vec<&str> = median_spans.keys().copied().collect();
    order.sort_by(|a, b| median_spans[a].0.total_cmp(&median_spans[b].0));
    for spans in &spans_per_build {
        for stage in spans.keys() {
            if !order.contains(stage) {
                order.push(stage);
            }
        }
    }
    let critical = critical_stages(median_steps, median_record.build_seconds);
    let stages = order
        .into_iter()
        .filter_map(|stage| {
            let durations: Vec<f64> = spans_per_build
                .iter()
                .filter_map(|spans| spans.get(stage).map(|(start, end)| end - start))
                .collect();
            let median_seconds = median(&durations)?;
            let own: Vec<&&StepRecord> = median_steps.iter().filter(|s| s.stage == stage).collect();
            let (cached_over_builds, steps_over_builds) = builds
                .iter()
                .flat_map(|(_, steps)| steps.iter())
                .filter(|s| s.is_dockerfile_step() && s.stage == stage)
                .fold((0_u32, 0_u32), |(cached, all), s| {
                    (cached + u32::from(s.cached), all + 1)
                });
            Some(StageSummary {
                stage: stage.to_string(),
                steps: own.len(),
                cached_steps: own.iter().filter(|s| s.cached).count(),
                cached_share: if steps_over_builds > 0 {
                    f64::from(cached_over_builds) / f64::from(steps_over_builds)
                } else {
                    0.0
                },
                median_seconds,
                share_of_build: if median_build > 0.0 {
                    median_seconds / median_build
                } else {
                    0.0
                },
                on_critical_path: critical.contains(stage),
            })
        })
        .collect();
    Some(StageBreakdown {
        key,
        median_run: BuildRef {
            run_id: median_record.run_id.clone(),
            seq: median_record.seq,
        },
        stages,
    })
}

/// Each stage's (first start, last end) among a build's Dockerfile steps.
fn stage_spans<'a>(steps: &[&'a StepRecord]) -> BTreeMap<&'a str, (f64, f64)> {
    let mut spans: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for step in steps.iter().filter(|s| s.is_dockerfile_step()) {
        let end = step.started_offset_s + step.seconds;
        let span = spans
            .entry(step.stage.as_str())
            .or_insert((step.started_offset_s, end));
        span.0 = span.0.min(step.started_offset_s);
        span.1 = span.1.max(end);
    }
    spans
}

/// The stages one of whose steps is on a chain that ends the build.
fn critical_stages<'a>(steps: &[&'a StepRecord], build_seconds: f64) -> BTreeSet<&'a str> {
    let tolerance = CHAIN_TOLERANCE_SECONDS.max(CHAIN_TOLERANCE_SHARE * build_seconds);
    let end = |s: &StepRecord| s.started_offset_s + s.seconds;
    let last_end = steps
        .iter()
        .map(|s| end(s))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut on_path = vec![false; steps.len()];
    let mut frontier: Vec<usize> = (0..steps.len())
        .filter(|&i| end(steps[i]) >= last_end - tolerance)
        .collect();
    while let Some(index) = frontier.pop() {
        if on_path[index] {
            continue;
        }
        on_path[index] = true;
        let start = steps[index].started_offset_s;
        let mut before: Vec<usize> = (0..steps.len())
            .filter(|&i| i != index && !on_path[i])
            .filter(|&i| {
                (end(steps[i]) - start).abs() <= tolerance && steps[i].started_offset_s < start
            })
            .collect();
        if before.is_empty() {
            // A gap the trace does not explain: the step that ended last before it held it up.
            before.extend(
                (0..steps.len())
                    .filter(|&i| !on_path[i] && end(steps[i]) < start - tolerance)
                    .max_by(|&a, &b| end(steps[a]).total_cmp(&end(steps[b]))),
            );
        }
        frontier.extend(before);
    }
    steps
        .iter()
        .zip(on_path)
        .filter(|(step, on)| *on && step.is_dockerfile_step())
        .map(|(step, _)| step.stage.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::Builder;
    use crate::cache_mode::CacheMode;

    fn build(seq: u32, seconds: f64) -> BuildRecord {
        BuildRecord {
            scenario: "s".to_string(),
            variant: "multi".to_string(),
            builder: Builder::BuildKit,
            cache: CacheMode::Cold,
            run: seq,
            warmup: false,
            status: BuildStatus::Ok,
            build_seconds: seconds,
            image_id: String::new(),
            image_bytes: None,
            layers: None,
            cached_steps: 0,
            total_steps: 0,
            started_at: String::new(),
            error: String::new(),
            host: "local".to_string(),
            run_id: "r".to_string(),
            seq,
            compressed_bytes: None,
            pull_seconds: None,
            export_seconds: None,
            cache_bytes: None,
            first_miss: String::new(),
            engine: crate::builder::EngineKind::Docker,
        }
    }

    fn step(seq: u32, stage: &str, start: f64, seconds: f64) -> StepRecord {
        StepRecord {
            scenario: "s".to_string(),
            variant: "multi".to_string(),
            host: "local".to_string(),
            cache: CacheMode::Cold,
            run: seq,
            stage: stage.to_string(),
            step: 2,
            instruction: format!("RUN {stage}"),
            started_offset_s: start,
            seconds,
            cached: false,
            builder: Builder::BuildKit,
            warmup: false,
            run_id: "r".to_string(),
            seq,
        }
    }

    /// python (8 s) and node (2 s) side by side, then the final stage copies both; `scale`
    /// stretches the whole build.
    fn parallel_build(seq: u32, scale: f64) -> (BuildRecord, Vec<StepRecord>) {
        let steps = vec![
            step(seq, "", 0.0, 0.5 * scale),
            step(seq, "python", 0.5 * scale, 8.0 * scale),
            step(seq, "node", 0.5 * scale, 2.0 * scale),
            step(seq, "2", 8.5 * scale, 1.0 * scale),
            step(seq, "", 9.5 * scale, 0.5 * scale),
        ];
        (build(seq, 10.0 * scale), steps)
    }

    #[test]
    fn the_long_stage_is_critical_and_the_short_one_beside_it_is_not() {
        let mut records = Vec::new();
        let mut steps = Vec::new();
        for (seq, scale) in [(1, 1.0), (2, 1.2), (3, 0.9)] {
            let (record, build_steps) = parallel_build(seq, scale);
            records.push(record);
            steps.extend(build_steps);
        }
        let breakdowns = stage_breakdowns(&records, &steps);
        assert_eq!(breakdowns.len(), 1);
        let breakdown = &breakdowns[0];
        assert_eq!(
            breakdown.median_run.seq, 1,
            "10 s is the median of 9, 10 and 12"
        );
        let stages: Vec<(&str, f64, bool)> = breakdown
            .stages
            .iter()
            .map(|s| (s.stage.as_str(), s.median_seconds, s.on_critical_path))
            .collect();
        assert_eq!(
            stages,
            [
                ("node", 2.0, false),
                ("python", 8.0, true),
                ("2", 1.0, true)
            ],
            "node starts with python (ties keep name order) and ends 6 s before the final stage"
        );
        let python = &breakdown.stages[1];
        assert!((python.share_of_build - 0.8).abs() < 1e-12);
    }

    #[test]
    fn each_stage_s_cached_share_counts_the_steps_of_every_build() {
        let records = vec![build(1, 3.0), build(2, 4.0), build(3, 5.0)];
        let cached = |seq, stage, step_number, cached| StepRecord {
            step: step_number,
            cached,
            ..step(seq, stage, f64::from(step_number), 0.5)
        };
        let mut steps = Vec::new();
        for seq in 1..=3 {
            // Stage deps always comes from cache; app misses its second step in build 3 only.
            steps.push(cached(seq, "deps", 2, true));
            steps.push(cached(seq, "app", 2, true));
            steps.push(cached(seq, "app", 3, seq != 3));
            steps.push(cached(seq, "", 0, false));
        }
        let breakdowns = stage_breakdowns(&records, &steps);
        let share = |stage: &str| {
            breakdowns[0]
                .stages
                .iter()
                .find(|s| s.stage == stage)
                .map(|s| s.cached_share)
        };
        assert_eq!(share("deps"), Some(1.0));
        assert_eq!(share("app"), Some(5.0 / 6.0));
        assert_eq!(share(""), None, "the builder's own work is no stage");
    }

    #[test]
    fn one_stage_after_another_is_all_critical_and_builds_without_steps_are_skipped() {
        let records = vec![build(1, 3.0), build(2, 3.0)];
        let steps = vec![
            step(1, "a", 0.0, 1.0),
            step(1, "b", 1.0, 1.0),
            step(1, "2", 2.0, 1.0),
        ];
        let breakdowns = stage_breakdowns(&records, &steps);
        assert_eq!(breakdowns[0].median_run.seq, 1);
        assert!(breakdowns[0].stages.iter().all(|s| s.on_critical_path));
        assert!(stage_breakdowns(&records[1..], &steps).is_empty());
    }
}

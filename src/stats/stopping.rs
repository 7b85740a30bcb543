//! `--runs auto` read off the recorded rows: which series of one scenario on one host still need
//! builds, why, and each comparison's verdict with the rule that settled it.
//!
//! The state is never kept anywhere but in `results.csv`: every look is taken again from the rows
//! ([`replay`]), by the runner after each round and by a report afterwards, so the two cannot
//! disagree, and a resumed run picks up exactly where the looks were. A look is taken after a
//! round only when that round is complete (every series still needing builds has its row of that
//! round): a run interrupted mid-round never looked at the part it ran.
//!
//! The family is one scenario on one host: its variant-against-baseline comparisons in every cache
//! mode the run measures there, fixed by meta.json before any build. Why the looks keep the
//! family's error rate is said in [`method`](super::method).

use std::collections::BTreeSet;
use std::path::Path;

use super::contrast::{Contrast, NoContrast};
use super::sequential::{
    Design, DesignError, Pair, Rules, Sequential, SequentialError, SeriesStop, Status,
};
use crate::cache_mode::CacheMode;
use crate::results::{BuildRecord, BuildStatus, ResultSet, RunMeta, ScenarioMeta};
use crate::run_policy::{RoundDecision, RoundJudge};

/// One series of the family: a variant in a cache mode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesName {
    /// The variant.
    pub variant: String,
    /// The cache mode.
    pub cache: CacheMode,
}

impl std::fmt::Display for SeriesName {
    /// "multi cold".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.variant, self.cache.as_str())
    }
}

/// Why a replay could not be made: the recorded settings cannot be looked at.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoppingError {
    /// `--min-runs` and `--max-runs` make no design.
    #[error("meta.json's stopping settings cannot be used: {0}")]
    Design(#[from] DesignError),
    /// The family or a look is malformed (a bug, said rather than hidden).
    #[error("the looks of {scenario} on {host} cannot be taken again: {source}")]
    Look {
        /// The scenario.
        scenario: String,
        /// The host.
        host: String,
        /// Why.
        source: SequentialError,
    },
}

/// The looks of one scenario on one host, taken again from its rows.
#[derive(Debug, Clone)]
pub struct SectionStops {
    /// The scenario.
    pub scenario: String,
    /// The host.
    pub host: String,
    /// The baseline variant, if the scenario has one.
    pub baseline: Option<String>,
    /// The series, by index in the family's pairs.
    pub series: Vec<SeriesName>,
    /// The looks and every comparison's state.
    pub run: Sequential,
    /// Rounds complete when the last look was taken (0 before the first round ended).
    pub rounds: usize,
    /// Whether `--time-budget` closed the family before its verdicts were all in.
    pub budget_spent: bool,
}

/// The series and comparisons of `entry` (one scenario on one host) as a run measuring
/// `cache_modes` makes them: each mode's variants, the baseline compared with every other.
fn family(entry: &ScenarioMeta, cache_modes: &[CacheMode]) -> (Vec<SeriesName>, Vec<Pair>) {
    let mut series = Vec::new();
    let mut pairs = Vec::new();
    let modes = CacheMode::ALL
        .into_iter()
        .filter(|m| cache_modes.contains(m))
        .filter(|m| !m.needs_touch_files() || !entry.touched_files.is_empty());
    for cache in modes {
        let reference = entry.baseline.as_ref().and_then(|baseline| {
            entry
                .variants
                .iter()
                .any(|v| &v.name == baseline)
                .then_some(series.len())
        });
        if let Some(baseline) = &entry.baseline
            && reference.is_some()
        {
            series.push(SeriesName {
                variant: baseline.clone(),
                cache,
            });
        }
        for variant in &entry.variants {
            if Some(&variant.name) == entry.baseline.as_ref() {
                continue;
            }
            if let Some(reference) = reference {
                pairs.push(Pair {
                    reference,
                    current: series.len(),
                });
            }
            series.push(SeriesName {
                variant: variant.name.clone(),
                cache,
            });
        }
    }
    (series, pairs)
}

/// Takes the looks of `entry` (one scenario on one host of the run `meta` describes) again from
/// `records`, through round `through` when given, else through the last complete round. `None`
/// when the run did not stop by itself (`--runs N`).
pub fn replay(
    meta: &RunMeta,
    entry: &ScenarioMeta,
    records: &[BuildRecord],
    through: Option<u32>,
) -> Option<Result<SectionStops, StoppingError>> {
    let options = &meta.settings.options;
    let stopping = options.stopping?;
    Some(replay_with(
        Design::new(stopping.min_runs as usize, stopping.max_runs as usize),
        options.cache_modes.as_slice(),
        options.noise_threshold,
        entry,
        records,
        through,
    ))
}

fn replay_with(
    design: Result<Design, DesignError>,
    cache_modes: &[CacheMode],
    noise_threshold: f64,
    entry: &ScenarioMeta,
    records: &[BuildRecord],
    through: Option<u32>,
) -> Result<SectionStops, StoppingError> {
    let design = design?;
    let (series, pairs) = family(entry, cache_modes);
    let look_error = |source| StoppingError::Look {
        scenario: entry.name.clone(),
        host: entry.host.clone(),
        source,
    };
    let mut run = Sequential::new(
        design,
        Rules::Report { noise_threshold },
        series.len(),
        pairs,
    )
    .map_err(look_error)?;
    let rows: Vec<&BuildRecord> = records
        .iter()
        .filter(|r| r.scenario == entry.name && r.host == entry.host && !r.warmup)
        .collect();
    let ran: BTreeSet<(&str, CacheMode, u32)> = rows
        .iter()
        .map(|r| (r.variant.as_str(), r.cache, r.run))
        .collect();
    let mut ok: Vec<Vec<(u32, f64)>> = vec![Vec::new(); series.len()];
    for row in rows.iter().filter(|r| r.status == BuildStatus::Ok) {
        if let Some(index) = series
            .iter()
            .position(|s| s.variant == row.variant && s.cache == row.cache)
        {
            ok[index].push((row.run, row.build_seconds));
        }
    }
    for times in &mut ok {
        times.sort_by_key(|&(run, _)| run);
    }
    let last = through.map_or(design.max_runs(), |t| (t as usize).min(design.max_runs()));
    let budget_after = entry.budget_spent_after.map(|r| r as usize);
    let mut rounds = 0;
    for round in 1..=last {
        let complete = (0..series.len()).all(|s| {
            !run.needs_builds(s)
                || ran.contains(&(series[s].variant.as_str(), series[s].cache, round as u32))
        });
        if !complete || run.finished() {
            break;
        }
        let samples: Vec<Vec<f64>> = ok
            .iter()
            .map(|times| {
                times
                    .iter()
                    .filter(|&&(run, _)| run as usize <= round)
                    .map(|&(_, seconds)| seconds)
                    .collect()
            })
            .collect();
        let views: Vec<&[f64]> = samples.iter().map(Vec::as_slice).collect();
        run.look(round, &views).map_err(look_error)?;
        rounds = round;
        if budget_after == Some(round) {
            break;
        }
    }
    let budget_spent = budget_after.is_some_and(|after| after <= rounds) && !run.finished();
    if budget_spent {
        run.close();
    }
    Ok(SectionStops {
        scenario: entry.name.clone(),
        host: entry.host.clone(),
        baseline: entry.baseline.clone(),
        series,
        run,
        rounds,
        budget_spent,
    })
}

impl SectionStops {
    /// Whether `series` needs another build.
    pub fn needs_builds(&self, series: &SeriesName) -> bool {
        self.index(series).is_none_or(|s| self.run.needs_builds(s))
    }

    /// Whether no series needs another build.
    pub fn finished(&self) -> bool {
        self.run.finished()
    }

    fn index(&self, series: &SeriesName) -> Option<usize> {
        self.series.iter().position(|s| s == series)
    }

    /// The comparison of `variant` against the baseline in `cache`: its state and its contrast at
    /// the look that last read it.
    pub fn comparison(
        &self,
        variant: &str,
        cache: CacheMode,
    ) -> Option<(&Status, Option<&Result<Contrast, NoContrast>>)> {
        let current = self.index(&SeriesName {
            variant: variant.to_string(),
            cache,
        })?;
        let pair = self.run.pairs().iter().position(|p| p.current == current)?;
        Some((&self.run.statuses()[pair], self.run.last_read(pair)))
    }

    /// Runs `series` got: complete rounds while it needed builds.
    fn runs_of(&self, series: usize) -> usize {
        let settled_at = self
            .run
            .pairs()
            .iter()
            .zip(self.run.statuses())
            .filter(|(pair, _)| pair.reference == series || pair.current == series)
            .map(|(_, status)| match status {
                Status::Settled(settled) => settled.look.rounds,
                Status::Unsettled { rounds, .. } => *rounds,
                Status::Open { .. } => self.rounds,
            })
            .max();
        match self.run.stopped(series) {
            None => self.rounds,
            Some(SeriesStop::NotCompared) => self.run.design().min_runs().min(self.rounds),
            Some(_) => settled_at.unwrap_or(self.rounds),
        }
    }

    /// One line per series: whether it still runs and why, or what stopped it and after how
    /// many runs ("multi cold: interval 0.94-1.08, needs more").
    pub fn lines(&self) -> Vec<String> {
        let pairs = self.run.pairs();
        let statuses = self.run.statuses();
        (0..self.series.len())
            .map(|s| {
                let name = &self.series[s];
                if let Some(pair) = pairs.iter().position(|p| p.current == s) {
                    let status = &statuses[pair];
                    let budget = if self.budget_spent && matches!(status, Status::Unsettled { .. })
                    {
                        " (time budget spent)"
                    } else {
                        ""
                    };
                    return format!("{name}: {status}{budget}");
                }
                let against: Vec<String> = pairs
                    .iter()
                    .zip(statuses)
                    .filter(|(p, status)| p.reference == s && status.is_open())
                    .map(|(p, _)| self.series[p.current].to_string())
                    .collect();
                let role = if pairs.iter().any(|p| p.reference == s) {
                    " (baseline)"
                } else {
                    ""
                };
                match self.run.stopped(s) {
                    None if self.rounds < self.run.design().min_runs() => format!(
                        "{name}{role}: {} of {} runs before the first look",
                        self.rounds,
                        self.run.design().min_runs()
                    ),
                    None => format!("{name}{role}: needed by {}", against.join(", ")),
                    Some(SeriesStop::Settled) => format!(
                        "{name}{role}: every comparison settled, after {} runs",
                        self.runs_of(s)
                    ),
                    Some(SeriesStop::Unsettled) if self.budget_spent => format!(
                        "{name}{role}: stopped with comparisons unsettled, after {} runs (time budget spent)",
                        self.runs_of(s)
                    ),
                    Some(SeriesStop::Unsettled) => format!(
                        "{name}{role}: stopped with comparisons unsettled, after {} runs",
                        self.runs_of(s)
                    ),
                    Some(SeriesStop::NotCompared) => format!(
                        "{name}: compared with nothing, stopped after {} runs",
                        self.runs_of(s)
                    ),
                }
            })
            .collect()
    }

    /// The comparisons left unsettled, as "multi cold (interval 0.94-1.08)".
    pub fn unsettled(&self) -> Vec<String> {
        self.run
            .pairs()
            .iter()
            .zip(self.run.statuses())
            .filter_map(|(pair, status)| match status {
                Status::Unsettled { open, .. } | Status::Open { open } => {
                    Some(format!("{} ({open})", self.series[pair.current]))
                }
                Status::Settled(_) => None,
            })
            .collect()
    }
}

/// The [`RoundJudge`] of `--runs auto`: the looks taken again from the results folder's rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordedLooks;

impl RoundJudge for RecordedLooks {
    fn after_round(
        &self,
        dir: &Path,
        scenario: &str,
        host: &str,
        rounds: u32,
    ) -> Result<RoundDecision, String> {
        let set = ResultSet::load(dir).map_err(|e| e.to_string())?;
        let entry = set
            .meta
            .scenarios
            .iter()
            .find(|s| s.name == scenario && s.host == host)
            .ok_or_else(|| {
                format!(
                    "{} has no entry for {scenario} on {host}",
                    dir.join(crate::results::META_FILE).display()
                )
            })?;
        let stops = replay(&set.meta, entry, &set.records, Some(rounds))
            .ok_or_else(|| {
                format!(
                    "{} records no --runs auto settings",
                    dir.join(crate::results::META_FILE).display()
                )
            })?
            .map_err(|e| e.to_string())?;
        Ok(RoundDecision {
            stopped: stops
                .series
                .iter()
                .filter(|s| !stops.needs_builds(s))
                .map(|s| (s.variant.clone(), s.cache))
                .collect(),
            finished: stops.finished(),
            // Before the first look every series simply goes on: nothing to show.
            lines: if stops.rounds < stops.run.design().min_runs() {
                Vec::new()
            } else {
                stops.lines()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{Builder, EngineKind};
    use crate::results::VariantMeta;

    fn entry(variants: &[&str], touched: bool) -> ScenarioMeta {
        ScenarioMeta {
            name: "s".to_string(),
            host: "local".to_string(),
            baseline: Some(variants[0].to_string()),
            variants: variants
                .iter()
                .map(|name| VariantMeta {
                    name: name.to_string(),
                    dockerfile: format!("{name}.Dockerfile"),
                    target: None,
                    build_args: Default::default(),
                    image_tag: format!("s-{name}"),
                    prebuilds: Vec::new(),
                })
                .collect(),
            touched_files: if touched {
                vec!["app.txt".to_string()]
            } else {
                Vec::new()
            },
            ..ScenarioMeta::default()
        }
    }

    fn row(variant: &str, cache: CacheMode, run: u32, seconds: f64) -> BuildRecord {
        BuildRecord {
            scenario: "s".to_string(),
            variant: variant.to_string(),
            builder: Builder::BuildKit,
            cache,
            run,
            warmup: false,
            status: BuildStatus::Ok,
            build_seconds: seconds,
            image_id: String::new(),
            image_bytes: None,
            layers: None,
            cached_steps: 0,
            total_steps: 1,
            started_at: String::new(),
            error: String::new(),
            host: "local".to_string(),
            run_id: "r".to_string(),
            seq: run,
            compressed_bytes: None,
            pull_seconds: None,
            export_seconds: None,
            cache_bytes: None,
            first_miss: String::new(),
            engine: EngineKind::Docker,
        }
    }

    /// Rows of `variant` in `cache` for runs 1 to `seconds.len()`.
    fn series(variant: &str, cache: CacheMode, seconds: &[f64]) -> Vec<BuildRecord> {
        seconds
            .iter()
            .enumerate()
            .map(|(i, &s)| row(variant, cache, i as u32 + 1, s))
            .collect()
    }

    const MODES: [CacheMode; 3] = [CacheMode::Cold, CacheMode::Warm, CacheMode::Incremental];

    fn replayed(
        entry: &ScenarioMeta,
        records: &[BuildRecord],
        through: Option<u32>,
    ) -> SectionStops {
        replay_with(Design::new(3, 10), &MODES, 0.05, entry, records, through).unwrap()
    }

    #[test]
    fn the_family_is_each_measured_mode_s_variants_against_the_baseline() {
        let (series, pairs) = family(&entry(&["single", "multi", "prebuilt"], false), &MODES);
        let names: Vec<String> = series.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "single cold",
                "multi cold",
                "prebuilt cold",
                "single warm",
                "multi warm",
                "prebuilt warm"
            ],
            "no incremental series without touch files"
        );
        assert_eq!(
            pairs,
            [(0, 1), (0, 2), (3, 4), (3, 5)]
                .map(|(reference, current)| Pair { reference, current })
        );
        let without_baseline = ScenarioMeta {
            baseline: None,
            ..entry(&["a", "b"], true)
        };
        let (series, pairs) = family(&without_baseline, &MODES);
        assert_eq!((series.len(), pairs.len()), (6, 0));
    }

    #[test]
    fn a_plain_difference_stops_both_series_at_the_first_look_and_says_so() {
        let mut records = series("single", CacheMode::Cold, &[10.0, 10.2, 9.9]);
        records.extend(series("multi", CacheMode::Cold, &[5.0, 5.1, 4.95]));
        let entry = entry(&["single", "multi"], false);
        let stops = replay_with(
            Design::new(3, 10),
            &[CacheMode::Cold],
            0.05,
            &entry,
            &records,
            None,
        )
        .unwrap();
        let cold = |variant: &str| SeriesName {
            variant: variant.to_string(),
            cache: CacheMode::Cold,
        };
        assert_eq!(stops.rounds, 3);
        assert!(!stops.needs_builds(&cold("single")) && !stops.needs_builds(&cold("multi")));
        let lines = stops.lines();
        assert_eq!(
            lines[0],
            "single cold (baseline): every comparison settled, after 3 runs"
        );
        assert!(
            lines[1].starts_with("multi cold: faster: 9") && lines[1].ends_with("after 3 runs"),
            "{}",
            lines[1]
        );
        // Measuring warm too, whose rows are missing: round 1 never completed, so nothing was
        // looked at and every series still needs builds.
        let with_warm = replayed(&entry, &records, None);
        assert_eq!(with_warm.rounds, 0);
        assert!(with_warm.needs_builds(&cold("multi")) && !with_warm.finished());
    }

    #[test]
    fn a_round_is_looked_at_only_when_every_series_that_needed_it_has_its_row() {
        // Cold is unsettled at 3 runs; run 4 has a row for the baseline only (an interrupted
        // round), so the look after 4 rounds never happened.
        let noisy = [10.0, 13.0, 8.0];
        let mut records = series("single", CacheMode::Cold, &[10.0, 12.5, 8.5, 11.0]);
        records.extend(series("multi", CacheMode::Cold, &noisy));
        let only_cold = ScenarioMeta {
            ..entry(&["single", "multi"], false)
        };
        let stops = replay_with(
            Design::new(3, 10),
            &[CacheMode::Cold],
            0.05,
            &only_cold,
            &records,
            None,
        )
        .unwrap();
        assert_eq!(stops.rounds, 3);
        assert!(!stops.finished());
        assert_eq!(
            stops.lines()[0],
            "single cold (baseline): needed by multi cold"
        );
        assert!(
            stops.lines()[1].ends_with(", needs more"),
            "{:?}",
            stops.lines()
        );
        // Looking through a given round stops there too.
        let through_two = replay_with(
            Design::new(3, 10),
            &[CacheMode::Cold],
            0.05,
            &only_cold,
            &records,
            Some(2),
        )
        .unwrap();
        assert_eq!(
            through_two.lines()[1],
            "multi cold: 2 of 3 runs before the first look, needs more"
        );
    }

    #[test]
    fn a_spent_budget_closes_the_family_and_names_what_it_left_unsettled() {
        let mut records = series("single", CacheMode::Cold, &[10.0, 12.5, 8.5, 11.0]);
        records.extend(series("multi", CacheMode::Cold, &[10.0, 13.0, 8.0, 10.5]));
        let spent = ScenarioMeta {
            budget_spent_after: Some(4),
            ..entry(&["single", "multi"], false)
        };
        let stops = replay_with(
            Design::new(3, 10),
            &[CacheMode::Cold],
            0.05,
            &spent,
            &records,
            None,
        )
        .unwrap();
        assert!(stops.budget_spent && stops.finished());
        assert_eq!(stops.rounds, 4);
        assert!(
            stops.lines()[1].ends_with("after 4 runs, unsettled (time budget spent)"),
            "{:?}",
            stops.lines()
        );
        assert_eq!(stops.unsettled().len(), 1);
        assert!(stops.unsettled()[0].starts_with("multi cold (interval "));
    }

    #[test]
    fn failed_runs_count_toward_the_round_but_not_the_sample() {
        let mut records = series("single", CacheMode::Cold, &[10.0, 10.2, 9.9]);
        records.extend(series("multi", CacheMode::Cold, &[5.0, 5.1, 4.95]));
        records[4].status = BuildStatus::Failed;
        let stops = replay_with(
            Design::new(3, 10),
            &[CacheMode::Cold],
            0.05,
            &entry(&["single", "multi"], false),
            &records,
            None,
        )
        .unwrap();
        assert_eq!(stops.rounds, 3, "the failed run completed its round");
        let (status, read) = stops.comparison("multi", CacheMode::Cold).unwrap();
        let Status::Settled(settled) = status else {
            panic!("{status}");
        };
        assert_eq!(settled.runs, (3, 2), "the failed run is not sampled");
        assert_eq!(read.unwrap().as_ref().unwrap().degrees_of_freedom, 1.0);
    }
}

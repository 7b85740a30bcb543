//! Statistics: pure functions from measurements to summaries and comparisons.
//!
//! This module knows nothing about output formats; reports read what it returns. Build samples are
//! small (3 to 20 runs), so every estimate here is chosen to stay honest at small n: intervals come
//! from a percentile bootstrap (with a fixed seed, so a report is reproducible from its results),
//! and an interval is refused rather than invented when there are too few runs.

mod analysis;
mod bootstrap;
mod sample;
mod significance;

use serde::{Deserialize, Serialize};

pub use analysis::{Analysis, Comparison, GroupSummary, ScenarioLayout, Verdict, analyze};
pub use bootstrap::{median_interval, ratio_of_medians_interval};
pub use sample::{SampleSummary, median, summarize};
pub use significance::{SignificanceTest, welch_log_test};

/// Confidence level of every interval stagebench reports.
pub const CONFIDENCE: f64 = 0.95;
/// Fewest runs for which an interval is computed; with fewer, reports say so instead.
pub const MIN_RUNS_FOR_INTERVAL: usize = 3;
/// Bootstrap resamples per interval.
pub const BOOTSTRAP_RESAMPLES: usize = 10_000;
/// Seed of the bootstrap's random numbers, fixed so that `stagebench report` reproduces a report.
pub const BOOTSTRAP_SEED: u64 = 0x5747_4245_4e43_4821;
/// Significance level of the verdicts.
pub const SIGNIFICANCE_LEVEL: f64 = 0.05;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

//! Statistics: pure functions from measurements to summaries and comparisons.
//!
//! This module knows nothing about output formats; reports read what it returns. Build samples are
//! small (3 to 20 runs), so every estimate here is chosen to stay honest at small n:
//!
//! - a median's interval is distribution-free (two order statistics) and is given only when some
//!   pair of order statistics covers it with 95% probability, which takes 6 runs; below that,
//!   reports show the range of the runs and say it is one;
//! - every comparison is one [`contrast`](contrast::contrast): the ratio of geometric means with
//!   a simultaneous interval across its family, and a verdict read off that interval; the
//!   method, its levels and what they promise are said once, in [`method`];
//! - where a build's time goes is each stage's span in the builds of a series, with the stages
//!   on the critical path read off the step timings ([`stage_breakdowns`]);
//! - what an image is made of is its layers' bytes summed by origin, base image or instruction,
//!   with the bytes later layers waste ([`image_breakdowns`]).

mod analysis;
mod contrast;
#[cfg(test)]
mod coverage;
mod images;
pub mod method;
mod sample;
pub mod sequential;
mod significance;
mod stages;
pub mod stopping;

use serde::{Deserialize, Serialize};

pub use analysis::{Analysis, Comparison, GroupSummary, ScenarioLayout, analyze};
pub use contrast::{Contrast, NoContrast, Outcome, contrast, contrast_family, outcome};
pub use images::{
    ImageBreakdown, InstructionBytes, NamedWaste, WASTED_FILES_NAMED, image_breakdowns,
};
pub use method::FAMILY_ERROR_RATE;
pub use sample::{SampleSummary, median, median_interval, summarize};
pub use sequential::{
    Design as SequentialDesign, Look, Open, Pair, Rules, Sequential, SequentialError, SeriesStop,
    Settled, Settlement, Status,
};
pub use significance::{LogDifference, MIN_RUNS_FOR_CONTRAST, Side, log_difference};
pub use stages::{BuildRef, StageBreakdown, StageSummary, stage_breakdowns};

/// Confidence level of every median's interval, and of a family's intervals taken together.
pub const CONFIDENCE: f64 = 0.95;
/// Fewest runs for which a median's 95% interval exists: with 5, even `[min, max]` covers the
/// median only with probability `1 - 2 / 2^5 = 93.75%`.
pub const MIN_RUNS_FOR_INTERVAL: usize = 6;

/// A two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

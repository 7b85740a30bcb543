//! The keys that identify measurements: a planned build ([`BuildKey`]) and a group of builds
//! ([`SeriesKey`]). The plan makes build keys, the results folder and `--resume` match rows
//! against them, statistics and reports find groups by series keys.
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that every stage of the flow can name a build or a group without
//! depending on another stage.

use serde::{Deserialize, Serialize};

use crate::builder::Builder;
use crate::cache_mode::CacheMode;

/// The one way to find a group of measurements: statistics, reports and charts never look a
/// group up by fewer fields, so two builders or two hosts can never be pooled by accident.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    /// Scenario name.
    pub scenario: String,
    /// Variant name.
    pub variant: String,
    /// Builder that ran the builds.
    pub builder: Builder,
    /// Cache state the builds were measured in.
    pub cache: CacheMode,
    /// Name of the Docker host that ran them.
    pub host: String,
}

/// Which planned build a row measured: what `--resume` matches against the plan.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuildKey {
    /// Scenario name.
    pub scenario: String,
    /// Variant name.
    pub variant: String,
    /// Cache state.
    pub cache: CacheMode,
    /// 1-based run number within the warmup or timed runs.
    pub run: u32,
    /// Whether it is a warmup run.
    pub warmup: bool,
    /// Docker host name.
    pub host: String,
}

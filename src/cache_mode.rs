//! The three cache states a build is measured in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What the build cache holds when a timed build starts; the README defines each precisely.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    /// Nothing of the scenario cached; base and prebuild images present.
    Cold,
    /// Everything cached and nothing changed: the no-op rebuild.
    Warm,
    /// Everything cached, then the scenario's listed source files changed.
    Incremental,
}

impl CacheMode {
    /// All modes in the order a run measures them.
    pub const ALL: [CacheMode; 3] = [CacheMode::Cold, CacheMode::Warm, CacheMode::Incremental];

    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheMode::Cold => "cold",
            CacheMode::Warm => "warm",
            CacheMode::Incremental => "incremental",
        }
    }
}

impl fmt::Display for CacheMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

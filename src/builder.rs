//! Which of the daemon's two builders runs a build.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The daemon's image builder.
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
pub enum Builder {
    /// BuildKit: parallel stages, unused stages skipped, its own build cache.
    #[value(name = "buildkit")]
    BuildKit,
    /// The classic builder: one step after another, cache kept in the image store.
    Classic,
}

impl Builder {
    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Builder::BuildKit => "buildkit",
            Builder::Classic => "classic",
        }
    }
}

impl fmt::Display for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

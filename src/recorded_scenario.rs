//! What `meta.json` records of how a scenario was made and what its builds read: the flags of an
//! ad-hoc scenario ([`AdHoc`]) and the hashes of its inputs ([`ScenarioInputs`]). The scenario
//! module makes both and holds their methods; config records them, and `--resume` compares
//! them with the folder's.
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that results can record them without depending on scenario.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The flags that describe an ad-hoc scenario, as given (and as meta.json records them, so that
/// `--resume` can make the same scenario again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdHoc {
    /// The build context directory.
    pub context: PathBuf,
    /// `--dockerfile NAME=PATH`, in the order given; the first is the baseline.
    pub dockerfiles: Vec<(String, PathBuf)>,
    /// `--touch FILE`: edited before each incremental run.
    #[serde(default)]
    pub touch: Vec<PathBuf>,
}

/// SHA-256 of every file a scenario's builds read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioInputs {
    /// SHA-256 over `files` (each path and hash, in order).
    pub sha256: String,
    /// Each file, relative to the scenario directory (`../x` outside it; absolute in folders
    /// written by earlier versions), and its SHA-256.
    /// A symbolic link is hashed by its target, as the build context sends it.
    pub files: BTreeMap<String, String>,
}

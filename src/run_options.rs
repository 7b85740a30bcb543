//! How a run measures, as `meta.json` records it when the run starts: the options of
//! `stagebench run` ([`RunOptions`]) and the settings around them ([`RecordedSettings`], with a
//! [`HostSpec`] per Docker host). Config resolves them from the flags, `meta.json` keeps them, and
//! `--resume` continues with exactly these.
//!
//! A leaf: it imports no module of the run's flow (engine, scenario, config, plan, runner,
//! results, stats, report), so that config can build the recorded settings without depending
//! on results.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::recorded_scenario::AdHoc;
use crate::seconds::Seconds;

/// The settings of a run, resolved once when it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedSettings {
    /// Scenario directories in the order given, relative to the working directory the run
    /// started in (absolute in folders written by earlier versions).
    pub scenario_dirs: Vec<String>,
    /// This results folder, relative to the working directory the run started in: `--resume`
    /// continues from that directory, where the relative paths lead to the same files. Absent
    /// in folders whose paths are absolute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_dir: Option<String>,
    /// With `run --dockerfile`: the flags that made the one scenario, paths relative to the
    /// working directory the run started in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_hoc: Option<AdHoc>,
    /// How the scenarios are measured.
    #[serde(flatten)]
    pub options: RunOptions,
    /// The Docker hosts, in the order given.
    pub hosts: Vec<HostSpec>,
}

/// How a run measures: the options of `stagebench run` besides scenarios, hosts and output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Timed runs per variant and cache mode.
    pub runs: u32,
    /// Warmup runs per variant and cache mode.
    pub warmup: u32,
    /// Cache modes measured, in measuring order, without repeats.
    pub cache_modes: Vec<CacheMode>,
    /// `--builder`: the builder of every build on a Docker host (a Podman host's builds are all
    /// Buildah's, and each row records its own).
    pub builder: Builder,
    /// `--variant` names; empty means every variant.
    pub variants: Vec<String>,
    /// `--profile`, if any.
    pub profile: Option<String>,
    /// `--build-arg` values from the command line.
    pub build_args: BTreeMap<String, String>,
    /// `--timeout`, if any.
    pub timeout_seconds: Option<Seconds>,
    /// `--keep-images`.
    pub keep_images: bool,
    /// `--rm`: no image is kept, not even the final ones.
    #[serde(default)]
    pub rm: bool,
    /// Names given with `--secret-build-arg` (their values are never recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_build_arg_names: Vec<String>,
    /// `--secret`: each BuildKit secret's id and the file (relative to the working directory
    /// the run started in) or variable it was read from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_secrets: Vec<crate::secrets::BuildSecret>,
    /// `--allow-context-above`: a build context above a scenario's directory was accepted
    /// from outside its repository.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_context_above: bool,
    /// Seed of the per-round shuffle of the variant order (`--seed` repeats it).
    pub seed: u64,
    /// `--on-every-host`.
    pub on_every_host: bool,
    /// `--prune`: which build-cache records a BuildKit cold run removes first. A folder that
    /// records none was made before the flag existed, when a cold run pruned everything.
    #[serde(default = "prune_mode_before_the_flag")]
    pub prune: crate::cache_mode::PruneMode,
    /// Half-width of the noise band, as a fraction: a contrast whose whole interval lies within
    /// it is `same` (`--noise-threshold`, in percent on the command line).
    #[serde(default = "default_noise_threshold")]
    pub noise_threshold: f64,
    /// `--registry HOST[:PORT][/PREFIX]`, as given (credentials are never recorded); none for
    /// a run without one, and in every folder made before the flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// `--runs auto`: each series stops getting builds once its comparisons are settled, between
    /// `min_runs` and `max_runs` (`runs` is then `max_runs`). None for a fixed `--runs`, and in
    /// every folder made before the flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<Stopping>,
    /// `--time-budget`, if any: the run starts no build once this much time has passed since it
    /// started (each invocation counts its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget_seconds: Option<Seconds>,
    /// With `--runs auto --baseline NAME`: the gate whose comparisons kept series running too.
    /// A resumed run takes its looks under the same gate, and `compare` reads the gate's
    /// verdicts off the run's looks only against that very baseline run. None for a run without
    /// one, and in every folder made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gated_looks: Option<GatedLooks>,
}

/// The gate a `--runs auto` run's looks were taken under, as meta.json records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatedLooks {
    /// `--baseline NAME`.
    pub baseline: String,
    /// The run ID of the results saved as NAME when the run started.
    pub baseline_run_id: String,
    /// `--time-threshold`, as a fraction.
    pub time_threshold: f64,
    /// `--require-runs`.
    pub required_runs: usize,
    /// `--allow-different-hosts`.
    pub allow_different_hosts: bool,
}

/// `--min-runs` when not given: the fewest runs a look can be taken at.
pub const DEFAULT_MIN_RUNS: u32 = 3;
/// `--max-runs` when not given.
pub const DEFAULT_MAX_RUNS: u32 = 10;

/// How a `--runs auto` run stops, as meta.json records it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stopping {
    /// `--min-runs`: runs every series gets before the first look.
    pub min_runs: u32,
    /// `--max-runs`: runs after which every series stops.
    pub max_runs: u32,
    /// Whether a scenario's comparisons are read round by round (see
    /// [`Sequential::paired_by_round`](crate::stats::sequential::Sequential::paired_by_round)):
    /// every run since the rounds were paired; absent, as in the folders of runs made before,
    /// each series is read as a sample of its own, so those folders are read again as they ran.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paired_by_round: bool,
}

impl RunOptions {
    /// `runs` timed runs of each of `cache_modes` (measured in [`CacheMode::ALL`]'s order), the
    /// rounds shuffled with `seed`, everything else as `stagebench run` does it without flags:
    /// the options of a run made without a command line.
    pub fn new(runs: u32, cache_modes: &[CacheMode], seed: u64) -> RunOptions {
        RunOptions {
            runs,
            warmup: 0,
            cache_modes: CacheMode::ALL
                .into_iter()
                .filter(|m| cache_modes.contains(m))
                .collect(),
            builder: Builder::BuildKit,
            variants: Vec::new(),
            profile: None,
            build_args: BTreeMap::new(),
            timeout_seconds: None,
            keep_images: false,
            rm: false,
            secret_build_arg_names: Vec::new(),
            build_secrets: Vec::new(),
            allow_context_above: false,
            seed,
            on_every_host: false,
            prune: crate::cache_mode::PruneMode::New,
            noise_threshold: DEFAULT_NOISE_THRESHOLD,
            registry: None,
            stopping: None,
            time_budget_seconds: None,
            gated_looks: None,
        }
    }
}

/// Default half-width of the noise band: a change inside 5% either way counts as the same. It is
/// a setting of the run (and of `compare` and `history`), which the statistics take as input.
pub const DEFAULT_NOISE_THRESHOLD: f64 = 0.05;

pub(crate) fn prune_mode_before_the_flag() -> crate::cache_mode::PruneMode {
    crate::cache_mode::PruneMode::All
}

pub(crate) fn default_noise_threshold() -> f64 {
    DEFAULT_NOISE_THRESHOLD
}

/// A Docker host as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSpec {
    /// Name used in results and reports.
    pub name: String,
    /// Endpoint URL with any credentials removed.
    pub endpoint: String,
    /// The docker CLI context it came from (`--context`), if any.
    pub context: Option<String>,
}

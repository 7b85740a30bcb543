//! How the runner runs the plan: the run's identity, what it may leave or remove, its limits, its
//! secrets and its registry, resolved by config from the flags (or the folder being resumed).
//!
//! With the [`Plan`](crate::plan::Plan), which says what to build, and the
//! [`ResultsLayout`](crate::results_layout::ResultsLayout), which says where the rows go, this is
//! everything the runner reads: it never sees a flag or a scenario file, so its tests make a run
//! without a command line.

use std::time::Duration;

use crate::builder::Builder;
use crate::cache_mode::{CacheMode, PruneMode};
use crate::daemon_facts::DaemonFacts;
use crate::registry::RegistryAccess;
use crate::run_options::RunOptions;
use crate::secrets::Secrets;

/// How the runner runs the plan.
#[derive(Clone)]
pub struct RunPolicy {
    /// This invocation's id, the `run_id` of its rows.
    pub run_id: String,
    /// The run's identity on a daemon: its first invocation's `run_id`, which every invocation
    /// of the run (`--resume`) shares, and which the run's image and registry tags carry.
    pub first_run_id: String,
    /// Timed runs per variant and cache mode, for the events' "run i/N".
    pub runs: u32,
    /// Warmup runs per variant and cache mode, likewise.
    pub warmup: u32,
    /// `--builder`, which each host's engine answers with the builder it runs.
    pub builder: Builder,
    /// `--keep-images`: every measured build's image stays, tagged.
    pub keep_images: bool,
    /// `--rm`: the final images and the prebuilds this run built go too.
    pub rm: bool,
    /// `--timeout`: the longest one build may take.
    pub timeout: Option<Duration>,
    /// `--prune`: what a cold run empties of the build cache.
    pub prune: PruneMode,
    /// Every secret value's forms, which every text the run writes or prints is redacted of.
    pub secrets: Secrets,
    /// The registry of the CI modes, with its credentials.
    pub registry: Option<RegistryAccess>,
    /// What a host's builder must be able to do.
    pub host_needs: HostNeeds,
    /// `--runs auto`: what decides, after each round, which series stop getting builds.
    pub round_judge: Option<std::sync::Arc<dyn RoundJudge>>,
    /// `--time-budget`: no build starts once this much time has passed since the run started.
    pub time_budget: Option<Duration>,
}

/// After each round of a scenario on a host, which of its series stop getting builds
/// (`--runs auto`). It reads the rows the runner wrote, so it can never cost a measurement: when
/// it cannot judge, the runner says so and goes on building.
pub trait RoundJudge: Send + Sync {
    /// After `rounds` complete rounds of `scenario` on `host`, whose rows are in the results
    /// folder `dir`.
    fn after_round(
        &self,
        dir: &std::path::Path,
        scenario: &str,
        host: &str,
        rounds: u32,
    ) -> Result<RoundDecision, String>;
}

/// What a [`RoundJudge`] decided after a round.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundDecision {
    /// The series (variant, cache mode) that get no more builds.
    pub stopped: std::collections::BTreeSet<(String, CacheMode)>,
    /// Whether no series needs another build.
    pub finished: bool,
    /// One line per series: still running and why, or what stopped it.
    pub lines: Vec<String>,
}

/// What the run asks of every host's builder, checked before any build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostNeeds {
    /// `--builder`.
    pub builder: Builder,
    /// Whether builds mount `--secret`s.
    pub mounts_secrets: bool,
    /// The first CI cache mode measured, which imports a cache from a registry.
    pub registry_cache_mode: Option<CacheMode>,
}

impl HostNeeds {
    /// What builds measured as `options` need, with `--secret`s when `mounts_secrets`.
    pub fn new(options: &RunOptions, mounts_secrets: bool) -> HostNeeds {
        HostNeeds {
            builder: options.builder,
            mounts_secrets,
            registry_cache_mode: options.cache_modes.iter().copied().find(|m| m.is_ci()),
        }
    }

    /// Why host `name`, which says `facts` about itself, cannot run these builds: a sentence
    /// naming what its builder cannot do; `None` when it can.
    pub fn refusal(&self, name: &str, facts: &DaemonFacts) -> Option<String> {
        let builder = facts.engine.builder(self.builder);
        let can = builder.capabilities();
        let engine = format!(
            "{} {}, whose builds are {}'s",
            facts.engine.product_name(),
            facts.version,
            builder
        );
        if self.mounts_secrets && !can.mounts_secrets {
            return Some(format!(
                "host {name} is {engine}, which cannot mount --secret: drop --secret, or run on a Docker host"
            ));
        }
        if let Some(mode) = self.registry_cache_mode
            && !can.imports_registry_cache
        {
            return Some(format!(
                "host {name} is {engine}, which cannot import a cache from a registry as --cache {mode} needs: leave out the ci-* modes, or run them on a Docker host"
            ));
        }
        None
    }
}

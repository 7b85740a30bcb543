//! The plan: which builds run on which Docker host, in which order, before anything touches a
//! daemon.
//!
//! Pure bookkeeping, so the order that fairness depends on is unit-tested without a daemon:
//!
//! - **Hosts.** By default scenario *i* (in the order given) runs on host *i mod n*, so the same
//!   command puts every scenario on the same host every time, and a nightly comparison always
//!   compares a machine with itself. Every variant, mode and run of a scenario stays on its host.
//!   `--on-every-host` gives every host every scenario instead.
//! - **Rounds.** Run *r* of every variant and cache mode forms round *r* (warmup rounds first).
//!   Within a round each variant runs its modes back to back (cold, then warm, then incremental),
//!   so a warm run reuses the cold build just made and no untimed priming build is needed.
//! - **Shuffling.** The variant order of each round is shuffled from a seed recorded in
//!   meta.json, so no variant always builds right after the same other one (a variant that
//!   follows one sharing its layers would inherit a warm page cache), and `--seed` repeats an
//!   order exactly.
//! - **Resume.** Builds already done are left out; a variant whose next build needs a primed
//!   cache gets a priming build first, since what the cache holds after an interruption is
//!   unknown.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::builder::Builder;
use crate::cache_mode::{CacheMode, Preparation, PrimedCaches};
use crate::keys::BuildKey;
use crate::planned_scenario::PlannedScenario;

/// Why a build is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A build whose measurement is recorded (timed, or a warmup marked as such).
    Measure,
    /// An untimed build that fills the cache a warm or incremental run needs.
    Prime,
}

/// One build in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBuild {
    /// Which build it is; a priming build carries the key of the build it primes for.
    pub key: BuildKey,
    /// Index of the variant within its scenario's selected variants.
    pub variant: usize,
    /// Why it runs.
    pub purpose: Purpose,
    /// What the build needs before it starts: its mode's preparation for the host's builder.
    pub preparation: Preparation,
}

/// What the plan needs to know about the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSettings {
    /// Timed runs per variant and cache mode.
    pub runs: u32,
    /// Warmup runs per variant and cache mode, before the timed ones.
    pub warmup: u32,
    /// Cache modes requested, in any order.
    pub cache_modes: Vec<CacheMode>,
    /// The builder asked for, which decides what a cold reset empties...
    pub builder: Builder,
    /// ...except on the hosts named here, whose engine runs its builds with another builder.
    pub builders_by_host: BTreeMap<String, Builder>,
    /// Seed of the per-round shuffle.
    pub seed: u64,
    /// Every scenario on every host, instead of spreading them.
    pub on_every_host: bool,
}

/// The ordered builds of one scenario on one host, and what was left out and why.
#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    /// The scenario, with its variants and prebuilds as this run builds them.
    pub scenario: Arc<PlannedScenario>,
    /// Builds in execution order.
    pub builds: Vec<PlannedBuild>,
    /// Sentences for the user about modes that were skipped.
    pub notes: Vec<String>,
    /// Prebuilds to build first.
    pub prebuilds: usize,
    /// Measured builds left out because an earlier invocation finished them.
    pub already_done: usize,
}

/// One host's work, scenario after scenario.
#[derive(Debug, Clone)]
pub struct HostPlan {
    /// Index of the host in the order given.
    pub host: usize,
    /// Its scenarios, in the order given.
    pub scenarios: Vec<ScenarioPlan>,
}

/// The whole plan: one entry per host.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Hosts in the order given.
    pub hosts: Vec<HostPlan>,
}

impl Plan {
    /// Builds the runner will start, prebuilds and priming builds included: the progress
    /// bar's length.
    pub fn total_builds(&self) -> u64 {
        self.scenario_plans()
            .map(|s| (s.builds.len() + s.prebuilds) as u64)
            .sum()
    }

    /// Every scenario plan of every host.
    pub fn scenario_plans(&self) -> impl Iterator<Item = &ScenarioPlan> {
        self.hosts.iter().flat_map(|h| h.scenarios.iter())
    }
}

/// Plans `scenarios` on `hosts` (names), leaving out the measured builds in `already_done`.
/// A scenario named in `pinned` runs on the hosts listed there (a resumed run keeps every
/// scenario where it started) instead of where the default assignment would put it.
pub fn plan(
    scenarios: &[Arc<PlannedScenario>],
    hosts: &[String],
    settings: &PlanSettings,
    already_done: &BTreeSet<BuildKey>,
    pinned: &BTreeMap<String, Vec<String>>,
) -> Plan {
    let mut plans: Vec<HostPlan> = (0..hosts.len())
        .map(|host| HostPlan {
            host,
            scenarios: Vec::new(),
        })
        .collect();
    if hosts.is_empty() {
        return Plan { hosts: plans };
    }
    for scenario in scenarios {
        let assigned: Vec<usize> = match pinned.get(&scenario.name) {
            Some(names) => (0..hosts.len())
                .filter(|&h| names.contains(&hosts[h]))
                .collect(),
            None if settings.on_every_host => (0..hosts.len()).collect(),
            None => vec![scenario.index % hosts.len()],
        };
        for host in assigned {
            plans[host].scenarios.push(plan_scenario(
                scenario,
                &hosts[host],
                settings,
                already_done,
            ));
        }
    }
    Plan { hosts: plans }
}

/// Plans one scenario on one host.
pub fn plan_scenario(
    scenario: &Arc<PlannedScenario>,
    host: &str,
    settings: &PlanSettings,
    already_done: &BTreeSet<BuildKey>,
) -> ScenarioPlan {
    let has_touch_files = !scenario.touch.is_empty();
    let mut plan = ScenarioPlan {
        scenario: Arc::clone(scenario),
        builds: Vec::new(),
        notes: Vec::new(),
        prebuilds: scenario.prebuilds.len(),
        already_done: 0,
    };
    let modes: Vec<CacheMode> = CacheMode::ALL
        .into_iter()
        .filter(|m| settings.cache_modes.contains(m))
        .filter(|m| !m.needs_touch_files() || has_touch_files)
        .collect();
    if settings.cache_modes.contains(&CacheMode::Incremental) && !has_touch_files {
        plan.notes.push(
            "incremental runs skipped: scenario.toml lists no files under [incremental] touch"
                .to_string(),
        );
    }
    let builder = settings
        .builders_by_host
        .get(host)
        .copied()
        .unwrap_or(settings.builder);
    let mut primed = PrimedCaches::new(scenario.variants.len());
    let rounds = (1..=settings.warmup)
        .map(|run| (run, true))
        .chain((1..=settings.runs).map(|run| (run, false)));
    for (round, (run, warmup)) in rounds.enumerate() {
        for variant in round_order(
            settings.seed,
            &scenario.name,
            round,
            scenario.variants.len(),
        ) {
            for &cache in &modes {
                let key = BuildKey {
                    scenario: scenario.name.clone(),
                    variant: scenario.variants[variant].name.clone(),
                    cache,
                    run,
                    warmup,
                    host: host.to_string(),
                };
                if already_done.contains(&key) {
                    plan.already_done += 1;
                    // Its build ran in an earlier invocation; the cache it left is unknown now.
                    primed.set(variant, false);
                    continue;
                }
                let preparation = Preparation::for_mode(cache, builder);
                if primed.needs_prime(variant, &preparation) {
                    plan.builds.push(PlannedBuild {
                        key: key.clone(),
                        variant,
                        purpose: Purpose::Prime,
                        preparation: Preparation::for_mode(CacheMode::Warm, builder),
                    });
                }
                primed.prepared(variant, &preparation);
                plan.builds.push(PlannedBuild {
                    key,
                    variant,
                    purpose: Purpose::Measure,
                    preparation,
                });
                primed.set(variant, true);
            }
        }
    }
    plan
}

/// The variant order of one round: a Fisher-Yates shuffle seeded by the run's seed, the scenario
/// and the round, so it is the same on every host and every time the seed is given again.
pub fn round_order(seed: u64, scenario: &str, round: usize, variants: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..variants).collect();
    let mut rng = fastrand::Rng::with_seed(mix(seed, scenario, round));
    rng.shuffle(&mut order);
    order
}

/// FNV-1a over the scenario name and round, mixed with the seed: stable across Rust versions,
/// unlike `DefaultHasher`.
fn mix(seed: u64, scenario: &str, round: usize) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in scenario
        .as_bytes()
        .iter()
        .chain((round as u64).to_le_bytes().iter())
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(runs: u32, warmup: u32, modes: &[CacheMode], builder: Builder) -> PlanSettings {
        PlanSettings {
            builders_by_host: BTreeMap::new(),
            runs,
            warmup,
            cache_modes: modes.to_vec(),
            builder,
            seed: 7,
            on_every_host: false,
        }
    }

    fn shape(name: &str, variants: usize, touch: bool) -> PlannedScenario {
        shape_at(0, name, variants, touch)
    }

    fn shape_at(index: usize, name: &str, variants: usize, touch: bool) -> PlannedScenario {
        PlannedScenario::made_up(index, name, &["A", "B", "C", "D"][..variants], 0, touch)
    }

    fn single_host(scenario: &PlannedScenario, settings: &PlanSettings) -> ScenarioPlan {
        plan_scenario(
            &Arc::new(scenario.clone()),
            "local",
            settings,
            &BTreeSet::new(),
        )
    }

    /// `Ac1` is variant A, cold, run 1; `Aww1` a warm warmup; `prime:` marks a priming build.
    fn describe(plan: &ScenarioPlan) -> Vec<String> {
        plan.builds
            .iter()
            .map(|b| {
                format!(
                    "{}{}{}{}",
                    match b.purpose {
                        Purpose::Prime => "prime:",
                        Purpose::Measure => "",
                    },
                    b.key.variant,
                    &b.key.cache.as_str()[..1],
                    if b.key.warmup {
                        format!("w{}", b.key.run)
                    } else {
                        b.key.run.to_string()
                    }
                )
            })
            .collect()
    }

    #[test]
    fn a_planned_build_carries_its_mode_s_preparation_and_a_cold_one_ignores_the_cache() {
        for builder in [Builder::BuildKit, Builder::Classic] {
            let plan = single_host(
                &shape("s", 2, true),
                &settings(1, 0, &CacheMode::LOCAL, builder),
            );
            for build in &plan.builds {
                let expected = match build.purpose {
                    Purpose::Prime => Preparation::for_mode(CacheMode::Warm, builder),
                    Purpose::Measure => Preparation::for_mode(build.key.cache, builder),
                };
                assert_eq!(build.preparation, expected, "{build:?}");
                assert_eq!(
                    build.preparation.no_cache,
                    build.key.cache == CacheMode::Cold,
                    "{build:?}"
                );
            }
        }
    }

    #[test]
    fn each_round_runs_a_variant_s_modes_back_to_back_in_the_seeded_order() {
        let plan = single_host(
            &shape("s", 2, true),
            &settings(2, 0, &CacheMode::LOCAL, Builder::BuildKit),
        );
        let first = round_order(7, "s", 0, 2);
        let second = round_order(7, "s", 1, 2);
        let names = ["A", "B"];
        let mut expected = Vec::new();
        for (run, order) in [(1, &first), (2, &second)] {
            for &v in order {
                for mode in ["c", "w", "i"] {
                    expected.push(format!("{}{mode}{run}", names[v]));
                }
            }
        }
        assert_eq!(describe(&plan), expected);
    }

    #[test]
    fn no_priming_build_when_cold_is_measured() {
        for builder in [Builder::BuildKit, Builder::Classic] {
            for modes in [
                &CacheMode::LOCAL[..],
                &[CacheMode::Cold, CacheMode::Warm],
                &[CacheMode::Cold, CacheMode::Incremental],
            ] {
                let plan = single_host(&shape("s", 3, true), &settings(3, 1, modes, builder));
                assert!(
                    plan.builds.iter().all(|b| b.purpose == Purpose::Measure),
                    "{builder} {modes:?}: {:?}",
                    describe(&plan)
                );
            }
        }
    }

    #[test]
    fn without_cold_each_variant_is_primed_once() {
        let modes = [CacheMode::Warm, CacheMode::Incremental];
        let plan = single_host(
            &shape("s", 2, true),
            &settings(2, 1, &modes, Builder::BuildKit),
        );
        let primes: Vec<&PlannedBuild> = plan
            .builds
            .iter()
            .filter(|b| b.purpose == Purpose::Prime)
            .collect();
        assert_eq!(primes.len(), 2);
        for prime in primes {
            let position = plan.builds.iter().position(|b| b == prime).unwrap();
            let next = &plan.builds[position + 1];
            assert_eq!(
                (next.purpose, &next.key),
                (Purpose::Measure, &prime.key),
                "a prime comes right before the build it primes for"
            );
            assert!(
                plan.builds[..position]
                    .iter()
                    .all(|b| b.variant != prime.variant),
                "the variant's first build"
            );
        }
    }

    #[test]
    fn the_shuffle_is_repeatable_and_varies_between_rounds_and_seeds() {
        let orders: Vec<Vec<usize>> = (0..40).map(|round| round_order(7, "s", round, 3)).collect();
        for order in &orders {
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, [0, 1, 2], "a round is a permutation");
        }
        assert_eq!(
            orders[5],
            round_order(7, "s", 5, 3),
            "same seed, same order"
        );
        for variant in 0..3 {
            assert!(
                orders.iter().any(|o| o[0] == variant),
                "over 40 rounds, variant {variant} goes first at least once"
            );
        }
        let other_seed: Vec<Vec<usize>> =
            (0..40).map(|round| round_order(8, "s", round, 3)).collect();
        assert_ne!(orders, other_seed);
        // No variant always follows the same one.
        for (a, b) in [(0, 1), (1, 2), (2, 0), (1, 0)] {
            assert!(
                orders.iter().any(|o| o.windows(2).all(|w| w != [a, b])),
                "{b} does not always follow {a}"
            );
        }
    }

    #[test]
    fn incremental_without_touch_files_is_skipped_with_a_note() {
        let plan = single_host(
            &shape("s", 1, false),
            &settings(3, 0, &[CacheMode::Incremental], Builder::BuildKit),
        );
        assert!(plan.builds.is_empty());
        assert_eq!(plan.notes.len(), 1);
        assert!(plan.notes[0].contains("[incremental] touch"));
    }

    #[test]
    fn every_variant_gets_the_same_number_of_measured_runs_per_mode() {
        for builder in [Builder::BuildKit, Builder::Classic] {
            let plan = single_host(
                &shape("s", 3, true),
                &settings(4, 2, &CacheMode::ALL, builder),
            );
            for variant in 0..3 {
                for mode in CacheMode::ALL {
                    let count = plan
                        .builds
                        .iter()
                        .filter(|b| {
                            b.purpose == Purpose::Measure
                                && b.variant == variant
                                && b.key.cache == mode
                        })
                        .count();
                    assert_eq!(count, 6, "{builder} variant {variant} {mode}");
                }
            }
        }
    }

    #[test]
    fn scenarios_spread_over_hosts_or_run_on_every_host() {
        let scenarios = [
            Arc::new(shape_at(0, "a", 1, false)),
            Arc::new(shape_at(1, "b", 1, false)),
            Arc::new(shape_at(2, "c", 1, false)),
        ];
        let hosts = ["h1".to_string(), "h2".to_string()];
        let spread = plan(
            &scenarios,
            &hosts,
            &settings(1, 0, &[CacheMode::Cold], Builder::BuildKit),
            &BTreeSet::new(),
            &BTreeMap::new(),
        );
        let on_host = |plan: &Plan, host: usize| -> Vec<usize> {
            plan.hosts[host]
                .scenarios
                .iter()
                .map(|s| s.scenario.index)
                .collect()
        };
        assert_eq!(on_host(&spread, 0), [0, 2]);
        assert_eq!(on_host(&spread, 1), [1]);
        for scenario in spread.scenario_plans() {
            let host = &spread
                .hosts
                .iter()
                .find(|h| h.scenarios.iter().any(|s| std::ptr::eq(s, scenario)))
                .unwrap();
            assert!(
                scenario
                    .builds
                    .iter()
                    .all(|b| b.key.host == hosts[host.host])
            );
        }
        let every = plan(
            &scenarios,
            &hosts,
            &PlanSettings {
                on_every_host: true,
                ..settings(1, 0, &[CacheMode::Cold], Builder::BuildKit)
            },
            &BTreeSet::new(),
            &BTreeMap::new(),
        );
        assert_eq!(on_host(&every, 0), [0, 1, 2]);
        assert_eq!(on_host(&every, 1), [0, 1, 2]);
        assert_eq!(every.total_builds(), 6);

        let pinned = BTreeMap::from([("a".to_string(), vec!["h2".to_string()])]);
        let resumed = plan(
            &scenarios,
            &hosts,
            &settings(1, 0, &[CacheMode::Cold], Builder::BuildKit),
            &BTreeSet::new(),
            &pinned,
        );
        assert_eq!(on_host(&resumed, 0), [2]);
        assert_eq!(on_host(&resumed, 1), [0, 1]);
    }

    #[test]
    fn resuming_leaves_out_what_is_done_and_primes_what_needs_it() {
        let scenario = shape("s", 2, true);
        let settings = settings(2, 0, &CacheMode::LOCAL, Builder::BuildKit);
        let full = single_host(&scenario, &settings);
        // The first invocation finished the first four builds (the first variant of round 1 and
        // the cold run of the second) and died during the second variant's warm run.
        let done: BTreeSet<BuildKey> = full.builds[..4].iter().map(|b| b.key.clone()).collect();
        let resumed = plan_scenario(&Arc::new(scenario), "local", &settings, &done);
        assert_eq!(resumed.already_done, 4);
        let interrupted = &full.builds[4];
        assert_eq!(interrupted.key.cache, CacheMode::Warm);
        assert_eq!(
            (resumed.builds[0].purpose, &resumed.builds[0].key),
            (Purpose::Prime, &interrupted.key),
            "the cache the warm run needs is filled again first"
        );
        assert_eq!(resumed.builds[1..], full.builds[4..]);
    }
}

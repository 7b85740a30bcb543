//! The plan: which builds run, in which order, before anything touches the daemon.
//!
//! Pure bookkeeping, so the order that fairness depends on is unit-tested without a daemon.
//! Runs are interleaved across variants (A B A B ...) so that drift in the machine (thermal state,
//! page cache, a neighbour's job) falls on every variant alike instead of on whichever ran last.

use crate::builder::Builder;
use crate::cache_mode::CacheMode;

/// Why a build is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A build whose measurement is recorded (timed, or a warmup marked as such).
    Measure,
    /// An untimed build that fills the cache a warm or incremental run needs.
    Prime,
}

/// One build in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedBuild {
    /// Index of the variant within its scenario.
    pub variant: usize,
    /// Cache state the build is measured in.
    pub cache: CacheMode,
    /// 1-based run number, counted separately for warmups and timed runs.
    pub run: u32,
    /// Whether this is an untimed warmup run.
    pub warmup: bool,
    /// Why it runs.
    pub purpose: Purpose,
}

/// What the plan needs to know about the run.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    /// Timed runs per variant and cache mode.
    pub runs: u32,
    /// Warmup runs per variant and cache mode, before the timed ones.
    pub warmup: u32,
    /// Cache modes requested, in any order.
    pub cache_modes: Vec<CacheMode>,
    /// The builder, which decides what a cold reset invalidates.
    pub builder: Builder,
}

/// The ordered builds of one scenario, and what was left out and why.
#[derive(Debug, Clone, Default)]
pub struct ScenarioPlan {
    /// Builds in execution order.
    pub builds: Vec<PlannedBuild>,
    /// Sentences for the user about modes that were skipped.
    pub notes: Vec<String>,
}

impl ScenarioPlan {
    /// Number of builds whose result is written to results.csv.
    pub fn measured_count(&self) -> usize {
        self.builds
            .iter()
            .filter(|b| b.purpose == Purpose::Measure)
            .count()
    }
}

/// Plans one scenario with `variant_count` variants; `has_touch_files` says whether incremental
/// runs are possible.
pub fn plan_scenario(
    variant_count: usize,
    has_touch_files: bool,
    settings: &PlanSettings,
) -> ScenarioPlan {
    let mut plan = ScenarioPlan::default();
    // Whether each variant's cache is known to be filled by a build made in this invocation.
    let mut primed = vec![false; variant_count];

    for mode in CacheMode::ALL {
        if !settings.cache_modes.contains(&mode) {
            continue;
        }
        if mode == CacheMode::Incremental && !has_touch_files {
            plan.notes.push(
                "incremental runs skipped: scenario.toml lists no files under [incremental] touch"
                    .to_string(),
            );
            continue;
        }
        let rounds = (1..=settings.warmup)
            .map(|run| (run, true))
            .chain((1..=settings.runs).map(|run| (run, false)));
        for (run, warmup) in rounds {
            for variant in 0..variant_count {
                match mode {
                    CacheMode::Cold => match settings.builder {
                        // Pruning the BuildKit cache empties it for every variant at once.
                        Builder::BuildKit => primed.iter_mut().for_each(|p| *p = false),
                        // The classic cache lives in images; only this variant's are removed.
                        Builder::Classic => primed[variant] = false,
                    },
                    CacheMode::Warm | CacheMode::Incremental => {
                        if !primed[variant] {
                            plan.builds.push(PlannedBuild {
                                variant,
                                cache: mode,
                                run,
                                warmup,
                                purpose: Purpose::Prime,
                            });
                        }
                    }
                }
                plan.builds.push(PlannedBuild {
                    variant,
                    cache: mode,
                    run,
                    warmup,
                    purpose: Purpose::Measure,
                });
                primed[variant] = true;
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(runs: u32, warmup: u32, modes: &[CacheMode], builder: Builder) -> PlanSettings {
        PlanSettings {
            runs,
            warmup,
            cache_modes: modes.to_vec(),
            builder,
        }
    }

    fn describe(plan: &ScenarioPlan) -> Vec<String> {
        plan.builds
            .iter()
            .map(|b| {
                format!(
                    "{}{}{}{}",
                    if b.purpose == Purpose::Prime {
                        "prime:"
                    } else {
                        ""
                    },
                    ["A", "B", "C"][b.variant],
                    &b.cache.as_str()[..1],
                    if b.warmup {
                        format!("w{}", b.run)
                    } else {
                        b.run.to_string()
                    }
                )
            })
            .collect()
    }

    #[test]
    fn runs_interleave_across_variants() {
        let plan = plan_scenario(
            2,
            true,
            &settings(2, 0, &[CacheMode::Cold], Builder::Classic),
        );
        assert_eq!(describe(&plan), ["Ac1", "Bc1", "Ac2", "Bc2"]);
    }

    #[test]
    fn warm_after_buildkit_cold_primes_all_but_the_last_variant_built() {
        let modes = [CacheMode::Warm, CacheMode::Cold];
        let plan = plan_scenario(2, true, &settings(2, 0, &modes, Builder::BuildKit));
        assert_eq!(
            describe(&plan),
            [
                "Ac1",
                "Bc1",
                "Ac2",
                "Bc2",
                "prime:Aw1",
                "Aw1",
                "Bw1",
                "Aw2",
                "Bw2"
            ]
        );
        assert_eq!(plan.measured_count(), 8);
    }

    #[test]
    fn classic_cold_runs_leave_every_variant_primed() {
        let modes = [CacheMode::Cold, CacheMode::Warm];
        let plan = plan_scenario(2, true, &settings(1, 0, &modes, Builder::Classic));
        assert_eq!(describe(&plan), ["Ac1", "Bc1", "Aw1", "Bw1"]);
    }

    #[test]
    fn warm_alone_primes_each_variant_once() {
        let modes = [CacheMode::Warm, CacheMode::Incremental];
        let plan = plan_scenario(2, true, &settings(2, 1, &modes, Builder::BuildKit));
        assert_eq!(
            describe(&plan),
            [
                "prime:Aww1",
                "Aww1",
                "prime:Bww1",
                "Bww1",
                "Aw1",
                "Bw1",
                "Aw2",
                "Bw2",
                "Aiw1",
                "Biw1",
                "Ai1",
                "Bi1",
                "Ai2",
                "Bi2"
            ]
        );
    }

    #[test]
    fn incremental_without_touch_files_is_skipped_with_a_note() {
        let plan = plan_scenario(
            1,
            false,
            &settings(3, 0, &[CacheMode::Incremental], Builder::BuildKit),
        );
        assert!(plan.builds.is_empty());
        assert_eq!(plan.notes.len(), 1);
        assert!(plan.notes[0].contains("[incremental] touch"));
    }

    #[test]
    fn every_variant_gets_the_same_number_of_measured_runs_per_mode() {
        for builder in [Builder::BuildKit, Builder::Classic] {
            let plan = plan_scenario(3, true, &settings(4, 2, &CacheMode::ALL, builder));
            for variant in 0..3 {
                for mode in CacheMode::ALL {
                    let count = plan
                        .builds
                        .iter()
                        .filter(|b| {
                            b.purpose == Purpose::Measure && b.variant == variant && b.cache == mode
                        })
                        .count();
                    assert_eq!(count, 6, "{builder} variant {variant} {mode}");
                }
            }
        }
    }
}

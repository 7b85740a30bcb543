//! The cache states a build is measured in: three on one machine that keeps its cache, three on a
//! fresh CI machine whose cache and prebuilt stages come from a registry. This is the one place
//! that says what each mode means; the plan, the runner and the reports ask it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::builder::{Builder, ColdBy};

/// What the build cache holds when a timed build starts; docs/cache-modes.md defines each
/// precisely.
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
#[serde(rename_all = "kebab-case")]
pub enum CacheMode {
    /// Nothing of the scenario cached; base and prebuild images present.
    Cold,
    /// Everything cached and nothing changed: the no-op rebuild.
    Warm,
    /// Everything cached, then the scenario's listed source files changed.
    Incremental,
    /// A fresh CI machine with no cache to import: nothing of the scenario local but the base
    /// images; prebuilds are pulled from the registry inside the timed build.
    CiCold,
    /// A fresh CI machine importing the inline cache of the image the previous job pushed
    /// (`BUILDKIT_INLINE_CACHE=1`): it holds the final stage's layers only.
    CiInline,
    /// A fresh CI machine importing the inline cache of every named stage, each built with its
    /// target and pushed to its own tag, plus the final image's: the every-stage cache the
    /// daemon's API can export.
    CiStages,
}

impl CacheMode {
    /// All modes in the order a run measures and reports them.
    pub const ALL: [CacheMode; 6] = [
        CacheMode::Cold,
        CacheMode::Warm,
        CacheMode::Incremental,
        CacheMode::CiCold,
        CacheMode::CiInline,
        CacheMode::CiStages,
    ];

    /// The mode's place in [`CacheMode::ALL`]: its declaration order, which a test ties to `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }

    /// What every CI mode's build starts from, for reports: the machine [`Preparation`]'s
    /// `fresh_machine` makes.
    pub const CI_MACHINE_MEANING: &'static str = "each build runs on a fresh machine: this run's images, its prebuilds and its build cache removed, base images kept as a runner image would have them";

    /// The modes a run measures unless `--cache` says otherwise: those that need no registry.
    pub const LOCAL: [CacheMode; 3] = [CacheMode::Cold, CacheMode::Warm, CacheMode::Incremental];

    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheMode::Cold => "cold",
            CacheMode::Warm => "warm",
            CacheMode::Incremental => "incremental",
            CacheMode::CiCold => "ci-cold",
            CacheMode::CiInline => "ci-inline",
            CacheMode::CiStages => "ci-stages",
        }
    }

    /// Whether a build in this mode runs as on a fresh CI machine, with a registry.
    pub fn is_ci(self) -> bool {
        match self {
            CacheMode::Cold | CacheMode::Warm | CacheMode::Incremental => false,
            CacheMode::CiCold | CacheMode::CiInline | CacheMode::CiStages => true,
        }
    }

    /// Whether the mode's builds are measured only when the scenario lists files to edit; a CI
    /// mode builds the edit when there is one (the commit under test), else the unchanged source.
    pub fn needs_touch_files(self) -> bool {
        match self {
            CacheMode::Incremental => true,
            CacheMode::Cold
            | CacheMode::Warm
            | CacheMode::CiCold
            | CacheMode::CiInline
            | CacheMode::CiStages => false,
        }
    }

    /// What the build imports from the registry.
    pub fn imports(self) -> CacheImport {
        match self {
            CacheMode::Cold | CacheMode::Warm | CacheMode::Incremental | CacheMode::CiCold => {
                CacheImport::Nothing
            }
            CacheMode::CiInline => CacheImport::FinalImage,
            CacheMode::CiStages => CacheImport::EveryStage,
        }
    }

    /// Whether a build in this mode starts with its steps' cache available, so that a step
    /// that ran instead of coming from cache is a miss worth explaining (`first_miss`).
    pub fn expects_cache(self) -> bool {
        match self {
            CacheMode::Cold => false,
            // A CI build's first miss per stage tells what its import held, even when it held
            // nothing (ci-cold).
            CacheMode::Warm
            | CacheMode::Incremental
            | CacheMode::CiCold
            | CacheMode::CiInline
            | CacheMode::CiStages => true,
        }
    }

    /// Whether a build in this mode had the cache of a stage available: `Some(false)` when the
    /// mode leaves that stage's cache out (a miss there is explained by it), `Some(true)` when
    /// the stage's cache was there, `None` when the mode expects no cache at all.
    /// `is_final_stage` says whether the stage is the one the image is made from, since a
    /// mode may bring only the final stage's cache.
    pub fn imports_cache_of(self, is_final_stage: bool) -> Option<bool> {
        match (self, is_final_stage) {
            (CacheMode::Cold, _) => None,
            // The local cache holds every stage the priming build ran.
            (CacheMode::Warm | CacheMode::Incremental, _) => Some(true),
            // A fresh machine has only what it imported from the registry.
            (CacheMode::CiCold | CacheMode::CiInline | CacheMode::CiStages, _) => {
                Some(self.imports().holds_stage(is_final_stage))
            }
        }
    }

    /// What cache a build in this mode starts with, as words a report puts after "the build did
    /// not have that stage's cache" when a stage's cache was not among it.
    pub fn cache_it_starts_with(self) -> &'static str {
        match self {
            CacheMode::Cold => "a cold build starts with none of the scenario's cache",
            CacheMode::Warm | CacheMode::Incremental => {
                "the local cache holds every stage the priming build ran"
            }
            CacheMode::CiCold => "a ci-cold build imports no cache",
            CacheMode::CiInline => "the inline cache it imports holds only the final stage",
            CacheMode::CiStages => {
                "it imports the inline cache of every named stage and of the final image"
            }
        }
    }

    /// What a local mode measured, as a report's paragraph on a scenario says it: `cold_means` is
    /// how the builder reaches cold (`Capabilities::cold_means`), `edited` what the scenario's
    /// edit is. `None` for the CI modes, which [`CacheMode::meaning`] describes on their own.
    pub fn scenario_meaning(self, cold_means: &str, edited: &str) -> Option<String> {
        match self {
            CacheMode::Cold => Some(format!("nothing of the scenario cached ({cold_means})")),
            CacheMode::Warm => {
                Some("a rebuild with everything cached and nothing changed".to_string())
            }
            CacheMode::Incremental => Some(edited.to_string()),
            CacheMode::CiCold | CacheMode::CiInline | CacheMode::CiStages => None,
        }
    }

    /// Whether the report shows, next to this mode's time, what the prebuilds a variant uses
    /// cost: only a build that starts with nothing skips work a prebuild already paid for.
    pub fn shows_prebuild_cost(self) -> bool {
        matches!(self, CacheMode::Cold)
    }

    /// The mode's marker in charts, distinct for every mode so that points stay apart in print
    /// and for readers who cannot tell the colours apart.
    pub fn marker(self) -> Marker {
        match self {
            CacheMode::Cold => Marker::Circle,
            CacheMode::Warm => Marker::Square,
            // A triangle's corners make it look bigger than a circle of its area, hence 0.8.
            CacheMode::Incremental => Marker::polygon(3, 90.0, 0.8),
            CacheMode::CiCold => Marker::polygon(4, 90.0, 0.9),
            CacheMode::CiInline => Marker::polygon(3, 270.0, 0.8),
            CacheMode::CiStages => Marker::polygon(6, 0.0, 1.0),
        }
    }

    /// One sentence for reports: what a row in this mode measured.
    pub fn meaning(self) -> &'static str {
        match self {
            CacheMode::Cold => "nothing of the scenario cached; base and prebuild images present",
            CacheMode::Warm => "everything cached and nothing changed: the no-op rebuild",
            CacheMode::Incremental => {
                "everything cached, then the scenario's listed source files edited"
            }
            CacheMode::CiCold => {
                "a fresh CI machine (base images only) with no cache to import; prebuilds pulled from the registry inside the timed build"
            }
            CacheMode::CiInline => {
                "a fresh CI machine importing the inline cache of the image the previous job pushed, which holds the final stage's layers only"
            }
            CacheMode::CiStages => {
                "a fresh CI machine importing the inline cache of every named stage and of the final image, each pushed by the previous job"
            }
        }
    }
}

/// The shape that marks a mode's points in charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Marker {
    /// A circle.
    Circle,
    /// A square.
    Square,
    /// A regular polygon.
    Polygon {
        /// How many sides.
        sides: u32,
        /// Where its first corner points, counter-clockwise from the right.
        first_vertex_degrees: f64,
        /// Its area as a share of a circle's, so that pointed shapes do not look bigger.
        area_factor: f64,
    },
}

impl Marker {
    const fn polygon(sides: u32, first_vertex_degrees: f64, area_factor: f64) -> Marker {
        Marker::Polygon {
            sides,
            first_vertex_degrees,
            area_factor,
        }
    }
}

/// Which registry cache a CI build imports (`--cache-from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheImport {
    /// None.
    Nothing,
    /// The final image's inline cache.
    FinalImage,
    /// The inline cache of every named stage, each pushed to its own tag, and the final image's.
    EveryStage,
}

impl CacheImport {
    /// Whether the import holds the layers of a stage: the final stage's are in the final image's
    /// inline cache, an intermediate stage's only in its own.
    pub fn holds_stage(self, is_final_stage: bool) -> bool {
        match self {
            CacheImport::Nothing => false,
            CacheImport::FinalImage => is_final_stage,
            CacheImport::EveryStage => true,
        }
    }
}

impl fmt::Display for CacheMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which build-cache records a BuildKit cold run removes first (`--prune`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PruneMode {
    /// Only records the invocation's builds made: other projects' caches on the same daemon
    /// survive.
    #[default]
    New,
    /// The daemon's whole build cache, for a daemon dedicated to benchmarking.
    All,
}

/// What a build measured in a cache mode needs before it starts. This is the one place that
/// says what each mode means; the plan and the runner both ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preparation {
    /// Empty the daemon's BuildKit build cache first.
    pub prune_build_cache: bool,
    /// Whose images this invocation built are removed first (the classic builder's and
    /// Buildah's cache lives in them; under BuildKit they are only clutter).
    pub remove_images_of: CacheScope,
    /// Ask the daemon to ignore its cache.
    pub no_cache: bool,
    /// Send the scenario's `[incremental] touch` files edited.
    pub edit_sources: bool,
    /// The variant's cache must hold a build made by this invocation, or one is made first.
    pub needs_primed_cache: bool,
    /// Whose cache the preparation empties.
    pub empties_cache_of: CacheScope,
    /// Make the daemon a fresh CI machine: every variant's images of this run, the prebuild
    /// images and the run's build-cache records removed, base images kept; prebuilds are
    /// referenced by their registry copies.
    pub fresh_machine: bool,
    /// What the build imports from the registry.
    pub imports: CacheImport,
}

/// Which variants' caches a preparation empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheScope {
    /// None.
    Nothing,
    /// Only the variant about to build.
    ThisVariant,
    /// Every variant on the host (a BuildKit prune is daemon-wide).
    EveryVariant,
}

/// Whether each variant's cache holds a build this invocation made: the one priming rule, which
/// the plan follows to place priming builds and the runner to add one when a build failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrimedCaches(Vec<bool>);

impl PrimedCaches {
    /// `variants` caches, none primed.
    pub fn new(variants: usize) -> PrimedCaches {
        PrimedCaches(vec![false; variants])
    }

    /// Whether a build of `variant` with `preparation` needs a priming build first.
    pub fn needs_prime(&self, variant: usize, preparation: &Preparation) -> bool {
        preparation.needs_primed_cache && !self.0.get(variant).copied().unwrap_or(false)
    }

    /// What `preparation` does to the caches before a build of `variant`.
    pub fn prepared(&mut self, variant: usize, preparation: &Preparation) {
        match preparation.empties_cache_of {
            CacheScope::Nothing => {}
            CacheScope::ThisVariant => self.set(variant, false),
            CacheScope::EveryVariant => self.0.iter_mut().for_each(|p| *p = false),
        }
    }

    /// After a build of `variant`: its cache holds it when it made an image; a build of an
    /// earlier invocation, or one that failed, leaves it unknown, so not primed.
    pub fn set(&mut self, variant: usize, primed: bool) {
        if let Some(slot) = self.0.get_mut(variant) {
            *slot = primed;
        }
    }
}

impl Preparation {
    /// What a measured build in `mode` needs with `builder`.
    pub fn for_mode(mode: CacheMode, builder: Builder) -> Preparation {
        let nothing = Preparation {
            prune_build_cache: false,
            remove_images_of: CacheScope::Nothing,
            no_cache: false,
            edit_sources: false,
            needs_primed_cache: false,
            empties_cache_of: CacheScope::Nothing,
            fresh_machine: false,
            imports: CacheImport::Nothing,
        };
        match mode {
            CacheMode::Cold => match builder.capabilities().cold {
                // The prune leaves records the run may not or cannot remove: those older than
                // the run (someone's earlier build of the same Dockerfile) and those behind an
                // image the run keeps (a prebuild's, or another variant's final image of the
                // same first steps). Any of them would serve the build, so the cache is also
                // ignored, and the first attempt is cold. The prune is still needed: it empties
                // the run's cache mounts (`RUN --mount=type=cache`), which `nocache` leaves
                // filled, and the records the run made.
                ColdBy::PruningBuildCache => Preparation {
                    prune_build_cache: true,
                    remove_images_of: CacheScope::ThisVariant,
                    no_cache: true,
                    empties_cache_of: CacheScope::EveryVariant,
                    ..nothing
                },
                ColdBy::IgnoringCache => Preparation {
                    remove_images_of: CacheScope::ThisVariant,
                    no_cache: true,
                    empties_cache_of: CacheScope::ThisVariant,
                    ..nothing
                },
                ColdBy::RemovingRunImages => Preparation {
                    remove_images_of: CacheScope::EveryVariant,
                    no_cache: true,
                    empties_cache_of: CacheScope::EveryVariant,
                    ..nothing
                },
            },
            CacheMode::Warm => Preparation {
                needs_primed_cache: true,
                ..nothing
            },
            CacheMode::Incremental => Preparation {
                edit_sources: true,
                needs_primed_cache: true,
                ..nothing
            },
            // `config` refuses the CI modes with a builder that cannot import a registry
            // cache, so they have one preparation.
            CacheMode::CiCold | CacheMode::CiInline | CacheMode::CiStages => Preparation {
                prune_build_cache: true,
                remove_images_of: CacheScope::ThisVariant,
                edit_sources: true,
                empties_cache_of: CacheScope::EveryVariant,
                fresh_machine: true,
                imports: mode.imports(),
                ..nothing
            },
        }
    }
}

/// Whether a finished build was in the cache state its mode names, judged by its Dockerfile
/// steps (`FROM` not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheCheck {
    /// It was.
    Holds,
    /// A cold build that did not ignore the cache took steps from it (a `ci-cold` build, whose
    /// fresh machine keeps records older than the run): built again with the cache ignored, it
    /// is cold.
    RedoWithoutCache,
    /// It was not, for the reason given; the row is marked `cache_mismatch`.
    Mismatch(String),
}

impl CacheCheck {
    /// Judges a build in `mode` that ran `total_steps` steps, `cached_steps` of them from
    /// cache, with the cache ignored (`no_cache`) or not.
    pub fn of(mode: CacheMode, no_cache: bool, cached_steps: u32, total_steps: u32) -> CacheCheck {
        match mode {
            CacheMode::Cold if cached_steps == 0 => CacheCheck::Holds,
            CacheMode::Cold if !no_cache => CacheCheck::RedoWithoutCache,
            CacheMode::Cold => CacheCheck::Mismatch(format!(
                "a cold build took {cached_steps} of {total_steps} steps from cache even with the cache ignored"
            )),
            CacheMode::Warm if cached_steps >= total_steps => CacheCheck::Holds,
            CacheMode::Warm => CacheCheck::Mismatch(format!(
                "a warm build ran {} of {total_steps} steps instead of taking them from cache",
                total_steps - cached_steps
            )),
            // With nothing imported, a step from cache came from a record older than the run,
            // as in a cold build.
            CacheMode::CiCold if cached_steps == 0 => CacheCheck::Holds,
            CacheMode::CiCold if !no_cache => CacheCheck::RedoWithoutCache,
            CacheMode::CiCold => CacheCheck::Mismatch(format!(
                "a ci-cold build took {cached_steps} of {total_steps} steps from cache even with the cache ignored"
            )),
            // An edit may invalidate any number of steps, and what an import serves is what is
            // measured, so the count proves nothing here.
            CacheMode::Incremental | CacheMode::CiInline | CacheMode::CiStages => CacheCheck::Holds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mode_has_a_marker_of_its_own() {
        for (i, a) in CacheMode::ALL.into_iter().enumerate() {
            for b in CacheMode::ALL.into_iter().skip(i + 1) {
                assert_ne!(a.marker(), b.marker(), "{a} and {b} share a marker");
            }
        }
    }

    #[test]
    fn a_mode_s_index_is_its_place_in_all() {
        for (place, mode) in CacheMode::ALL.iter().enumerate() {
            assert_eq!(mode.index(), place, "{mode}");
        }
    }

    #[test]
    fn a_row_is_checked_for_the_cache_state_it_claims() {
        use CacheMode::*;
        assert_eq!(CacheCheck::of(Cold, false, 0, 5), CacheCheck::Holds);
        assert_eq!(
            CacheCheck::of(Cold, false, 2, 5),
            CacheCheck::RedoWithoutCache
        );
        assert!(
            matches!(CacheCheck::of(Cold, true, 2, 5), CacheCheck::Mismatch(m) if m.contains("2 of 5"))
        );
        assert_eq!(CacheCheck::of(Warm, false, 5, 5), CacheCheck::Holds);
        assert!(
            matches!(CacheCheck::of(Warm, false, 3, 5), CacheCheck::Mismatch(m) if m.contains("ran 2 of 5"))
        );
        assert_eq!(CacheCheck::of(Incremental, false, 0, 5), CacheCheck::Holds);
    }

    #[test]
    fn every_ci_mode_starts_from_a_fresh_machine_and_imports_what_its_name_says() {
        for mode in CacheMode::ALL.into_iter().filter(|m| m.is_ci()) {
            let preparation = Preparation::for_mode(mode, Builder::BuildKit);
            assert!(
                preparation.fresh_machine && preparation.prune_build_cache,
                "{mode}"
            );
            assert!(
                preparation.edit_sources && !preparation.needs_primed_cache,
                "{mode}"
            );
            assert_eq!(preparation.empties_cache_of, CacheScope::EveryVariant);
            assert_eq!(preparation.imports, mode.imports());
        }
        assert_eq!(CacheMode::CiCold.imports(), CacheImport::Nothing);
        assert!(!CacheImport::FinalImage.holds_stage(false));
        assert!(CacheImport::FinalImage.holds_stage(true));
        assert!(CacheImport::EveryStage.holds_stage(false));
        let names: Vec<&str> = CacheMode::ALL.iter().map(|m| m.as_str()).collect();
        assert_eq!(
            names,
            [
                "cold",
                "warm",
                "incremental",
                "ci-cold",
                "ci-inline",
                "ci-stages"
            ]
        );
        for mode in CacheMode::ALL {
            let json = serde_json::to_string(&mode).unwrap_or_default();
            assert_eq!(json, format!("\"{mode}\""));
            let parsed = <CacheMode as clap::ValueEnum>::from_str(mode.as_str(), false);
            assert_eq!(parsed, Ok(mode));
        }
    }

    #[test]
    fn only_cold_expects_no_cache_and_local_modes_have_every_stage_s_cache() {
        for mode in CacheMode::LOCAL {
            assert_eq!(mode.expects_cache(), mode != CacheMode::Cold, "{mode}");
            for is_final_stage in [false, true] {
                let expected = mode.expects_cache().then_some(true);
                assert_eq!(mode.imports_cache_of(is_final_stage), expected, "{mode}");
            }
        }
        // A CI build expects what it imported: nothing under ci-cold, the final stage only
        // under ci-inline, every stage under ci-stages.
        for is_final_stage in [false, true] {
            assert_eq!(
                CacheMode::CiCold.imports_cache_of(is_final_stage),
                Some(false)
            );
            assert_eq!(
                CacheMode::CiInline.imports_cache_of(is_final_stage),
                Some(is_final_stage)
            );
            assert_eq!(
                CacheMode::CiStages.imports_cache_of(is_final_stage),
                Some(true)
            );
            assert!(CacheMode::CiCold.expects_cache());
        }
    }

    #[test]
    fn a_cache_is_primed_by_a_build_and_emptied_as_the_mode_says() {
        let warm = Preparation::for_mode(CacheMode::Warm, Builder::BuildKit);
        let mut primed = PrimedCaches::new(2);
        assert!(primed.needs_prime(0, &warm) && primed.needs_prime(1, &warm));
        primed.set(0, true);
        primed.set(1, true);
        assert!(!primed.needs_prime(0, &warm));
        // A classic cold build empties its own variant's cache; a BuildKit prune everyone's.
        primed.prepared(0, &Preparation::for_mode(CacheMode::Cold, Builder::Classic));
        assert!(primed.needs_prime(0, &warm) && !primed.needs_prime(1, &warm));
        primed.prepared(
            0,
            &Preparation::for_mode(CacheMode::Cold, Builder::BuildKit),
        );
        assert!(primed.needs_prime(1, &warm));
        let cold = Preparation::for_mode(CacheMode::Cold, Builder::BuildKit);
        assert!(!primed.needs_prime(0, &cold), "a cold build needs no prime");
        primed.set(5, true); // no such variant: nothing happens
    }

    #[test]
    fn only_cold_empties_a_cache_and_only_a_buildkit_cold_run_empties_everyone_s() {
        for builder in [Builder::BuildKit, Builder::Classic] {
            for mode in CacheMode::LOCAL {
                let preparation = Preparation::for_mode(mode, builder);
                assert_eq!(
                    preparation.needs_primed_cache,
                    mode != CacheMode::Cold,
                    "{mode} {builder}"
                );
                assert_eq!(
                    preparation.empties_cache_of == CacheScope::Nothing,
                    mode != CacheMode::Cold
                );
                assert_eq!(preparation.edit_sources, mode == CacheMode::Incremental);
                assert!(!preparation.fresh_machine);
            }
        }
        let buildkit = Preparation::for_mode(CacheMode::Cold, Builder::BuildKit);
        assert!(buildkit.prune_build_cache && buildkit.no_cache);
        assert_eq!(buildkit.empties_cache_of, CacheScope::EveryVariant);
        let classic = Preparation::for_mode(CacheMode::Cold, Builder::Classic);
        assert!(!classic.prune_build_cache && classic.no_cache);
        assert_eq!(classic.empties_cache_of, CacheScope::ThisVariant);
    }
}

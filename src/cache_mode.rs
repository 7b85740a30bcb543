//! The three cache states a build is measured in.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::builder::Builder;

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

/// What a build measured in a cache mode needs before it starts. This is the one place that
/// says what each mode means; the plan and the runner both ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preparation {
    /// Empty the daemon's BuildKit build cache first.
    pub prune_build_cache: bool,
    /// Remove the images this invocation built for the variant first (the classic builder's
    /// cache lives in them; under BuildKit they are only clutter).
    pub remove_variant_images: bool,
    /// Ask the daemon to ignore its cache.
    pub no_cache: bool,
    /// Send the scenario's `[incremental] touch` files edited.
    pub edit_sources: bool,
    /// The variant's cache must hold a build made by this invocation, or one is made first.
    pub needs_primed_cache: bool,
    /// Whose cache the preparation empties.
    pub empties_cache_of: CacheScope,
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

impl Preparation {
    /// What a measured build in `mode` needs with `builder`.
    pub fn for_mode(mode: CacheMode, builder: Builder) -> Preparation {
        let nothing = Preparation {
            prune_build_cache: false,
            remove_variant_images: false,
            no_cache: false,
            edit_sources: false,
            needs_primed_cache: false,
            empties_cache_of: CacheScope::Nothing,
        };
        match (mode, builder) {
            (CacheMode::Cold, Builder::BuildKit) => Preparation {
                prune_build_cache: true,
                remove_variant_images: true,
                empties_cache_of: CacheScope::EveryVariant,
                ..nothing
            },
            // The classic cache lives in the image store: removing the variant's images and
            // building with nocache leaves every other variant's cache alone.
            (CacheMode::Cold, Builder::Classic) => Preparation {
                remove_variant_images: true,
                no_cache: true,
                empties_cache_of: CacheScope::ThisVariant,
                ..nothing
            },
            (CacheMode::Warm, Builder::BuildKit | Builder::Classic) => Preparation {
                needs_primed_cache: true,
                ..nothing
            },
            (CacheMode::Incremental, Builder::BuildKit | Builder::Classic) => Preparation {
                edit_sources: true,
                needs_primed_cache: true,
                ..nothing
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cold_empties_a_cache_and_only_a_buildkit_cold_run_empties_everyone_s() {
        for builder in [Builder::BuildKit, Builder::Classic] {
            for mode in CacheMode::ALL {
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
            }
        }
        let buildkit = Preparation::for_mode(CacheMode::Cold, Builder::BuildKit);
        assert!(buildkit.prune_build_cache && !buildkit.no_cache);
        assert_eq!(buildkit.empties_cache_of, CacheScope::EveryVariant);
        let classic = Preparation::for_mode(CacheMode::Cold, Builder::Classic);
        assert!(!classic.prune_build_cache && classic.no_cache);
        assert_eq!(classic.empties_cache_of, CacheScope::ThisVariant);
    }
}

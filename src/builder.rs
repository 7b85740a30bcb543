//! Which builder runs a build, and the one table of what each engine and builder can do.
//!
//! Every question of the form "can this builder do X" is a field of [`Capabilities`], answered
//! by one row below: code elsewhere asks the row and never compares a builder with a name, so a
//! new builder or engine is one more row.

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
    /// Podman's builder, which its Docker-compatible API runs for every build; a host's engine
    /// chooses it, never the command line.
    #[value(skip)]
    Buildah,
}

impl Builder {
    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        self.capabilities().name
    }

    /// What this builder can do.
    pub fn capabilities(self) -> &'static Capabilities {
        match self {
            Builder::BuildKit => &BUILDKIT,
            Builder::Classic => &CLASSIC,
            Builder::Buildah => &BUILDAH,
        }
    }
}

impl fmt::Display for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The program that serves the Docker API on a host.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// Docker's daemon: `--builder` chooses BuildKit or the classic builder.
    #[default]
    Docker,
    /// `podman system service`: every build is Buildah's.
    Podman,
}

impl EngineKind {
    /// Every engine stagebench drives.
    pub const ALL: [EngineKind; 2] = [EngineKind::Docker, EngineKind::Podman];

    /// What this engine is and does.
    pub fn row(self) -> &'static EngineRow {
        match self {
            EngineKind::Docker => &DOCKER,
            EngineKind::Podman => &PODMAN,
        }
    }

    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        self.row().name
    }

    /// Its name in a sentence.
    pub fn product_name(self) -> &'static str {
        self.row().product_name
    }

    /// The builder that runs this engine's builds when `requested` was asked for.
    pub fn builder(self, requested: Builder) -> Builder {
        self.row().only_builder.unwrap_or(requested)
    }

    /// The engine whose `/version` answer lists components with these names: the one that
    /// names itself among them, else Docker (whose daemon calls its component `Engine`).
    pub fn from_components<'a>(names: impl IntoIterator<Item = &'a str>) -> EngineKind {
        let names: Vec<&str> = names.into_iter().collect();
        EngineKind::ALL
            .into_iter()
            .find(|engine| {
                engine
                    .row()
                    .component
                    .is_some_and(|component| names.contains(&component))
            })
            .unwrap_or(EngineKind::Docker)
    }
}

/// What one engine is and does: the engine half of the capability table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineRow {
    /// The name used in files.
    pub name: &'static str,
    /// Its name in a sentence.
    pub product_name: &'static str,
    /// The builder of every build, when the engine chooses it; `None` when `--builder` does.
    pub only_builder: Option<Builder>,
    /// The name it gives itself among `/version`'s components, which tells it apart; `None`
    /// for Docker, the engine assumed when none other names itself.
    pub component: Option<&'static str>,
    /// Whether it refuses to remove an image that other images are built on (Docker answers
    /// 409). One that removes it anyway is asked first, so that the run never takes an image's
    /// history from under someone else's.
    pub refuses_removing_a_parent: bool,
}

const DOCKER: EngineRow = EngineRow {
    name: "docker",
    product_name: "Docker",
    only_builder: None,
    component: None,
    refuses_removing_a_parent: true,
};

// `podman system service`: its Docker-compatible API runs every build through Buildah.
const PODMAN: EngineRow = EngineRow {
    name: "podman",
    product_name: "Podman",
    only_builder: Some(Builder::Buildah),
    component: Some("Podman Engine"),
    refuses_removing_a_parent: false,
};

impl fmt::Display for EngineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a build's steps are printed into the stream's text, for the builders that print them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StepLines {
    /// Docker's classic builder: `Step 2/5 : RUN ...`, ` ---> Using cache`, ` ---> <id>`.
    /// (BuildKit reports structured vertices instead and prints no step lines.)
    #[default]
    Docker,
    /// Buildah: `[1/2] STEP 2/3: RUN ...`, `--> Using cache <id>`, `--> <id>`, `COMMIT <tag>`.
    Buildah,
}

/// How a cold build starts with nothing of its scenario cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdBy {
    /// The build cache is its own store: prune this run's records of it (a daemon-wide store,
    /// so every variant's cache goes) and remove the variant's images.
    PruningBuildCache,
    /// The cache lives in the image store: remove the variant's images and build with the
    /// cache ignored, which leaves every other variant's cache alone.
    IgnoringCache,
    /// The cache lives in the image store, and a later build takes the oldest image that
    /// matches a step, whichever variant made it: a warm build after a cold one would wander
    /// into another variant's images where their steps coincide. So every image the run built
    /// for the scenario goes, and the build ignores the cache.
    RemovingRunImages,
}

/// What one builder of one engine can do: the answers the plan, the runner, `config`'s checks
/// and the report's wording read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The name used on the command line and in files.
    pub name: &'static str,
    /// Whether its builds go through a BuildKit session (the API's `version=2`).
    pub buildkit_session: bool,
    /// Whether it mounts `--secret`s into `RUN` steps.
    pub mounts_secrets: bool,
    /// Whether its build cache can be listed record by record, so that a run can tell its own
    /// records from everyone else's and prune only those.
    pub lists_build_cache: bool,
    /// Whether it imports a cache from a registry image (`cache_from` of an inline cache), which
    /// the `ci-*` cache modes need.
    pub imports_registry_cache: bool,
    /// Whether independent stages of one Dockerfile run at the same time.
    pub runs_stages_in_parallel: bool,
    /// Whether a build leaves containers of its own (one per `RUN` step) that a build cut short
    /// may leave behind.
    pub leaves_build_containers: bool,
    /// How its steps appear in the stream's text.
    pub step_lines: StepLines,
    /// The builder's own step that writes the final image, as `steps.csv` names it; `None`
    /// when it records none.
    pub final_image_step: Option<&'static str>,
    /// How a cold build is reached.
    pub cold: ColdBy,
    /// What "cold" means for it, in a report's words.
    pub cold_means: &'static str,
}

const BUILDKIT: Capabilities = Capabilities {
    name: "buildkit",
    buildkit_session: true,
    mounts_secrets: true,
    lists_build_cache: true,
    imports_registry_cache: true,
    runs_stages_in_parallel: true,
    leaves_build_containers: false,
    step_lines: StepLines::Docker,
    final_image_step: Some("exporting to image"),
    cold: ColdBy::PruningBuildCache,
    cold_means: "the build cache pruned and the variant's earlier images removed",
};

const CLASSIC: Capabilities = Capabilities {
    name: "classic",
    buildkit_session: false,
    mounts_secrets: false,
    lists_build_cache: false,
    imports_registry_cache: false,
    runs_stages_in_parallel: false,
    leaves_build_containers: true,
    step_lines: StepLines::Docker,
    final_image_step: None,
    cold: ColdBy::IgnoringCache,
    cold_means: "the variant's earlier images removed and the build run with no cache",
};

// Podman's Docker-compatible build endpoint: no BuildKit session (it ignores `version=2`), its
// own `secrets` parameter instead of session secrets, `cachefrom` meaning a layer repository
// rather than an image, stages one after another unless asked for `jobs`, no build cache apart
// from the image store, and with `forcerm` no container left after any build.
const BUILDAH: Capabilities = Capabilities {
    name: "buildah",
    buildkit_session: false,
    mounts_secrets: false,
    lists_build_cache: false,
    imports_registry_cache: false,
    runs_stages_in_parallel: false,
    leaves_build_containers: false,
    step_lines: StepLines::Buildah,
    final_image_step: Some("COMMIT"),
    cold: ColdBy::RemovingRunImages,
    cold_means: "every image the run built for the scenario removed and the build run with no cache",
};

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    const EVERY_BUILDER: [Builder; 3] = [Builder::BuildKit, Builder::Classic, Builder::Buildah];

    #[test]
    fn every_builder_s_row_carries_the_name_the_command_line_and_the_files_take() {
        for builder in EVERY_BUILDER {
            let in_files = serde_json::to_string(&builder).map(|s| s.trim_matches('"').to_string());
            assert_eq!(in_files.ok().as_deref(), Some(builder.capabilities().name));
            match builder.to_possible_value() {
                Some(flag) => assert_eq!(flag.get_name(), builder.capabilities().name),
                // Only an engine chooses a builder that the command line does not offer.
                None => assert_eq!(EngineKind::Podman.builder(Builder::BuildKit), builder),
            }
        }
    }

    #[test]
    fn an_engine_is_told_by_the_component_that_names_it_and_docker_is_the_rest() {
        assert_eq!(
            EngineKind::from_components(["Podman Engine", "Conmon", "OCI Runtime (runc)"]),
            EngineKind::Podman
        );
        assert_eq!(
            EngineKind::from_components(["Engine", "containerd", "runc"]),
            EngineKind::Docker
        );
        assert_eq!(EngineKind::from_components([]), EngineKind::Docker);
        for engine in EngineKind::ALL {
            let in_files = serde_json::to_string(&engine).map(|s| s.trim_matches('"').to_string());
            assert_eq!(in_files.ok().as_deref(), Some(engine.as_str()));
        }
    }

    #[test]
    fn a_builder_that_mounts_secrets_or_imports_a_registry_cache_has_a_session() {
        // Both travel through the session: a row claiming either without one would be refused
        // by the daemon at the first build instead of by `config` before the run.
        for builder in EVERY_BUILDER {
            let row = builder.capabilities();
            if row.mounts_secrets || row.imports_registry_cache {
                assert!(row.buildkit_session, "{}", row.name);
            }
        }
    }
}

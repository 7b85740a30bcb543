//! `scenario.toml`: the optional file that tunes a scenario directory.
//!
//! Unknown keys are refused (`deny_unknown_fields`) so that a typo such as `buid_args` is reported
//! with its line instead of silently changing nothing in a benchmark someone will publish.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

/// Build arguments, ordered so that files and reports list them the same way every time.
pub type BuildArgs = BTreeMap<String, String>;

/// The whole `scenario.toml`; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Scenario name used in tags and reports; defaults to the directory name.
    pub name: Option<String>,
    /// One sentence a report can show under the scenario's name.
    pub description: Option<String>,
    /// Variant every other variant is compared with; defaults to `single` when it exists.
    pub baseline: Option<String>,
    /// Build context relative to the scenario directory (up to the enclosing git repository's root); defaults to the directory itself.
    pub context: Option<Spanned<PathBuf>>,
    /// Build arguments passed to every variant and prebuild.
    #[serde(default)]
    pub build_args: BuildArgs,
    /// Names of build arguments whose values are secret: used for builds, never recorded or
    /// printed.
    #[serde(default)]
    pub secret_build_args: Vec<String>,
    /// Overrides or additions to the variants found as `<variant>.Dockerfile`.
    #[serde(default, rename = "variant")]
    pub variants: Vec<VariantEntry>,
    /// Images built once, untimed, before any variant, in the order given.
    #[serde(default, rename = "prebuild")]
    pub prebuilds: Vec<PrebuildEntry>,
    /// What an incremental run changes.
    pub incremental: Option<IncrementalEntry>,
    /// Named sets of build-argument overrides, chosen with `--profile NAME`.
    #[serde(default, rename = "profile")]
    pub profiles: BTreeMap<String, ProfileEntry>,
}

/// A `[[variant]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantEntry {
    /// Variant name; matches the stem of `<name>.Dockerfile` when that file exists.
    pub name: String,
    /// Dockerfile relative to the scenario directory; defaults to `<name>.Dockerfile`.
    pub dockerfile: Option<Spanned<PathBuf>>,
    /// Stage to build (`--target`); defaults to the last stage.
    pub target: Option<String>,
    /// Build arguments for this variant only.
    #[serde(default)]
    pub build_args: BuildArgs,
}

/// A `[[prebuild]]` entry: an image prepared ahead of time, as a team would publish it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrebuildEntry {
    /// Tag the variants refer to in `FROM` or `COPY --from`.
    pub tag: String,
    /// Dockerfile relative to the scenario directory.
    pub dockerfile: Spanned<PathBuf>,
    /// Stage to build (`--target`); defaults to the last stage. Lets a prebuild publish a stage
    /// of a variant's own Dockerfile, so both build exactly the same thing.
    pub target: Option<String>,
    /// Build context relative to the scenario directory; defaults to the scenario's context.
    pub context: Option<Spanned<PathBuf>>,
    /// Build arguments for this prebuild only.
    #[serde(default)]
    pub build_args: BuildArgs,
}

/// The `[incremental]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncrementalEntry {
    /// Files, relative to the scenario directory, given fresh content before each incremental run.
    #[serde(default)]
    pub touch: Vec<Spanned<PathBuf>>,
    /// How they are edited: `comment` (default) or `token`.
    #[serde(default)]
    pub edit: crate::touch::EditStyle,
}

/// A `[profile.NAME]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileEntry {
    /// Build arguments that override the scenario's and the variants' own.
    #[serde(default)]
    pub build_args: BuildArgs,
    /// Timed runs per variant and cache mode when this profile is chosen and `--runs` is not
    /// given; read as a signed integer so that a negative value gets the same sentence as 0.
    pub runs: Option<Spanned<i64>>,
}

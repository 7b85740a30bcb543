//! Scenarios: a directory of paired Dockerfiles, an app, and an optional `scenario.toml`.
//!
//! Loading checks everything that can be checked without a daemon, so that a typo is reported
//! before the first (possibly ten-minute) build rather than after it.

mod ad_hoc;
mod inputs;
mod manifest;
mod paths;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub use inputs::{ContextSize, InputScan};
pub use manifest::BuildArgs;
use manifest::Manifest;
use paths::{Bounds, Expect, Manifested};

use crate::error::ScenarioError;
use crate::names::NameKind;
pub use crate::recorded_scenario::{AdHoc, ScenarioInputs};
use crate::text_file::{TextFileError, read_text};

/// The file name that marks a Dockerfile as a variant: `<variant>.Dockerfile`.
pub const VARIANT_SUFFIX: &str = ".Dockerfile";
/// The optional configuration file inside a scenario directory.
pub const MANIFEST_FILE: &str = "scenario.toml";

/// A loaded, checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name used in reports and image tags.
    pub name: String,
    /// The directory as the user named it (for messages).
    pub dir: PathBuf,
    /// One sentence from `scenario.toml`, if any.
    pub description: Option<String>,
    /// Variant the others are compared with.
    pub baseline: Option<String>,
    /// Absolute build context directory.
    pub context_dir: PathBuf,
    /// Build arguments for every variant and prebuild.
    pub build_args: BuildArgs,
    /// Names of build arguments whose values are never recorded or printed.
    pub secret_build_args: Vec<String>,
    /// Variants: the baseline first, then the others in name order.
    pub variants: Vec<Variant>,
    /// Images built once before the variants, in order.
    pub prebuilds: Vec<Prebuild>,
    /// Files (relative to the scenario directory) changed before each incremental run.
    pub touch: Vec<PathBuf>,
    /// How those files are edited.
    pub edit: crate::touch::EditStyle,
    /// `[profile.NAME]` build-argument overrides.
    pub profiles: BTreeMap<String, BuildArgs>,
    /// `runs = N` of the `[profile.NAME]` tables that set it, checked to be from 1 to
    /// [`MAX_RUNS`](crate::cli::MAX_RUNS).
    pub profile_runs: BTreeMap<String, u32>,
    /// The `--dockerfile` flags it was made from, when it has no directory of its own.
    pub ad_hoc: Option<AdHoc>,
    /// Build contexts (the scenario's and its prebuilds') that reach above the scenario
    /// directory; a run accepts them only under [`Scenario::check_context_reach`].
    pub contexts_above: Vec<ContextAbove>,
}

/// A build context that reaches above its scenario's directory (`context = ".."`): everything
/// under it goes to the daemon, up to a whole repository, which may be a home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextAbove {
    /// The scenario.toml that says so.
    pub manifest: PathBuf,
    /// Its line.
    pub line: usize,
    /// The key, as "context" or "`context` of prebuild `t`", and the value as written.
    pub key: String,
    /// The context directory, canonical.
    pub dir: PathBuf,
    /// The root of the git repository it stays within, canonical.
    pub repository: PathBuf,
}

/// One Dockerfile of a scenario, measured against its siblings.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Name, the file stem of `<name>.Dockerfile` unless `scenario.toml` says otherwise.
    pub name: String,
    /// Absolute path of the Dockerfile.
    pub dockerfile: PathBuf,
    /// Stage to build; `None` builds the last one.
    pub target: Option<String>,
    /// This variant's own build arguments.
    pub build_args: BuildArgs,
}

/// An image prepared ahead of time, outside the measurement.
#[derive(Debug, Clone)]
pub struct Prebuild {
    /// Tag the variants use.
    pub tag: String,
    /// Absolute path of its Dockerfile.
    pub dockerfile: PathBuf,
    /// Absolute build context directory.
    pub context_dir: PathBuf,
    /// Stage to build; the last one when absent.
    pub target: Option<String>,
    /// Its own build arguments.
    pub build_args: BuildArgs,
}

impl Scenario {
    /// Loads and checks the scenario in `dir`.
    pub fn load(dir: &Path) -> Result<Scenario, ScenarioError> {
        let root = fs::canonicalize(dir)
            .ok()
            .filter(|p| p.is_dir())
            .ok_or_else(|| ScenarioError::NotADirectory(dir.to_path_buf()))?;
        let manifest_path = dir.join(MANIFEST_FILE);
        let (manifest, manifest_text) = read_manifest(&manifest_path)?;
        let manifested = Manifested {
            path: &manifest_path,
            text: &manifest_text,
        };
        let bounds = Bounds::of(&root);

        let name = match &manifest.name {
            Some(name) => {
                check_name(name, NameKind::Scenario, &manifest_path)?;
                name.clone()
            }
            None => name_from_dir(&root),
        };

        let mut contexts_above = Vec::new();
        let mut note_above = |key: String, value: &toml::Spanned<PathBuf>, dir: &Path| {
            if !dir.starts_with(&root) {
                contexts_above.push(ContextAbove {
                    manifest: manifest_path.clone(),
                    line: manifested.line_of(value.span().start),
                    key: format!("{key} `{}`", value.get_ref().display()),
                    dir: dir.to_path_buf(),
                    repository: bounds.limit.clone(),
                });
            }
        };
        let context_dir = match &manifest.context {
            Some(context) => {
                let dir = bounds.resolve("context", context, &manifested, Expect::Dir)?;
                note_above("context".to_string(), context, &dir);
                dir
            }
            None => root.clone(),
        };

        let mut variants = discover_variant_files(&bounds)?;
        for entry in &manifest.variants {
            check_name(&entry.name, NameKind::Variant, &manifest_path)?;
            let dockerfile = match &entry.dockerfile {
                Some(path) => bounds.resolve(
                    &format!("`dockerfile` of variant `{}`", entry.name),
                    path,
                    &manifested,
                    Expect::File,
                )?,
                None => {
                    let path = root.join(format!("{}{VARIANT_SUFFIX}", entry.name));
                    // A link is read through its checked target, never followed when opened.
                    if fs::symlink_metadata(&path).is_ok() {
                        bounds.check_found(&path)?
                    } else {
                        path
                    }
                }
            };
            if !dockerfile.is_file() {
                return Err(ScenarioError::Invalid {
                    file: manifest_path.clone(),
                    message: format!(
                        "variant `{}` names Dockerfile `{}`, which does not exist",
                        entry.name,
                        dockerfile.display()
                    ),
                });
            }
            let variant = Variant {
                name: entry.name.clone(),
                dockerfile,
                target: entry.target.clone(),
                build_args: entry.build_args.clone(),
            };
            match variants.iter_mut().find(|v| v.name == entry.name) {
                Some(existing) => *existing = variant,
                None => variants.push(variant),
            }
        }
        variants.sort_by(|a, b| a.name.cmp(&b.name));
        if variants.is_empty() {
            return Err(ScenarioError::NoVariants(dir.to_path_buf()));
        }
        let mut tags: Vec<String> = variants
            .iter()
            .map(|v| v.name.to_ascii_lowercase())
            .collect();
        tags.sort();
        if let Some(pair) = tags.windows(2).find(|w| w[0] == w[1]) {
            return Err(ScenarioError::Invalid {
                file: dir.to_path_buf(),
                message: format!(
                    "two variants are both named `{}` once lower-cased, which image tags require",
                    pair[0]
                ),
            });
        }

        let baseline = match &manifest.baseline {
            Some(baseline) => {
                if !variants.iter().any(|v| &v.name == baseline) {
                    return Err(ScenarioError::Invalid {
                        file: manifest_path.clone(),
                        message: format!(
                            "baseline `{baseline}` is not a variant (variants: {})",
                            names(&variants)
                        ),
                    });
                }
                Some(baseline.clone())
            }
            None => variants
                .iter()
                .find(|v| v.name == "single")
                .map(|v| v.name.clone()),
        };

        // The baseline is built and listed first, the way a comparison is read.
        if let Some(baseline) = &baseline {
            variants.sort_by_key(|v| &v.name != baseline);
        }

        let mut prebuilds = Vec::new();
        for entry in &manifest.prebuilds {
            let dockerfile = bounds.resolve(
                &format!("`dockerfile` of prebuild `{}`", entry.tag),
                &entry.dockerfile,
                &manifested,
                Expect::File,
            )?;
            let context_dir = match &entry.context {
                Some(context) => {
                    let key = format!("`context` of prebuild `{}`", entry.tag);
                    let dir = bounds.resolve(&key, context, &manifested, Expect::Dir)?;
                    note_above(key, context, &dir);
                    dir
                }
                None => context_dir.clone(),
            };
            if entry.tag.trim().is_empty() || entry.tag.chars().any(char::is_whitespace) {
                return Err(ScenarioError::Invalid {
                    file: manifest_path.clone(),
                    message: format!("prebuild tag `{}` is not a valid image tag", entry.tag),
                });
            }
            prebuilds.push(Prebuild {
                tag: entry.tag.clone(),
                dockerfile,
                context_dir,
                target: entry.target.clone(),
                build_args: entry.build_args.clone(),
            });
        }

        let touch_entries = manifest
            .incremental
            .as_ref()
            .map(|i| i.touch.as_slice())
            .unwrap_or_default();
        let edit = manifest
            .incremental
            .as_ref()
            .map(|i| i.edit)
            .unwrap_or_default();
        let mut touch = Vec::new();
        for file in touch_entries {
            let path = bounds.resolve("[incremental] touch", file, &manifested, Expect::File)?;
            let file = file.get_ref();
            touch.push(file.clone());
            // A token edit of a file without the marker would send it unchanged: caught here,
            // before anything is built.
            let has_marker = || {
                crate::text_file::read_no_follow(&path)
                    .is_ok_and(|content| crate::touch::has_token_marker(&content))
            };
            if edit == crate::touch::EditStyle::Token && !has_marker() {
                return Err(ScenarioError::Invalid {
                    file: manifest_path.clone(),
                    message: format!(
                        "[incremental] edit = \"token\" needs `{}` in `{}`, which has none",
                        crate::touch::TOKEN_MARKER,
                        file.display()
                    ),
                });
            }
        }

        // Every Dockerfile is read (for base images, prebuilds and analysis) before the daemon
        // sees it: a hostile one is refused here, once, with its file named.
        let dockerfiles = variants
            .iter()
            .map(|v| &v.dockerfile)
            .chain(prebuilds.iter().map(|p| &p.dockerfile));
        for dockerfile in dockerfiles {
            check_text(dockerfile)?;
        }

        let mut profile_runs = BTreeMap::new();
        for (profile, entry) in &manifest.profiles {
            if let Some(runs) = &entry.runs {
                let value = *runs.get_ref();
                let checked = u32::try_from(value)
                    .ok()
                    .filter(|r| (1..=crate::cli::MAX_RUNS).contains(r));
                let Some(checked) = checked else {
                    return Err(ScenarioError::Manifest {
                        file: manifest_path.clone(),
                        line: Some(manifested.line_of(runs.span().start)),
                        message: format!(
                            "[profile.{profile}] runs = {value} is outside 1 to {}",
                            crate::cli::MAX_RUNS
                        ),
                    });
                };
                profile_runs.insert(profile.clone(), checked);
            }
        }

        Ok(Scenario {
            name,
            dir: dir.to_path_buf(),
            description: manifest.description,
            baseline,
            context_dir,
            build_args: manifest.build_args,
            secret_build_args: manifest.secret_build_args,
            variants,
            prebuilds,
            touch,
            edit,
            profiles: manifest
                .profiles
                .into_iter()
                .map(|(name, profile)| (name, profile.build_args))
                .collect(),
            profile_runs,
            ad_hoc: None,
            contexts_above,
        })
    }

    /// Refuses a build context above the scenario directory unless `working_dir` (canonical)
    /// is inside the repository it stays within, or `allowed` (`--allow-context-above`). The
    /// limit of such a context is the nearest git root, which for a scenario kept in a home
    /// directory managed by git is the home directory, `.ssh` included: whoever runs from inside
    /// the repository knows what it holds, whoever runs from elsewhere may not.
    pub fn check_context_reach(
        &self,
        working_dir: &Path,
        allowed: bool,
    ) -> Result<(), ScenarioError> {
        match self
            .contexts_above
            .iter()
            .find(|above| !allowed && !working_dir.starts_with(&above.repository))
        {
            Some(above) => Err(ScenarioError::Manifest {
                file: above.manifest.clone(),
                line: Some(above.line),
                message: format!(
                    "{} reaches above the scenario directory to {}, and everything under it is sent to the daemon; stagebench accepts that only when run from inside the repository {}, or with --allow-context-above",
                    above.key,
                    above.dir.display(),
                    above.repository.display()
                ),
            }),
            None => Ok(()),
        }
    }

    /// The image repository this scenario's variants are tagged into (see
    /// [`image_repository_for`]).
    pub fn image_repository(&self) -> String {
        image_repository_for(&self.name)
    }

    /// The tag a run gives `variant`'s image: `stagebench/<scenario>:<variant>-<run_id>`, so
    /// that two runs on one daemon never move each other's tags (see [`image_tag_for`]).
    pub fn variant_image_tag(&self, variant: &str, run_id: &str) -> String {
        format!(
            "{}:{}",
            self.image_repository(),
            image_tag_for(&format!("{variant}-{run_id}"))
        )
    }

    /// Absolute path of the scenario directory.
    pub fn root(&self) -> PathBuf {
        fs::canonicalize(&self.dir).unwrap_or_else(|_| self.dir.clone())
    }

    /// Looks up a profile's overrides, with a message naming the file when it is missing.
    pub fn profile(&self, profile: &str) -> Result<&BuildArgs, ScenarioError> {
        self.profiles.get(profile).ok_or_else(|| {
            let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
            ScenarioError::Invalid {
                file: self.dir.join(MANIFEST_FILE),
                message: format!(
                    "has no [profile.{profile}] (profiles: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ),
            }
        })
    }

    /// Build arguments in order of precedence: scenario, variant or prebuild, profile, command line.
    pub fn merged_build_args(
        &self,
        own: &BuildArgs,
        profile: Option<&BuildArgs>,
        command_line: &BuildArgs,
    ) -> BuildArgs {
        let mut merged = self.build_args.clone();
        for layer in [Some(own), profile, Some(command_line)]
            .into_iter()
            .flatten()
        {
            merged.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        merged
    }
}

/// The longest tag Docker accepts.
const TAG_MAX_CHARS: usize = 128;

/// The namespace of every image repository stagebench tags into: a scenario's
/// ([`image_repository_for`]), and the prebuild tags a run may move.
pub const IMAGE_NAMESPACE: &str = "stagebench/";

/// `stagebench/<name>`, with the name lower-cased and reduced to what Docker allows in a
/// repository path ([`repository_component_for`]).
pub fn image_repository_for(name: &str) -> String {
    format!("{IMAGE_NAMESPACE}{}", repository_component_for(name))
}

/// `name` as one component of a repository path: lower-cased and reduced to what Docker allows
/// there (letters, digits and single separators). When that changed the name (`Go_Service`
/// becomes `go-service`), `_` and the first 8 hex digits of the SHA-256 of the exact name are
/// appended (`go-service_1a2b3c4d`), so that two names never share a component: a name kept as
/// it is has no `_`, and two changed names differ in their hash. Local image repositories
/// ([`image_repository_for`]) and registry paths (`crate::registry::Registry::repository`) use
/// the same rule, so a scenario has the same path component in both.
pub fn repository_component_for(name: &str) -> String {
    let mut component = String::new();
    for c in name.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            component.push(c);
        } else if !component.is_empty() && !component.ends_with('-') {
            component.push('-');
        }
    }
    let component = match component.trim_end_matches('-') {
        "" => "scenario",
        kept => kept,
    };
    if component == name {
        component.to_string()
    } else {
        format!("{component}_{}", short_hash(name))
    }
}

/// `tag` as Docker accepts it: unchanged when it fits in 128 characters, else cut with `-` and
/// 8 hex digits of its SHA-256 appended, so that two long tags still differ.
pub fn image_tag_for(tag: &str) -> String {
    if tag.len() <= TAG_MAX_CHARS {
        return tag.to_string();
    }
    // Tags are ASCII (scenario and variant names are checked to be).
    let kept: String = tag.chars().take(TAG_MAX_CHARS - 9).collect();
    format!("{kept}-{}", short_hash(tag))
}

/// The first 8 hex digits of the SHA-256 of `text`.
fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A zero-config scenario is named after its directory, made fit for tags and file names.
fn name_from_dir(root: &Path) -> String {
    let raw = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(crate::names::MAX_NAME_CHARS)
        .collect();
    if cleaned.is_empty() {
        "scenario".to_string()
    } else {
        cleaned
    }
}

/// Finds scenarios under `root`: `root` itself when it is one, else its immediate subdirectories
/// that hold a `<variant>.Dockerfile` or `scenario.toml`, in name order.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    if !root.is_dir() {
        return Err(ScenarioError::NotADirectory(root.to_path_buf()));
    }
    if looks_like_scenario(root) {
        return Ok(vec![root.to_path_buf()]);
    }
    let entries = fs::read_dir(root).map_err(|source| ScenarioError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && looks_like_scenario(p))
        .collect();
    found.sort();
    Ok(found)
}

fn looks_like_scenario(dir: &Path) -> bool {
    dir.join(MANIFEST_FILE).is_file()
        || fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| variant_name(&e.path()).is_some())
        })
}

fn variant_name(path: &Path) -> Option<String> {
    if !path.is_file() {
        return None;
    }
    let file_name = path.file_name()?.to_str()?;
    let stem = file_name.strip_suffix(VARIANT_SUFFIX)?;
    (!stem.is_empty()).then(|| stem.to_string())
}

fn discover_variant_files(bounds: &Bounds) -> Result<Vec<Variant>, ScenarioError> {
    let root = &bounds.scenario_root;
    let entries = fs::read_dir(root).map_err(|source| ScenarioError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut variants = Vec::new();
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if let Some(name) = variant_name(&path) {
            check_name(&name, NameKind::Variant, &path)?;
            // A link inside the limit is read through its checked target, which is never a
            // link itself, so the file is opened without following one.
            let dockerfile = bounds.check_found(&path)?;
            variants.push(Variant {
                name,
                dockerfile,
                target: None,
                build_args: BuildArgs::new(),
            });
        }
    }
    Ok(variants)
}

fn read_manifest(path: &Path) -> Result<(Manifest, String), ScenarioError> {
    let text = match read_text(path) {
        Ok(text) => text,
        Err(TextFileError::Missing) => return Ok((Manifest::default(), String::new())),
        Err(error) => {
            return Err(ScenarioError::Invalid {
                file: path.to_path_buf(),
                message: error.to_string(),
            });
        }
    };
    let manifest = toml::from_str(&text).map_err(|error| {
        let line = error
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        ScenarioError::Manifest {
            file: path.to_path_buf(),
            line,
            message: error.message().trim().to_string(),
        }
    })?;
    Ok((manifest, text))
}

/// Refuses a file that is not usable text (too large, binary, a FIFO, not UTF-8).
fn check_text(path: &Path) -> Result<(), ScenarioError> {
    read_text(path)
        .map(|_| ())
        .map_err(|error| ScenarioError::Invalid {
            file: path.to_path_buf(),
            message: error.to_string(),
        })
}

/// Names end up in image tags and file names, so they are kept to what both accept: the rule
/// [`NameKind`] also applies to every name read back from a results folder.
fn check_name(name: &str, kind: NameKind, file: &Path) -> Result<(), ScenarioError> {
    kind.check(name).map_err(|message| ScenarioError::Invalid {
        file: file.to_path_buf(),
        message,
    })
}

fn names(variants: &[Variant]) -> String {
    variants
        .iter()
        .map(|v| v.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;

//! `meta.json`: everything about the circumstances of a run that a reader needs to trust or
//! reproduce its numbers. Written when the run starts and rewritten as it learns more, so a run
//! that dies still leaves its context next to its results.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::engine::DaemonInfo;
use crate::measurement::Seconds;

/// File name of the run's metadata inside a results folder.
pub const META_FILE: &str = "meta.json";

/// Version of the `meta.json` layout; raised when a field changes meaning or disappears.
pub const META_SCHEMA_VERSION: u32 = 1;

/// The whole `meta.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    /// Layout version of this file.
    pub schema_version: u32,
    /// Version of stagebench that measured.
    pub stagebench_version: String,
    /// The command line as typed.
    pub command_line: Vec<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the run ended; absent while it runs or when it died.
    pub ended_at: Option<String>,
    /// Whether the user interrupted the run.
    pub interrupted: bool,
    /// Builder used for every build.
    pub builder: Builder,
    /// `--profile`, if any.
    pub profile: Option<String>,
    /// Timed runs per variant and cache mode.
    pub runs: u32,
    /// Warmup runs per variant and cache mode.
    pub warmup: u32,
    /// Cache modes requested.
    pub cache_modes: Vec<CacheMode>,
    /// `--build-arg` values from the command line.
    pub command_line_build_args: BTreeMap<String, String>,
    /// `--timeout`, if any.
    pub timeout_seconds: Option<Seconds>,
    /// The daemon that built.
    pub daemon: DaemonInfo,
    /// The machine stagebench ran on (the daemon's may differ with a remote `DOCKER_HOST`).
    pub client_host: HostInfo,
    /// One entry per scenario in this folder.
    pub scenarios: Vec<ScenarioMeta>,
}

/// The machine stagebench itself ran on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostInfo {
    /// `PRETTY_NAME` from os-release.
    pub operating_system: String,
    /// CPUs available to stagebench.
    pub cpus: usize,
    /// Total memory.
    pub memory_bytes: u64,
}

/// What was prepared and measured for one scenario.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScenarioMeta {
    /// Scenario name.
    pub name: String,
    /// Directory as given.
    pub dir: String,
    /// Description from `scenario.toml`.
    pub description: Option<String>,
    /// Baseline variant.
    pub baseline: Option<String>,
    /// Variants measured.
    pub variants: Vec<VariantMeta>,
    /// Files changed for incremental runs.
    pub touched_files: Vec<String>,
    /// Images the Dockerfiles start from, as found after the prepare phase.
    pub base_images: Vec<BaseImageMeta>,
    /// Time spent making base images present; never counted as build time.
    pub prepare_seconds: Seconds,
    /// Images built once before the variants.
    pub prebuilds: Vec<PrebuildMeta>,
    /// Sentences about what was skipped.
    pub notes: Vec<String>,
}

/// A measured variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantMeta {
    /// Variant name.
    pub name: String,
    /// Dockerfile relative to the scenario directory.
    pub dockerfile: String,
    /// Target stage, if any.
    pub target: Option<String>,
    /// Final build arguments after every override.
    pub build_args: BTreeMap<String, String>,
    /// Tag of the image left behind.
    pub image_tag: String,
}

/// A base image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseImageMeta {
    /// Name as written in the Dockerfile.
    pub name: String,
    /// Image ID.
    pub id: String,
    /// Registry digests (empty for images made locally).
    pub repo_digests: Vec<String>,
    /// Whether the prepare phase pulled it.
    pub pulled: bool,
}

/// A prebuilt image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PrebuildMeta {
    /// Its tag.
    pub tag: String,
    /// Wall time of its build (with cache), never counted as a variant's build time.
    pub build_seconds: Seconds,
    /// Image ID; empty when the build failed.
    pub image_id: String,
    /// Image size; absent when the build failed.
    pub image_bytes: Option<u64>,
    /// The daemon's message when the build failed.
    pub error: String,
}

impl RunMeta {
    /// Writes the file through a temporary name so a reader never sees half of it.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let partial = dir.join(format!("{META_FILE}.partial"));
        std::fs::write(&partial, text + "\n")?;
        std::fs::rename(partial, dir.join(META_FILE))
    }

    /// Reads a `meta.json`.
    pub fn read(dir: &Path) -> Result<RunMeta, String> {
        let path = dir.join(META_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }
}

impl HostInfo {
    /// Reads this machine's facts; unknown values are left empty rather than failing a run.
    pub fn current() -> HostInfo {
        let os_release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
        let operating_system = os_release
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_else(|| std::env::consts::OS.to_string());
        let memory_bytes = std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024);
        HostInfo {
            operating_system,
            cpus: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_bytes,
        }
    }
}

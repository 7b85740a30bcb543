//! `meta.json`: everything about the circumstances of a run that a reader needs to trust or
//! reproduce its numbers, and everything `--resume` needs to continue it. Written when the run
//! starts and rewritten as it learns more, so a run that dies still leaves its context next to
//! its results.
//!
//! Schema 2 (this one) holds one environment per Docker host, every invocation that wrote into
//! the folder, the settings to resume with and a content hash of each scenario. Schema-1 files
//! (one daemon, one invocation) are still read: they are upgraded in memory.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::daemon_facts::DaemonFacts;
use crate::host_name::host_name_for_url;
pub use crate::recorded_scenario::ScenarioInputs;
pub use crate::run_options::{DEFAULT_NOISE_THRESHOLD, HostSpec, RecordedSettings, RunOptions};
use crate::run_options::{default_noise_threshold, prune_mode_before_the_flag};
use crate::seconds::Seconds;

/// File name of the run's metadata inside a results folder.
pub const META_FILE: &str = "meta.json";

/// Version of the `meta.json` layout; raised when a field changes meaning or disappears.
pub const META_SCHEMA_VERSION: u32 = 2;

/// The whole `meta.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    /// Layout version of this file.
    pub schema_version: u32,
    /// Version of stagebench that wrote the file last.
    pub stagebench_version: String,
    /// The settings as resolved when the run started; `--resume` continues with exactly these.
    pub settings: RecordedSettings,
    /// Every invocation that wrote rows into this folder, in order (a resumed run adds one).
    pub invocations: Vec<Invocation>,
    /// One environment fingerprint per Docker host that built something here.
    pub hosts: Vec<HostEnvironment>,
    /// The machine stagebench ran on (a daemon's may differ with a remote endpoint).
    pub client_host: HostInfo,
    /// One entry per scenario and host.
    pub scenarios: Vec<ScenarioMeta>,
    /// The folders `stagebench merge` made this one from; empty for a folder a run wrote.
    #[serde(default)]
    pub merged_from: Vec<String>,
}

/// One `stagebench run` (or `--resume`) that wrote into the folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invocation {
    /// The `run_id` column of its rows.
    pub run_id: String,
    /// The command line as typed.
    pub command_line: Vec<String>,
    /// Version of stagebench.
    pub stagebench_version: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended; absent while it runs or when it died.
    pub ended_at: Option<String>,
    /// Wall time from start to end; absent while it runs or when it died.
    pub wall_seconds: Option<Seconds>,
    /// Whether Ctrl-C or SIGTERM stopped it.
    pub interrupted: bool,
}

/// A Docker host's environment: what makes its numbers comparable, or not, with another's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostEnvironment {
    /// The host's name, as in the `host` column.
    pub name: String,
    /// Endpoint URL with any credentials removed.
    pub endpoint: String,
    /// What the daemon says about itself.
    #[serde(flatten)]
    pub daemon: DaemonFacts,
}

impl HostEnvironment {
    /// The first identifying field that differs from `other`'s, as "its kernel is 6.1 and 6.2".
    pub fn difference(&self, other: &HostEnvironment) -> Option<String> {
        let (a, b) = (&self.daemon, &other.daemon);
        let fields: [(&str, String, String); 9] = [
            ("endpoint", self.endpoint.clone(), other.endpoint.clone()),
            ("daemon ID", a.daemon_id.clone(), b.daemon_id.clone()),
            ("engine version", a.version.clone(), b.version.clone()),
            ("API version", a.api_version.clone(), b.api_version.clone()),
            (
                "storage driver",
                a.storage_driver.clone(),
                b.storage_driver.clone(),
            ),
            ("CPU count", a.cpus.to_string(), b.cpus.to_string()),
            (
                "memory",
                a.memory_bytes.to_string(),
                b.memory_bytes.to_string(),
            ),
            ("kernel", a.kernel_version.clone(), b.kernel_version.clone()),
            (
                "cgroup version",
                a.cgroup_version.clone(),
                b.cgroup_version.clone(),
            ),
        ];
        fields
            .into_iter()
            .find(|(_, x, y)| x != y)
            .map(|(field, x, y)| format!("its {field} is {x} against {y}"))
    }

    /// The fields that identify a machine and its daemon: two environments with equal
    /// fingerprints are the same host; any difference keeps their samples apart.
    pub fn fingerprint(&self) -> String {
        let d = &self.daemon;
        [
            self.endpoint.as_str(),
            &d.daemon_id,
            &d.version,
            &d.api_version,
            &d.storage_driver,
            &d.cpus.to_string(),
            &d.memory_bytes.to_string(),
            &d.kernel_version,
            &d.cgroup_version,
        ]
        .join("|")
    }
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

/// What was prepared and measured for one scenario on one host.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ScenarioMeta {
    /// Scenario name.
    pub name: String,
    /// Directory as given.
    pub dir: String,
    /// Name of the Docker host that ran it.
    #[serde(default)]
    pub host: String,
    /// Description from `scenario.toml`.
    pub description: Option<String>,
    /// Baseline variant.
    pub baseline: Option<String>,
    /// Variants measured.
    pub variants: Vec<VariantMeta>,
    /// Files changed for incremental runs.
    pub touched_files: Vec<String>,
    /// The same files relative to the build context, where `COPY` and `ADD` find their
    /// sources (the report's "why" matches them); absent in folders written before it was
    /// recorded, whose readers take `touched_files`, right when the context is the scenario
    /// directory (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touched_in_context: Option<Vec<String>>,
    /// How they were changed.
    #[serde(default)]
    pub edit: crate::touch::EditStyle,
    /// Images the Dockerfiles start from, as found after the prepare phase.
    pub base_images: Vec<BaseImageMeta>,
    /// Time spent making base images present; never counted as build time.
    pub prepare_seconds: Seconds,
    /// Images built once before the variants.
    pub prebuilds: Vec<PrebuildMeta>,
    /// Sentences about what was skipped.
    pub notes: Vec<String>,
    /// Content hash of every file the scenario's builds read, taken when the run started.
    #[serde(default)]
    pub inputs: ScenarioInputs,
    /// Why the scenario was not run on this host (for example, the host was unreachable).
    #[serde(default)]
    pub not_run: Option<String>,
    /// Where the time went; absent in schema-1 files.
    #[serde(default)]
    pub cost: Option<RunCost>,
    /// With `--time-budget`: the rounds complete when the budget was spent and this scenario
    /// stopped starting builds here; absent when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_spent_after: Option<u32>,
    /// The scenario directory relative to the results folder (with `/`), so that a report can
    /// link its Dockerfiles wherever the two are checked out together.
    #[serde(default)]
    pub dir_from_results: Option<String>,
}

/// Where a scenario's wall time went on its host, summed over every invocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RunCost {
    /// From the scenario's first preparation to the end of its cleanup.
    pub wall_seconds: Seconds,
    /// Timed and warmup builds written to results.csv.
    pub measured_build_seconds: Seconds,
    /// Prebuilds.
    pub prebuild_seconds: Seconds,
    /// Build-cache prunes before cold runs.
    pub prune_seconds: Seconds,
    /// Untimed builds that filled a cache a warm or incremental run needed.
    pub priming_build_seconds: Seconds,
    /// How many priming builds ran.
    pub priming_builds: u32,
    /// Exporting and analysing images (layers, pull size, waste), between builds.
    #[serde(default)]
    pub analysis_seconds: Seconds,
    /// Cold builds that did not ignore the cache (`ci-cold`: a fresh machine's) and that build
    /// cache older than the run served, thrown away and built again with the cache ignored: how
    /// many, and how long those first attempts took. A local cold build ignores the cache from
    /// the start.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub discarded_cold_builds: u32,
    /// See `discarded_cold_builds`.
    #[serde(default, skip_serializing_if = "is_zero_seconds")]
    pub discarded_cold_seconds: Seconds,
    /// The CI modes' previous jobs: builds with the inline cache (final images and stages),
    /// untimed; a CI row's `export_seconds` holds the part of them that exporting costs.
    #[serde(default, skip_serializing_if = "is_zero_seconds")]
    pub ci_previous_job_seconds: Seconds,
    /// Pushes to the registry (prebuilds and the previous jobs' images), and pulls that bring
    /// the prebuilds back after a CI build.
    #[serde(default, skip_serializing_if = "is_zero_seconds")]
    pub registry_seconds: Seconds,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_seconds(seconds: &Seconds) -> bool {
    *seconds == 0.0
}

impl RunCost {
    /// Wall time over the builds, prebuilds, prunes, CI previous jobs, registry transfers and
    /// image analyses it had to do: 1.0 would be no overhead.
    pub fn overhead_ratio(&self) -> Option<f64> {
        let busy = self.measured_build_seconds
            + self.prebuild_seconds
            + self.prune_seconds
            + self.ci_previous_job_seconds
            + self.registry_seconds
            + self.analysis_seconds;
        (busy > 0.0).then(|| self.wall_seconds / busy)
    }

    /// Adds another invocation's costs.
    pub fn add(&mut self, other: &RunCost) {
        self.wall_seconds += other.wall_seconds;
        self.measured_build_seconds += other.measured_build_seconds;
        self.prebuild_seconds += other.prebuild_seconds;
        self.prune_seconds += other.prune_seconds;
        self.priming_build_seconds += other.priming_build_seconds;
        self.priming_builds += other.priming_builds;
        self.analysis_seconds += other.analysis_seconds;
        self.discarded_cold_builds += other.discarded_cold_builds;
        self.discarded_cold_seconds += other.discarded_cold_seconds;
        self.ci_previous_job_seconds += other.ci_previous_job_seconds;
        self.registry_seconds += other.registry_seconds;
    }
}

/// A measured variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Tags of the scenario's prebuilds its Dockerfile builds on (`FROM`, `COPY --from`,
    /// `RUN --mount=from=`), whose build time its first build really costs.
    #[serde(default)]
    pub prebuilds: Vec<String>,
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
    /// The invocation that started the run.
    pub fn first_invocation(&self) -> Option<&Invocation> {
        self.invocations.first()
    }

    /// The run's ID: its first invocation's `run_id`; empty for a folder that records no
    /// invocation (a merged one).
    pub fn run_id(&self) -> &str {
        self.first_invocation().map_or("", |i| i.run_id.as_str())
    }

    /// When the run started: its first invocation's start.
    pub fn started_at(&self) -> &str {
        self.first_invocation()
            .map_or("", |i| i.started_at.as_str())
    }

    /// Whether the last invocation ended without being interrupted or dying.
    pub fn completed(&self) -> bool {
        self.invocations
            .last()
            .is_some_and(|i| i.ended_at.is_some() && !i.interrupted)
    }

    /// The environment of the host named `name`.
    pub fn host(&self, name: &str) -> Option<&HostEnvironment> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// The entry of `scenario` on `host`.
    pub fn scenario(&self, scenario: &str, host: &str) -> Option<&ScenarioMeta> {
        self.scenarios
            .iter()
            .find(|s| s.name == scenario && s.host == host)
    }

    /// Writes the file through a temporary name so a reader never sees half of it. The
    /// temporary file is made new (a link left under its name is removed, never written
    /// through), and the rename replaces whatever `meta.json` was, a link included.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        let partial = dir.join(format!("{META_FILE}.partial"));
        match std::fs::remove_file(&partial) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)?
            .write_all((text + "\n").as_bytes())?;
        std::fs::rename(partial, dir.join(META_FILE))
    }

    /// Reads a `meta.json` of schema 1 or 2; a newer schema is refused by name.
    pub fn read(dir: &Path) -> Result<RunMeta, String> {
        let path = dir.join(META_FILE);
        // A results folder may come from anywhere: a meta.json that is a link is refused.
        let text = crate::text_file::read_string_no_follow(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        RunMeta::from_value(value, &path.display().to_string())
    }

    /// A meta.json document of schema 1 or 2 (for example the `meta` of a summary.json);
    /// `origin` names it in messages.
    pub fn from_value(value: serde_json::Value, origin: &str) -> Result<RunMeta, String> {
        let parse_error = |e: serde_json::Error| format!("{origin}: {e}");
        let version = value
            .get("schema_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                format!("{origin} has no schema_version: it is not a stagebench meta.json")
            })?;
        match version {
            1 => serde_json::from_value::<v1::RunMeta>(value)
                .map(RunMeta::from)
                .map_err(parse_error),
            2 => serde_json::from_value(value).map_err(parse_error),
            newer => Err(format!(
                "{origin} has schema_version {newer}, newer than the {META_SCHEMA_VERSION} this stagebench {} reads; use a newer stagebench",
                env!("CARGO_PKG_VERSION")
            )),
        }
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

/// Schema 1: one daemon and one invocation per folder.
mod v1 {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::{HostInfo, ScenarioMeta, Seconds};
    use crate::builder::Builder;
    use crate::cache_mode::CacheMode;
    use crate::daemon_facts::DaemonFacts;

    #[derive(Deserialize)]
    pub(super) struct RunMeta {
        pub stagebench_version: String,
        pub command_line: Vec<String>,
        pub started_at: String,
        pub ended_at: Option<String>,
        pub interrupted: bool,
        pub builder: Builder,
        pub profile: Option<String>,
        pub runs: u32,
        pub warmup: u32,
        pub cache_modes: Vec<CacheMode>,
        pub command_line_build_args: BTreeMap<String, String>,
        pub timeout_seconds: Option<Seconds>,
        pub daemon: Daemon,
        pub client_host: HostInfo,
        pub scenarios: Vec<ScenarioMeta>,
    }

    #[derive(Deserialize)]
    pub(super) struct Daemon {
        pub endpoint: String,
        #[serde(flatten)]
        pub facts: DaemonFacts,
    }
}

impl From<v1::RunMeta> for RunMeta {
    fn from(old: v1::RunMeta) -> RunMeta {
        let host = host_name_for_url(&old.daemon.endpoint);
        let wall_seconds = old
            .ended_at
            .as_deref()
            .and_then(|end| seconds_between(&old.started_at, end));
        RunMeta {
            schema_version: META_SCHEMA_VERSION,
            stagebench_version: old.stagebench_version.clone(),
            settings: RecordedSettings {
                scenario_dirs: old.scenarios.iter().map(|s| s.dir.clone()).collect(),
                results_dir: None,
                ad_hoc: None,
                options: RunOptions {
                    runs: old.runs,
                    warmup: old.warmup,
                    cache_modes: old.cache_modes,
                    builder: old.builder,
                    variants: Vec::new(),
                    profile: old.profile,
                    build_args: old.command_line_build_args,
                    timeout_seconds: old.timeout_seconds,
                    keep_images: false,
                    rm: false,
                    secret_build_arg_names: Vec::new(),
                    build_secrets: Vec::new(),
                    allow_context_above: false,
                    seed: 0,
                    on_every_host: false,
                    prune: prune_mode_before_the_flag(),
                    noise_threshold: default_noise_threshold(),
                    registry: None,
                    stopping: None,
                    time_budget_seconds: None,
                    gated_looks: None,
                },
                hosts: vec![HostSpec {
                    name: host.clone(),
                    endpoint: old.daemon.endpoint.clone(),
                    context: None,
                }],
            },
            invocations: vec![Invocation {
                run_id: v1_run_id(&old.started_at),
                command_line: old.command_line,
                stagebench_version: old.stagebench_version,
                started_at: old.started_at,
                ended_at: old.ended_at,
                wall_seconds,
                interrupted: old.interrupted,
            }],
            hosts: vec![HostEnvironment {
                name: host.clone(),
                endpoint: old.daemon.endpoint,
                daemon: old.daemon.facts,
            }],
            client_host: old.client_host,
            scenarios: old
                .scenarios
                .into_iter()
                .map(|s| ScenarioMeta {
                    host: host.clone(),
                    ..s
                })
                .collect(),
            merged_from: Vec::new(),
        }
    }
}

/// The `run_id` given to the rows of a schema-1 folder, which had one invocation: its start
/// time in the form new ids start with.
pub fn v1_run_id(started_at: &str) -> String {
    let digits: String = started_at
        .chars()
        .take_while(|c| *c != '.' && *c != 'Z' && *c != '+')
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .collect();
    format!("{digits}Z")
}

/// Seconds from one RFC 3339 time to another.
pub fn seconds_between(start: &str, end: &str) -> Option<Seconds> {
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    let start = OffsetDateTime::parse(start, &Rfc3339).ok()?;
    let end = OffsetDateTime::parse(end, &Rfc3339).ok()?;
    Some((end - start).as_seconds_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_dir(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn schema_1_is_upgraded_with_one_host_and_one_invocation() {
        let meta = RunMeta::read(&fixture_dir("go-service")).unwrap();
        assert_eq!(meta.schema_version, META_SCHEMA_VERSION);
        assert_eq!(meta.hosts.len(), 1);
        assert_eq!(meta.hosts[0].name, "local");
        assert_eq!(meta.hosts[0].daemon.version, "20.10.24+dfsg1");
        assert_eq!(meta.invocations.len(), 1);
        assert_eq!(meta.invocations[0].run_id, "20261128T050533Z");
        let wall = meta.invocations[0].wall_seconds.unwrap();
        assert!((wall - 134.793).abs() < 0.01, "{wall}");
        assert_eq!(meta.scenarios[0].host, "local");
        assert_eq!(meta.settings.options.runs, 3);
        assert!(meta.completed());
    }

    #[test]
    fn a_newer_schema_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(META_FILE),
            "{\"schema_version\": 99, \"anything\": true}",
        )
        .unwrap();
        let error = RunMeta::read(dir.path()).unwrap_err();
        assert!(
            error.contains("meta.json has schema_version 99, newer than the 2"),
            "{error}"
        );
    }

    #[test]
    fn the_fingerprint_changes_with_any_identifying_field() {
        let meta = RunMeta::read(&fixture_dir("go-service")).unwrap();
        let host = &meta.hosts[0];
        let mut other = host.clone();
        other.name = "renamed".to_string();
        assert_eq!(
            host.fingerprint(),
            other.fingerprint(),
            "the name is not part of it"
        );
        other.daemon.kernel_version.push('+');
        assert_ne!(host.fingerprint(), other.fingerprint());
    }
}

//! One build's measurement: a row of `results.csv`.
//!
//! This struct is where measuring and reporting meet; reporters read these rows and never see a
//! timer. The column names are a contract other tools depend on: existing columns keep their
//! names and meanings, new ones are only appended.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::csv::CsvRow;
use crate::builder::{Builder, EngineKind};
use crate::cache_mode::CacheMode;
pub use crate::keys::{BuildKey, SeriesKey};
pub use crate::seconds::Seconds;

/// How a build ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    /// The build finished and its image was inspected.
    Ok,
    /// The daemon reported the build as failed; `error` holds its message.
    Failed,
    /// `--timeout` cut the build short. It is a finished measurement ("slower than the limit"),
    /// but has no build time to summarise.
    TimedOut,
    /// Ctrl-C, SIGTERM or a lost daemon connection cut the build short; `--resume` redoes it.
    Interrupted,
    /// The build finished but not in the cache state its row names (a warm build that ran a
    /// step; a cold one that took a step from cache even with the cache ignored); `error` says
    /// how. It is counted apart and never summarised as its cache mode.
    CacheMismatch,
}

impl BuildStatus {
    /// The name used in `results.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            BuildStatus::Ok => "ok",
            BuildStatus::Failed => "failed",
            BuildStatus::TimedOut => "timed_out",
            BuildStatus::Interrupted => "interrupted",
            BuildStatus::CacheMismatch => "cache_mismatch",
        }
    }

    /// Whether `--resume` counts the build as done. An interrupted build measured nothing, so it
    /// is redone; a failed or timed-out one would most likely end the same way again.
    pub fn is_finished(self) -> bool {
        match self {
            BuildStatus::Ok
            | BuildStatus::Failed
            | BuildStatus::TimedOut
            | BuildStatus::CacheMismatch => true,
            BuildStatus::Interrupted => false,
        }
    }
}

impl fmt::Display for BuildStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row that describes one measured build (a step, a layer, a wasted file), found by the
/// build's identity: `run_id`, `host` and `seq`.
pub trait OfBuild {
    /// The build's `(run_id, host, seq)`.
    fn build_identity(&self) -> (&str, &str, u32);
    /// The same row under another host name (a merge renames colliding hosts).
    fn on_host(self, host: String) -> Self;
    /// Whether this row describes `build`.
    fn belongs_to(&self, build: &BuildRecord) -> bool {
        self.build_identity() == (build.run_id.as_str(), build.host.as_str(), build.seq)
    }
}

/// Implements [`OfBuild`] for a row with `run_id`, `host` and `seq` fields.
macro_rules! of_build {
    ($row:ty) => {
        impl $crate::results::record::OfBuild for $row {
            fn build_identity(&self) -> (&str, &str, u32) {
                (self.run_id.as_str(), self.host.as_str(), self.seq)
            }
            fn on_host(self, host: String) -> Self {
                Self { host, ..self }
            }
        }
    };
}
pub(crate) use of_build;

/// One build's measurement: a row of `results.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// Scenario name.
    pub scenario: String,
    /// Variant name (Dockerfile stem).
    pub variant: String,
    /// Builder that ran the build.
    pub builder: Builder,
    /// Cache state the build was measured in.
    pub cache: CacheMode,
    /// 1-based run number within (warmup or timed) runs of this variant and cache mode.
    pub run: u32,
    /// Whether this was an untimed warmup run, left out of statistics.
    pub warmup: bool,
    /// `ok`, `failed`, `timed_out` or `interrupted`.
    pub status: BuildStatus,
    /// Wall time of the daemon build request, context upload included.
    pub build_seconds: Seconds,
    /// ID of the image built; empty when the build did not succeed.
    pub image_id: String,
    /// Image size the daemon reports; empty when the build did not succeed.
    pub image_bytes: Option<u64>,
    /// Filesystem layers of the image; empty when the build did not succeed.
    pub layers: Option<u32>,
    /// Dockerfile steps (FROM excluded) taken from cache.
    pub cached_steps: u32,
    /// Dockerfile steps (FROM excluded) executed or taken from cache.
    pub total_steps: u32,
    /// When the build request was sent, RFC 3339 in UTC.
    pub started_at: String,
    /// Why the build did not succeed; empty otherwise.
    pub error: String,
    /// Name of the Docker host that ran the build (absent from schema-1 files, filled in when
    /// they are read).
    #[serde(default)]
    pub host: String,
    /// The invocation that made the row: one id per `stagebench run` (a resumed run has its own).
    #[serde(default)]
    pub run_id: String,
    /// 1-based position of the build among the measured builds of its host, in executed order
    /// (continued, not restarted, by `--resume`).
    #[serde(default)]
    pub seq: u32,
    /// The image's size after the gzip compression a registry push applies, layer by layer:
    /// what a pull transfers. Measured on one build per variant and host (the first that
    /// succeeded); empty on the others and when the analysis failed.
    #[serde(default)]
    pub compressed_bytes: Option<u64>,
    /// Seconds the build spent pulling images before its first step (prebuild pulls inside the
    /// timed build), also counted in `build_seconds`; empty when not applicable.
    #[serde(default)]
    pub pull_seconds: Option<Seconds>,
    /// Seconds the previous CI job spent exporting the cache this build imports; empty when the
    /// build imports no exported cache.
    #[serde(default)]
    pub export_seconds: Option<Seconds>,
    /// Compressed bytes, in the registry, of the cache this build imports; empty when the build
    /// imports no exported cache.
    #[serde(default)]
    pub cache_bytes: Option<u64>,
    /// For a build whose cache mode expects cache ([`CacheMode::expects_cache`]): the first step
    /// of each stage that ran instead of coming from cache, as `stage: INSTRUCTION` (the
    /// instruction as `steps.csv` records it, secrets redacted), one entry per stage that missed,
    /// in Dockerfile order, joined by ` | ` (see [`crate::results::misses`]). Empty when every
    /// step came from cache, and for modes that expect none (cold).
    #[serde(default)]
    pub first_miss: String,
    /// The program that served the host's API and ran the build (`docker` or `podman`;
    /// `docker` in files from before the column).
    #[serde(default)]
    pub engine: EngineKind,
}

impl BuildRecord {
    /// The group this row belongs to.
    pub fn series_key(&self) -> SeriesKey {
        SeriesKey {
            scenario: self.scenario.clone(),
            variant: self.variant.clone(),
            builder: self.builder,
            cache: self.cache,
            host: self.host.clone(),
        }
    }

    /// The planned build this row measured.
    pub fn build_key(&self) -> BuildKey {
        BuildKey {
            scenario: self.scenario.clone(),
            variant: self.variant.clone(),
            cache: self.cache,
            run: self.run,
            warmup: self.warmup,
            host: self.host.clone(),
        }
    }
}

impl CsvRow for BuildRecord {
    const HEADER: &'static [&'static str] = &[
        "scenario",
        "variant",
        "builder",
        "cache",
        "run",
        "warmup",
        "status",
        "build_seconds",
        "image_id",
        "image_bytes",
        "layers",
        "cached_steps",
        "total_steps",
        "started_at",
        "error",
        "host",
        "run_id",
        "seq",
        "compressed_bytes",
        "pull_seconds",
        "export_seconds",
        "cache_bytes",
        "first_miss",
        "engine",
    ];

    /// Its names are names stagebench writes (see `names`; a row without a host takes
    /// meta.json's). A successful build took a finite, positive time; any build's time is
    /// finite and never negative. Statistics cannot take a logarithm of anything else, and would
    /// otherwise drop the series' comparison without a word.
    fn refusal(&self) -> Option<String> {
        let host = (!self.host.is_empty()).then_some(self.host.as_str());
        if let Some(problem) = super::names::row_refusal(&self.scenario, &self.variant, host) {
            return Some(problem);
        }
        let seconds = self.build_seconds;
        let successful = match self.status {
            BuildStatus::Ok => true,
            BuildStatus::Failed
            | BuildStatus::TimedOut
            | BuildStatus::Interrupted
            | BuildStatus::CacheMismatch => false,
        };
        if let Some((column, value)) = [
            ("pull_seconds", self.pull_seconds),
            ("export_seconds", self.export_seconds),
        ]
        .into_iter()
        .find_map(|(column, value)| {
            value
                .filter(|v| !v.is_finite() || *v < 0.0)
                .map(|v| (column, v))
        }) {
            return Some(format!(
                "{column} is {value}, but it holds a finite number of seconds, 0 or more"
            ));
        }
        if successful && !seconds.is_finite() {
            Some(format!(
                "build_seconds is {seconds}, but a successful build takes a finite time"
            ))
        } else if successful && seconds <= 0.0 {
            Some(format!(
                "build_seconds is {seconds}, but a successful build takes a positive time"
            ))
        } else if !seconds.is_finite() || seconds < 0.0 {
            Some(format!(
                "build_seconds is {seconds}, but a build's time is a finite number of seconds, 0 or more"
            ))
        } else {
            None
        }
    }
}

/// File name of the per-build results inside a results folder.
pub const RESULTS_FILE: &str = "results.csv";

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A successful cold row; tests override fields with struct update syntax.
    pub(crate) fn sample_record() -> BuildRecord {
        BuildRecord {
            scenario: "s".into(),
            variant: "single".into(),
            builder: Builder::BuildKit,
            cache: CacheMode::Cold,
            run: 1,
            warmup: false,
            status: BuildStatus::Ok,
            build_seconds: 1.25,
            image_id: "sha256:abc".into(),
            image_bytes: Some(1024),
            layers: Some(2),
            cached_steps: 0,
            total_steps: 3,
            started_at: "2026-11-28T04:00:00Z".into(),
            error: String::new(),
            host: "local".into(),
            run_id: "20261128T040000Z-0a1b2c".into(),
            seq: 1,
            compressed_bytes: None,
            pull_seconds: None,
            export_seconds: None,
            cache_bytes: None,
            first_miss: String::new(),
            engine: crate::builder::EngineKind::Docker,
        }
    }

    #[test]
    fn statuses_have_their_file_names_and_only_interrupted_is_redone() {
        for status in [
            BuildStatus::Ok,
            BuildStatus::Failed,
            BuildStatus::TimedOut,
            BuildStatus::Interrupted,
        ] {
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::String(status.as_str().to_string())
            );
            assert_eq!(status.is_finished(), status != BuildStatus::Interrupted);
        }
    }
}

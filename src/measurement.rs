//! Measurements: one row per build, as written to `results.csv`.
//!
//! This struct is where measuring and reporting meet; reporters read these rows and never see a
//! timer. Rows are appended and flushed as each build ends, because a later build, the daemon or
//! the process itself may die and what was already measured must survive that.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::builder::Builder;
use crate::cache_mode::CacheMode;

/// Wall time in seconds.
pub type Seconds = f64;

/// Whether a build produced an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildStatus {
    /// The build finished and its image was inspected.
    Ok,
    /// The build failed, timed out or was interrupted; `error` says which.
    Failed,
}

/// One build's measurement: a row of `results.csv` (the column names are a contract).
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
    /// `ok` or `failed`.
    pub status: BuildStatus,
    /// Wall time of the daemon build request, context upload included.
    pub build_seconds: Seconds,
    /// ID of the image built; empty when the build failed.
    pub image_id: String,
    /// Image size the daemon reports; empty when the build failed.
    pub image_bytes: Option<u64>,
    /// Filesystem layers of the image; empty when the build failed.
    pub layers: Option<u32>,
    /// Dockerfile steps (FROM excluded) taken from cache.
    pub cached_steps: u32,
    /// Dockerfile steps (FROM excluded) executed or taken from cache.
    pub total_steps: u32,
    /// When the build request was sent, RFC 3339 in UTC.
    pub started_at: String,
    /// The daemon's message when the build failed; empty otherwise.
    pub error: String,
}

/// `results.csv`, opened for appending one flushed row at a time.
pub struct ResultsFile {
    path: PathBuf,
    writer: csv::Writer<File>,
}

/// File name of the per-build results inside a results folder.
pub const RESULTS_FILE: &str = "results.csv";

impl ResultsFile {
    /// Creates `results.csv` in `dir` with its header row.
    pub fn create(dir: &Path) -> std::io::Result<ResultsFile> {
        let path = dir.join(RESULTS_FILE);
        let file = OpenOptions::new()
            .create_new(true)
            .write(true)
            .open(&path)?;
        let writer = csv::WriterBuilder::new()
            .has_headers(true)
            .from_writer(file);
        Ok(ResultsFile { path, writer })
    }

    /// Where the rows go.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a row and pushes it to the operating system before returning.
    pub fn append(&mut self, record: &BuildRecord) -> std::io::Result<()> {
        self.writer
            .serialize(record)
            .map_err(std::io::Error::other)?;
        self.writer.flush()?;
        self.writer.get_ref().sync_data()?;
        Ok(())
    }
}

/// Reads every row of a `results.csv`.
pub fn read_results(path: &Path) -> Result<Vec<BuildRecord>, String> {
    let mut reader =
        csv::Reader::from_path(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    reader
        .deserialize()
        .map(|row| row.map_err(|e| format!("{}: {e}", path.display())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_on_disk_after_each_append_and_read_back_equal() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ResultsFile::create(dir.path()).unwrap();
        let ok = BuildRecord {
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
        };
        file.append(&ok).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            "scenario,variant,builder,cache,run,warmup,status,build_seconds,image_id,image_bytes,layers,cached_steps,total_steps,started_at,error"
        );
        assert_eq!(text.lines().count(), 2);
        let failed = BuildRecord {
            status: BuildStatus::Failed,
            image_id: String::new(),
            image_bytes: None,
            layers: None,
            error: "RUN false: exit code: 1, \"quoted\"".into(),
            ..ok.clone()
        };
        file.append(&failed).unwrap();
        assert_eq!(read_results(file.path()).unwrap(), [ok, failed]);
        assert!(
            ResultsFile::create(dir.path()).is_err(),
            "an existing results.csv is never overwritten"
        );
    }
}

//! Reports: every output made from a results folder (`results.csv` + `meta.json`).
//!
//! Each text format lives in its own file behind [`Exporter`]; they all read one [`ReportData`]
//! and never see a timer or the daemon, so `stagebench report` can remake them from the files
//! alone and a format can be added without touching the others.

pub mod chart;
mod format;
mod headline;
mod markdown;
mod summary_csv;
mod summary_json;
mod terminal;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::measurement::{BuildRecord, RESULTS_FILE, read_results};
use crate::meta::{META_FILE, RunMeta};
use crate::stats::{Analysis, analyze};

pub use markdown::Markdown;
pub use summary_csv::SummaryCsv;
pub use summary_json::{SUMMARY_SCHEMA_VERSION, SummaryJson};
pub use terminal::terminal_table;

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The run's `meta.json`.
    pub meta: RunMeta,
    /// Every row of `results.csv`.
    pub records: Vec<BuildRecord>,
    /// Summaries and comparisons of the records.
    pub analysis: Analysis,
}

/// Something went wrong making a report; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A results folder's file is missing or unreadable.
    #[error("{0}")]
    Input(String),
    /// An output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A format could not be produced.
    #[error("cannot render {format}: {message}")]
    Render {
        /// The format's file name.
        format: &'static str,
        /// What failed.
        message: String,
    },
    /// A chart could not be drawn.
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
}

/// One output format, written as one file of a results folder.
pub trait Exporter {
    /// File name inside a results folder.
    fn file_name(&self) -> &'static str;
    /// The file's bytes.
    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError>;
}

/// The text formats written into every results folder.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(SummaryCsv),
        Box::new(SummaryJson),
        Box::new(Markdown),
    ]
}

impl ReportData {
    /// Analyses `records` with the baselines named in `meta`.
    pub fn new(meta: RunMeta, records: Vec<BuildRecord>) -> ReportData {
        let baselines: BTreeMap<String, String> = meta
            .scenarios
            .iter()
            .filter_map(|s| s.baseline.clone().map(|b| (s.name.clone(), b)))
            .collect();
        let analysis = analyze(&records, &baselines);
        ReportData {
            meta,
            records,
            analysis,
        }
    }

    /// Reads `results.csv` and `meta.json` from a results folder.
    pub fn load(dir: &Path) -> Result<ReportData, ReportError> {
        if !dir.join(RESULTS_FILE).is_file() {
            return Err(ReportError::Input(format!(
                "{} has no {RESULTS_FILE}: it is not a stagebench results folder",
                dir.display()
            )));
        }
        let meta = RunMeta::read(dir).map_err(ReportError::Input)?;
        let records = read_results(&dir.join(RESULTS_FILE)).map_err(ReportError::Input)?;
        Ok(ReportData::new(meta, records))
    }

    /// Joins the results of several folders (one per scenario by default) into one report, for
    /// the terminal table and the exports; `None` when there is nothing.
    pub fn merge(parts: Vec<ReportData>) -> Option<ReportData> {
        let mut parts = parts.into_iter();
        let first = parts.next()?;
        let (mut meta, mut records) = (first.meta, first.records);
        for part in parts {
            meta.scenarios.extend(part.meta.scenarios);
            records.extend(part.records);
        }
        Some(ReportData::new(meta, records))
    }

    /// Variants of a scenario in display order (baseline first, as in meta.json).
    pub fn variants(&self, scenario: &str) -> Vec<String> {
        self.meta
            .scenarios
            .iter()
            .find(|s| s.name == scenario)
            .map(|s| s.variants.iter().map(|v| v.name.clone()).collect())
            .unwrap_or_default()
    }
}

/// Writes every text format and every chart into `dir`; returns the files written.
pub fn write_all(data: &ReportData, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for exporter in exporters() {
        let path = dir.join(exporter.file_name());
        write_file(&path, &exporter.render(data)?)?;
        written.push(path);
    }
    for scenario in &data.meta.scenarios {
        let groups: Vec<_> = data
            .analysis
            .groups
            .iter()
            .filter(|g| g.scenario == scenario.name)
            .cloned()
            .collect();
        if groups.is_empty() {
            continue;
        }
        let variants = data.variants(&scenario.name);
        let input = chart::ChartInput {
            scenario: &scenario.name,
            builder: data.meta.builder,
            daemon_version: &data.meta.daemon.version,
            variants: &variants,
            baseline: scenario.baseline.as_deref(),
            groups: &groups,
        };
        for file in chart::render_charts(&input)? {
            let path = dir.join(&file.file_name);
            write_file(&path, &file.bytes)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Writes one format to a file, or to standard output for `-` (the `--export-*` flags).
pub fn export(
    exporter: &dyn Exporter,
    data: &ReportData,
    target: &Path,
) -> Result<(), ReportError> {
    let bytes = exporter.render(data)?;
    if target == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(&bytes)
            .and_then(|()| stdout.flush())
            .map_err(|source| ReportError::Write {
                path: target.to_path_buf(),
                source,
            });
    }
    write_file(target, &bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Names of the files `write_all` produces besides the charts, for tests and documentation.
pub fn text_file_names() -> Vec<&'static str> {
    exporters().iter().map(|e| e.file_name()).collect()
}

/// File names a results folder starts with.
pub const INPUT_FILES: [&str; 2] = [RESULTS_FILE, META_FILE];

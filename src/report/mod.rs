//! Reports: every output made from a results folder (`results.csv` + `meta.json`).
//!
//! Each text format lives in its own file behind [`Exporter`]; they all read one [`ReportData`]
//! and never see a timer or the daemon, so `stagebench report` can remake them from the files
//! alone and a format can be added without touching the others.

pub mod chart;
mod ci_exports;
mod comparison;
mod exports;
mod format;
mod headline;
mod history_files;
mod hosts;
mod markdown;
mod misses;
mod stopping;
mod summary_csv;
mod summary_json;
mod terminal;
mod why;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::builder::Builder;
use crate::results::{
    BuildRecord, LayerRecord, META_FILE, OfBuild, RESULTS_FILE, ResultSet, RunMeta, ScenarioMeta,
    StepRecord, StoreError, WasteRecord,
};
use crate::stats::stopping::{SectionStops, replay};
use crate::stats::{
    Analysis, Comparison, GroupSummary, ImageBreakdown, NoContrast, ScenarioLayout, StageBreakdown,
    Status, analyze, image_breakdowns, stage_breakdowns,
};

pub use ci_exports::{BencherMetricFormat, BenchmarkAction, GatedBenchmarkAction, series_name};
pub use comparison::{compare_markdown, compare_terminal, gate_sentences, gate_verdicts};
pub use exports::write_exports;
pub use format::{cost_sentence, speedup_phrase};
pub use history_files::{HISTORY_CSV, HISTORY_MD, trend_charts, write_history};
pub use markdown::{Markdown, MarkdownExport};
pub use stopping::builds_sentence as stopping_builds_sentence;
pub use summary_csv::SummaryCsv;
pub use summary_json::{SUMMARY_SCHEMA_VERSION, SummaryJson};
pub use terminal::{terminal_table, terminal_table_for_width};

/// Everything a report is made from.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// The run's `meta.json`.
    pub meta: RunMeta,
    /// Every row of `results.csv`.
    pub records: Vec<BuildRecord>,
    /// Every row of `steps.csv` that belongs to one of `records`.
    pub steps: Vec<StepRecord>,
    /// Every row of `layers.csv` that belongs to one of `records`.
    pub layers: Vec<LayerRecord>,
    /// Every row of `waste.csv` that belongs to one of `records`.
    pub waste: Vec<WasteRecord>,
    /// Summaries and comparisons of the records.
    pub analysis: Analysis,
    /// Where the time of each series' builds goes, stage by stage.
    pub stages: Vec<StageBreakdown>,
    /// What each variant's analysed image is made of.
    pub images: Vec<ImageBreakdown>,
    /// With `--runs auto`: the looks of each scenario on each host, taken again from the rows;
    /// the comparisons' contrasts are theirs. Empty for a fixed `--runs`.
    pub stops: Vec<SectionStops>,
    /// Sections whose looks could not be taken again (their comparisons carry no verdict).
    pub stopping_problems: Vec<String>,
}

/// One scenario on one host with one builder: a headline table and a set of charts. Sections
/// are the unit a report is laid out in, so that no table or chart mixes two series.
#[derive(Debug, Clone)]
pub struct Section<'a> {
    /// The scenario's entry in meta.json (for this host when there is one).
    pub scenario: &'a ScenarioMeta,
    /// Docker host.
    pub host: &'a str,
    /// Builder.
    pub builder: Builder,
    /// The section's groups, in analysis order.
    pub groups: Vec<&'a GroupSummary>,
    /// Whether the report holds more than one host, so that names must say which.
    pub several_hosts: bool,
    /// Whether the report holds more than one builder for this scenario and host.
    pub several_builders: bool,
}

impl Section<'_> {
    /// "python-node", "python-node on sb1", "python-node (classic)": how titles name it.
    pub fn title(&self) -> String {
        let mut title = self.scenario.name.clone();
        if self.several_hosts {
            title.push_str(&format!(" on {}", self.host));
        }
        if self.several_builders {
            title.push_str(&format!(" ({})", self.builder));
        }
        title
    }

    /// What the section's chart files start with: the scenario's name, then the host and the
    /// builder when the report needs them told apart.
    pub fn file_stem(&self) -> String {
        let mut stem = self.scenario.name.clone();
        if self.several_hosts {
            stem.push('-');
            stem.push_str(&file_safe(self.host));
        }
        if self.several_builders {
            stem.push('-');
            stem.push_str(self.builder.as_str());
        }
        stem
    }
}

/// A host name as part of a file name: characters other than letters, digits, `.`, `_` and `-`
/// become `-`.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Something went wrong making a report; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A results folder's file is missing or unreadable.
    #[error(transparent)]
    Input(#[from] StoreError),
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

/// With `--runs auto`, every comparison's contrast is the one its looks read: the settling look's
/// for a settled one, the last look's (inconclusive) for one left unsettled. An interval read
/// afresh at the runs a series ended with would be a look the error rate never paid for.
fn sequential_verdicts(
    meta: &RunMeta,
    records: &[BuildRecord],
    analysis: &mut Analysis,
) -> (Vec<SectionStops>, Vec<String>) {
    let mut stops = Vec::new();
    let mut problems = Vec::new();
    for entry in &meta.scenarios {
        match replay(meta, entry, records, None) {
            None => return (Vec::new(), Vec::new()),
            Some(Ok(section)) => stops.push(section),
            Some(Err(error)) => problems.push(error.to_string()),
        }
    }
    let runs_ok = |analysis: &Analysis, comparison: &Comparison, variant: &str| {
        analysis
            .groups
            .iter()
            .find(|g| {
                g.key.scenario == comparison.key.scenario
                    && g.key.host == comparison.key.host
                    && g.key.builder == comparison.key.builder
                    && g.key.cache == comparison.key.cache
                    && g.key.variant == variant
            })
            .map_or(0, |g| g.runs_ok)
    };
    let contrasts: Vec<_> = analysis
        .comparisons
        .iter()
        .map(|comparison| {
            let too_few = Err(NoContrast::TooFewRuns {
                reference_runs: runs_ok(analysis, comparison, &comparison.baseline),
                current_runs: runs_ok(analysis, comparison, &comparison.key.variant),
            });
            let section = stops
                .iter()
                .find(|s| s.scenario == comparison.key.scenario && s.host == comparison.key.host);
            match section.and_then(|s| s.comparison(&comparison.key.variant, comparison.key.cache))
            {
                Some((Status::Settled(settled), _)) => Ok(settled.contrast.clone()),
                Some((_, Some(read))) => read.clone(),
                _ => too_few,
            }
        })
        .collect();
    for (comparison, contrast) in analysis.comparisons.iter_mut().zip(contrasts) {
        comparison.contrast = contrast;
    }
    (stops, problems)
}

impl ReportData {
    /// Analyses a result set with the baselines named in its meta.
    pub fn new(set: ResultSet) -> ReportData {
        let ResultSet {
            meta,
            records,
            steps,
            layers,
            waste,
        } = set;
        let mut layouts: BTreeMap<String, ScenarioLayout> = BTreeMap::new();
        for scenario in &meta.scenarios {
            layouts
                .entry(scenario.name.clone())
                .or_insert_with(|| ScenarioLayout {
                    baseline: scenario.baseline.clone(),
                    variants: scenario.variants.iter().map(|v| v.name.clone()).collect(),
                });
        }
        let mut analysis = analyze(&records, &layouts, meta.settings.options.noise_threshold);
        let (stops, stopping_problems) = sequential_verdicts(&meta, &records, &mut analysis);
        let stages = stage_breakdowns(&records, &steps);
        let images = image_breakdowns(&records, &layers, &waste);
        ReportData {
            meta,
            records,
            steps,
            layers,
            waste,
            analysis,
            stages,
            images,
            stops,
            stopping_problems,
        }
    }

    /// Reads `results.csv` and `meta.json` from a results folder.
    pub fn load(dir: &Path) -> Result<ReportData, ReportError> {
        Ok(ReportData::new(ResultSet::load(dir)?))
    }

    /// Joins the folders one invocation wrote (one per scenario by default) into one report, for
    /// the exports; `None` when there is nothing. Folders of different runs are joined by
    /// `stagebench merge`, which keeps their hosts apart.
    pub fn combine(parts: Vec<ReportData>) -> Option<ReportData> {
        let sets = parts
            .into_iter()
            .map(|part| ResultSet {
                meta: part.meta,
                records: part.records,
                steps: part.steps,
                layers: part.layers,
                waste: part.waste,
            })
            .collect();
        ResultSet::combine_one_run(sets).map(ReportData::new)
    }

    /// The analysed images of `section`'s variants.
    pub fn images_of(&self, section: &Section<'_>) -> Vec<ImageBreakdown> {
        self.images
            .iter()
            .filter(|i| {
                i.scenario == section.scenario.name
                    && i.host == section.host
                    && i.builder == section.builder
            })
            .cloned()
            .collect()
    }

    /// The median run of each variant and cache mode of `section` that has steps, for the
    /// stage timeline; empty for results recorded without steps.
    pub fn timelines(&self, section: &Section<'_>) -> Vec<chart::Timeline> {
        self.stages
            .iter()
            .filter(|b| {
                b.key.scenario == section.scenario.name
                    && b.key.host == section.host
                    && b.key.builder == section.builder
            })
            .filter_map(|breakdown| {
                let run = &breakdown.median_run;
                let record = self.records.iter().find(|r| {
                    r.run_id == run.run_id && r.host == breakdown.key.host && r.seq == run.seq
                })?;
                let steps: Vec<chart::TimelineStep> = self
                    .steps
                    .iter()
                    .filter(|s| s.belongs_to(record))
                    .map(|s| chart::TimelineStep {
                        stage: s.stage.clone(),
                        instruction: s.instruction.clone(),
                        started_offset_s: s.started_offset_s,
                        seconds: s.seconds,
                        cached: s.cached,
                    })
                    .collect();
                let stages: Vec<String> = breakdown
                    .stages
                    .iter()
                    .filter(|stage| steps.iter().any(|s| s.stage == stage.stage))
                    .map(|stage| stage.stage.clone())
                    .collect();
                Some(chart::Timeline {
                    variant: breakdown.key.variant.clone(),
                    cache: breakdown.key.cache,
                    build_seconds: record.build_seconds,
                    steps,
                    stages,
                })
            })
            .collect()
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

    /// The report's sections, in the order of the analysis's groups.
    pub fn sections(&self) -> Vec<Section<'_>> {
        let mut keys: Vec<(&str, &str, Builder)> = Vec::new();
        for group in &self.analysis.groups {
            let key = (
                group.key.scenario.as_str(),
                group.key.host.as_str(),
                group.key.builder,
            );
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        let mut hosts: Vec<&str> = keys.iter().map(|k| k.1).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let several_hosts = hosts.len() > 1;
        keys.iter()
            .filter_map(|&(scenario, host, builder)| {
                let meta = self
                    .meta
                    .scenario(scenario, host)
                    .or_else(|| self.meta.scenarios.iter().find(|s| s.name == scenario))?;
                let several_builders = keys
                    .iter()
                    .filter(|k| k.0 == scenario && k.1 == host)
                    .count()
                    > 1;
                Some(Section {
                    scenario: meta,
                    host,
                    builder,
                    groups: self
                        .analysis
                        .groups
                        .iter()
                        .filter(|g| {
                            g.key.scenario == scenario
                                && g.key.host == host
                                && g.key.builder == builder
                        })
                        .collect(),
                    several_hosts,
                    several_builders,
                })
            })
            .collect()
    }
}

/// Writes every text format and every chart into `dir`; returns the files written.
pub fn write_all(data: &ReportData, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    for exporter in exporters() {
        written.push(write_in_folder(
            dir,
            exporter.file_name(),
            &exporter.render(data)?,
        )?);
    }
    for file in chart_files(data, chart::ChartOutput::Report)? {
        written.push(write_in_folder(dir, &file.file_name, &file.bytes)?);
    }
    Ok(written)
}

/// Every chart of every section of `data`, rendered as `output`.
pub fn chart_files(
    data: &ReportData,
    output: chart::ChartOutput,
) -> Result<Vec<chart::ChartFile>, ReportError> {
    let mut all = Vec::new();
    for section in data.sections() {
        let variants = data.variants(&section.scenario.name);
        let groups: Vec<GroupSummary> = section.groups.iter().map(|g| (*g).clone()).collect();
        let comparisons: Vec<Comparison> = data
            .analysis
            .comparisons
            .iter()
            .filter(|c| groups.iter().any(|g| g.key == c.key))
            .cloned()
            .collect();
        let stem = section.file_stem();
        let daemon = data.meta.host(section.host).map_or(String::new(), |h| {
            format!("{} {}", h.daemon.engine.product_name(), h.daemon.version)
        });
        let input = chart::ChartInput {
            scenario: &section.scenario.name,
            file_stem: &stem,
            host: section.host,
            show_host: section.several_hosts,
            builder: section.builder,
            daemon: &daemon,
            variants: &variants,
            baseline: section.scenario.baseline.as_deref(),
            groups: &groups,
            comparisons: &comparisons,
        };
        let mut files = chart::render_charts_as(&input, output)?;
        let timelines = data.timelines(&section);
        if !timelines.is_empty() {
            let title = section.title();
            files.extend(chart::render_timeline_as(
                &chart::TimelineInput {
                    title: &title,
                    file_stem: &stem,
                    builder: section.builder,
                    daemon: &daemon,
                    variants: &variants,
                    timelines: &timelines,
                },
                output,
            )?);
        }
        let images = data.images_of(&section);
        if !images.is_empty() {
            let title = section.title();
            files.extend(chart::render_layers_as(
                &chart::LayersInput {
                    title: &title,
                    file_stem: &stem,
                    builder: section.builder,
                    variants: &variants,
                    images: &images,
                },
                output,
            )?);
        }
        let stages: Vec<StageBreakdown> = data
            .stages
            .iter()
            .filter(|b| {
                b.key.scenario == section.scenario.name
                    && b.key.host == section.host
                    && b.key.builder == section.builder
            })
            .cloned()
            .collect();
        let title = section.title();
        files.extend(chart::render_ci_as(
            &chart::CiInput {
                title: &title,
                file_stem: &stem,
                builder: section.builder,
                daemon: &daemon,
                variants: &variants,
                baseline: section.scenario.baseline.as_deref(),
                groups: &groups,
                stages: &stages,
            },
            output,
        )?);
        all.extend(files);
    }
    Ok(all)
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

/// Writes `bytes` as the file `name` of the folder `dir` and returns its path. `name` must be
/// one plain file name (it is made from names read from a results folder, checked when read;
/// this is the last guard). The bytes go to a new temporary file that is then renamed over
/// `name`, so a symbolic or hard link planted under that name in a folder from elsewhere is
/// replaced, never written through, and a reader never sees half a file.
fn write_in_folder(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    let failed = |source: std::io::Error| ReportError::Write {
        path: path.clone(),
        source,
    };
    let plain = {
        let mut parts = Path::new(name).components();
        matches!(
            (parts.next(), parts.next()),
            (Some(std::path::Component::Normal(part)), None) if part == name && !name.starts_with('.')
        )
    };
    if !plain {
        return Err(failed(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the name is not a plain file name inside the folder",
        )));
    }
    let partial = dir.join(format!(".{name}.partial"));
    match std::fs::remove_file(&partial) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(failed(error)),
        _ => {}
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&partial, &path))
        .map_err(|error| {
            let _ = std::fs::remove_file(&partial);
            failed(error)
        })?;
    Ok(path)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_into_the_folder_only_and_never_through_a_link() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join(".bashrc");
        std::fs::write(&target, "keep me\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let planted = dir.path().join("go-service-build-time.svg");
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        let path = write_in_folder(dir.path(), "go-service-build-time.svg", b"<svg/>").unwrap();
        assert_eq!(path, planted);
        assert!(!planted.is_symlink(), "the link is replaced by the file");
        assert_eq!(std::fs::read(&planted).unwrap(), b"<svg/>");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
        // A leftover temporary name that is a link is removed, not written through.
        std::os::unix::fs::symlink(&target, dir.path().join(".summary.csv.partial")).unwrap();
        write_in_folder(dir.path(), "summary.csv", b"a\n").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me\n");
        for name in [
            "../escape.svg",
            "a/b.svg",
            "/tmp/x.svg",
            "..",
            ".",
            ".hidden",
            "",
        ] {
            let error = write_in_folder(dir.path(), name, b"x")
                .unwrap_err()
                .to_string();
            assert!(error.contains("not a plain file name"), "{name}: {error}");
        }
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["go-service-build-time.svg", "summary.csv"]);
    }
}

//! `summary.json`: everything in one versioned document (schema in README.md): the run's
//! metadata, every raw run, the summaries and the comparisons.

use serde::Serialize;

use crate::results::{BuildRecord, RunMeta};
use crate::stats::method::{self, Family};
use crate::stats::{Comparison, GroupSummary, ImageBreakdown, StageBreakdown};

use super::{Exporter, ReportData, ReportError};

/// Version of the `summary.json` layout; raised when a field changes meaning or disappears
/// (adding a field does not raise it).
pub const SUMMARY_SCHEMA_VERSION: u32 = 3;

/// The summary as JSON.
pub struct SummaryJson;

#[derive(Serialize)]
struct SummaryDocument<'a> {
    /// Always `stagebench-summary`.
    schema: &'static str,
    /// [`SUMMARY_SCHEMA_VERSION`].
    schema_version: u32,
    /// Statistical settings, so a reader knows what the intervals and verdicts mean.
    statistics: StatisticsSettings,
    /// The run's `meta.json`.
    meta: &'a RunMeta,
    /// Every row of `results.csv`.
    runs: &'a [BuildRecord],
    /// One summary per series: scenario, variant, builder, cache mode and host.
    groups: &'a [GroupSummary],
    /// Each variant against its scenario's baseline.
    comparisons: &'a [Comparison],
    /// Where the time of each series' builds goes, stage by stage (from `steps.csv`).
    stages: &'a [StageBreakdown],
    /// What each variant's analysed image is made of (from `layers.csv` and `waste.csv`).
    images: &'a [ImageBreakdown],
    /// Why the variants differ, in sentences, per scenario, host and builder.
    why: Vec<super::why::WhySection>,
    /// With `--runs auto`: how each scenario's series stopped; absent for a fixed `--runs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    stopping: Option<Vec<super::stopping::StoppingSection>>,
}

#[derive(Serialize)]
struct StatisticsSettings {
    confidence: f64,
    interval_method: &'static str,
    min_runs_for_interval: usize,
    outlier_rule: &'static str,
    /// The method's paragraph, from `stats::method`.
    contrast: String,
    outcomes: String,
    family_error_rate: f64,
    comparisons_in_family: usize,
    noise_threshold: f64,
    /// The level of every comparison's interval, `1 - family_error_rate / comparisons_in_family`.
    comparison_interval_level: f64,
}

impl Exporter for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        let noise_threshold = data.meta.settings.options.noise_threshold;
        let family_size = data.analysis.family_size();
        let document = SummaryDocument {
            schema: "stagebench-summary",
            schema_version: SUMMARY_SCHEMA_VERSION,
            statistics: StatisticsSettings {
                confidence: crate::stats::CONFIDENCE,
                interval_method: "distribution-free interval of the median between two order statistics, coverage at least 95%",
                min_runs_for_interval: crate::stats::MIN_RUNS_FOR_INTERVAL,
                outlier_rule: "Tukey fences: outside [Q1 - 1.5 IQR, Q3 + 1.5 IQR], from 4 runs",
                contrast: super::stopping::method_sentence(data).unwrap_or_else(|| {
                    super::format::method_note(noise_threshold, Family::Report, family_size)
                }),
                outcomes: method::outcomes_sentence(&super::format::percent(noise_threshold)),
                family_error_rate: crate::stats::FAMILY_ERROR_RATE,
                comparisons_in_family: family_size,
                noise_threshold,
                comparison_interval_level: method::simultaneous_level(family_size),
            },
            meta: &data.meta,
            runs: &data.records,
            groups: &data.analysis.groups,
            comparisons: &data.analysis.comparisons,
            stages: &data.stages,
            images: &data.images,
            why: super::why::why_sections(data),
            stopping: data
                .meta
                .settings
                .options
                .stopping
                .map(|_| super::stopping::sections(data)),
        };
        let mut bytes = serde_json::to_vec_pretty(&document).map_err(|e| ReportError::Render {
            format: "summary.json",
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::ResultSet;

    #[test]
    fn a_summary_json_reads_back_as_the_result_set_it_was_made_from() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/go-service");
        let data = ReportData::load(&dir).unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), SummaryJson.render(&data).unwrap()).unwrap();
        let back = ResultSet::load_folder_or_summary(file.path()).unwrap();
        assert_eq!(
            back.records, data.records,
            "the newest summary.json is one this version reads"
        );
        assert_eq!(back.meta.hosts, data.meta.hosts);
    }
}

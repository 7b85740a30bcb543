//! Summaries in the formats existing CI tooling reads, so that a nightly job can feed stagebench's
//! numbers into the dashboards a team already has:
//!
//! - `--export-benchmark-action`: the `customSmallerIsBetter` JSON of the common GitHub
//!   benchmark-tracking action: an array of `{name, unit, value, range, extra}`, where `range`
//!   and `extra` are strings.
//! - `--export-bmf`: Bencher Metric Format, `{"<benchmark>": {"build-time": {value, lower_value,
//!   upper_value}, "file-size": {value}}}`.
//!
//! Every series (scenario, variant, cache mode, builder, host) is its own benchmark, named
//! `<scenario>/<variant>/<cache>/<builder>@<host>`, so that no two hosts, builders or modes are
//! ever drawn as one line.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Exporter, ReportData, ReportError, format};
use crate::keys::SeriesKey;
use crate::stats::GroupSummary;

/// The name of a series in every export.
pub fn series_name(group: &GroupSummary) -> String {
    let key = &group.key;
    format!(
        "{}/{}/{}/{}@{}",
        key.scenario, key.variant, key.cache, key.builder, key.host
    )
}

/// The github-action-benchmark `customSmallerIsBetter` format.
pub struct BenchmarkAction;

/// One entry of the github-action-benchmark format.
#[derive(Debug, Serialize)]
struct BenchmarkEntry {
    name: String,
    unit: &'static str,
    value: f64,
    range: String,
    extra: String,
}

impl Exporter for BenchmarkAction {
    fn file_name(&self) -> &'static str {
        "benchmark-action.json"
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        benchmark_action(data, &BTreeMap::new())
    }
}

/// The github-action-benchmark format of `compare`'s current side, with the gate's verdict on
/// each series that did not pass at the end of its `extra`, so that a dashboard fed from a
/// comparison shows which points regressed and which the gate could not judge.
pub struct GatedBenchmarkAction<'a> {
    /// The gate's words per series, for those that did not pass.
    pub verdicts: &'a BTreeMap<SeriesKey, String>,
}

impl Exporter for GatedBenchmarkAction<'_> {
    fn file_name(&self) -> &'static str {
        BenchmarkAction.file_name()
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        benchmark_action(data, self.verdicts)
    }
}

fn benchmark_action(
    data: &ReportData,
    verdicts: &BTreeMap<SeriesKey, String>,
) -> Result<Vec<u8>, ReportError> {
    let mut entries = Vec::new();
    for group in &data.analysis.groups {
        let name = series_name(group);
        let mut extra = extra(data, group);
        if let Some(verdict) = verdicts.get(&group.key) {
            extra.push_str("; gate: ");
            extra.push_str(verdict);
        }
        if let Some(summary) = &group.build_seconds {
            let (low, high, what) = spread(group);
            entries.push(BenchmarkEntry {
                name: format!("{name} build time"),
                unit: "s",
                value: summary.median,
                range: format!(
                    "{what} {}–{}",
                    format::significant(low),
                    format::significant(high)
                ),
                extra: extra.clone(),
            });
        }
        if let Some(bytes) = group.image_bytes {
            entries.push(BenchmarkEntry {
                name: format!("{name} image size"),
                unit: "MB",
                value: bytes as f64 / 1e6,
                range: "exact".to_string(),
                extra,
            });
        }
    }
    to_json(&entries, BenchmarkAction.file_name())
}

/// Bencher Metric Format.
pub struct BencherMetricFormat;

/// The measures of one benchmark in BMF.
#[derive(Debug, Serialize)]
struct BmfMeasures {
    #[serde(rename = "build-time", skip_serializing_if = "Option::is_none")]
    build_time: Option<BmfValue>,
    #[serde(rename = "file-size", skip_serializing_if = "Option::is_none")]
    file_size: Option<BmfValue>,
}

/// One BMF metric.
#[derive(Debug, Serialize)]
struct BmfValue {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

impl Exporter for BencherMetricFormat {
    fn file_name(&self) -> &'static str {
        "bmf.json"
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        let benchmarks: BTreeMap<String, BmfMeasures> = data
            .analysis
            .groups
            .iter()
            // A series whose every run failed has nothing to measure.
            .filter(|group| group.build_seconds.is_some() || group.image_bytes.is_some())
            .map(|group| {
                let build_time = group.build_seconds.as_ref().map(|summary| {
                    let (low, high, _) = spread(group);
                    BmfValue {
                        value: summary.median,
                        lower_value: Some(low),
                        upper_value: Some(high),
                    }
                });
                let file_size = group.image_bytes.map(|bytes| BmfValue {
                    value: bytes as f64,
                    lower_value: None,
                    upper_value: None,
                });
                (
                    series_name(group),
                    BmfMeasures {
                        build_time,
                        file_size,
                    },
                )
            })
            .collect();
        to_json(&benchmarks, self.file_name())
    }
}

/// The median's 95% interval where there is one, else the range of the runs, and which it is.
fn spread(group: &GroupSummary) -> (f64, f64, &'static str) {
    match group.build_seconds.as_ref() {
        Some(summary) => match summary.median_interval {
            Some(interval) => (interval.low, interval.high, "95% CI"),
            None => (summary.min, summary.max, "range"),
        },
        None => (0.0, 0.0, "range"),
    }
}

fn extra(data: &ReportData, group: &GroupSummary) -> String {
    let version = data
        .meta
        .host(&group.key.host)
        .map_or("", |h| h.daemon.version.as_str());
    format!(
        "median of {} runs; {}, host {} (Docker {version}); stagebench {}",
        group.runs_ok, group.key.builder, group.key.host, data.meta.stagebench_version
    )
}

fn to_json<T: Serialize>(value: &T, format: &'static str) -> Result<Vec<u8>, ReportError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| ReportError::Render {
        format,
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

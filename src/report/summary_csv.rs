//! `summary.csv`: one row per series (scenario, variant, builder, cache mode and host), with the
//! comparison against the baseline on the same row. Column names are stable; new ones are only appended.

use serde::Serialize;

use crate::builder::Builder;
use crate::cache_mode::CacheMode;

use super::{Exporter, ReportData, ReportError};

/// The summary table as CSV.
pub struct SummaryCsv;

/// One row of `summary.csv`. Empty cells mean "not applicable" (for example no interval with
/// fewer than three runs, or no comparison on the baseline's own rows).
#[derive(Debug, Serialize)]
struct SummaryRow<'a> {
    scenario: &'a str,
    variant: &'a str,
    builder: Builder,
    cache: CacheMode,
    runs_ok: usize,
    runs_failed: usize,
    mean_seconds: Option<f64>,
    median_seconds: Option<f64>,
    median_ci_low_seconds: Option<f64>,
    median_ci_high_seconds: Option<f64>,
    stddev_seconds: Option<f64>,
    min_seconds: Option<f64>,
    max_seconds: Option<f64>,
    cv: Option<f64>,
    outliers: usize,
    image_bytes: Option<u64>,
    baseline: &'a str,
    speedup: Option<f64>,
    speedup_ci_low: Option<f64>,
    speedup_ci_high: Option<f64>,
    size_ratio: Option<f64>,
    test: &'a str,
    p_value: Option<f64>,
    verdict: &'a str,
    host: &'a str,
    runs_timed_out: usize,
    runs_interrupted: usize,
}

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn render(&self, data: &ReportData) -> Result<Vec<u8>, ReportError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        for group in &data.analysis.groups {
            let comparison = data
                .analysis
                .comparisons
                .iter()
                .find(|c| c.key == group.key);
            let summary = group.build_seconds.as_ref();
            let verdict = comparison.map(|c| serde_json::to_value(c.verdict).ok());
            let row = SummaryRow {
                scenario: &group.key.scenario,
                variant: &group.key.variant,
                builder: group.key.builder,
                cache: group.key.cache,
                runs_ok: group.runs_ok,
                runs_failed: group.runs_failed,
                mean_seconds: summary.map(|s| s.mean),
                median_seconds: summary.map(|s| s.median),
                median_ci_low_seconds: summary.and_then(|s| s.median_interval).map(|i| i.low),
                median_ci_high_seconds: summary.and_then(|s| s.median_interval).map(|i| i.high),
                stddev_seconds: summary.map(|s| s.stddev),
                min_seconds: summary.map(|s| s.min),
                max_seconds: summary.map(|s| s.max),
                cv: summary.map(|s| s.cv),
                outliers: summary.map_or(0, |s| s.outliers.len()),
                image_bytes: group.image_bytes,
                baseline: comparison.map_or("", |c| c.baseline.as_str()),
                speedup: comparison.map(|c| c.speedup),
                speedup_ci_low: comparison.and_then(|c| c.speedup_interval).map(|i| i.low),
                speedup_ci_high: comparison.and_then(|c| c.speedup_interval).map(|i| i.high),
                size_ratio: comparison.and_then(|c| c.size_ratio),
                test: comparison
                    .and_then(|c| c.test.as_ref())
                    .map_or("", |t| t.name.as_str()),
                p_value: comparison.and_then(|c| c.test.as_ref()).map(|t| t.p_value),
                verdict: match verdict.flatten() {
                    Some(serde_json::Value::String(text)) => verdict_name(&text),
                    _ => "",
                },
                host: &group.key.host,
                runs_timed_out: group.runs_timed_out,
                runs_interrupted: group.runs_interrupted,
            };
            writer.serialize(row).map_err(|e| ReportError::Render {
                format: "summary.csv",
                message: e.to_string(),
            })?;
        }
        writer.into_inner().map_err(|e| ReportError::Render {
            format: "summary.csv",
            message: e.to_string(),
        })
    }
}

/// The verdict's serialized name, borrowed from a fixed list so rows can hold `&str`.
fn verdict_name(text: &str) -> &'static str {
    [
        "faster",
        "slower",
        "no_significant_difference",
        "too_few_runs",
    ]
    .into_iter()
    .find(|name| *name == text)
    .unwrap_or("")
}

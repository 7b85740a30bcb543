//! `summary.csv`: one row per series (scenario, variant, builder, cache mode and host), with the
//! comparison against the baseline on the same row. Column names are stable; new ones are only appended.

use serde::Serialize;

use crate::builder::Builder;
use crate::cache_mode::CacheMode;

use super::{Exporter, ReportData, ReportError};
use crate::stats::Comparison;

/// The summary table as CSV.
pub struct SummaryCsv;

/// One row of `summary.csv`. Empty cells mean "not applicable" (for example no interval of the
/// median below six runs, or no comparison on the baseline's own rows).
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
    /// Always empty: Holm's adjustment is no longer made (see `adjusted_p_value`). The column
    /// stays so that columns keep their places.
    holm_p_value: Option<f64>,
    interval_confidence: Option<f64>,
    noise_threshold: Option<f64>,
    compressed_bytes: Option<u64>,
    runs_cache_mismatch: usize,
    /// Bonferroni's adjusted p-value, `min(1, m p)` over the family's `m` comparisons.
    adjusted_p_value: Option<f64>,
    /// What the previous CI job paid to export the cache the series imports (median over its
    /// runs); empty for a series that imports none.
    export_seconds: Option<f64>,
    /// Compressed bytes of that cache in the registry (median over its runs); empty likewise.
    cache_bytes: Option<u64>,
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
            let contrast = comparison.and_then(|c| c.contrast.as_ref().ok());
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
                speedup: comparison.map(Comparison::speedup),
                speedup_ci_low: contrast.map(|c| c.speedup_interval().low),
                speedup_ci_high: contrast.map(|c| c.speedup_interval().high),
                size_ratio: comparison.and_then(|c| c.size_ratio),
                test: match (contrast, data.meta.settings.options.stopping) {
                    (None, _) => "",
                    (Some(_), None) => crate::stats::method::METHOD_NAME,
                    (Some(_), Some(stopping)) if stopping.paired_by_round => {
                        crate::stats::method::SEQUENTIAL_PAIRED_METHOD_NAME
                    }
                    (Some(_), Some(_)) => crate::stats::method::SEQUENTIAL_METHOD_NAME,
                },
                p_value: contrast.map(|c| c.p_value),
                verdict: match comparison.map(|c| &c.contrast) {
                    Some(Ok(contrast)) => contrast.outcome.as_str(),
                    Some(Err(reason)) => reason.as_str(),
                    None => "",
                },
                host: &group.key.host,
                runs_timed_out: group.runs_timed_out,
                runs_interrupted: group.runs_interrupted,
                holm_p_value: None,
                interval_confidence: contrast.map(|c| c.confidence),
                noise_threshold: contrast.map(|c| c.noise_threshold),
                compressed_bytes: group.compressed_bytes,
                runs_cache_mismatch: group.runs_cache_mismatch,
                adjusted_p_value: contrast.map(|c| c.adjusted_p_value),
                export_seconds: group.export_seconds,
                cache_bytes: group.cache_bytes,
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

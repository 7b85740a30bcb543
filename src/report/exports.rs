//! What writes each export format of the registry in [`crate::export_targets`].

use std::collections::BTreeMap;

use super::{
    BencherMetricFormat, BenchmarkAction, Exporter, GatedBenchmarkAction, MarkdownExport,
    ReportData, ReportError, SummaryCsv, SummaryJson,
};
use crate::export_targets::{ExportFormat, ExportTargets, MarkdownLinks};
use crate::keys::SeriesKey;

/// What writes `format`; `verdicts` are the gate's words per series, which the
/// github-action-benchmark format carries when a comparison made them.
fn exporter<'a>(
    format: ExportFormat,
    verdicts: Option<&'a BTreeMap<SeriesKey, String>>,
    links: &'a MarkdownLinks,
) -> Box<dyn Exporter + 'a> {
    match (format, verdicts) {
        (ExportFormat::SummaryCsv, _) => Box::new(SummaryCsv),
        (ExportFormat::SummaryJson, _) => Box::new(SummaryJson),
        (ExportFormat::Markdown, _) => Box::new(MarkdownExport { links }),
        (ExportFormat::BenchmarkAction, Some(verdicts)) => {
            Box::new(GatedBenchmarkAction { verdicts })
        }
        (ExportFormat::BenchmarkAction, None) => Box::new(BenchmarkAction),
        (ExportFormat::BencherMetricFormat, _) => Box::new(BencherMetricFormat),
    }
}

/// Writes every export `targets` asks for of `data`; `verdicts` as [`exporter`] takes them.
pub fn write_exports(
    targets: &ExportTargets,
    data: &ReportData,
    verdicts: Option<&BTreeMap<SeriesKey, String>>,
) -> Result<(), ReportError> {
    for (format, target) in targets.iter() {
        super::export(
            exporter(format, verdicts, targets.markdown_links()).as_ref(),
            data,
            target,
        )?;
    }
    Ok(())
}

//! The one registry of exports a command line can ask for: each format with its flag, and
//! the targets a command line gave them. `run`, `report`, `merge` and `compare` resolve their
//! export flags into [`ExportTargets`], and `report::write_exports` writes them all.

use std::path::{Path, PathBuf};

/// A format the summary can be exported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// summary.csv's table.
    SummaryCsv,
    /// summary.json's document.
    SummaryJson,
    /// The Markdown report (for `compare`, the comparison's Markdown, written by the gate).
    Markdown,
    /// github-action-benchmark's `customSmallerIsBetter` JSON.
    BenchmarkAction,
    /// Bencher Metric Format.
    BencherMetricFormat,
}

impl ExportFormat {
    /// Every format, in the order the flags are listed.
    pub const ALL: [ExportFormat; 5] = [
        ExportFormat::SummaryCsv,
        ExportFormat::SummaryJson,
        ExportFormat::Markdown,
        ExportFormat::BenchmarkAction,
        ExportFormat::BencherMetricFormat,
    ];

    /// The command-line flag that asks for it.
    pub fn flag(self) -> &'static str {
        match self {
            ExportFormat::SummaryCsv => "--export-csv",
            ExportFormat::SummaryJson => "--export-json",
            ExportFormat::Markdown => "--export-markdown",
            ExportFormat::BenchmarkAction => "--export-benchmark-action",
            ExportFormat::BencherMetricFormat => "--export-bmf",
        }
    }
}

/// The exports a command line asked for, each with its target: a file, or `-` for standard
/// output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportTargets(Vec<(ExportFormat, PathBuf)>);

impl ExportTargets {
    /// The formats given a target, in [`ExportFormat::ALL`]'s order.
    pub fn new<'a>(
        requested: impl IntoIterator<Item = (ExportFormat, &'a Option<PathBuf>)>,
    ) -> ExportTargets {
        let mut targets: Vec<(ExportFormat, PathBuf)> = requested
            .into_iter()
            .filter_map(|(format, target)| target.clone().map(|t| (format, t)))
            .collect();
        targets.sort_by_key(|(format, _)| ExportFormat::ALL.iter().position(|f| f == format));
        ExportTargets(targets)
    }

    /// Whether an export writes to standard output, which the headline table then leaves to it.
    pub fn use_stdout(&self) -> bool {
        self.0.iter().any(|(_, target)| target.as_os_str() == "-")
    }

    /// The target of `format`, when asked for.
    pub fn target(&self, format: ExportFormat) -> Option<&Path> {
        self.0
            .iter()
            .find(|(f, _)| *f == format)
            .map(|(_, target)| target.as_path())
    }

    /// These targets without `format`: for a command that writes it itself.
    pub fn without(&self, format: ExportFormat) -> ExportTargets {
        ExportTargets(
            self.0
                .iter()
                .filter(|(f, _)| *f != format)
                .cloned()
                .collect(),
        )
    }

    /// Each format asked for with its target.
    pub fn iter(&self) -> impl Iterator<Item = (ExportFormat, &Path)> {
        self.0
            .iter()
            .map(|(format, target)| (*format, target.as_path()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_the_registry_s_order_and_see_standard_output() {
        let csv = Some(PathBuf::from("s.csv"));
        let bmf = Some(PathBuf::from("-"));
        let none = None;
        let targets = ExportTargets::new([
            (ExportFormat::BencherMetricFormat, &bmf),
            (ExportFormat::Markdown, &none),
            (ExportFormat::SummaryCsv, &csv),
        ]);
        assert_eq!(
            targets.0,
            vec![
                (ExportFormat::SummaryCsv, PathBuf::from("s.csv")),
                (ExportFormat::BencherMetricFormat, PathBuf::from("-")),
            ]
        );
        assert!(targets.use_stdout());
        assert!(
            !targets
                .without(ExportFormat::BencherMetricFormat)
                .use_stdout()
        );
        assert_eq!(
            targets.target(ExportFormat::SummaryCsv),
            Some(Path::new("s.csv"))
        );
        assert_eq!(targets.target(ExportFormat::Markdown), None);
    }
}

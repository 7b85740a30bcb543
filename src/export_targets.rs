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

/// Where the Markdown export's links to the files of its results folder (charts, results.csv,
/// meta.json) point. A job summary or a pull-request comment resolves no relative link, so
/// the export meant for one names a published copy of the folder, or names the files as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MarkdownLinks {
    /// Beside the files, as report.md inside its folder.
    #[default]
    Relative,
    /// Under this absolute http(s) URL, where a copy of the folder is published (without a
    /// trailing `/`). Links that leave the folder (the Dockerfiles) become text.
    Base(String),
    /// Nowhere: every file is named as text and no chart is shown.
    Text,
}

impl MarkdownLinks {
    /// The link to `name`, a file of the results folder, or `None` when it is named as text.
    pub fn file(&self, name: &str) -> Option<String> {
        match self {
            MarkdownLinks::Relative => Some(name.to_string()),
            MarkdownLinks::Base(base) => Some(format!("{base}/{name}")),
            MarkdownLinks::Text => None,
        }
    }

    /// `link`, a path relative to the results folder that may leave it, or `None` when only
    /// the folder's own files can be linked.
    pub fn outside(&self, link: &str) -> Option<String> {
        match self {
            MarkdownLinks::Relative => Some(link.to_string()),
            MarkdownLinks::Base(_) | MarkdownLinks::Text => None,
        }
    }
}

/// `--markdown-links`: `relative`, `none`, or an absolute http(s) URL with a host. The URL is
/// checked with the `http` crate's parser rather than by hand; its trailing `/` is dropped so
/// that a file's link is `URL/name` either way.
pub fn parse_markdown_links(text: &str) -> Result<MarkdownLinks, String> {
    match text {
        "relative" => return Ok(MarkdownLinks::Relative),
        "none" => return Ok(MarkdownLinks::Text),
        _ => {}
    }
    let not_a_url = || {
        format!(
            "`{text}` is not `relative`, `none` or an absolute http(s) URL such as https://example.org/bench/night"
        )
    };
    let uri: http::Uri = text.parse().map_err(|_| not_a_url())?;
    let web = matches!(uri.scheme_str(), Some("http" | "https"));
    if !web || uri.host().is_none_or(str::is_empty) || uri.query().is_some() {
        return Err(not_a_url());
    }
    Ok(MarkdownLinks::Base(text.trim_end_matches('/').to_string()))
}

/// The exports a command line asked for, each with its target: a file, or `-` for standard
/// output; and where the Markdown export's links point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportTargets(Vec<(ExportFormat, PathBuf)>, MarkdownLinks);

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
        ExportTargets(targets, MarkdownLinks::Relative)
    }

    /// These targets with the Markdown export's links pointing at `links`.
    pub fn with_markdown_links(self, links: MarkdownLinks) -> ExportTargets {
        ExportTargets(self.0, links)
    }

    /// Where the Markdown export's links point.
    pub fn markdown_links(&self) -> &MarkdownLinks {
        &self.1
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
            self.1.clone(),
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

    #[test]
    fn markdown_links_are_relative_none_or_an_absolute_web_url_without_its_trailing_slash() {
        assert_eq!(
            parse_markdown_links("relative"),
            Ok(MarkdownLinks::Relative)
        );
        assert_eq!(parse_markdown_links("none"), Ok(MarkdownLinks::Text));
        for (given, base) in [
            (
                "https://o.github.io/r/results/x/",
                "https://o.github.io/r/results/x",
            ),
            ("http://localhost:8080/a", "http://localhost:8080/a"),
        ] {
            let links = parse_markdown_links(given).unwrap();
            assert_eq!(links, MarkdownLinks::Base(base.to_string()));
            assert_eq!(links.file("a.png").unwrap(), format!("{base}/a.png"));
            assert_eq!(links.outside("../x.Dockerfile"), None);
        }
        for refused in [
            "",
            "results/x",
            "/abs/path",
            "file:///tmp/x",
            "ftp://h/x",
            "https://",
            "https://h/x?y=1",
            "javascript:alert(1)",
        ] {
            let error = parse_markdown_links(refused).unwrap_err();
            assert!(
                error.contains("not `relative`, `none` or an absolute"),
                "{refused}: {error}"
            );
        }
        assert_eq!(MarkdownLinks::Text.file("a.png"), None);
        assert_eq!(
            MarkdownLinks::Relative.outside("../d").as_deref(),
            Some("../d")
        );
        let targets = ExportTargets::default().with_markdown_links(MarkdownLinks::Text);
        assert_eq!(
            targets.without(ExportFormat::Markdown).markdown_links(),
            &MarkdownLinks::Text
        );
    }
}

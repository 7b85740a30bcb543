//! A night's page: its report, its charts (SVGs whose text is text), links to its data files,
//! and its Dockerfiles as pages of their own (Pages would serve a bare `Dockerfile` as a
//! download).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use maud::{Markup, PreEscaped, html};

use super::files::{WriteCounts, url_safe, write_if_changed};
use super::markdown::{LinkTargets, report_html};
use super::page::{chart, page};
use super::svg::{describe, with_title_and_desc};
use super::{Night, SiteError, chart_title, short_date};
use crate::report::chart::ChartOutput;
use crate::report::{self, Exporter as _, Markdown, ReportData};
use crate::results::ResultSet;

/// One Dockerfile a night's scenario recorded.
pub(crate) struct RecordedDockerfile {
    /// The scenario.
    pub scenario: String,
    /// The variant.
    pub variant: String,
    /// The path meta.json records, as written there.
    pub recorded: String,
    /// Where it should be now, seen from the results folder.
    pub path: PathBuf,
}

/// Every Dockerfile `set` names, where it should be found from `folder`: through the scenario
/// directory as seen from the results folder when meta.json records it, else as the directory
/// was given to `run` (relative to where stagebench runs now).
pub(crate) fn dockerfiles(folder: &Path, set: &ResultSet) -> Vec<RecordedDockerfile> {
    let mut found = Vec::new();
    for scenario in &set.meta.scenarios {
        let dir = match &scenario.dir_from_results {
            Some(relative) => folder.join(relative),
            None => PathBuf::from(&scenario.dir),
        };
        for variant in &scenario.variants {
            if found.iter().any(|d: &RecordedDockerfile| {
                d.scenario == scenario.name && d.variant == variant.name
            }) {
                continue; // the same scenario on another host
            }
            found.push(RecordedDockerfile {
                scenario: scenario.name.clone(),
                variant: variant.name.clone(),
                recorded: format!("{}/{}", scenario.dir, variant.dockerfile),
                path: dir.join(&variant.dockerfile),
            });
        }
    }
    found
}

/// Writes the night's page and its files into `site/<night.href's folder>`.
pub(crate) fn write_night(
    site: &Path,
    night: &Night,
    set: &ResultSet,
    counts: &mut WriteCounts,
) -> Result<(), SiteError> {
    let dir = site.join(&night.dir);
    let up = "../".repeat(night.dir.split('/').count());
    let data = ReportData::new(set.clone());

    let mut charts: BTreeMap<String, String> = BTreeMap::new();
    let mut chart_order: Vec<String> = Vec::new();
    for file in report::chart_files(&data, ChartOutput::SiteSvg)? {
        let title = chart_title(&file);
        let desc = describe(&file.file_name);
        let svg = String::from_utf8_lossy(&file.bytes);
        let svg = with_title_and_desc(&svg, &title, &desc);
        write_if_changed(&dir.join(&file.file_name), svg.as_bytes(), counts)?;
        chart_order.push(file.file_name.clone());
        charts.insert(file.file_name, title);
    }

    // The measurements and summaries, copied as they are.
    let mut data_files: Vec<String> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&night.folder) {
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if (name.ends_with(".csv") || name.ends_with(".json")) && url_safe(&name) == name {
                data_files.push(name);
            }
        }
    }
    data_files.sort();
    for name in &data_files {
        let path = night.folder.join(name);
        let bytes = std::fs::read(&path).map_err(|error| SiteError::Read {
            path: path.clone(),
            error,
        })?;
        write_if_changed(&dir.join(name), &bytes, counts)?;
    }

    // The Dockerfiles, each as a page, or a sentence saying where it was looked for.
    let mut dockerfile_pages: BTreeMap<String, String> = BTreeMap::new();
    let mut dockerfile_rows: Vec<Markup> = Vec::new();
    for dockerfile in dockerfiles(&night.folder, set) {
        let page_name = format!(
            "dockerfile-{}-{}.html",
            url_safe(&dockerfile.scenario),
            url_safe(&dockerfile.variant)
        );
        match std::fs::read_to_string(&dockerfile.path) {
            Ok(text) => {
                let title = format!(
                    "{} {}: {}",
                    dockerfile.scenario, dockerfile.variant, dockerfile.recorded
                );
                let body = html! {
                    h1 { (title) }
                    p { a href="index.html" { "Back to the night" } }
                    pre { code { (text) } }
                };
                write_if_changed(
                    &dir.join(&page_name),
                    page(&title, &up, body).into_string().as_bytes(),
                    counts,
                )?;
                if let Some(name) = dockerfile.recorded.rsplit('/').next() {
                    dockerfile_pages.insert(name.to_string(), page_name.clone());
                }
                dockerfile_rows.push(html! {
                    li { a href=(page_name) { (dockerfile.scenario) " " (dockerfile.variant) ": " (dockerfile.recorded) } }
                });
            }
            Err(error) => dockerfile_rows.push(html! {
                li {
                    (dockerfile.scenario) " " (dockerfile.variant) ": " (dockerfile.recorded)
                    " is not shown: " (dockerfile.path.display()) " cannot be read (" (error) ")."
                }
            }),
        }
    }

    let report_md_path = night.folder.join("report.md");
    let markdown = match std::fs::read_to_string(&report_md_path) {
        Ok(text) => text,
        // A folder whose report was never made: the same report, made from its results.
        Err(_) => String::from_utf8_lossy(&Markdown.render(&data)?).into_owned(),
    };
    let targets = LinkTargets {
        charts: &charts,
        data_files: &data_files,
        dockerfiles: &dockerfile_pages,
    };
    let report_body = report_html(&markdown, &targets);
    let unshown: Vec<&String> = chart_order
        .iter()
        .filter(|name| !markdown.contains(name.trim_end_matches(".svg")))
        .collect();

    let title = format!(
        "{} — {}",
        night.scenarios.join(", "),
        short_date(&night.started_at)
    );
    let body = html! {
        h1 { (title) }
        p { "Results folder " code { (night.label) } "." }
        h2 { "Files" }
        ul {
            @for name in &data_files { li { a href=(name) { (name) } } }
        }
        @if !dockerfile_rows.is_empty() {
            h2 { "Dockerfiles" }
            ul { @for row in &dockerfile_rows { (row) } }
        }
        article.report { (PreEscaped(report_body)) }
        @if !unshown.is_empty() {
            h2 { "More charts" }
            @for name in unshown {
                (chart(name, charts.get(name).map_or("", String::as_str)))
            }
        }
    };
    write_if_changed(
        &dir.join("index.html"),
        page(&title, &up, body).into_string().as_bytes(),
        counts,
    )
}

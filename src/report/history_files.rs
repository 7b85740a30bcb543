//! The files `stagebench history` writes: the trend as CSV, Markdown that marks every step
//! change, and one trend chart per scenario and host.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::chart::{self, TrendInput, TrendSeries};
use super::{ReportError, format, write_in_folder};
use crate::cache_mode::CacheMode;
use crate::history::{History, HistoryPoint};
use crate::stats::Outcome;

/// The trend table's file name.
pub const HISTORY_CSV: &str = "history.csv";
/// The Markdown's file name.
pub const HISTORY_MD: &str = "history.md";

/// One row of `history.csv`.
#[derive(Debug, Serialize)]
struct TrendRow<'a> {
    scenario: &'a str,
    variant: &'a str,
    builder: &'a str,
    cache: &'a str,
    host: &'a str,
    run_id: &'a str,
    started_at: &'a str,
    runs_ok: usize,
    median_seconds: Option<f64>,
    low_seconds: Option<f64>,
    high_seconds: Option<f64>,
    spread: &'a str,
    image_bytes: Option<u64>,
    /// Scenario files changed since the scenario's previous run, separated by spaces.
    inputs_changed: String,
    time_ratio_vs_previous: Option<f64>,
    change_low: Option<f64>,
    change_high: Option<f64>,
    /// `faster`, `slower`, `same` or `inconclusive`; or why there is no contrast
    /// (`too_few_runs`, `no_noise`); empty for a series' first run.
    change: &'a str,
    /// The level of `change_low`..`change_high`, the same for every step of the history.
    change_confidence: Option<f64>,
}

/// Writes `history.csv`, `history.md` and the trend charts into `dir`; returns the files.
pub fn write_history(history: &History, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = vec![write_in_folder(dir, HISTORY_CSV, &history_csv(history)?)?];
    let charts: Vec<chart::ChartFile> = trend_charts(history, chart::ChartOutput::Report)?
        .into_iter()
        .map(|(_, file)| file)
        .collect();
    let chart_names: Vec<String> = charts
        .iter()
        .filter(|c| c.file_name.ends_with(".png"))
        .map(|c| c.file_name.clone())
        .collect();
    written.push(write_in_folder(
        dir,
        HISTORY_MD,
        history_markdown(history, &chart_names).as_bytes(),
    )?);
    for file in charts {
        written.push(write_in_folder(dir, &file.file_name, &file.bytes)?);
    }
    Ok(written)
}

fn history_csv(history: &History) -> Result<Vec<u8>, ReportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for point in &history.points {
        let (low, high, spread) = spread(point);
        let change = point.contrast();
        let row = TrendRow {
            scenario: &point.key.scenario,
            variant: &point.key.variant,
            builder: point.key.builder.as_str(),
            cache: point.key.cache.as_str(),
            host: &point.key.host,
            run_id: &point.run_id,
            started_at: &point.started_at,
            runs_ok: point.samples_seconds.len(),
            median_seconds: point.summary.as_ref().map(|s| s.median),
            low_seconds: low,
            high_seconds: high,
            spread,
            image_bytes: point.image_bytes,
            inputs_changed: history
                .inputs_changed(point)
                .map(|files| files.join(" "))
                .unwrap_or_default(),
            time_ratio_vs_previous: change.map(|c| c.time_ratio),
            change_low: change.map(|c| c.interval.low),
            change_high: change.map(|c| c.interval.high),
            change: match &point.change {
                Some(Ok(contrast)) => contrast.outcome.as_str(),
                Some(Err(reason)) => reason.as_str(),
                None => "",
            },
            change_confidence: change.map(|c| c.confidence),
        };
        writer.serialize(row).map_err(|e| ReportError::Render {
            format: HISTORY_CSV,
            message: e.to_string(),
        })?;
    }
    writer.into_inner().map_err(|e| ReportError::Render {
        format: HISTORY_CSV,
        message: e.to_string(),
    })
}

/// The median's 95% interval when there is one, else the range of the runs, and which.
fn spread(point: &HistoryPoint) -> (Option<f64>, Option<f64>, &'static str) {
    match &point.summary {
        Some(summary) => match summary.median_interval {
            Some(interval) => (Some(interval.low), Some(interval.high), "95% CI"),
            None => (Some(summary.min), Some(summary.max), "range"),
        },
        None => (None, None, ""),
    }
}

fn history_markdown(history: &History, charts: &[String]) -> String {
    let mut out = String::from("# stagebench history\n\n");
    let (first, last) = (
        history.runs.first().map_or(String::new(), |r| date(&r.1)),
        history.runs.last().map_or(String::new(), |r| date(&r.1)),
    );
    let steps: Vec<&HistoryPoint> = history.step_changes().collect();
    let family_size = history
        .points
        .iter()
        .filter(|p| p.contrast().is_some())
        .count();
    let _ = writeln!(
        out,
        "{} runs from {first} to {last}, {} series. {} step change{} between consecutive runs (the contrast of one run against the one before; all {family_size} steps with an interval are one family).\n",
        history.runs.len(),
        history.series().len(),
        steps.len(),
        if steps.len() == 1 { "" } else { "s" },
    );
    if !steps.is_empty() {
        let _ = writeln!(out, "## Step changes\n");
        for point in &steps {
            if let Some(change) = point.contrast() {
                let inputs = history
                    .inputs_changed(point)
                    .map(|files| {
                        format!(
                            "; the scenario's inputs changed in this run: {}",
                            code_list(files)
                        )
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "- **{}**: {}: {} ({}), now {}{inputs}",
                    date(&point.started_at),
                    series_label(point),
                    format::speedup_phrase(change.speedup()),
                    format::speedup_interval_phrase(change),
                    point
                        .summary
                        .as_ref()
                        .map_or("–".to_string(), |s| format::seconds(s.median))
                );
            }
        }
        out.push('\n');
    }
    let mut scenarios: Vec<&str> = history
        .points
        .iter()
        .map(|p| p.key.scenario.as_str())
        .collect();
    scenarios.dedup();
    for scenario in scenarios {
        let _ = writeln!(out, "## {scenario}\n");
        for change in history
            .input_changes
            .iter()
            .filter(|c| c.scenario == scenario)
        {
            let started_at = history
                .runs
                .iter()
                .find(|(id, _)| *id == change.run_id)
                .map_or(String::new(), |(_, at)| date(at));
            let _ = writeln!(
                out,
                "- Inputs changed in the run of {started_at} on {}: {}",
                change.host,
                code_list(&change.files)
            );
        }
        if history.input_changes.iter().any(|c| c.scenario == scenario) {
            out.push('\n');
        }
        let mut series: Vec<_> = history
            .series()
            .into_iter()
            .filter(|k| k.scenario == scenario)
            .collect();
        let order = history.variant_order.get(scenario);
        series.sort_by_key(|k| {
            (
                order
                    .and_then(|names| names.iter().position(|n| *n == k.variant))
                    .unwrap_or(usize::MAX),
                (*k).clone(),
            )
        });
        let _ = writeln!(
            out,
            "| run | {} |",
            series
                .iter()
                .map(|k| format!("{} {} ({}, {})", k.variant, k.cache, k.builder, k.host))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let _ = writeln!(out, "| --- |{}", " ---: |".repeat(series.len()));
        for (run_id, started_at) in &history.runs {
            let cells: Vec<String> = series
                .iter()
                .map(|key| {
                    let point = history
                        .points
                        .iter()
                        .find(|p| &p.key == *key && &p.run_id == run_id);
                    point.map_or(String::new(), cell)
                })
                .collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            let _ = writeln!(out, "| {} | {} |", date(started_at), cells.join(" | "));
        }
        out.push('\n');
        for chart in charts
            .iter()
            .filter(|c| c.starts_with(&format!("{scenario}-")))
        {
            let _ = writeln!(out, "![{scenario}: build time by run]({chart})");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "Each cell is the median build time of one run; ▲ slower or ▼ faster than the run before, in bold, where the contrast says so. {}",
        format::method_note(
            history
                .points
                .iter()
                .find_map(HistoryPoint::contrast)
                .map_or(crate::run_options::DEFAULT_NOISE_THRESHOLD, |c| c
                    .noise_threshold),
            crate::stats::method::Family::History,
            family_size
        )
    );
    out
}

fn cell(point: &HistoryPoint) -> String {
    let median = point
        .summary
        .as_ref()
        .map_or("failed".to_string(), |s| format::seconds(s.median));
    match point.contrast().map(|c| (c.outcome, c)) {
        Some((Outcome::Slower, change)) => format!(
            "**{median} ▲ {}**",
            format::speedup_phrase(change.speedup())
        ),
        Some((Outcome::Faster, change)) => format!(
            "**{median} ▼ {}**",
            format::speedup_phrase(change.speedup())
        ),
        Some((Outcome::Same | Outcome::Inconclusive, _)) | None => median,
    }
}

fn series_label(point: &HistoryPoint) -> String {
    let key = &point.key;
    format!(
        "{} {} {} ({}, {})",
        key.scenario, key.variant, key.cache, key.builder, key.host
    )
}

/// "`a`, `b` and 2 more": a file list short enough for one line.
fn code_list(files: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = files
        .iter()
        .take(SHOWN)
        .map(|f| format!("`{f}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if files.len() > SHOWN {
        let _ = write!(text, " and {} more", files.len() - SHOWN);
    }
    text
}

/// `2026-11-29 02:00` from an RFC 3339 time.
fn date(rfc3339: &str) -> String {
    rfc3339.get(..16).unwrap_or(rfc3339).replacen('T', " ", 1)
}

/// One chart per scenario, host and builder: each cache mode a panel, each variant a line; each
/// with its scenario's name, rendered as `output`.
pub fn trend_charts(
    history: &History,
    output: chart::ChartOutput,
) -> Result<Vec<(String, chart::ChartFile)>, ReportError> {
    let mut sections: Vec<(&str, &str, crate::builder::Builder)> = Vec::new();
    for point in &history.points {
        let section = (
            point.key.scenario.as_str(),
            point.key.host.as_str(),
            point.key.builder,
        );
        if !sections.contains(&section) {
            sections.push(section);
        }
    }
    let several_hosts = {
        let mut hosts: Vec<&str> = sections.iter().map(|s| s.1).collect();
        hosts.sort_unstable();
        hosts.dedup();
        hosts.len() > 1
    };
    let mut files = Vec::new();
    for (scenario, host, builder) in &sections {
        let several_builders = sections
            .iter()
            .filter(|s| s.0 == *scenario && s.1 == *host)
            .count()
            > 1;
        let mut stem = (*scenario).to_string();
        if several_hosts {
            stem.push('-');
            stem.push_str(&super::file_safe(host));
        }
        if several_builders {
            stem.push('-');
            stem.push_str(builder.as_str());
        }
        let in_section = |p: &&HistoryPoint| {
            p.key.scenario == *scenario && p.key.host == *host && p.key.builder == *builder
        };
        // The x axis holds this chart's runs alone: other scenarios' runs would leave gaps.
        let runs: Vec<&(String, String)> = history
            .runs
            .iter()
            .filter(|(id, _)| {
                history
                    .points
                    .iter()
                    .filter(in_section)
                    .any(|p| p.run_id == *id)
            })
            .collect();
        let dates: Vec<String> = runs.iter().map(|(_, at)| at.clone()).collect();
        let mut series: Vec<TrendSeries> = Vec::new();
        for point in history.points.iter().filter(in_section) {
            let run_index = runs
                .iter()
                .position(|(id, _)| *id == point.run_id)
                .unwrap_or(0);
            let (low, high, _) = spread(point);
            let entry = match series
                .iter_mut()
                .find(|s| s.variant == point.key.variant && s.cache == point.key.cache)
            {
                Some(entry) => entry,
                None => {
                    series.push(TrendSeries {
                        variant: point.key.variant.clone(),
                        cache: point.key.cache,
                        points: Vec::new(),
                    });
                    let last = series.len() - 1;
                    &mut series[last]
                }
            };
            if let Some(summary) = &point.summary {
                entry.points.push(chart::TrendPoint {
                    run_index,
                    median_seconds: summary.median,
                    low_seconds: low.unwrap_or(summary.median),
                    high_seconds: high.unwrap_or(summary.median),
                    step: point.contrast().and_then(|c| match c.outcome {
                        Outcome::Slower | Outcome::Faster => Some(c.outcome),
                        Outcome::Same | Outcome::Inconclusive => None,
                    }),
                });
            }
        }
        // Variants in the scenario's own order, so each keeps its colour from the reports.
        let order = history.variant_order.get(*scenario);
        series.sort_by_key(|s| {
            (
                order
                    .and_then(|names| names.iter().position(|n| *n == s.variant))
                    .unwrap_or(usize::MAX),
                s.variant.clone(),
                s.cache,
            )
        });
        let title = if several_hosts {
            format!("{scenario} on {host}")
        } else {
            (*scenario).to_string()
        };
        let input = TrendInput {
            title: &title,
            file_stem: &stem,
            builder: *builder,
            run_dates: &dates,
            modes: CacheMode::ALL
                .into_iter()
                .filter(|m| series.iter().any(|s| s.cache == *m))
                .collect(),
            series: &series,
        };
        files.extend(
            chart::render_trend_as(&input, output)?
                .into_iter()
                .map(|file| ((*scenario).to_string(), file)),
        );
    }
    Ok(files)
}

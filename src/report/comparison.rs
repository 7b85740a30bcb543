//! `stagebench compare` as people read it: a terminal table, and Markdown fit for a pull-request
//! comment or `$GITHUB_STEP_SUMMARY`. Both are made from one list of rows.

use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::format;
use crate::compare::{CompareResult, SeriesChange, SizeChange};
use crate::results::SeriesKey;

/// One row, in words.
struct Row {
    series: String,
    baseline: String,
    current: String,
    build_time: String,
    image_size: String,
    /// Empty when neither side analysed its images; the column is then left out.
    pull_size: String,
    verdict: &'static str,
}

/// Whether any series has a pull size on either side.
fn has_pull_size(result: &CompareResult) -> bool {
    result
        .changes
        .iter()
        .any(|c| c.pull.baseline_bytes.is_some() || c.pull.current_bytes.is_some())
}

/// The comparison as a table for a terminal, with the verdict under it.
pub fn compare_terminal(result: &CompareResult) -> String {
    let mut table = Table::new();
    let pull = has_pull_size(result);
    let mut header = vec!["series", "baseline", "current", "build time", "image size"];
    if pull {
        header.push("pull size");
    }
    header.push("");
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    for row in rows(result) {
        let mut cells = vec![
            comfy_table::Cell::new(row.series),
            comfy_table::Cell::new(row.baseline).set_alignment(CellAlignment::Right),
            comfy_table::Cell::new(row.current).set_alignment(CellAlignment::Right),
            comfy_table::Cell::new(row.build_time),
            comfy_table::Cell::new(row.image_size),
        ];
        if pull {
            cells.push(comfy_table::Cell::new(row.pull_size));
        }
        cells.push(comfy_table::Cell::new(row.verdict));
        table.add_row(cells);
    }
    let mut out = format!("{table}\n");
    for line in footer(result) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The comparison as GitHub-flavoured Markdown.
pub fn compare_markdown(result: &CompareResult) -> String {
    let mut out = String::from("## stagebench compare\n\n");
    let _ = writeln!(out, "{}\n", headline(result));
    let pull = has_pull_size(result);
    let _ = writeln!(
        out,
        "| series | baseline | current | build time | image size |{} |\n| --- | ---: | ---: | --- | --- |{} --- |",
        if pull { " pull size |" } else { "" },
        if pull { " --- |" } else { "" }
    );
    for row in rows(result) {
        let verdict = if row.verdict.is_empty() {
            String::new()
        } else {
            format!("**{}**", row.verdict)
        };
        let pull_cell = if pull {
            format!(" {} |", row.pull_size)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |{pull_cell} {verdict} |",
            row.series, row.baseline, row.current, row.build_time, row.image_size
        );
    }
    out.push('\n');
    for line in footer(result).into_iter().skip(1) {
        let _ = writeln!(out, "{line}\n");
    }
    out
}

fn headline(result: &CompareResult) -> String {
    let regressions = result.regressions().count();
    match regressions {
        0 => format!("No regression in {} series.", result.changes.len()),
        1 => format!("**1 regression** in {} series.", result.changes.len()),
        n => format!("**{n} regressions** in {} series.", result.changes.len()),
    }
}

fn footer(result: &CompareResult) -> Vec<String> {
    let t = &result.thresholds;
    let mut lines = vec![
        headline(result).replace("**", ""),
        format!(
            "A time regression is `slower` with the whole interval above +{}; a size regression is growth of the image or its pull size above {} and {}. {}",
            format::percent(t.time),
            format::percent(t.size),
            format::bytes(t.size_floor_bytes),
            format::method_note(
                t.noise,
                crate::stats::method::Family::Compare,
                result.changes.iter().filter(|c| c.contrast.is_ok()).count()
            )
        ),
    ];
    let keys = |keys: &[SeriesKey]| -> String {
        keys.iter()
            .map(|k| format!("{} {} {}", k.scenario, k.variant, k.cache))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !result.only_in_baseline.is_empty() {
        lines.push(format!(
            "Only in the baseline: {}.",
            keys(&result.only_in_baseline)
        ));
    }
    if !result.only_in_current.is_empty() {
        lines.push(format!(
            "Only in the current results: {}.",
            keys(&result.only_in_current)
        ));
    }
    for difference in &result.host_differences {
        lines.push(format!(
            "Compared across different hosts (--allow-different-hosts): {difference}."
        ));
    }
    lines
}

fn rows(result: &CompareResult) -> Vec<Row> {
    let several_hosts = result
        .changes
        .iter()
        .any(|c| c.key.host != result.changes[0].key.host);
    let several_builders = result
        .changes
        .iter()
        .any(|c| c.key.builder != result.changes[0].key.builder);
    result
        .changes
        .iter()
        .map(|change| {
            let key = &change.key;
            let mut series = format!("{} {} {}", key.scenario, key.variant, key.cache);
            if several_builders {
                let _ = write!(series, " ({})", key.builder);
            }
            if several_hosts {
                let _ = write!(series, " on {}", key.host);
            }
            Row {
                series,
                baseline: median(change.baseline_median_seconds, change.baseline_runs),
                current: median(change.current_median_seconds, change.current_runs),
                build_time: build_time(change),
                image_size: size_text(&change.image),
                pull_size: size_text(&change.pull),
                verdict: if change.is_regression() {
                    "REGRESSION"
                } else {
                    ""
                },
            }
        })
        .collect()
}

fn median(seconds: Option<f64>, runs: usize) -> String {
    match seconds {
        Some(seconds) => format!("{} (n={runs})", format::seconds(seconds)),
        None => "no successful run".to_string(),
    }
}

fn build_time(change: &SeriesChange) -> String {
    match &change.contrast {
        Ok(contrast) => format!(
            "{} ({}): {}",
            format::speedup_phrase(contrast.speedup()),
            format::speedup_interval_phrase(contrast),
            match contrast.outcome {
                crate::stats::Outcome::Same => {
                    format!("same within {}", format::percent(contrast.noise_threshold))
                }
                other => other.as_str().to_string(),
            }
        ),
        Err(reason) => format!("no interval and no verdict: {reason}"),
    }
}

fn size_text(change: &SizeChange) -> String {
    match (
        change.baseline_bytes,
        change.current_bytes,
        change.change_bytes(),
    ) {
        (Some(_), Some(after), Some(0)) => format!("{}, unchanged", format::bytes(after)),
        (Some(before), Some(after), Some(delta)) => format!(
            "{} → {} ({}{}, {:+.2}%)",
            format::bytes(before),
            format::bytes(after),
            if delta > 0 { "+" } else { "−" },
            format::bytes(delta.unsigned_abs().try_into().unwrap_or(u64::MAX)),
            (after as f64 / before as f64 - 1.0) * 100.0
        ),
        _ => "–".to_string(),
    }
}

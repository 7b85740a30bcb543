//! `stagebench compare` as people read it: a terminal table, and Markdown fit for a pull-request
//! comment or `$GITHUB_STEP_SUMMARY`. Both are made from one list of rows, and both say which
//! series regressed and which the gate could not judge ("not gated").

use std::collections::BTreeMap;
use std::fmt::Write as _;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, ContentArrangement, Table};

use super::format;
use crate::compare::{
    CompareResult, NotGated, Regression, SeriesChange, SeriesSide, SizeChange, Verdict,
};
use crate::keys::SeriesKey;
use crate::results::BuildStatus;

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

/// The comparison as a table for a terminal, with the verdict under it. The sentences about
/// each series that is missing, failed or not gated are [`gate_sentences`], which the command
/// prints as its errors.
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
    let _ = writeln!(out, "{}\n", headline(result, true));
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
    let sentences = gate_sentences(result);
    for sentence in &sentences {
        let _ = writeln!(out, "- {sentence}");
    }
    if !sentences.is_empty() {
        out.push('\n');
    }
    for line in footer(result).into_iter().skip(1) {
        let _ = writeln!(out, "{line}\n");
    }
    out
}

/// One sentence for each series that is missing now, whose every build failed, or whose build
/// time the gate could not judge, naming the series and its run counts.
pub fn gate_sentences(result: &CompareResult) -> Vec<String> {
    let several = Several::of(result);
    result
        .changes
        .iter()
        .filter_map(|change| sentence(change, &several))
        .collect()
}

/// The gate's words for each series that did not pass, by the current side's key, for the
/// exports of the current side.
pub fn gate_verdicts(result: &CompareResult) -> BTreeMap<SeriesKey, String> {
    let several = Several::of(result);
    result
        .changes
        .iter()
        .filter_map(|change| {
            let words = match change.verdict() {
                Verdict::Pass => return None,
                Verdict::Regression => match sentence(change, &several) {
                    Some(sentence) => format!("REGRESSION: {sentence}"),
                    None => "REGRESSION".to_string(),
                },
                Verdict::NotGated => sentence(change, &several)?,
            };
            Some((change.key.clone(), words))
        })
        .collect()
}

fn sentence(change: &SeriesChange, several: &Several) -> Option<String> {
    let name = several.label(change);
    let (baseline_runs, current_runs) = change.runs();
    for regression in change.regressions() {
        match regression {
            Regression::Missing => {
                return Some(format!(
                    "{name} is missing from the current results, though the baseline measured it ({})",
                    runs_phrase(baseline_runs)
                ));
            }
            Regression::AllBuildsFailed { builds } => {
                let statuses = change
                    .current
                    .as_ref()
                    .map(|side| statuses_phrase(side, builds))
                    .unwrap_or_default();
                return Some(format!(
                    "{name}: all {builds} builds failed{statuses}, so nothing was measured (see the error column of results.csv)"
                ));
            }
            Regression::Time | Regression::Size => {}
        }
    }
    let reason = match change.not_gated.as_ref()? {
        NotGated::NotInBaseline => format!(
            "it is not in the baseline ({} now), so there is nothing to compare it with; a baseline saved with it gates it from then on",
            runs_phrase(current_runs)
        ),
        NotGated::TooFewRuns { required } => format!(
            "it has {} in the baseline and {current_runs} now, and the gate needs {required} on each side (--require-runs {required})",
            runs_phrase(baseline_runs)
        ),
        NotGated::NoContrast { reason } => format!(
            "{reason} ({} in the baseline, {current_runs} now)",
            runs_phrase(baseline_runs)
        ),
    };
    Some(format!("{name} is not gated: {reason}"))
}

/// "1 successful run", "6 successful runs".
fn runs_phrase(runs: usize) -> String {
    format!("{runs} successful run{}", if runs == 1 { "" } else { "s" })
}

/// "" when every build of the side failed outright; otherwise " (1 failed, 2 timed_out)".
fn statuses_phrase(side: &SeriesSide, builds: usize) -> String {
    match side.unsuccessful.as_slice() {
        [(BuildStatus::Failed, failed)] if *failed == builds => String::new(),
        statuses => {
            let parts: Vec<String> = statuses
                .iter()
                .map(|(status, runs)| format!("{runs} {status}"))
                .collect();
            format!(" ({})", parts.join(", "))
        }
    }
}

/// The first line of the verdict; `markdown` marks what matters in bold.
fn headline(result: &CompareResult, markdown: bool) -> String {
    let bold = |text: String| {
        if markdown {
            format!("**{text}**")
        } else {
            text
        }
    };
    let series = result.changes.len();
    let regressions = result.regressions().count();
    let not_gated = result.not_gated().count();
    let not_gated_too = if not_gated > 0 {
        format!("; {not_gated} more not gated")
    } else {
        String::new()
    };
    match result.verdict() {
        Verdict::Regression => format!(
            "{} in {series} series{not_gated_too}.",
            bold(plural(regressions, "regression"))
        ),
        Verdict::NotGated if series == 0 => {
            bold("Nothing to compare: neither side has a timed build.".to_string())
        }
        Verdict::NotGated => format!(
            "{}: the gate could not judge {}, so the comparison does not pass.",
            bold(format!("{not_gated} of {series} series not gated")),
            if not_gated == 1 { "it" } else { "them" }
        ),
        Verdict::Pass => format!("No regression in {series} series."),
    }
}

fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

fn footer(result: &CompareResult) -> Vec<String> {
    let t = &result.thresholds;
    let mut lines = vec![
        headline(result, false),
        format!(
            "A time regression is `slower` with the whole interval above +{}; a size regression is growth of the image or its pull size above {} and {}; a series missing now, or whose every build failed, is a regression too. A build time is gated with at least {} successful runs on each side. {}",
            format::percent(t.time),
            format::percent(t.size),
            format::bytes(t.size_floor_bytes),
            t.required_runs,
            result
                .sequential_method
                .clone()
                .unwrap_or_else(|| format::method_note(
                    t.noise,
                    crate::stats::method::Family::Compare,
                    result
                        .changes
                        .iter()
                        .filter(|c| c.contrast.is_some())
                        .count()
                ))
        ),
    ];
    for difference in &result.host_differences {
        lines.push(format!(
            "Compared across different hosts (--allow-different-hosts): {difference}."
        ));
    }
    lines
}

/// Whether series names must say their builder and host.
struct Several {
    hosts: bool,
    builders: bool,
}

impl Several {
    fn of(result: &CompareResult) -> Several {
        let first = result.changes.first();
        Several {
            hosts: result
                .changes
                .iter()
                .any(|c| first.is_some_and(|f| f.key.host != c.key.host)),
            builders: result
                .changes
                .iter()
                .any(|c| first.is_some_and(|f| f.key.builder != c.key.builder)),
        }
    }

    fn label(&self, change: &SeriesChange) -> String {
        let key = &change.key;
        let mut series = format!("{} {} {}", key.scenario, key.variant, key.cache);
        if self.builders {
            let _ = write!(series, " ({})", key.builder);
        }
        if self.hosts {
            let _ = write!(series, " on {}", key.host);
        }
        series
    }
}

fn rows(result: &CompareResult) -> Vec<Row> {
    let several = Several::of(result);
    result
        .changes
        .iter()
        .map(|change| Row {
            series: several.label(change),
            baseline: match &change.baseline {
                Some(side) => median(side),
                None => "not in the baseline".to_string(),
            },
            current: match &change.current {
                Some(side) if side.runs_ok == 0 => {
                    format!("all {} builds failed", side.builds())
                }
                Some(side) => median(side),
                None => "missing".to_string(),
            },
            build_time: build_time(change),
            image_size: size_text(&change.image),
            pull_size: size_text(&change.pull),
            verdict: match change.verdict() {
                Verdict::Regression => "REGRESSION",
                Verdict::NotGated => "not gated",
                Verdict::Pass => "",
            },
        })
        .collect()
}

fn median(side: &SeriesSide) -> String {
    match side.median_seconds {
        Some(seconds) => format!("{} (n={})", format::seconds(seconds), side.runs_ok),
        None => format!("none of {} succeeded", side.builds()),
    }
}

fn build_time(change: &SeriesChange) -> String {
    // The current side's median counts every run; say so when the interval was read on fewer.
    let read_after = match (change.read_after_rounds, &change.current) {
        (Some(rounds), Some(side)) if rounds < side.builds() => {
            format!(", read after {rounds} runs")
        }
        _ => String::new(),
    };
    match (&change.contrast, &change.not_gated) {
        (Some(contrast), _) => format!(
            "{} ({}{read_after}): {}",
            format::speedup_phrase(contrast.speedup()),
            format::speedup_interval_phrase(contrast),
            match contrast.outcome {
                crate::stats::Outcome::Same => {
                    format!("same within {}", format::percent(contrast.noise_threshold))
                }
                other => other.as_str().to_string(),
            }
        ),
        (None, Some(NotGated::TooFewRuns { .. })) => "too few runs to compare".to_string(),
        (None, Some(NotGated::NoContrast { reason })) => format!("no interval: {}", reason.short()),
        (None, Some(NotGated::NotInBaseline) | None) => "–".to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::Builder;
    use crate::cache_mode::CacheMode;
    use crate::compare::Thresholds;

    fn side(runs_ok: usize, unsuccessful: &[(BuildStatus, usize)]) -> SeriesSide {
        SeriesSide {
            median_seconds: (runs_ok > 0).then_some(14.3),
            runs_ok,
            unsuccessful: unsuccessful.to_vec(),
        }
    }

    fn change(
        variant: &str,
        baseline: Option<SeriesSide>,
        current: Option<SeriesSide>,
        not_gated: Option<NotGated>,
    ) -> SeriesChange {
        SeriesChange {
            key: SeriesKey {
                scenario: "app".to_string(),
                variant: variant.to_string(),
                builder: Builder::BuildKit,
                cache: CacheMode::Cold,
                host: "local".to_string(),
            },
            baseline,
            current,
            contrast: None,
            image: SizeChange {
                baseline_bytes: Some(1_000),
                current_bytes: Some(1_000),
            },
            pull: SizeChange {
                baseline_bytes: None,
                current_bytes: None,
            },
            time_regression: false,
            size_regression: false,
            not_gated,
            read_after_rounds: None,
        }
    }

    fn result(changes: Vec<SeriesChange>) -> CompareResult {
        CompareResult {
            sequential_method: None,
            changes,
            thresholds: Thresholds::default(),
            host_differences: Vec::new(),
        }
    }

    fn every_kind() -> CompareResult {
        result(vec![
            change("gone", Some(side(6, &[])), None, None),
            change(
                "broken",
                Some(side(3, &[])),
                Some(side(0, &[(BuildStatus::Failed, 3)])),
                None,
            ),
            change(
                "stuck",
                Some(side(3, &[])),
                Some(side(
                    0,
                    &[(BuildStatus::Failed, 1), (BuildStatus::TimedOut, 2)],
                )),
                None,
            ),
            change(
                "once",
                Some(side(3, &[])),
                Some(side(1, &[])),
                Some(NotGated::TooFewRuns { required: 3 }),
            ),
            change(
                "fresh",
                None,
                Some(side(4, &[])),
                Some(NotGated::NotInBaseline),
            ),
            change(
                "flat",
                Some(side(3, &[])),
                Some(side(3, &[])),
                Some(NotGated::NoContrast {
                    reason: crate::stats::NoContrast::NoNoise,
                }),
            ),
            change("fine", Some(side(3, &[])), Some(side(3, &[])), None),
        ])
    }

    #[test]
    fn each_series_that_fails_or_is_not_gated_has_one_sentence_with_its_run_counts() {
        assert_eq!(
            gate_sentences(&every_kind()),
            [
                "app gone cold is missing from the current results, though the baseline measured it (6 successful runs)",
                "app broken cold: all 3 builds failed, so nothing was measured (see the error column of results.csv)",
                "app stuck cold: all 3 builds failed (1 failed, 2 timed_out), so nothing was measured (see the error column of results.csv)",
                "app once cold is not gated: it has 3 successful runs in the baseline and 1 now, and the gate needs 3 on each side (--require-runs 3)",
                "app fresh cold is not gated: it is not in the baseline (4 successful runs now), so there is nothing to compare it with; a baseline saved with it gates it from then on",
                "app flat cold is not gated: both sides' times are identical, so their noise cannot be estimated (3 successful runs in the baseline, 3 now)",
            ]
        );
    }

    #[test]
    fn the_table_and_the_markdown_mark_every_series_that_did_not_pass() {
        let every = every_kind();
        let table = compare_terminal(&every);
        assert!(
            table.contains("3 regressions in 7 series; 3 more not gated."),
            "{table}"
        );
        assert_eq!(table.matches("REGRESSION").count(), 3, "{table}");
        assert_eq!(table.matches("not gated").count(), 3 + 1, "{table}");
        for cell in ["missing", "all 3 builds failed", "not in the baseline"] {
            assert!(table.contains(cell), "{cell}: {table}");
        }
        assert!(
            !table.contains("is not gated:"),
            "the sentences go to standard error, once"
        );
        let markdown = compare_markdown(&every);
        assert!(
            markdown.contains("**3 regressions** in 7 series; 3 more not gated."),
            "{markdown}"
        );
        assert_eq!(
            markdown.matches("| **not gated** |").count(),
            3,
            "{markdown}"
        );
        for sentence in gate_sentences(&every) {
            assert!(markdown.contains(&format!("- {sentence}\n")), "{markdown}");
        }
    }

    #[test]
    fn the_headline_never_says_no_regression_unless_every_series_passed() {
        let fine = || change("fine", Some(side(3, &[])), Some(side(3, &[])), None);
        let once = || {
            change(
                "once",
                Some(side(3, &[])),
                Some(side(1, &[])),
                Some(NotGated::TooFewRuns { required: 3 }),
            )
        };
        let cases = [
            (vec![fine()], "No regression in 1 series."),
            (
                vec![fine(), once()],
                "1 of 2 series not gated: the gate could not judge it, so the comparison does not pass.",
            ),
            (
                vec![once(), once()],
                "2 of 2 series not gated: the gate could not judge them, so the comparison does not pass.",
            ),
            (
                vec![],
                "Nothing to compare: neither side has a timed build.",
            ),
        ];
        for (changes, expected) in cases {
            let compared = result(changes);
            assert_eq!(headline(&compared, false), expected);
            let markdown = compare_markdown(&compared);
            assert!(markdown.contains(&headline(&compared, true)), "{markdown}");
            assert_eq!(
                markdown.contains("No regression"),
                compared.verdict() == Verdict::Pass,
                "{markdown}"
            );
        }
    }

    #[test]
    fn the_exports_get_the_gate_s_words_for_each_series_that_did_not_pass() {
        let every = every_kind();
        let verdicts = gate_verdicts(&every);
        let words = |variant: &str| {
            verdicts
                .iter()
                .find(|(key, _)| key.variant == variant)
                .map(|(_, words)| words.as_str())
        };
        assert_eq!(words("fine"), None);
        assert!(
            words("once")
                .unwrap()
                .starts_with("app once cold is not gated")
        );
        assert!(
            words("broken")
                .unwrap()
                .starts_with("REGRESSION: app broken cold: all 3")
        );
        let mut slower = change("slower", Some(side(3, &[])), Some(side(3, &[])), None);
        slower.time_regression = true;
        assert_eq!(
            gate_verdicts(&result(vec![slower]))
                .values()
                .next()
                .map(String::as_str),
            Some("REGRESSION")
        );
    }
}

//! The headline table, in the form the classic write-ups use: one row per variant; columns for
//! cold, warm and incremental build time and image size; each cell the median with its interval
//! and how it compares with the baseline. Markdown and the terminal draw the same model.

use crate::cache_mode::CacheMode;
use crate::stats::{Comparison, GroupSummary, Verdict};

use super::ReportData;
use super::format;

/// One scenario's headline table.
pub struct HeadlineTable {
    /// Scenario name.
    pub scenario: String,
    /// The scenario's description, if any.
    pub description: Option<String>,
    /// Column headings after the variant column.
    pub columns: Vec<String>,
    /// One row per variant, baseline first.
    pub rows: Vec<HeadlineRow>,
    /// The statistical comparisons behind the "faster" phrases, in reading order.
    pub verdicts: Vec<String>,
}

/// One variant's row.
pub struct HeadlineRow {
    /// Variant name, with "(baseline)" when it is the baseline.
    pub label: String,
    /// One cell per column.
    pub cells: Vec<HeadlineCell>,
}

/// A cell: the figure, then lines of detail under it.
pub struct HeadlineCell {
    /// The median or the size.
    pub value: String,
    /// Interval, failures and comparison with the baseline.
    pub details: Vec<String>,
}

/// One table per scenario in the results.
pub fn headline_tables(data: &ReportData) -> Vec<HeadlineTable> {
    data.meta
        .scenarios
        .iter()
        .filter(|s| data.analysis.groups.iter().any(|g| g.scenario == s.name))
        .map(|scenario| {
            let groups: Vec<&GroupSummary> = data
                .analysis
                .groups
                .iter()
                .filter(|g| g.scenario == scenario.name)
                .collect();
            let comparisons: Vec<&Comparison> = data
                .analysis
                .comparisons
                .iter()
                .filter(|c| c.scenario == scenario.name)
                .collect();
            let modes: Vec<CacheMode> = CacheMode::ALL
                .into_iter()
                .filter(|m| groups.iter().any(|g| g.cache == *m))
                .collect();
            let baseline = scenario.baseline.as_deref();
            let mut columns: Vec<String> = modes.iter().map(|m| format!("{m} build")).collect();
            columns.push("image size".to_string());

            let mut variants: Vec<&str> = Vec::new();
            for group in &groups {
                if !variants.contains(&group.variant.as_str()) {
                    variants.push(&group.variant);
                }
            }
            let rows = variants
                .iter()
                .map(|variant| {
                    let mut cells: Vec<HeadlineCell> = modes
                        .iter()
                        .map(|mode| {
                            let group = groups
                                .iter()
                                .find(|g| g.variant == *variant && g.cache == *mode);
                            let comparison = comparisons
                                .iter()
                                .find(|c| c.variant == *variant && c.cache == *mode);
                            time_cell(group.copied(), comparison.copied())
                        })
                        .collect();
                    cells.push(size_cell(&groups, &comparisons, variant, baseline));
                    HeadlineRow {
                        label: if Some(*variant) == baseline {
                            format!("{variant} (baseline)")
                        } else {
                            (*variant).to_string()
                        },
                        cells,
                    }
                })
                .collect();
            HeadlineTable {
                scenario: scenario.name.clone(),
                description: scenario.description.clone(),
                columns,
                rows,
                verdicts: comparisons.iter().map(|c| verdict_sentence(c)).collect(),
            }
        })
        .collect()
}

fn time_cell(group: Option<&GroupSummary>, comparison: Option<&Comparison>) -> HeadlineCell {
    let Some(group) = group else {
        return HeadlineCell {
            value: "–".to_string(),
            details: vec!["not measured".to_string()],
        };
    };
    let Some(summary) = &group.build_seconds else {
        return HeadlineCell {
            value: "failed".to_string(),
            details: vec![format!(
                "{} of {} runs failed",
                group.runs_failed, group.runs_failed
            )],
        };
    };
    let (value, interval) = format::median_with_interval(summary);
    let mut details = vec![interval];
    if group.runs_failed > 0 {
        details.push(format!(
            "{} of {} runs failed",
            group.runs_failed,
            group.runs_failed + group.runs_ok
        ));
    }
    if let Some(comparison) = comparison {
        // A ratio that the test cannot tell from 1 is marked, so a reader skimming the table
        // does not take noise for an effect.
        let marker = match comparison.verdict {
            Verdict::NoSignificantDifference => " (n.s.)",
            _ => "",
        };
        details.push(format!(
            "{} than {}{marker}",
            format::speedup_phrase(comparison.speedup),
            comparison.baseline
        ));
    }
    HeadlineCell { value, details }
}

/// Image size is a property of the variant, so it is taken from its cold group when there is one.
fn size_cell(
    groups: &[&GroupSummary],
    comparisons: &[&Comparison],
    variant: &str,
    baseline: Option<&str>,
) -> HeadlineCell {
    let bytes = groups
        .iter()
        .filter(|g| g.variant == variant)
        .find_map(|g| g.image_bytes);
    let Some(bytes) = bytes else {
        return HeadlineCell {
            value: "–".to_string(),
            details: vec!["no image".to_string()],
        };
    };
    let mut details = Vec::new();
    if let (Some(ratio), Some(baseline)) = (
        comparisons
            .iter()
            .find(|c| c.variant == variant)
            .and_then(|c| c.size_ratio),
        baseline,
    ) {
        details.push(format!("{} than {baseline}", format::size_phrase(ratio)));
    }
    HeadlineCell {
        value: format::bytes(bytes),
        details,
    }
}

/// "multi vs single, cold: 10.3× faster (95% CI 9.1–11.8×); significant, p = 0.0012 (Welch's ...)".
pub fn verdict_sentence(comparison: &Comparison) -> String {
    let interval = match &comparison.speedup_interval {
        Some(i) => format!(
            " ({})",
            format::speedup_interval_phrase(comparison.speedup, i)
        ),
        None => " (too few runs for an interval)".to_string(),
    };
    let verdict = match (&comparison.verdict, &comparison.test) {
        (Verdict::TooFewRuns, _) | (_, None) => "too few runs for a significance test".to_string(),
        (Verdict::Faster | Verdict::Slower, Some(test)) => {
            format!(
                "significant, {} ({})",
                format::p_value(test.p_value),
                test.name
            )
        }
        (Verdict::NoSignificantDifference, Some(test)) => {
            format!(
                "not significant, {} ({})",
                format::p_value(test.p_value),
                test.name
            )
        }
    };
    format!(
        "{} vs {}, {}: {}{interval}; {verdict}",
        comparison.variant,
        comparison.baseline,
        comparison.cache,
        format::speedup_phrase(comparison.speedup)
    )
}

//! The headline table, in the form the classic write-ups use: one row per variant; columns for
//! cold, warm and incremental build time and image size; each cell the median with its interval
//! and how it compares with the baseline. The CI modes get a table of their own under it, each
//! cell also saying what the previous job paid to export the cache it imports, so that six
//! modes never squeeze into one terminal row. Markdown and the terminal draw the same model.

use crate::cache_mode::CacheMode;
use crate::results::ScenarioMeta;
use crate::stats::{Comparison, GroupSummary};

use super::ReportData;
use super::format;

/// One section's headline table (a scenario on one host with one builder).
pub struct HeadlineTable {
    /// The section's title: the scenario, with the host and builder when the report has several.
    pub title: String,
    /// What the section's chart files start with.
    pub file_stem: String,
    /// The scenario's description, if any.
    pub description: Option<String>,
    /// Column headings after the variant column.
    pub columns: Vec<String>,
    /// Each column's name in a layout that gives it a line rather than a column: its cache mode
    /// alone ("cold"), "prebuilds", "image size" or "pull size"; one per entry of `columns`.
    pub labels: Vec<String>,
    /// One row per variant, baseline first.
    pub rows: Vec<HeadlineRow>,
    /// The CI modes measured in the section, in [`CacheMode::ALL`] order; none for a run
    /// without them.
    pub ci_modes: Vec<CacheMode>,
    /// Column headings of the CI table after the variant column; empty without CI modes.
    pub ci_columns: Vec<String>,
    /// The CI table's rows, one per variant as in `rows`; empty without CI modes.
    pub ci_rows: Vec<HeadlineRow>,
    /// The statistical comparisons behind the "faster" phrases, in reading order.
    pub verdicts: Vec<String>,
    /// Where the section's wall time went, when meta.json records it.
    pub cost: Option<String>,
    /// Files an incremental run edits, relative to the scenario directory.
    pub touched_files: Vec<String>,
    /// How they are edited.
    pub edit: crate::touch::EditStyle,
    /// The builder of the section's builds.
    pub builder: crate::builder::Builder,
    /// Each variant's Dockerfile: its path from the scenario directory, and a link to it from
    /// the results folder when meta.json records where the scenario lies.
    pub dockerfiles: Vec<(String, String, Option<String>)>,
    /// Whether the section has a stage timeline chart (its builds recorded steps).
    pub has_timeline: bool,
    /// Whether the section has a layer chart (its images were analysed).
    pub has_layers: bool,
    /// Whether the section has a CI chart (it measured CI modes).
    pub has_ci_chart: bool,
    /// Why the variants differ, in sentences (see [`super::why`]).
    pub why: Vec<String>,
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
    /// For a series that imports an exported cache: "+0.900 s export" and "12.3 MB cache", what
    /// the previous job paid and what the import weighed, which belong next to the value; empty
    /// for other series.
    pub previous_job: Vec<String>,
    /// Interval, failures and other facts.
    pub details: Vec<String>,
    /// The comparison with the baseline, and whether it is a finding (faster or slower) rather
    /// than noise, which formats set apart.
    pub comparison: Option<(String, bool)>,
}

/// One table per section of the report.
pub fn headline_tables(data: &ReportData) -> Vec<HeadlineTable> {
    data.sections()
        .into_iter()
        .map(|section| {
            let groups = &section.groups;
            let comparisons: Vec<&Comparison> = data
                .analysis
                .comparisons
                .iter()
                .filter(|c| groups.iter().any(|g| g.key == c.key))
                .collect();
            let present: Vec<CacheMode> = CacheMode::ALL
                .into_iter()
                .filter(|m| groups.iter().any(|g| g.key.cache == *m))
                .collect();
            let (ci_modes, modes): (Vec<CacheMode>, Vec<CacheMode>) =
                present.into_iter().partition(|m| m.is_ci());
            let baseline = section.scenario.baseline.as_deref();
            // Prebuilt images make a variant's builds fast because their cost was paid before;
            // the table shows that cost next to the variants that use it.
            let has_prebuilds = section
                .scenario
                .variants
                .iter()
                .any(|v| !v.prebuilds.is_empty());
            let mut columns: Vec<String> = Vec::new();
            let mut labels: Vec<String> = Vec::new();
            for mode in &modes {
                columns.push(format!("{mode} build"));
                labels.push(mode.to_string());
                if mode.shows_prebuild_cost() && has_prebuilds {
                    columns.push("prebuilds it uses".to_string());
                    labels.push("prebuilds".to_string());
                }
            }
            columns.push("image size".to_string());
            labels.push("image size".to_string());
            // Pull size exists only where an image was analysed (runs recorded before it was
            // measured have none), so its column appears only then.
            let has_pull_size = groups.iter().any(|g| g.compressed_bytes.is_some());
            if has_pull_size {
                columns.push("pull size".to_string());
                labels.push("pull size".to_string());
            }

            let mut variants: Vec<&str> = Vec::new();
            for group in groups {
                if !variants.contains(&group.key.variant.as_str()) {
                    variants.push(&group.key.variant);
                }
            }
            let row_label = |variant: &str| {
                if Some(variant) == baseline {
                    format!("{variant} (baseline)")
                } else {
                    variant.to_string()
                }
            };
            let time_cell_of = |variant: &str, mode: CacheMode| {
                let group = groups
                    .iter()
                    .find(|g| g.key.variant == variant && g.key.cache == mode);
                let comparison = group.and_then(|g| comparisons.iter().find(|c| c.key == g.key));
                time_cell(group.copied(), comparison.copied())
            };
            let ci_rows: Vec<HeadlineRow> = if ci_modes.is_empty() {
                Vec::new()
            } else {
                variants
                    .iter()
                    .map(|variant| HeadlineRow {
                        label: row_label(variant),
                        cells: ci_modes
                            .iter()
                            .map(|mode| time_cell_of(variant, *mode))
                            .collect(),
                    })
                    .collect()
            };
            let rows = variants
                .iter()
                .map(|variant| {
                    let mut cells: Vec<HeadlineCell> = Vec::new();
                    for mode in &modes {
                        cells.push(time_cell_of(variant, *mode));
                        if mode.shows_prebuild_cost() && has_prebuilds {
                            let group = groups
                                .iter()
                                .find(|g| g.key.variant == *variant && g.key.cache == *mode);
                            cells.push(prebuild_cell(section.scenario, variant, group.copied()));
                        }
                    }
                    let image_bytes = |g: &GroupSummary| g.image_bytes;
                    cells.push(size_cell(
                        groups,
                        variant,
                        baseline,
                        image_bytes,
                        "no image",
                    ));
                    if has_pull_size {
                        let pull_bytes = |g: &GroupSummary| g.compressed_bytes;
                        cells.push(size_cell(
                            groups,
                            variant,
                            baseline,
                            pull_bytes,
                            "not analysed",
                        ));
                    }
                    HeadlineRow {
                        label: row_label(variant),
                        cells,
                    }
                })
                .collect();
            HeadlineTable {
                title: section.title(),
                file_stem: section.file_stem(),
                description: section.scenario.description.clone(),
                columns,
                labels,
                rows,
                ci_columns: ci_modes.iter().map(|m| format!("{m} build")).collect(),
                has_ci_chart: !ci_modes.is_empty(),
                ci_modes,
                ci_rows,
                verdicts: comparisons.iter().map(|c| verdict_sentence(c)).collect(),
                cost: section.scenario.cost.as_ref().map(format::cost_sentence),
                touched_files: section.scenario.touched_files.clone(),
                edit: section.scenario.edit,
                builder: section.builder,
                dockerfiles: section
                    .scenario
                    .variants
                    .iter()
                    .map(|v| {
                        let link = section
                            .scenario
                            .dir_from_results
                            .as_ref()
                            .map(|dir| format!("{dir}/{}", v.dockerfile));
                        (v.name.clone(), v.dockerfile.clone(), link)
                    })
                    .collect(),
                has_timeline: !data.timelines(&section).is_empty(),
                has_layers: !data.images_of(&section).is_empty(),
                why: super::why::why_sentences(data, &section),
            }
        })
        .collect()
}

fn time_cell(group: Option<&GroupSummary>, comparison: Option<&Comparison>) -> HeadlineCell {
    let Some(group) = group else {
        return HeadlineCell {
            value: "–".to_string(),
            details: vec!["not measured".to_string()],
            comparison: None,
            previous_job: Vec::new(),
        };
    };
    let runs = group.runs_ok
        + group.runs_failed
        + group.runs_timed_out
        + group.runs_interrupted
        + group.runs_cache_mismatch;
    let unsuccessful: Vec<String> = [
        (group.runs_failed, "failed"),
        (group.runs_timed_out, "timed out"),
        (group.runs_interrupted, "interrupted"),
        (group.runs_cache_mismatch, "not in this cache state"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, what)| format!("{count} of {runs} runs {what}"))
    .collect();
    let Some(summary) = &group.build_seconds else {
        return HeadlineCell {
            value: if group.runs_failed > 0 {
                "failed"
            } else if group.runs_timed_out > 0 {
                "timed out"
            } else if group.runs_interrupted > 0 {
                "interrupted"
            } else if group.runs_cache_mismatch > 0 {
                "cache mismatch"
            } else {
                "–"
            }
            .to_string(),
            details: unsuccessful,
            comparison: None,
            previous_job: Vec::new(),
        };
    };
    let (value, interval) = format::median_with_interval(summary);
    let mut details = vec![interval];
    details.extend(unsuccessful);
    HeadlineCell {
        value,
        details,
        // A ratio the contrast cannot tell from noise says so, so that a reader skimming the
        // table does not take noise for an effect.
        comparison: comparison.map(format::comparison_phrase),
        previous_job: previous_job_phrase(group),
    }
}

/// "+0.900 s export" and "12.3 MB cache" for a series that imported an exported cache; nothing
/// for one that imported none.
fn previous_job_phrase(group: &GroupSummary) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(seconds) = group.export_seconds {
        parts.push(format!("+{} export", format::seconds(seconds)));
    }
    if let Some(bytes) = group.cache_bytes {
        parts.push(format!("{} cache", format::bytes(bytes)));
    }
    parts
}

/// The build time of the prebuilds `variant` builds on, and what its first build costs with
/// them: the prebuilds plus one cold build.
fn prebuild_cell(
    scenario: &ScenarioMeta,
    variant: &str,
    cold: Option<&GroupSummary>,
) -> HeadlineCell {
    let used: Vec<&String> = scenario
        .variants
        .iter()
        .find(|v| v.name == variant)
        .map(|v| v.prebuilds.iter().collect())
        .unwrap_or_default();
    if used.is_empty() {
        return HeadlineCell {
            value: "none".to_string(),
            details: Vec::new(),
            comparison: None,
            previous_job: Vec::new(),
        };
    }
    let seconds: f64 = scenario
        .prebuilds
        .iter()
        .filter(|p| used.contains(&&p.tag))
        .map(|p| p.build_seconds)
        .sum();
    let mut details = vec![format!(
        "{} prebuild{}",
        used.len(),
        if used.len() == 1 { "" } else { "s" }
    )];
    if let Some(cold) = cold.and_then(|g| g.build_seconds.as_ref()) {
        details.push(format!(
            "first build, prebuilds included: {}",
            format::seconds(seconds + cold.median)
        ));
    }
    HeadlineCell {
        value: format::seconds(seconds),
        details,
        comparison: None,
        previous_job: Vec::new(),
    }
}

/// A size (`bytes_of` a group: image or pull size) is a property of the variant, so it is taken
/// from its first group that has one (its cold group when there is one), the baseline's alike.
fn size_cell(
    groups: &[&GroupSummary],
    variant: &str,
    baseline: Option<&str>,
    bytes_of: impl Fn(&GroupSummary) -> Option<u64>,
    missing: &str,
) -> HeadlineCell {
    let variant_bytes = |name: &str| {
        groups
            .iter()
            .filter(|g| g.key.variant == name)
            .find_map(|g| bytes_of(g))
    };
    let Some(bytes) = variant_bytes(variant) else {
        return HeadlineCell {
            value: "–".to_string(),
            details: vec![missing.to_string()],
            comparison: None,
            previous_job: Vec::new(),
        };
    };
    // Sizes are deterministic: any difference is a finding, and equal sizes say so.
    let comparison = match baseline.filter(|b| *b != variant) {
        Some(baseline) => match variant_bytes(baseline) {
            Some(baseline_bytes) if baseline_bytes == bytes => {
                Some((format!("same size as {baseline}"), false))
            }
            Some(baseline_bytes) if bytes > 0 => Some((
                format!(
                    "{} than {baseline}",
                    format::size_phrase(baseline_bytes as f64 / bytes as f64)
                ),
                true,
            )),
            _ => None,
        },
        None => None,
    };
    HeadlineCell {
        value: format::bytes(bytes),
        details: Vec::new(),
        comparison,
        previous_job: Vec::new(),
    }
}

/// "multi vs single, cold: 10.3× faster (99.16% simultaneous CI 9.1×–11.8×): faster, p = 0.0012;
/// Bonferroni-adjusted over 6 comparisons: p = 0.0072".
pub fn verdict_sentence(comparison: &Comparison) -> String {
    let head = format!(
        "{} vs {}, {}: {}",
        comparison.key.variant,
        comparison.baseline,
        comparison.key.cache,
        format::speedup_phrase(comparison.speedup())
    );
    match &comparison.contrast {
        Ok(contrast) => format!(
            "{head} ({}): {}",
            format::speedup_interval_phrase(contrast),
            format::outcome_phrase(contrast)
        ),
        Err(reason) => format!("{head}, with no interval and no verdict: {reason}"),
    }
}

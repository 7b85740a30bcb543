//! With `--runs auto`: how each scenario's series stopped, for report.md, summary.json and the
//! terminal, in the words of [`SectionStops::lines`].

use serde::Serialize;

use crate::stats::SequentialDesign;
use crate::stats::method::sequential_sentence;
use crate::stats::stopping::SectionStops;

use super::ReportData;

/// One scenario on one host, as summary.json gives it.
#[derive(Debug, Serialize)]
pub struct StoppingSection {
    scenario: String,
    host: String,
    /// Comparisons in the family: every interval of a look is read at a share of 0.05 over this.
    comparisons_in_family: usize,
    /// Complete rounds when the last look was taken.
    rounds: usize,
    /// Whether `--time-budget` closed the family with verdicts still open.
    time_budget_spent: bool,
    /// Per series: `running`, `settled`, `unsettled` or `not_compared`, and its line.
    series: Vec<StoppingSeries>,
}

#[derive(Debug, Serialize)]
struct StoppingSeries {
    variant: String,
    cache: crate::cache_mode::CacheMode,
    state: &'static str,
    line: String,
}

/// The sentence on how looks were taken and the error rate kept, for every family.
pub fn method_sentence(data: &ReportData) -> Option<String> {
    let stopping = data.meta.settings.options.stopping?;
    let design =
        SequentialDesign::new(stopping.min_runs as usize, stopping.max_runs as usize).ok()?;
    let sizes: Vec<usize> = data.stops.iter().map(|s| s.run.family_size()).collect();
    Some(sequential_sentence(
        &design,
        &sizes,
        stopping.paired_by_round,
    ))
}

/// summary.json's `stopping` sections.
pub fn sections(data: &ReportData) -> Vec<StoppingSection> {
    data.stops.iter().map(section).collect()
}

fn section(stops: &SectionStops) -> StoppingSection {
    let lines = stops.lines();
    StoppingSection {
        scenario: stops.scenario.clone(),
        host: stops.host.clone(),
        comparisons_in_family: stops.run.family_size(),
        rounds: stops.rounds,
        time_budget_spent: stops.budget_spent,
        series: stops
            .series
            .iter()
            .enumerate()
            .zip(lines)
            .map(|((index, name), line)| StoppingSeries {
                variant: name.variant.clone(),
                cache: name.cache,
                state: stops.state(index),
                line,
            })
            .collect(),
    }
}

/// report.md's section: the method sentence, then per scenario and host a line per series.
pub fn markdown(data: &ReportData) -> Option<String> {
    let sentence = method_sentence(data)?;
    let several = data.stops.len() > 1;
    let mut out = format!("## How the runs stopped\n\n{sentence}\n");
    if let Some(gate) = &data.meta.settings.options.gated_looks {
        out.push_str(&format!(
            "\nThe looks were also taken under the gate against baseline `{}`: a series ran on while its comparison with the baseline's series needed it, so it may have more runs than its own comparisons below needed (its cells count every run). The gate's verdicts are those `run --baseline` printed, and `stagebench compare` reads them again against that same baseline run.\n",
            gate.baseline
        ));
    }
    for stops in &data.stops {
        if several {
            out.push_str(&format!("\n**{} on {}**\n", stops.scenario, stops.host));
        }
        out.push('\n');
        for line in stops.lines() {
            out.push_str(&format!("- {line}\n"));
        }
        let unsettled = stops.unsettled();
        if stops.budget_spent {
            out.push_str(&format!(
                "\nThe time budget was spent after {} complete rounds; left unsettled: {}.\n",
                stops.rounds,
                if unsettled.is_empty() {
                    "nothing".to_string()
                } else {
                    unsettled.join("; ")
                }
            ));
        }
    }
    for problem in &data.stopping_problems {
        out.push_str(&format!(
            "\n- {problem}; its comparisons carry no verdict\n"
        ));
    }
    Some(out)
}

/// How many unsettled comparisons the terminal names before it points to report.md.
const UNSETTLED_NAMED: usize = 6;

/// Builds the series got against what `--max-runs` for every series would have cost, and the
/// comparisons left unsettled, for the terminal: "62 of 120 timed builds (52%); left unsettled:
/// node-frontend multi incremental (interval 0.97-1.05)".
pub fn builds_sentence(data: &ReportData) -> Option<String> {
    let stopping = data.meta.settings.options.stopping?;
    let planned: usize = data
        .stops
        .iter()
        .map(|s| s.series.len() * stopping.max_runs as usize)
        .sum();
    let made = data.records.iter().filter(|r| !r.warmup).count();
    let unsettled: Vec<String> = data
        .stops
        .iter()
        .flat_map(|s| {
            s.unsettled()
                .into_iter()
                .map(move |comparison| format!("{} {comparison}", s.scenario))
        })
        .collect();
    (planned > 0).then(|| {
        let left = match unsettled.len() {
            0 => "every comparison settled".to_string(),
            n if n > UNSETTLED_NAMED => format!(
                "left unsettled: {} and {} more (report.md lists them)",
                unsettled[..UNSETTLED_NAMED].join("; "),
                n - UNSETTLED_NAMED
            ),
            _ => format!("left unsettled: {}", unsettled.join("; ")),
        };
        format!(
            "--runs auto: {made} of {planned} timed builds ({:.0}%); {left}",
            made as f64 * 100.0 / planned as f64
        )
    })
}

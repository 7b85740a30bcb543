//! The site's front page: per scenario, the trend of each variant and cache mode over the
//! nights, the last night's table with its changes from the night before, every step change,
//! and a link to every night; first of all, any folder that could not be read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use maud::{Markup, html};

use super::page::{chart, page};
use super::{Night, short_date};
use crate::history::{History, HistoryPoint};
use crate::report::speedup_phrase;
use crate::stats::Outcome;

/// A trend chart on the index: its file (relative to the site) and title.
pub(crate) struct TrendChart {
    /// The scenario it shows.
    pub scenario: String,
    /// Its path from the site's root.
    pub href: String,
    /// Its title, also the `<img>`'s `alt`.
    pub title: String,
}

/// The index page.
pub(crate) fn index_page(
    history: &History,
    nights: &[Night],
    unreadable: &[(PathBuf, String)],
    trends: &[TrendChart],
) -> Markup {
    let night_of = |point: &HistoryPoint| nights.iter().find(|n| n.folder == point.folder);
    let mut scenarios: Vec<&str> = history
        .points
        .iter()
        .map(|p| p.key.scenario.as_str())
        .collect();
    scenarios.sort_unstable();
    scenarios.dedup();
    let body = html! {
        h1 { "stagebench: nightly results" }
        p {
            (nights.len()) " night" @if nights.len() != 1 { "s" } " of "
            (scenarios.len()) " scenario" @if scenarios.len() != 1 { "s" } "."
        }
        @if !unreadable.is_empty() {
            section.warning {
                h2 { "Folders that could not be read" }
                p { "These results folders are left out of every chart and table below:" }
                ul {
                    @for (folder, error) in unreadable {
                        li { code { (folder.display()) } ": " (error) }
                    }
                }
            }
        }
        nav {
            "Scenarios: "
            @for (i, scenario) in scenarios.iter().enumerate() {
                @if i > 0 { ", " }
                a href={ "#" (anchor(scenario)) } { (scenario) }
            }
        }
        @for scenario in &scenarios {
            (scenario_section(history, scenario, trends, &night_of))
        }
    };
    page("stagebench: nightly results", "", body)
}

/// A fragment id for a scenario.
fn anchor(scenario: &str) -> String {
    format!("scenario-{}", super::files::url_safe(scenario))
}

fn scenario_section<'n>(
    history: &History,
    scenario: &str,
    trends: &[TrendChart],
    night_of: &dyn Fn(&HistoryPoint) -> Option<&'n Night>,
) -> Markup {
    let points: Vec<&HistoryPoint> = history
        .points
        .iter()
        .filter(|p| p.key.scenario == scenario)
        .collect();
    let last_run = points
        .iter()
        .max_by(|a, b| a.started_at.cmp(&b.started_at))
        .map(|p| p.run_id.clone());
    let last: Vec<&&HistoryPoint> = points
        .iter()
        .filter(|p| Some(&p.run_id) == last_run.as_ref())
        .collect();
    let mut steps: Vec<&&HistoryPoint> = points
        .iter()
        .filter(|p| {
            p.contrast().is_some_and(|c| match c.outcome {
                Outcome::Faster | Outcome::Slower => true,
                Outcome::Same | Outcome::Inconclusive => false,
            })
        })
        .collect();
    steps.sort_by(|a, b| b.started_at.cmp(&a.started_at));
    let mut scenario_nights: BTreeMap<&str, &Night> = BTreeMap::new();
    for point in &points {
        if let Some(night) = night_of(point) {
            scenario_nights.insert(night.started_at.as_str(), night);
        }
    }
    html! {
        section id=(anchor(scenario)) {
            h2 { (scenario) }
            @for trend in trends.iter().filter(|t| t.scenario == scenario) {
                (chart(&trend.href, &trend.title))
            }
            @if let Some(point) = last.first() {
                h3 {
                    "Last night: " (short_date(&point.started_at))
                    @if let Some(night) = night_of(point) { " (" a href=(night.href) { "its page" } ")" }
                }
                table {
                    thead { tr {
                        th { "variant" } th { "cache" } th { "builder" } th { "host" }
                        th { "median (s)" } th { "interval (s)" } th { "runs" } th { "against the night before" }
                    } }
                    tbody {
                        @for point in &last { (headline_row(point)) }
                    }
                }
            }
            h3 { "Step changes" }
            @if steps.is_empty() {
                p { "None: no night was found faster or slower than the one before." }
            } @else {
                ul {
                    @for point in &steps {
                        li {
                            (step_mark(point)) " "
                            @if let Some(night) = night_of(point) {
                                a href=(night.href) { (short_date(&point.started_at)) }
                            } @else { (short_date(&point.started_at)) }
                            ": " (point.key.variant) ", " (point.key.cache) " ("
                            (point.key.builder.as_str()) ", " (point.key.host) "): "
                            (point.contrast().map_or(String::new(), |c| speedup_phrase(c.speedup())))
                        }
                    }
                }
            }
            h3 { "Nights" }
            ul.nights {
                @for (started_at, night) in scenario_nights.iter().rev() {
                    li { a href=(night.href) { (short_date(started_at)) } }
                }
            }
        }
    }
}

/// "▲ slower" for a regression, "▼ faster" for an improvement.
fn step_mark(point: &HistoryPoint) -> &'static str {
    match point.contrast().map(|c| c.outcome) {
        Some(Outcome::Slower) => "▲ slower (regression)",
        Some(Outcome::Faster) => "▼ faster",
        Some(Outcome::Same | Outcome::Inconclusive) | None => "",
    }
}

fn headline_row(point: &HistoryPoint) -> Markup {
    let class = match point.contrast().map(|c| c.outcome) {
        Some(Outcome::Slower) => "slower",
        Some(Outcome::Faster) => "faster",
        Some(Outcome::Same | Outcome::Inconclusive) | None => "",
    };
    let (median, interval) = match &point.summary {
        Some(summary) => (
            seconds(summary.median),
            match summary.median_interval {
                Some(interval) => format!(
                    "{} – {} (95% CI)",
                    seconds(interval.low),
                    seconds(interval.high)
                ),
                None => format!(
                    "{} – {} (range)",
                    seconds(summary.min),
                    seconds(summary.max)
                ),
            },
        ),
        None => ("—".to_string(), "no successful run".to_string()),
    };
    let change = match &point.change {
        None => "first night".to_string(),
        Some(Err(why)) => format!("not compared: {why}"),
        Some(Ok(contrast)) => {
            let phrase = speedup_phrase(contrast.speedup());
            match contrast.outcome {
                Outcome::Slower => format!("▲ {phrase} (regression)"),
                Outcome::Faster => format!("▼ {phrase}"),
                Outcome::Same => format!("same ({phrase})"),
                Outcome::Inconclusive => format!("inconclusive ({phrase})"),
            }
        }
    };
    html! {
        tr class=(class) {
            td { (point.key.variant) } td { (point.key.cache) } td { (point.key.builder.as_str()) }
            td { (point.key.host) } td.number { (median) } td.number { (interval) }
            td.number { (point.samples_seconds.len()) } td { (change) }
        }
    }
}

/// Seconds to about three significant digits: a warm build's 0.0442 s must not read as 0.04.
fn seconds(value_seconds: f64) -> String {
    let magnitude = value_seconds.abs();
    if magnitude >= 100.0 {
        format!("{value_seconds:.0}")
    } else if magnitude >= 10.0 {
        format!("{value_seconds:.1}")
    } else if magnitude >= 1.0 {
        format!("{value_seconds:.2}")
    } else if magnitude >= 0.1 {
        format!("{value_seconds:.3}")
    } else {
        format!("{value_seconds:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::seconds;

    #[test]
    fn seconds_keep_about_three_significant_digits() {
        assert_eq!(seconds(149.4), "149");
        assert_eq!(seconds(16.51), "16.5");
        assert_eq!(seconds(4.655), "4.66");
        assert_eq!(seconds(0.128), "0.128");
        assert_eq!(seconds(0.04421), "0.0442");
    }
}

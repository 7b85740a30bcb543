//! Build time by run, for `stagebench history`: one panel per cache mode (each with its own
//! scale, as in the build-time chart), one line per variant through the medians of successive
//! runs, each median with its 95% interval (or the range of its runs below 6 runs), and a ring
//! around every run the contrast found faster or slower than the run before.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::style::{self, LegendEntry};
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::{CHART_HEIGHT_PX, CHART_WIDTH_PX, DrawFailure};
use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::stats::Outcome;

const SUBTITLE: &str = "Dot: a run's median · bar: its 95% interval (from 6 runs), else its range · \
     ring: faster ▼ or slower ▲ than the run before";
const PANEL_GAP_PX: f64 = 56.0;
const DOT_RADIUS_PX: u32 = 7;
const RING_RADIUS_PX: u32 = 15;
const STEP_MARK: LabelStyle = LabelStyle::new(24.0, Weight::Bold, style::INK);
const NOTHING: LabelStyle = LabelStyle::new(26.0, Weight::Bold, style::MUTED_INK);
/// Most dates written under an axis; between them the runs are unlabelled.
const MAX_DATE_LABELS: usize = 6;
/// Least room between two dates under the axis.
const DATE_LABEL_GAP_PX: f64 = 16.0;
/// Room between a date and the time of day written under it.
const DATE_LINE_GAP_PX: f64 = 4.0;

/// The label under each run: "MM-DD", with the time of day ("HH:MM") on a second line when two
/// runs share a day. Two short lines rather than one long one let a narrow panel of a six-mode
/// chart still date more than its first run.
fn date_labels(run_dates: &[String]) -> Vec<Vec<String>> {
    let day = |at: &String| at.get(5..10).unwrap_or_default().to_string();
    let days: std::collections::BTreeSet<String> = run_dates.iter().map(day).collect();
    run_dates
        .iter()
        .map(|at| {
            if days.len() == run_dates.len() {
                vec![day(at)]
            } else {
                vec![day(at), at.get(11..16).unwrap_or_default().to_string()]
            }
        })
        .collect()
}

/// One run of one series on the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// Position of the run among all runs of the history, oldest first.
    pub run_index: usize,
    /// Median build time.
    pub median_seconds: f64,
    /// Lower end of its interval or range.
    pub low_seconds: f64,
    /// Upper end.
    pub high_seconds: f64,
    /// `Faster` or `Slower` when the contrast with the run before found a change.
    pub step: Option<Outcome>,
}

/// One variant in one cache mode, run after run.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendSeries {
    /// Variant name.
    pub variant: String,
    /// Cache mode.
    pub cache: CacheMode,
    /// Its runs, oldest first.
    pub points: Vec<TrendPoint>,
}

/// What one trend chart is drawn from.
#[derive(Debug, Clone)]
pub struct TrendInput<'a> {
    /// The chart's title: the scenario (and host).
    pub title: &'a str,
    /// What the file names start with.
    pub file_stem: &'a str,
    /// The builder of every series.
    pub builder: Builder,
    /// Start time of every run of the history (RFC 3339), oldest first.
    pub run_dates: &'a [String],
    /// Cache modes with a panel.
    pub modes: Vec<CacheMode>,
    /// Every series.
    pub series: &'a [TrendSeries],
}

impl TrendInput<'_> {
    /// Variants in order of first appearance; a variant's colour is its index here.
    fn variants(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for series in self.series {
            if !names.contains(&series.variant.as_str()) {
                names.push(&series.variant);
            }
        }
        names
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &TrendInput<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(CHART_WIDTH_PX);
    let title = format!("{}: build time by run ({})", input.title, input.builder);
    let heading_bottom = style::draw_heading(text, &title, SUBTITLE, width_px);
    let variants = input.variants();
    let legend_y = heading_bottom + 34.0;
    let entries: Vec<LegendEntry> = variants
        .iter()
        .enumerate()
        .map(|(index, name)| LegendEntry {
            name: (*name).to_string(),
            colour: style::variant_colour(index),
        })
        .collect();
    style::draw_legend(
        root,
        text,
        &entries,
        legend_y,
        0.45,
        style::DATA_LINE_PX as i32,
    )?;
    let plot_top = legend_y + 90.0;
    let (_, tick_height) = text.measure("0", style::TICK_LABEL);
    let date_lines = date_labels(input.run_dates)
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(1) as f64;
    let plot_bottom = f64::from(CHART_HEIGHT_PX)
        - style::MARGIN_PX
        - date_lines * (tick_height + DATE_LINE_GAP_PX)
        - 16.0;
    if input.modes.is_empty() || input.run_dates.is_empty() {
        text.add(Label::new(
            "no successful build in any run",
            (width_px / 2.0, (plot_top + plot_bottom) / 2.0),
            NOTHING,
            Align::Center,
            Baseline::Middle,
        ));
        return Ok(());
    }
    let (_, axis_title_height) = text.measure("build time (s)", style::AXIS_TITLE);
    text.add(
        Label::new(
            "build time (s)",
            (style::MARGIN_PX - 8.0, (plot_top + plot_bottom) / 2.0),
            style::AXIS_TITLE,
            Align::Center,
            Baseline::Top,
        )
        .upward(),
    );
    let panels_left = style::MARGIN_PX - 8.0 + axis_title_height + 8.0;
    let panels_right = width_px - style::MARGIN_PX;
    let count = input.modes.len() as f64;
    let panel_width = (panels_right - panels_left - PANEL_GAP_PX * (count - 1.0)) / count;
    for (index, mode) in input.modes.iter().enumerate() {
        let left = panels_left + index as f64 * (panel_width + PANEL_GAP_PX);
        draw_panel(
            root,
            text,
            input,
            &variants,
            *mode,
            (left, plot_top, left + panel_width, plot_bottom),
        )?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &TrendInput<'_>,
    variants: &[&str],
    mode: CacheMode,
    (left_px, top_px, right_px, bottom_px): (f64, f64, f64, f64),
) -> Result<(), DrawFailure> {
    let series: Vec<&TrendSeries> = input.series.iter().filter(|s| s.cache == mode).collect();
    let highest = series
        .iter()
        .flat_map(|s| s.points.iter())
        .map(|p| p.high_seconds.max(p.median_seconds))
        .fold(0.0, f64::max);
    // Room above the highest whisker for a step mark over its ring.
    let y_max = axes::max_with_label_room(highest, bottom_px - top_px, 56.0);
    let tick_values = axes::linear_ticks(y_max, 5);
    let tick_label_width = axes::widest_tick_label(text, &tick_values);
    let plot = PlotRect::from_px(
        left_px + tick_label_width + 14.0,
        top_px,
        right_px,
        bottom_px,
    );
    let runs = input.run_dates.len();
    let chart = ChartBuilder::on(&plot.area(root))
        .build_cartesian_2d(-0.5..(runs as f64 - 0.5), 0.0..y_max)?;
    let y_ticks: Vec<Tick> = tick_values
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: chart.backend_coord(&(0.0, value)).1,
            label,
        })
        .collect();
    axes::draw_y_ticks(root, text, plot, &y_ticks)?;
    // Dates under as many evenly spaced runs as fit.
    let labels = date_labels(input.run_dates);
    let (_, line_height) = text.measure("0", style::TICK_LABEL);
    let widest = labels
        .iter()
        .flatten()
        .map(|line| text.measure(line, style::TICK_LABEL).0)
        .fold(0.0, f64::max);
    // Every `step`-th run is dated: the fewest runs apart whose labels keep their gap, and no
    // more than MAX_DATE_LABELS dates in all.
    let run_spacing_px = f64::from(plot.right - plot.left) / runs as f64;
    let step = ((widest + DATE_LABEL_GAP_PX) / run_spacing_px)
        .ceil()
        .max(1.0) as usize;
    let step = step.max(runs.div_ceil(MAX_DATE_LABELS));
    for index in (0..runs).step_by(step) {
        let x_px = f64::from(chart.backend_coord(&(index as f64, 0.0)).0);
        for (line_index, line) in labels[index].iter().enumerate() {
            text.add(Label::new(
                line.clone(),
                (
                    x_px,
                    f64::from(plot.bottom)
                        + 10.0
                        + line_index as f64 * (line_height + DATE_LINE_GAP_PX),
                ),
                style::TICK_LABEL,
                Align::Center,
                Baseline::Top,
            ));
        }
    }
    text.add(Label::new(
        mode.as_str(),
        (
            f64::from(plot.left + plot.right) / 2.0,
            f64::from(plot.top) - 22.0,
        ),
        style::PANEL_CAPTION,
        Align::Center,
        Baseline::Bottom,
    ));
    let area = chart.plotting_area();
    for one in &series {
        let colour =
            style::variant_colour(variants.iter().position(|v| *v == one.variant).unwrap_or(0));
        let line: Vec<(f64, f64)> = one
            .points
            .iter()
            .map(|p| (p.run_index as f64, p.median_seconds))
            .collect();
        area.draw(&PathElement::new(
            line,
            colour.stroke_width(style::DATA_LINE_PX),
        ))?;
        for point in &one.points {
            let x = point.run_index as f64;
            area.draw(&PathElement::new(
                vec![(x, point.low_seconds), (x, point.high_seconds)],
                colour.stroke_width(style::DATA_LINE_PX),
            ))?;
            area.draw(&Circle::new(
                (x, point.median_seconds),
                DOT_RADIUS_PX,
                colour.filled(),
            ))?;
            area.draw(&Circle::new(
                (x, point.median_seconds),
                DOT_RADIUS_PX,
                style::INK.stroke_width(2),
            ))?;
            if let Some(outcome) = point.step {
                area.draw(&Circle::new(
                    (x, point.median_seconds),
                    RING_RADIUS_PX,
                    style::INK.stroke_width(style::DATA_LINE_PX),
                ))?;
                let (x_px, y_px) = chart.backend_coord(&(x, point.median_seconds));
                let mark = match outcome {
                    Outcome::Slower => "▲",
                    Outcome::Faster => "▼",
                    Outcome::Same | Outcome::Inconclusive => "",
                };
                text.add(Label::new(
                    mark,
                    (
                        f64::from(x_px),
                        f64::from(y_px) - f64::from(RING_RADIUS_PX) - 4.0,
                    ),
                    STEP_MARK,
                    Align::Center,
                    Baseline::Bottom,
                ));
            }
        }
    }
    axes::draw_baseline(root, plot)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::date_labels;

    #[test]
    fn dates_carry_the_time_of_day_on_a_second_line_only_when_runs_share_a_day() {
        let apart = ["2026-11-28T13:09:52Z", "2026-11-29T16:41:49Z"].map(String::from);
        assert_eq!(date_labels(&apart), vec![vec!["11-28"], vec!["11-29"]]);
        let shared = [
            "2026-11-29T16:41:49Z",
            "2026-11-29T20:18:38Z",
            "2026-12-06T05:31:57Z",
        ]
        .map(String::from);
        assert_eq!(
            date_labels(&shared),
            vec![
                vec!["11-29", "16:41"],
                vec!["11-29", "20:18"],
                vec!["12-06", "05:31"]
            ]
        );
    }
}

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
    let plot_bottom = f64::from(CHART_HEIGHT_PX) - style::MARGIN_PX - tick_height - 16.0;
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
    // Dates under as many evenly spaced runs as fit; "MM-DD" keeps them short, and the time of
    // day joins it when two runs share a day.
    let day = |at: &String| at.get(5..10).unwrap_or_default().to_string();
    let days: std::collections::BTreeSet<String> = input.run_dates.iter().map(day).collect();
    let label_of = |at: &String| {
        if days.len() == runs {
            day(at)
        } else {
            at.get(5..16).unwrap_or_default().replacen('T', " ", 1)
        }
    };
    let widest = input
        .run_dates
        .iter()
        .map(|at| text.measure(&label_of(at), style::TICK_LABEL).0)
        .fold(0.0, f64::max);
    let fitting = ((f64::from(plot.right - plot.left) / (widest + DATE_LABEL_GAP_PX)) as usize)
        .clamp(1, MAX_DATE_LABELS);
    let step = runs.div_ceil(fitting).max(1);
    for index in (0..runs).step_by(step) {
        text.add(Label::new(
            label_of(&input.run_dates[index]),
            (
                f64::from(chart.backend_coord(&(index as f64, 0.0)).0),
                f64::from(plot.bottom) + 10.0,
            ),
            style::TICK_LABEL,
            Align::Center,
            Baseline::Top,
        ));
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

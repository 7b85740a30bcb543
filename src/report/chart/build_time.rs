//! Build time by variant, one panel per cache mode.
//!
//! Cold builds take minutes and warm ones under a second, so a shared axis would flatten every warm
//! bar to nothing: each cache mode gets its own panel with its own axis from zero. In a panel, each
//! variant's bar stands at its median with the median's 95% interval as a whisker, and every run is
//! a dot over it, so the reader sees the spread behind each median.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::report_format;
use super::style::{self, LegendEntry};
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::{CHART_HEIGHT_PX, ChartData, DrawFailure, VariantData};
use crate::cache_mode::CacheMode;

const SUBTITLE: &str = "Bar: median · whisker: the median's 95% interval (from 6 runs) · dot: one run · \
     each panel has its own scale";
/// With fewer than 6 runs in every cell there is no 95% interval to draw, and no whisker.
const SUBTITLE_WITHOUT_INTERVALS: &str = "Bar: median · dot: one run (fewer than 6 runs give no 95% \
     interval of a median) · each panel has its own scale";
const PANEL_GAP_PX: f64 = 56.0;
/// Room kept above the tallest element of a panel for its value label (and the finding above
/// it, when there is one).
const LABEL_ROOM_PX: f64 = 52.0;
/// On two lines when it is too wide for its bar.
const FINDING_ROOM_PX: f64 = 60.0;
/// "24.5× faster" over a bar: the contrast's finding, in the bar's words.
const FINDING: LabelStyle = LabelStyle::new(23.0, Weight::Bold, style::MUTED_INK);
const DOT_RADIUS_PX: u32 = 8;
/// Widest a bar gets, so that one or two variants do not make slabs.
const MAX_BAR_WIDTH_PX: f64 = 170.0;
const FAILED: LabelStyle = LabelStyle::new(26.0, Weight::Bold, style::MUTED_INK);
const VARIANT_NAME: LabelStyle = LabelStyle::new(25.0, Weight::Regular, style::INK);
/// Rough width of a panel's tick labels, to size the names under the bars before layout.
const TICK_AREA_ESTIMATE_PX: f64 = 100.0;
/// The least size of a variant's name under its bar: below the other labels' least size rather
/// than touch its neighbour's.
const MIN_VARIANT_NAME_PX: f64 = 15.0;

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    data: &ChartData<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(root.dim_in_pixel().0);
    let any_interval = data.variants.iter().any(|v| {
        v.groups.iter().flatten().any(|g| {
            g.build_seconds
                .as_ref()
                .is_some_and(|s| s.median_interval.is_some())
        })
    });
    let subtitle = if any_interval {
        SUBTITLE
    } else {
        SUBTITLE_WITHOUT_INTERVALS
    };
    let heading_bottom = style::draw_heading(text, &data.title("build time"), subtitle, width_px);

    let legend_y = heading_bottom + 34.0;
    let entries: Vec<LegendEntry> = data
        .variants
        .iter()
        .map(|v| LegendEntry {
            name: v.legend_name(),
            colour: v.colour,
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

    let modes = data.modes_present();
    // Below the legend: room for the panel captions, which sit just above each plot.
    let plot_top = legend_y + 90.0;
    let mut plot_bottom = f64::from(CHART_HEIGHT_PX) - style::MARGIN_PX - 12.0;
    if modes.is_empty() || data.variants.is_empty() {
        text.add(Label::new(
            "no builds recorded",
            (width_px / 2.0, (plot_top + plot_bottom) / 2.0),
            FAILED,
            Align::Center,
            Baseline::Middle,
        ));
        return Ok(());
    }

    // One y-axis title for all panels: they differ in scale, not in unit.
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
    let panel_width =
        (panels_right - panels_left - PANEL_GAP_PX * (modes.len() - 1) as f64) / modes.len() as f64;
    // Names under the bars save the reader a trip to the legend: always shown, in one size
    // small enough for the longest to fit its slot.
    let slot_width_px = (panel_width - TICK_AREA_ESTIMATE_PX) / data.variants.len() as f64;
    let name_style = text.fit_all(
        data.variants.iter().map(|v| v.name),
        VARIANT_NAME,
        slot_width_px - 16.0,
        MIN_VARIANT_NAME_PX,
    );
    plot_bottom -= text.measure("Mg", name_style).1 + 8.0;
    // Every median label in one size, set by the widest, so that no bar's label looks louder.
    let value_labels: Vec<String> = modes
        .iter()
        .flat_map(|&mode| data.variants.iter().filter_map(move |v| v.group(mode)))
        .filter_map(|g| g.build_seconds.as_ref())
        .map(|s| report_format::seconds(s.median))
        .collect();
    // Neighbouring labels can stand at the same height: keep a gap between them.
    let value_style = text.fit_all(
        value_labels.iter().map(String::as_str),
        style::VALUE_LABEL,
        slot_width_px - style::VALUE_LABEL_GAP_PX,
        style::MIN_LABEL_PX,
    );
    for (index, &mode) in modes.iter().enumerate() {
        let panel_left = panels_left + index as f64 * (panel_width + PANEL_GAP_PX);
        let panel = Panel {
            mode,
            left_px: panel_left,
            right_px: panel_left + panel_width,
            top_px: plot_top,
            bottom_px: plot_bottom,
            name_style,
            value_style,
        };
        draw_panel(root, text, data, &panel)?;
    }
    Ok(())
}

/// Where one cache mode's panel goes, in image pixels (tick labels included).
struct Panel {
    mode: CacheMode,
    left_px: f64,
    right_px: f64,
    top_px: f64,
    bottom_px: f64,
    /// Style of the variant names under the bars.
    name_style: LabelStyle,
    /// Style of the median labels.
    value_style: LabelStyle,
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    data: &ChartData<'_>,
    panel: &Panel,
) -> Result<(), DrawFailure> {
    let plot_height = panel.bottom_px - panel.top_px;
    let highest = data
        .variants
        .iter()
        .filter_map(|v| v.group(panel.mode))
        .filter_map(|g| g.build_seconds.as_ref().map(|s| (g, s)))
        .map(|(g, s)| {
            let interval_high = s.median_interval.map_or(s.median, |i| i.high);
            g.samples_seconds
                .iter()
                .copied()
                .fold(s.median.max(interval_high).max(s.max), f64::max)
        })
        .fold(0.0, f64::max);
    // Scale so that the tallest element leaves room for its labels; an all-failed panel gets 0..1.
    let findings = data
        .variants
        .iter()
        .any(|v| v.finding(panel.mode).is_some());
    let label_room = LABEL_ROOM_PX + if findings { FINDING_ROOM_PX } else { 0.0 };
    let y_max = axes::max_with_label_room(highest, plot_height, label_room);
    let tick_values = axes::linear_ticks(y_max, 5);
    let tick_label_width = axes::widest_tick_label(text, &tick_values);
    let plot = PlotRect::from_px(
        panel.left_px + tick_label_width + 14.0,
        panel.top_px,
        panel.right_px,
        panel.bottom_px,
    );

    let variant_count = data.variants.len();
    let chart = ChartBuilder::on(&plot.area(root))
        .build_cartesian_2d(0.0..variant_count as f64, 0.0..y_max)?;
    let area = chart.plotting_area();
    let y_px = |value: f64| chart.backend_coord(&(0.0, value)).1;
    let ticks: Vec<Tick> = tick_values
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: y_px(value),
            label,
        })
        .collect();
    axes::draw_y_ticks(root, text, plot, &ticks)?;

    text.add(Label::new(
        panel.mode.as_str(),
        (
            f64::from(plot.left + plot.right) / 2.0,
            f64::from(plot.top) - 22.0,
        ),
        style::PANEL_CAPTION,
        Align::Center,
        Baseline::Bottom,
    ));

    let slot_width_px = f64::from(plot.width()) / variant_count as f64;
    let half_bar = (0.31f64).min(MAX_BAR_WIDTH_PX / 2.0 / slot_width_px);
    for (index, variant) in data.variants.iter().enumerate() {
        let centre = index as f64 + 0.5;
        let centre_px = f64::from(chart.backend_coord(&(centre, 0.0)).0);
        text.add(Label::new(
            variant.name,
            (centre_px, f64::from(plot.bottom) + 8.0),
            text.fit(
                variant.name,
                panel.name_style,
                slot_width_px - 6.0,
                style::MIN_LABEL_PX,
            ),
            Align::Center,
            Baseline::Top,
        ));
        let Some(group) = variant.group(panel.mode) else {
            continue; // not measured in this mode: an empty slot
        };
        let Some(summary) = &group.build_seconds else {
            text.add(Label::new(
                "failed",
                (centre_px, f64::from(plot.bottom) - 10.0),
                text.fit("failed", FAILED, slot_width_px - 8.0, style::MIN_LABEL_PX),
                Align::Center,
                Baseline::Bottom,
            ));
            continue;
        };
        style::outlined_rect(
            root,
            chart.backend_coord(&(centre - half_bar, summary.median)),
            chart.backend_coord(&(centre + half_bar, 0.0)),
            style::tint(variant.colour, 0.45),
            variant.colour,
            style::DATA_LINE_PX as i32,
        )?;
        let mut top = summary.median;
        if let Some(interval) = summary.median_interval {
            let cap = half_bar * 0.4;
            let whisker = style::INK.stroke_width(style::DATA_LINE_PX);
            for line in [
                [(centre, interval.low), (centre, interval.high)],
                [(centre - cap, interval.low), (centre + cap, interval.low)],
                [(centre - cap, interval.high), (centre + cap, interval.high)],
            ] {
                area.draw(&PathElement::new(line, whisker))?;
            }
            top = top.max(interval.high);
        }
        draw_runs(
            area,
            variant,
            group.samples_seconds.as_slice(),
            centre,
            half_bar,
        )?;
        top = group.samples_seconds.iter().copied().fold(top, f64::max);

        let label = report_format::seconds(summary.median);
        let top_px =
            f64::from(chart.backend_coord(&(centre, top)).1) - f64::from(DOT_RADIUS_PX) - 8.0;
        let value = Label::new(
            label.clone(),
            (centre_px, top_px),
            // The shared size was estimated; a narrower panel than estimated shrinks further.
            text.fit(
                &label,
                panel.value_style,
                slot_width_px - style::VALUE_LABEL_GAP_PX,
                style::MIN_LABEL_PX,
            ),
            Align::Center,
            Baseline::Bottom,
        );
        let value_height = text.measure(&label, value.style).1;
        style::backdrop(root, text, &value)?;
        text.add(value);
        if let Some(finding) = variant.finding(panel.mode) {
            let room_px = slot_width_px - style::VALUE_LABEL_GAP_PX;
            let style = text.fit(&finding, FINDING, room_px, style::MIN_LABEL_PX);
            // Too wide even at the least size, it would run into the neighbour's: the ratio and
            // its word ("3.32×", "faster") go on two lines.
            let lines: Vec<&str> = if text.measure(&finding, style).0 > room_px {
                finding.splitn(2, ' ').collect()
            } else {
                vec![finding.as_str()]
            };
            let mut bottom_px = top_px - value_height - 2.0;
            for line in lines.iter().rev() {
                let over = Label::new(
                    line.to_string(),
                    (centre_px, bottom_px),
                    text.fit(line, FINDING, room_px, style::MIN_LABEL_PX),
                    Align::Center,
                    Baseline::Bottom,
                );
                bottom_px -= text.measure(line, over.style).1 + 2.0;
                style::backdrop(root, text, &over)?;
                text.add(over);
            }
        }
    }
    axes::draw_baseline(root, plot)?;
    Ok(())
}

/// Every timed run as a dot over its bar, spread sideways so that equal times stay visible.
fn draw_runs<DB: DrawingBackend>(
    area: &DrawingArea<DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    variant: &VariantData<'_>,
    samples_seconds: &[f64],
    centre: f64,
    half_bar: f64,
) -> Result<(), DrawFailure> {
    for (run, &seconds) in samples_seconds.iter().enumerate() {
        let at = (centre + jitter(run) * half_bar * 0.55, seconds);
        area.draw(&Circle::new(at, DOT_RADIUS_PX, variant.colour.filled()))?;
        area.draw(&Circle::new(at, DOT_RADIUS_PX, style::INK.stroke_width(2)))?;
    }
    Ok(())
}

/// A sideways offset in [-1, 1) for the run at `run_index`: golden-ratio steps spread any number of
/// runs evenly and, unlike random jitter, give the same picture every time.
fn jitter(run_index: usize) -> f64 {
    const GOLDEN_FRACTION: f64 = 0.618_033_988_749_895;
    let fraction = (0.5 + run_index as f64 * GOLDEN_FRACTION).fract();
    fraction * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::jitter;

    #[test]
    fn jitter_is_spread_and_bounded() {
        assert_eq!(jitter(0), 0.0);
        let offsets: Vec<f64> = (0..20).map(jitter).collect();
        assert!(offsets.iter().all(|o| (-1.0..1.0).contains(o)));
        assert!(offsets.iter().any(|&o| o < -0.5) && offsets.iter().any(|&o| o > 0.5));
    }
}

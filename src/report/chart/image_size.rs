//! Image size by variant: one bar each, in decimal megabytes as `docker images` counts them.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::report_format;
use super::style;
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::{CHART_HEIGHT_PX, CHART_WIDTH_PX, ChartData, DrawFailure};

const SUBTITLE: &str = "Size of the built image as its engine reports it (1 MB = 1,000,000 bytes)";
const BYTES_PER_MB: f64 = 1_000_000.0;
const MAX_BAR_WIDTH_PX: f64 = 220.0;
const LABEL_ROOM_PX: f64 = 56.0;
const FINDING_ROOM_PX: f64 = 36.0;
/// "3.01× smaller" over a bar, against the baseline's image.
const FINDING: LabelStyle = LabelStyle::new(24.0, Weight::Bold, style::MUTED_INK);
const VARIANT_NAME: LabelStyle = LabelStyle::new(29.0, Weight::Regular, style::INK);
const BASELINE_NOTE: LabelStyle = LabelStyle::new(24.0, Weight::Regular, style::MUTED_INK);
const MISSING: LabelStyle = LabelStyle::new(26.0, Weight::Bold, style::MUTED_INK);

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    data: &ChartData<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(CHART_WIDTH_PX);
    let heading_bottom = style::draw_heading(text, &data.title("image size"), SUBTITLE, width_px);

    let sizes_bytes: Vec<Option<u64>> = data.variants.iter().map(|v| v.image_bytes()).collect();
    let largest_mb = sizes_bytes
        .iter()
        .flatten()
        .map(|&b| b as f64 / BYTES_PER_MB)
        .fold(0.0, f64::max);

    // Variant names sit under the bars; the baseline gets a second line instead of a longer first.
    let names_height =
        text.measure("Mg", VARIANT_NAME).1 + text.measure("Mg", BASELINE_NOTE).1 + 20.0;
    let plot_top = heading_bottom + 64.0;
    let plot_bottom = f64::from(CHART_HEIGHT_PX) - style::MARGIN_PX - names_height;
    let plot_height = plot_bottom - plot_top;
    let findings = data.variants.iter().any(|v| v.size_finding().is_some());
    let label_room = LABEL_ROOM_PX + if findings { FINDING_ROOM_PX } else { 0.0 };
    let y_max = axes::max_with_label_room(largest_mb, plot_height, label_room);
    let tick_values = axes::linear_ticks(y_max, 5);
    let tick_label_width = axes::widest_tick_label(text, &tick_values);
    let (_, axis_title_height) = text.measure("image size (MB)", style::AXIS_TITLE);
    let plot_left = style::MARGIN_PX - 8.0 + axis_title_height + 16.0 + tick_label_width + 12.0;
    let plot = PlotRect::from_px(
        plot_left,
        plot_top,
        width_px - style::MARGIN_PX,
        plot_bottom,
    );
    text.add(
        Label::new(
            "image size (MB)",
            (style::MARGIN_PX - 8.0, (plot_top + plot_bottom) / 2.0),
            style::AXIS_TITLE,
            Align::Center,
            Baseline::Top,
        )
        .upward(),
    );

    let variant_count = data.variants.len().max(1);
    let chart = ChartBuilder::on(&plot.area(root))
        .build_cartesian_2d(0.0..variant_count as f64, 0.0..y_max)?;
    let ticks: Vec<Tick> = tick_values
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: chart.backend_coord(&(0.0, value)).1,
            label,
        })
        .collect();
    axes::draw_y_ticks(root, text, plot, &ticks)?;

    let slot_width_px = f64::from(plot.width()) / variant_count as f64;
    let half_bar = (0.3f64).min(MAX_BAR_WIDTH_PX / 2.0 / slot_width_px);
    // One size per kind of label, set by the longest, so that no name looks more important.
    let value_labels: Vec<Option<String>> = sizes_bytes
        .iter()
        .map(|b| b.map(report_format::bytes))
        .collect();
    let value_style = text.fit_all(
        value_labels.iter().flatten().map(String::as_str),
        style::VALUE_LABEL,
        slot_width_px - style::VALUE_LABEL_GAP_PX,
        style::MIN_LABEL_PX,
    );
    let name_style = text.fit_all(
        data.variants.iter().map(|v| v.name),
        VARIANT_NAME,
        slot_width_px - 12.0,
        style::MIN_LABEL_PX,
    );
    for (index, ((variant, size_bytes), value_label)) in data
        .variants
        .iter()
        .zip(&sizes_bytes)
        .zip(value_labels)
        .enumerate()
    {
        let centre = index as f64 + 0.5;
        let centre_px = f64::from(chart.backend_coord(&(centre, 0.0)).0);
        let (name, note) = (
            variant.name,
            if variant.is_baseline {
                "(baseline)"
            } else {
                ""
            },
        );
        let name_top = f64::from(plot.bottom) + 12.0;
        text.add(Label::new(
            name,
            (centre_px, name_top),
            name_style,
            Align::Center,
            Baseline::Top,
        ));
        if !note.is_empty() {
            let below = name_top + text.measure(name, name_style).1;
            text.add(Label::new(
                note,
                (centre_px, below),
                BASELINE_NOTE,
                Align::Center,
                Baseline::Top,
            ));
        }

        let (Some(size_bytes), Some(value_label)) = (*size_bytes, value_label) else {
            text.add(Label::new(
                "no image",
                (centre_px, f64::from(plot.bottom) - 10.0),
                text.fit(
                    "no image",
                    MISSING,
                    slot_width_px - 8.0,
                    style::MIN_LABEL_PX,
                ),
                Align::Center,
                Baseline::Bottom,
            ));
            continue;
        };
        let size_mb = size_bytes as f64 / BYTES_PER_MB;
        style::outlined_rect(
            root,
            chart.backend_coord(&(centre - half_bar, size_mb)),
            chart.backend_coord(&(centre + half_bar, 0.0)),
            style::tint(variant.colour, 0.45),
            variant.colour,
            style::DATA_LINE_PX as i32,
        )?;
        let top_px = f64::from(chart.backend_coord(&(centre, size_mb)).1) - 10.0;
        let value_height = text.measure(&value_label, value_style).1;
        let value = Label::new(
            value_label,
            (centre_px, top_px),
            value_style,
            Align::Center,
            Baseline::Bottom,
        );
        style::backdrop(root, text, &value)?;
        text.add(value);
        if let Some(finding) = variant.size_finding() {
            let over = Label::new(
                finding.clone(),
                (centre_px, top_px - value_height - 2.0),
                text.fit(
                    &finding,
                    FINDING,
                    slot_width_px - style::VALUE_LABEL_GAP_PX,
                    style::MIN_LABEL_PX,
                ),
                Align::Center,
                Baseline::Bottom,
            );
            style::backdrop(root, text, &over)?;
            text.add(over);
        }
    }
    axes::draw_baseline(root, plot)?;
    Ok(())
}

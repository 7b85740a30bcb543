//! The CI modes of a section: what a build on a fresh CI machine costs in each mode, and where
//! that comes from.
//!
//! Per variant, each CI mode's median build time is a bar with what the previous job paid to
//! export the cache the build imports stacked on top in a lighter shade, so that a fast build
//! bought with a slow export shows both halves; one axis for all, since the modes are
//! alternatives for the same job. Under the bars, each stage's share of steps taken from cache
//! in that mode (over every build of the series) says which stages the import served.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::report_format;
use super::style::{self, LegendEntry};
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::timeline::shortened;
use super::{CHART_WIDTH_PX, DrawFailure};
use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::stats::{GroupSummary, StageBreakdown};

const SUBTITLE: &str = "Bar: median build on a fresh CI machine · lighter top (+s): the previous \
     job's export · MB: the imported cache in the registry · below: steps taken from cache";
const EXPORT_LEGEND: &str = "export (previous job)";
/// How much of a variant's colour the build part keeps, as in the build-time chart.
const BUILD_TINT: f64 = 0.45;
/// The export part: the same hue, much lighter.
const EXPORT_TINT: f64 = 0.12;
const HEADING_AND_LEGEND_PX: f64 = 150.0;
const BAR_PLOT_HEIGHT_PX: f64 = 400.0;
/// Under the bar plot: the mode's name, its cache bytes and the variant's name.
const X_LABELS_PX: f64 = 120.0;
const STAGE_CAPTION_PX: f64 = 56.0;
const STAGE_ROW_PX: f64 = 40.0;
const STAGE_CELL_PX: f64 = 32.0;
/// Room above the tallest bar for its two labels.
const LABEL_ROOM_PX: f64 = 70.0;
/// Widest a bar gets, so that few modes do not make slabs.
const MAX_BAR_WIDTH_PX: f64 = 150.0;
/// The stage names' column left of each variant's bars, at most.
const MAX_STAGE_COLUMN_PX: f64 = 220.0;
/// The least size of a mode's name under its bar.
const MIN_MODE_NAME_PX: f64 = 14.0;
const MODE_NAME: LabelStyle = LabelStyle::new(24.0, Weight::Regular, style::INK);
const CACHE_BYTES: LabelStyle = LabelStyle::new(21.0, Weight::Regular, style::MUTED_INK);
const VARIANT_NAME: LabelStyle = LabelStyle::new(27.0, Weight::Bold, style::INK);
const EXPORT_LABEL: LabelStyle = LabelStyle::new(22.0, Weight::Regular, style::MUTED_INK);
const STAGE_NAME: LabelStyle = LabelStyle::new(22.0, Weight::Regular, style::INK);
const STAGE_SHARE: LabelStyle = LabelStyle::new(21.0, Weight::Bold, style::INK);
const FAILED: LabelStyle = LabelStyle::new(24.0, Weight::Bold, style::MUTED_INK);

/// What a CI chart is drawn from.
#[derive(Debug, Clone)]
pub struct CiInput<'a> {
    /// The chart's title: the scenario (and host).
    pub title: &'a str,
    /// What the file names start with.
    pub file_stem: &'a str,
    /// The builder.
    pub builder: Builder,
    /// The engine and its version (`Docker 20.10.24`), shown in the title; empty to leave it
    /// out.
    pub daemon: &'a str,
    /// Variants in display order; a variant's colour is fixed by its index here, as in the
    /// other charts.
    pub variants: &'a [String],
    /// The variant the others are compared with, marked "(baseline)" in the legend.
    pub baseline: Option<&'a str>,
    /// The section's groups (every mode; the chart takes the CI ones).
    pub groups: &'a [GroupSummary],
    /// The section's stage breakdowns.
    pub stages: &'a [StageBreakdown],
}

impl CiInput<'_> {
    /// The CI modes the section measured, in [`CacheMode::ALL`] order; the chart is drawn only
    /// when there is one.
    pub fn modes(&self) -> Vec<CacheMode> {
        CacheMode::ALL
            .into_iter()
            .filter(|mode| mode.is_ci() && self.groups.iter().any(|g| g.key.cache == *mode))
            .collect()
    }

    fn group(&self, variant: &str, mode: CacheMode) -> Option<&GroupSummary> {
        self.groups
            .iter()
            .find(|g| g.key.variant == variant && g.key.cache == mode)
    }

    /// The share of `stage`'s steps taken from cache in `variant`'s `mode` series.
    fn cached_share(&self, variant: &str, mode: CacheMode, stage: &str) -> Option<f64> {
        self.stages
            .iter()
            .find(|b| b.key.variant == variant && b.key.cache == mode)?
            .stages
            .iter()
            .find(|s| s.stage == stage)
            .map(|s| s.cached_share)
    }

    /// A variant's stages in its CI series, in the order its first series ran them.
    fn stage_names(&self, variant: &str) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for mode in self.modes() {
            let breakdown = self
                .stages
                .iter()
                .find(|b| b.key.variant == variant && b.key.cache == mode);
            for stage in breakdown.iter().flat_map(|b| b.stages.iter()) {
                if !names.contains(&stage.stage.as_str()) {
                    names.push(&stage.stage);
                }
            }
        }
        names
    }

    fn stage_rows(&self) -> usize {
        self.variants
            .iter()
            .map(|v| self.stage_names(v).len())
            .max()
            .unwrap_or(0)
    }

    /// The image's height: the bars, then a row per stage of the variant with the most.
    pub(super) fn height_px(&self) -> u32 {
        let rows = self.stage_rows();
        let stages_px = if rows == 0 {
            0.0
        } else {
            STAGE_CAPTION_PX + rows as f64 * STAGE_ROW_PX
        };
        let needed =
            HEADING_AND_LEGEND_PX + BAR_PLOT_HEIGHT_PX + X_LABELS_PX + stages_px + style::MARGIN_PX;
        needed.ceil() as u32
    }

    fn title(&self) -> String {
        let builder = self.builder.as_str();
        let what = "CI build time and the previous job's export";
        match self.daemon {
            "" => format!("{}: {what} ({builder})", self.title),
            daemon => format!("{}: {what} ({builder}, {daemon})", self.title),
        }
    }
}

/// Where a variant's bars go, in image pixels.
struct VariantColumns {
    /// Left edge of its stage-name column.
    left_px: f64,
    /// Left edge of its first mode's slot.
    slots_left_px: f64,
    slot_px: f64,
}

impl VariantColumns {
    fn centre(&self, mode_index: usize) -> f64 {
        self.slots_left_px + (mode_index as f64 + 0.5) * self.slot_px
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &CiInput<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(CHART_WIDTH_PX);
    let heading_bottom = style::draw_heading(text, &input.title(), SUBTITLE, width_px);
    let legend_y = heading_bottom + 34.0;
    draw_legend(root, text, input, legend_y)?;

    let modes = input.modes();
    let plot_top = HEADING_AND_LEGEND_PX;
    let plot_bottom = plot_top + BAR_PLOT_HEIGHT_PX;
    let highest = input
        .variants
        .iter()
        .flat_map(|v| modes.iter().filter_map(move |m| input.group(v, *m)))
        .filter_map(|g| {
            let median = g.build_seconds.as_ref()?.median;
            Some(median + g.export_seconds.unwrap_or(0.0))
        })
        .fold(0.0, f64::max);
    let y_max = axes::max_with_label_room(highest, BAR_PLOT_HEIGHT_PX, LABEL_ROOM_PX);
    let tick_values = axes::linear_ticks(y_max, 5);
    let tick_label_width = axes::widest_tick_label(text, &tick_values);

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
    let plot = PlotRect::from_px(
        style::MARGIN_PX + axis_title_height + tick_label_width + 20.0,
        plot_top,
        width_px - style::MARGIN_PX,
        plot_bottom,
    );
    let y_px = |seconds: f64| f64::from(plot.bottom) - seconds / y_max * BAR_PLOT_HEIGHT_PX;
    let ticks: Vec<Tick> = tick_values
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: y_px(value).round() as i32,
            label,
        })
        .collect();
    axes::draw_y_ticks(root, text, plot, &ticks)?;

    if modes.is_empty() || input.variants.is_empty() {
        text.add(Label::new(
            "no CI builds recorded",
            (width_px / 2.0, (plot_top + plot_bottom) / 2.0),
            FAILED,
            Align::Center,
            Baseline::Middle,
        ));
        axes::draw_baseline(root, plot)?;
        return Ok(());
    }

    // Each variant: a column for its stage names (empty above the axis, where it parts the
    // variants), then a slot per mode.
    let group_px = f64::from(plot.width()) / input.variants.len() as f64;
    let widest_stage = input
        .variants
        .iter()
        .flat_map(|v| input.stage_names(v))
        .map(|name| text.measure(&format!("stage {name}"), STAGE_NAME).0)
        .fold(0.0, f64::max);
    let stage_column_px = (widest_stage + 24.0)
        .clamp(40.0, MAX_STAGE_COLUMN_PX)
        .min(group_px * 0.35);
    let slot_px = (group_px - stage_column_px) / modes.len() as f64;
    let half_bar_px = (slot_px * 0.32).min(MAX_BAR_WIDTH_PX / 2.0);
    let columns: Vec<VariantColumns> = (0..input.variants.len())
        .map(|index| {
            let left_px = f64::from(plot.left) + index as f64 * group_px;
            VariantColumns {
                left_px,
                slots_left_px: left_px + stage_column_px,
                slot_px,
            }
        })
        .collect();

    // Three modes of four variants leave a narrow slot: the names may go a little below the
    // other labels' least size rather than touch.
    let mode_style = text.fit_all(
        modes.iter().map(|m| m.as_str()),
        MODE_NAME,
        slot_px - 12.0,
        MIN_MODE_NAME_PX,
    );
    for (index, variant) in input.variants.iter().enumerate() {
        let colour = style::variant_colour(index);
        let column = &columns[index];
        for (mode_index, &mode) in modes.iter().enumerate() {
            let centre = column.centre(mode_index);
            text.add(Label::new(
                mode.as_str(),
                (centre, f64::from(plot.bottom) + 8.0),
                mode_style,
                Align::Center,
                Baseline::Top,
            ));
            let Some(group) = input.group(variant, mode) else {
                continue; // not measured: an empty slot
            };
            if let Some(bytes) = group.cache_bytes {
                // The subtitle says what the number is: three modes' labels side by side
                // leave no room for a word after each.
                let label = report_format::bytes(bytes);
                let fitted = text.fit(&label, CACHE_BYTES, slot_px - 8.0, style::MIN_LABEL_PX);
                text.add(Label::new(
                    label,
                    (centre, f64::from(plot.bottom) + 40.0),
                    fitted,
                    Align::Center,
                    Baseline::Top,
                ));
            }
            draw_bar(
                root,
                text,
                group,
                colour,
                centre,
                half_bar_px,
                slot_px,
                &y_px,
            )?;
        }
        let variant_centre = (column.slots_left_px + column.left_px + group_px) / 2.0;
        text.add(Label::new(
            variant.clone(),
            (variant_centre, f64::from(plot.bottom) + 72.0),
            text.fit(
                variant,
                VARIANT_NAME,
                group_px - stage_column_px,
                style::MIN_LABEL_PX,
            ),
            Align::Center,
            Baseline::Top,
        ));
    }
    axes::draw_baseline(root, plot)?;
    draw_stage_cells(
        root,
        text,
        input,
        &modes,
        &columns,
        plot_bottom + X_LABELS_PX,
    )
}

/// The variants' swatches, then the export's, in one row.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &CiInput<'_>,
    y_px: f64,
) -> Result<(), DrawFailure> {
    let mut entries: Vec<LegendEntry> = input
        .variants
        .iter()
        .enumerate()
        .map(|(index, name)| LegendEntry {
            name: if input.baseline == Some(name.as_str()) {
                format!("{name} (baseline)")
            } else {
                name.clone()
            },
            colour: style::variant_colour(index),
        })
        .collect();
    entries.push(LegendEntry {
        name: EXPORT_LEGEND.to_string(),
        colour: style::MUTED_INK,
    });
    let export_index = entries.len() - 1;
    let width_px = f64::from(CHART_WIDTH_PX) - 2.0 * style::MARGIN_PX;
    let swatches = style::legend_row(text, &entries, style::MARGIN_PX, y_px, width_px);
    for (index, (left, top, right, bottom, colour)) in swatches.into_iter().enumerate() {
        let share = if index == export_index {
            EXPORT_TINT
        } else {
            BUILD_TINT
        };
        style::outlined_rect(
            root,
            (left as i32, top as i32),
            (right as i32, bottom as i32),
            style::tint(colour, share),
            colour,
            style::DATA_LINE_PX as i32,
        )?;
    }
    Ok(())
}

/// One mode's bar: the median build, the export on top, and their labels above.
#[allow(clippy::too_many_arguments)] // the bar's place and scale, each one number
fn draw_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    group: &GroupSummary,
    colour: RGBColor,
    centre_px: f64,
    half_bar_px: f64,
    slot_px: f64,
    y_px: &impl Fn(f64) -> f64,
) -> Result<(), DrawFailure> {
    let left = (centre_px - half_bar_px).round() as i32;
    let right = (centre_px + half_bar_px).round() as i32;
    let zero = y_px(0.0).round() as i32;
    let Some(summary) = &group.build_seconds else {
        text.add(Label::new(
            "failed",
            (centre_px, f64::from(zero) - 10.0),
            text.fit("failed", FAILED, slot_px - 8.0, style::MIN_LABEL_PX),
            Align::Center,
            Baseline::Bottom,
        ));
        return Ok(());
    };
    let build_top = y_px(summary.median).round() as i32;
    style::outlined_rect(
        root,
        (left, build_top),
        (right, zero),
        style::tint(colour, BUILD_TINT),
        colour,
        style::DATA_LINE_PX as i32,
    )?;
    let mut top = build_top;
    if let Some(export_seconds) = group.export_seconds.filter(|s| *s > 0.0) {
        let export_top = y_px(summary.median + export_seconds).round() as i32;
        // The two parts share the border line between them, so the stack reads as one bar.
        style::outlined_rect(
            root,
            (left, export_top),
            (right, build_top + style::DATA_LINE_PX as i32),
            style::tint(colour, EXPORT_TINT),
            colour,
            style::DATA_LINE_PX as i32,
        )?;
        top = export_top;
    }
    let value = report_format::seconds(summary.median);
    let value_label = Label::new(
        value.clone(),
        (centre_px, f64::from(top) - 6.0),
        text.fit(
            &value,
            style::VALUE_LABEL,
            slot_px - style::VALUE_LABEL_GAP_PX,
            style::MIN_LABEL_PX,
        ),
        Align::Center,
        Baseline::Bottom,
    );
    let value_height = text.measure(&value, value_label.style).1;
    style::backdrop(root, text, &value_label)?;
    text.add(value_label);
    if let Some(export_seconds) = group.export_seconds {
        let export = format!("+{}", export_label(export_seconds));
        let export_label = Label::new(
            export.clone(),
            (centre_px, f64::from(top) - 8.0 - value_height),
            text.fit(
                &export,
                EXPORT_LABEL,
                slot_px - style::VALUE_LABEL_GAP_PX,
                style::MIN_LABEL_PX,
            ),
            Align::Center,
            Baseline::Bottom,
        );
        style::backdrop(root, text, &export_label)?;
        text.add(export_label);
    }
    Ok(())
}

/// Per variant, a row per stage: its name in the variant's stage column, then under each mode's
/// bar a cell shaded by the share of the stage's steps taken from cache, with the share.
fn draw_stage_cells<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &CiInput<'_>,
    modes: &[CacheMode],
    columns: &[VariantColumns],
    top_px: f64,
) -> Result<(), DrawFailure> {
    if input.stage_rows() == 0 {
        return Ok(());
    }
    text.add(Label::new(
        "steps from cache, by stage",
        (style::MARGIN_PX, top_px + 8.0),
        style::PANEL_CAPTION.with_size(26.0),
        Align::Left,
        Baseline::Top,
    ));
    let rows_top = top_px + STAGE_CAPTION_PX;
    for (index, variant) in input.variants.iter().enumerate() {
        let colour = style::variant_colour(index);
        let column = &columns[index];
        let name_width = column.slots_left_px - column.left_px - 12.0;
        for (row, stage) in input.stage_names(variant).into_iter().enumerate() {
            let centre_y = rows_top + (row as f64 + 0.5) * STAGE_ROW_PX;
            // An unnamed stage is known by its index, which alone reads as a number.
            let stage_name = if stage.bytes().all(|b| b.is_ascii_digit()) {
                format!("stage {stage}")
            } else {
                stage.to_string()
            };
            let name = shortened(text, &stage_name, STAGE_NAME, name_width)
                .unwrap_or_else(|| "…".to_string());
            text.add(Label::new(
                name,
                (column.slots_left_px - 12.0, centre_y),
                STAGE_NAME,
                Align::Right,
                Baseline::Middle,
            ));
            for (mode_index, &mode) in modes.iter().enumerate() {
                let Some(share) = input.cached_share(variant, mode, stage) else {
                    continue;
                };
                let centre_x = column.centre(mode_index);
                let half_width = column.slot_px * 0.42;
                style::outlined_rect(
                    root,
                    (
                        (centre_x - half_width).round() as i32,
                        (centre_y - STAGE_CELL_PX / 2.0).round() as i32,
                    ),
                    (
                        (centre_x + half_width).round() as i32,
                        (centre_y + STAGE_CELL_PX / 2.0).round() as i32,
                    ),
                    style::tint(colour, 0.08 + 0.5 * share),
                    style::tint(colour, 0.6),
                    1,
                )?;
                let label = super::super::why::percent(share);
                text.add(Label::new(
                    label.clone(),
                    (centre_x, centre_y),
                    text.fit(&label, STAGE_SHARE, half_width * 2.0 - 6.0, 14.0),
                    Align::Center,
                    Baseline::Middle,
                ));
            }
        }
    }
    Ok(())
}

/// An export cost over a bar, where three bars share a variant's width: one significant digit
/// under a second (`0.06 s`), whole tenths up to ten (`1.2 s`), whole seconds above; the
/// report's table gives three digits.
fn export_label(seconds: f64) -> String {
    let decimals = if seconds >= 10.0 {
        0
    } else if seconds >= 1.0 {
        1
    } else if seconds > 0.0 {
        // Digits up to the first significant one: 0.058 -> 2, 0.0042 -> 3.
        (-seconds.log10()).ceil().clamp(1.0, 6.0) as usize
    } else {
        0
    };
    format!("{seconds:.decimals$} s")
}

#[cfg(test)]
mod tests {
    use super::export_label;

    #[test]
    fn an_export_label_keeps_one_significant_digit_under_a_second() {
        assert_eq!(export_label(0.0580), "0.06 s");
        assert_eq!(export_label(0.208), "0.2 s");
        assert_eq!(export_label(0.0042), "0.004 s");
        assert_eq!(export_label(1.234), "1.2 s");
        assert_eq!(export_label(12.34), "12 s");
        assert_eq!(export_label(0.0), "0 s");
    }
}

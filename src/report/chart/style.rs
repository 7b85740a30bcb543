//! The look shared by every chart: palette, type sizes, heading and legend.
//!
//! Sizes are for a 1600 × 900 image that blogs shrink to a ~700 px column (a factor of about 0.44):
//! a 26 px tick label still reads as 11 px there, and a 2 px line stays visible.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::DrawFailure;

use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};

/// The Okabe–Ito palette, distinguishable with every common colour-vision deficiency. A variant's
/// colour is its index in the display order, so it is the same in every chart.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2), // blue
    RGBColor(0xE6, 0x9F, 0x00), // orange
    RGBColor(0x00, 0x9E, 0x73), // bluish green
    RGBColor(0xD5, 0x5E, 0x00), // vermillion
    RGBColor(0xCC, 0x79, 0xA7), // reddish purple
    RGBColor(0x56, 0xB4, 0xE9), // sky blue
    RGBColor(0xF0, 0xE4, 0x42), // yellow
    RGBColor(0x00, 0x00, 0x00), // black
];

/// The colour of the variant at `index` in display order (the palette repeats past eight).
pub(super) fn variant_colour(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// `colour` mixed with white; `share` is how much of `colour` remains.
pub(super) fn tint(colour: RGBColor, share: f64) -> RGBColor {
    let mix = |c: u8| (f64::from(c) * share + 255.0 * (1.0 - share)).round() as u8;
    RGBColor(mix(colour.0), mix(colour.1), mix(colour.2))
}

pub(super) const BACKGROUND: RGBColor = RGBColor(0xFF, 0xFF, 0xFF);
pub(super) const INK: RGBColor = RGBColor(0x1A, 0x1A, 0x1A);
pub(super) const MUTED_INK: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(super) const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
pub(super) const AXIS: RGBColor = RGBColor(0x44, 0x44, 0x44);

pub(super) const TITLE: LabelStyle = LabelStyle::new(44.0, Weight::Bold, INK);
pub(super) const SUBTITLE: LabelStyle = LabelStyle::new(27.0, Weight::Regular, MUTED_INK);
pub(super) const AXIS_TITLE: LabelStyle = LabelStyle::new(31.0, Weight::Regular, INK);
pub(super) const TICK_LABEL: LabelStyle = LabelStyle::new(26.0, Weight::Regular, MUTED_INK);
pub(super) const VALUE_LABEL: LabelStyle = LabelStyle::new(27.0, Weight::Bold, INK);
pub(super) const LEGEND: LabelStyle = LabelStyle::new(28.0, Weight::Regular, INK);
pub(super) const PANEL_CAPTION: LabelStyle = LabelStyle::new(32.0, Weight::Bold, INK);
/// Least space between the value labels of neighbouring bars, which can stand at the same height.
pub(super) const VALUE_LABEL_GAP_PX: f64 = 22.0;
/// Smallest size a label may shrink to when space runs out; still ~8 px in a blog column.
pub(super) const MIN_LABEL_PX: f64 = 18.0;

/// Space kept clear at the image's edges.
pub(super) const MARGIN_PX: f64 = 36.0;
/// Width of lines that carry data (outlines, whiskers).
pub(super) const DATA_LINE_PX: u32 = 3;
/// Width of grid lines and axes.
pub(super) const GRID_LINE_PX: u32 = 2;

/// Draws the title and subtitle at the top left; returns the y (px) where the chart may start.
pub(super) fn draw_heading(
    text: &mut TextLayer,
    title: &str,
    subtitle: &str,
    width_px: f64,
) -> f64 {
    let available_px = width_px - 2.0 * MARGIN_PX;
    let title_style = text.fit(title, TITLE, available_px, MIN_LABEL_PX);
    let (_, title_height) = text.measure(title, title_style);
    let top = MARGIN_PX - 10.0;
    text.add(Label::new(
        title,
        (MARGIN_PX, top),
        title_style,
        Align::Left,
        Baseline::Top,
    ));
    let mut bottom = top + title_height;
    if !subtitle.is_empty() {
        let subtitle_style = text.fit(subtitle, SUBTITLE, available_px, MIN_LABEL_PX);
        let (_, subtitle_height) = text.measure(subtitle, subtitle_style);
        text.add(Label::new(
            subtitle,
            (MARGIN_PX, bottom + 4.0),
            subtitle_style,
            Align::Left,
            Baseline::Top,
        ));
        bottom += 4.0 + subtitle_height;
    }
    bottom
}

/// A swatch and its name in a legend.
pub(super) struct LegendEntry {
    pub name: String,
    pub colour: RGBColor,
}

/// Lays out legend entries in one row from `x_px`, each a filled square then its name, vertically
/// centred on `y_px`; returns the squares' rectangles (left, top, right, bottom, colour) for the
/// caller to draw, since shapes belong to plotters and text to the layer.
pub(super) fn legend_row(
    text: &mut TextLayer,
    entries: &[LegendEntry],
    x_px: f64,
    y_px: f64,
    max_width_px: f64,
) -> Vec<(f64, f64, f64, f64, RGBColor)> {
    const SWATCH_PX: f64 = 26.0;
    const SWATCH_GAP_PX: f64 = 12.0;
    const ENTRY_GAP_PX: f64 = 44.0;
    let natural_width: f64 = entries
        .iter()
        .map(|e| SWATCH_PX + SWATCH_GAP_PX + text.measure(&e.name, LEGEND).0)
        .sum::<f64>()
        + ENTRY_GAP_PX * entries.len().saturating_sub(1) as f64;
    // Many or long variant names: shrink the row rather than run off the image.
    let shrink = if natural_width > max_width_px {
        max_width_px / natural_width
    } else {
        1.0
    };
    let style = LEGEND.with_size((LEGEND.size_px * shrink).max(MIN_LABEL_PX));
    let swatch_px = SWATCH_PX * shrink.max(0.7);
    let mut x = x_px;
    let mut swatches = Vec::with_capacity(entries.len());
    for entry in entries {
        swatches.push((
            x,
            y_px - swatch_px / 2.0,
            x + swatch_px,
            y_px + swatch_px / 2.0,
            entry.colour,
        ));
        x += swatch_px + SWATCH_GAP_PX * shrink;
        text.add(Label::new(
            entry.name.clone(),
            (x, y_px),
            style,
            Align::Left,
            Baseline::Middle,
        ));
        x += text.measure(&entry.name, style).0 + ENTRY_GAP_PX * shrink;
    }
    swatches
}

/// A legend row across the chart below its heading, centred on `y_px`: each entry a swatch of
/// its colour (filled with a `tint_share` tint inside a `border_px` outline), then its name.
pub(super) fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    entries: &[LegendEntry],
    y_px: f64,
    tint_share: f64,
    border_px: i32,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(root.dim_in_pixel().0) - 2.0 * MARGIN_PX;
    for (left, top, right, bottom, colour) in legend_row(text, entries, MARGIN_PX, y_px, width_px) {
        outlined_rect(
            root,
            (left as i32, top as i32),
            (right as i32, bottom as i32),
            tint(colour, tint_share),
            colour,
            border_px,
        )?;
    }
    Ok(())
}

/// A rectangle (image pixels) filled with `fill` inside an `outline` border `border_px` wide.
///
/// Drawn as two filled rectangles because plotters' SVG backend ignores the stroke width of
/// rectangles (they would be 1 px in SVG and `border_px` in PNG); the border stays inside the
/// rectangle, so it lines up with the axis it stands on.
pub(super) fn outlined_rect<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (left, top): (i32, i32),
    (right, bottom): (i32, i32),
    fill: RGBColor,
    outline: RGBColor,
    border_px: i32,
) -> Result<(), DrawFailure> {
    root.draw(&Rectangle::new(
        [(left, top), (right, bottom)],
        outline.filled(),
    ))?;
    if right - left > 2 * border_px && bottom - top > 2 * border_px {
        let inner = [
            (left + border_px, top + border_px),
            (right - border_px, bottom - border_px),
        ];
        root.draw(&Rectangle::new(inner, fill.filled()))?;
    }
    Ok(())
}

/// A box of the background colour behind `label`, so that no gridline runs through a value
/// label. Draw it before the shapes the label belongs to, and add the label to the text layer.
pub(super) fn backdrop<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &TextLayer,
    label: &Label,
) -> Result<(), DrawFailure> {
    const PAD_PX: f64 = 5.0;
    let (width, height) = text.measure(&label.text, label.style);
    let left = match label.align {
        Align::Left => label.x_px,
        Align::Center => label.x_px - width / 2.0,
        Align::Right => label.x_px - width,
    };
    let top = match label.baseline {
        Baseline::Top => label.y_px,
        Baseline::Middle => label.y_px - height / 2.0,
        Baseline::Bottom => label.y_px - height,
    };
    root.draw(&Rectangle::new(
        [
            ((left - PAD_PX) as i32, (top - PAD_PX / 2.0) as i32),
            (
                (left + width + PAD_PX) as i32,
                (top + height + PAD_PX / 2.0) as i32,
            ),
        ],
        BACKGROUND.filled(),
    ))?;
    Ok(())
}

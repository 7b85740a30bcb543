//! Layer attribution: each variant's final image as one stacked bar of its layers, bottom layer
//! first, so that a reader sees how much is the base image, which instruction adds the bulk, and
//! how much a later layer throws away without making the image any smaller.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::report_format;
use super::style::{self, LegendEntry};
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::timeline::shortened;
use super::{CHART_HEIGHT_PX, CHART_WIDTH_PX, DrawFailure};
use crate::builder::Builder;
use crate::stats::ImageBreakdown;

const SUBTITLE: &str = "Each variant's image, layer by layer from the bottom · grey: the base \
     image · red: bytes a later layer deletes or overwrites · 1 MB = 1,000,000 bytes";
const BYTES_PER_MB: f64 = 1_000_000.0;
const BASE_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);
const WASTE_COLOUR: RGBColor = RGBColor(0xC6, 0x28, 0x28);
const ROW_HEIGHT_PX: f64 = 150.0;
const BAR_HEIGHT_PX: f64 = 58.0;
const VARIANT_COLUMN_PX: f64 = 220.0;
/// Room right of the longest bar for its total.
const TOTAL_ROOM_PX: f64 = 330.0;
/// Narrower segments carry no instruction inside them.
const MIN_NAMED_SEGMENT_PX: f64 = 90.0;
/// How many of a variant's largest layers its caption names.
const CAPTION_LAYERS: usize = 3;
const HEADING_AND_LEGEND_PX: f64 = 170.0;
const AXIS_PX: f64 = 90.0;
const VARIANT_LABEL: LabelStyle = LabelStyle::new(28.0, Weight::Bold, style::INK);
const SEGMENT_LABEL: LabelStyle = LabelStyle::new(20.0, Weight::Regular, style::INK);
const CAPTION: LabelStyle = LabelStyle::new(22.0, Weight::Regular, style::MUTED_INK);
const TOTAL: LabelStyle = LabelStyle::new(25.0, Weight::Bold, style::INK);
/// Never shorter than half the other charts, so that the title does not dominate.
const MIN_HEIGHT_PX: u32 = CHART_HEIGHT_PX / 2;

/// What a layer chart is drawn from.
#[derive(Debug, Clone)]
pub struct LayersInput<'a> {
    /// The chart's title: the scenario (and host).
    pub title: &'a str,
    /// What the file names start with.
    pub file_stem: &'a str,
    /// The builder.
    pub builder: Builder,
    /// Variants in display order; a variant's colour is fixed by its index here, as in the
    /// other charts.
    pub variants: &'a [String],
    /// The section's analysed images.
    pub images: &'a [ImageBreakdown],
}

impl LayersInput<'_> {
    /// Variants with an analysed image, with their colour index, in display order.
    fn rows(&self) -> Vec<(usize, &ImageBreakdown)> {
        self.variants
            .iter()
            .enumerate()
            .filter_map(|(index, variant)| {
                self.images
                    .iter()
                    .find(|i| i.variant == *variant)
                    .map(|image| (index, image))
            })
            .collect()
    }

    /// The image's height: a row per analysed variant.
    pub(super) fn height_px(&self) -> u32 {
        let needed = HEADING_AND_LEGEND_PX
            + self.rows().len() as f64 * ROW_HEIGHT_PX
            + AXIS_PX
            + style::MARGIN_PX;
        (needed.ceil() as u32).max(MIN_HEIGHT_PX)
    }
}

/// One stacked segment: a layer, or all of the base image's layers together.
struct Segment {
    name: String,
    bytes: u64,
    wasted_bytes: u64,
    base: bool,
}

fn segments(image: &ImageBreakdown) -> Vec<Segment> {
    let mut segments = Vec::with_capacity(image.instructions.len() + 1);
    if image.base_bytes > 0 {
        segments.push(Segment {
            name: if image.base_image.is_empty() {
                "base image".to_string()
            } else {
                image.base_image.clone()
            },
            bytes: image.base_bytes,
            wasted_bytes: 0,
            base: true,
        });
    }
    segments.extend(image.instructions.iter().map(|layer| Segment {
        name: one_line(&layer.created_by),
        bytes: layer.bytes,
        wasted_bytes: layer.wasted_bytes,
        base: false,
    }));
    segments
}

/// An instruction on one line with single spaces (a Dockerfile's continuation lines leave runs
/// of blanks in the history).
fn one_line(instruction: &str) -> String {
    instruction.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn base_name(image: &ImageBreakdown) -> String {
    if image.base_image.is_empty() {
        "base image".to_string()
    } else {
        format!("base {}", image.base_image)
    }
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &LayersInput<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(CHART_WIDTH_PX);
    let title = format!("{}: image layers ({})", input.title, input.builder);
    let heading_bottom = style::draw_heading(text, &title, SUBTITLE, width_px);
    let legend_y = heading_bottom + 34.0;
    let entries = [
        LegendEntry {
            name: "base image".to_string(),
            colour: BASE_COLOUR,
        },
        LegendEntry {
            name: "layers of the variant's instructions (its colour)".to_string(),
            colour: style::variant_colour(0),
        },
        LegendEntry {
            name: "wasted: deleted or overwritten later".to_string(),
            colour: WASTE_COLOUR,
        },
    ];
    style::draw_legend(root, text, &entries, legend_y, 0.6, 2)?;
    let rows = input.rows();
    if rows.is_empty() {
        return Ok(());
    }
    let plot_top = HEADING_AND_LEGEND_PX;
    let plot = PlotRect::from_px(
        style::MARGIN_PX + VARIANT_COLUMN_PX,
        plot_top,
        width_px - style::MARGIN_PX - TOTAL_ROOM_PX,
        plot_top + rows.len() as f64 * ROW_HEIGHT_PX,
    );
    let largest_mb = rows
        .iter()
        .map(|(_, image)| image.image_bytes as f64 / BYTES_PER_MB)
        .fold(0.0, f64::max)
        .max(1e-3);
    let x_of = |mb: f64| f64::from(plot.left) + mb / largest_mb * f64::from(plot.width());
    let ticks: Vec<Tick> = axes::linear_ticks(largest_mb, 6)
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: x_of(value).round() as i32,
            label,
        })
        .collect();
    axes::draw_x_ticks(root, text, plot, &ticks)?;
    text.add(Label::new(
        "image size (MB)",
        (
            (f64::from(plot.left) + f64::from(plot.right)) / 2.0,
            f64::from(plot.bottom) + 46.0,
        ),
        style::AXIS_TITLE,
        Align::Center,
        Baseline::Top,
    ));
    let variant_style = text.fit_all(
        rows.iter().map(|(_, image)| image.variant.as_str()),
        VARIANT_LABEL,
        VARIANT_COLUMN_PX - 16.0,
        style::MIN_LABEL_PX,
    );
    for (row, (colour_index, image)) in rows.iter().enumerate() {
        let colour = style::variant_colour(*colour_index);
        let top = plot_top + row as f64 * ROW_HEIGHT_PX + 16.0;
        let centre = top + BAR_HEIGHT_PX / 2.0;
        text.add(Label::new(
            image.variant.as_str(),
            (style::MARGIN_PX, centre),
            variant_style,
            Align::Left,
            Baseline::Middle,
        ));
        let mut start_bytes = 0u64;
        let mut instruction_index = 0usize;
        for segment in segments(image) {
            let x0 = x_of(start_bytes as f64 / BYTES_PER_MB);
            start_bytes += segment.bytes;
            let x1 = x_of(start_bytes as f64 / BYTES_PER_MB);
            // Neighbouring layers alternate between two shades so that each one shows.
            let fill = if segment.base {
                style::tint(BASE_COLOUR, 0.55)
            } else {
                instruction_index += 1;
                style::tint(
                    colour,
                    if instruction_index % 2 == 1 {
                        0.55
                    } else {
                        0.3
                    },
                )
            };
            let outline = if segment.base { BASE_COLOUR } else { colour };
            let (y0, y1) = (top.round() as i32, (top + BAR_HEIGHT_PX).round() as i32);
            // A layer too thin to see still gets a sliver when it holds anything.
            let x1_px = if segment.bytes > 0 {
                x1.max(x0 + 2.0)
            } else {
                x1
            };
            style::outlined_rect(
                root,
                (x0.round() as i32, y0),
                (x1_px.round() as i32, y1),
                fill,
                outline,
                1,
            )?;
            // The name goes on the part of the layer that is kept, when that part has room.
            let mut label_right = x1;
            if segment.wasted_bytes > 0 && segment.bytes > 0 {
                let share = segment.wasted_bytes.min(segment.bytes) as f64 / segment.bytes as f64;
                let waste_x0 = x1_px - (x1_px - x0) * share;
                if waste_x0 - x0 >= MIN_NAMED_SEGMENT_PX {
                    label_right = waste_x0;
                }
                style::outlined_rect(
                    root,
                    (waste_x0.round() as i32, y0 + 6),
                    (x1_px.round() as i32, y1 - 6),
                    style::tint(WASTE_COLOUR, 0.55),
                    WASTE_COLOUR,
                    2,
                )?;
            }
            if label_right - x0 >= MIN_NAMED_SEGMENT_PX
                && let Some(label) =
                    shortened(text, &segment.name, SEGMENT_LABEL, label_right - x0 - 12.0)
            {
                text.add(Label::new(
                    label,
                    (x0 + 6.0, centre),
                    SEGMENT_LABEL,
                    Align::Left,
                    Baseline::Middle,
                ));
            }
        }
        text.add(Label::new(
            total_label(image),
            (x_of(image.image_bytes as f64 / BYTES_PER_MB) + 14.0, centre),
            TOTAL,
            Align::Left,
            Baseline::Middle,
        ));
        // As many of the caption's parts as fit, in order of importance.
        let room_px = width_px - style::MARGIN_PX - f64::from(plot.left);
        let mut caption = String::new();
        for part in caption_parts(image) {
            let longer = if caption.is_empty() {
                part
            } else {
                format!("{caption} · {part}")
            };
            if text.measure(&longer, CAPTION).0 > room_px {
                break;
            }
            caption = longer;
        }
        text.add(Label::new(
            caption,
            (f64::from(plot.left), top + BAR_HEIGHT_PX + 10.0),
            CAPTION,
            Align::Left,
            Baseline::Top,
        ));
    }
    axes::draw_baseline(root, plot)?;
    Ok(())
}

/// "912 MB, pulls 310 MB".
fn total_label(image: &ImageBreakdown) -> String {
    format!(
        "{}, pulls {}",
        report_format::bytes(image.image_bytes),
        report_format::bytes(image.compressed_bytes)
    )
}

/// The waste, the base image and the largest layers by name, most important first: "212 MB
/// wasted", "base python:3.12-slim 125 MB", "RUN pip install… 212 MB".
fn caption_parts(image: &ImageBreakdown) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    if image.wasted_bytes > 0 {
        parts.push(format!(
            "{} wasted",
            report_format::bytes(image.wasted_bytes)
        ));
    }
    if image.base_bytes > 0 {
        parts.push(format!(
            "{} {}",
            base_name(image),
            report_format::bytes(image.base_bytes)
        ));
    }
    let mut largest: Vec<_> = image.instructions.iter().collect();
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.layer.cmp(&b.layer)));
    for layer in largest.into_iter().take(CAPTION_LAYERS) {
        let words: Vec<&str> = layer.created_by.split_whitespace().collect();
        let name = if words.len() > 5 {
            format!("{}…", words[..5].join(" "))
        } else {
            words.join(" ")
        };
        parts.push(format!("{name} {}", report_format::bytes(layer.bytes)));
    }
    parts
}

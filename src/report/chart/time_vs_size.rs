//! Build time against image size: one point per variant and cache mode.
//!
//! Both quantities span orders of magnitude (a 4 MB static binary against a 700 MB toolchain image,
//! a 0.04 s no-op rebuild against a 13-minute cold build), so both axes are logarithmic; on linear
//! axes all but the largest points would pile up in a corner. Colour says the variant, as in the
//! other charts; marker shape says the cache mode, so the chart still reads in grey.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::style;
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::{CHART_HEIGHT_PX, CHART_WIDTH_PX, ChartData, DrawFailure};
use crate::cache_mode::{CacheMode, Marker};

const SUBTITLE: &str = "One point per variant and cache mode, at its median build time · both axes logarithmic · \
     coinciding points drawn inside one another";
const BYTES_PER_MB: f64 = 1_000_000.0;
const LEGEND_HEADING: LabelStyle = LabelStyle::new(28.0, Weight::Bold, style::INK);
const NOTHING: LabelStyle = LabelStyle::new(26.0, Weight::Bold, style::MUTED_INK);
/// Markers are sized to equal areas so that no cache mode looks more important.
const MARKER_AREA_PX2: f64 = 560.0;
/// Legend rows, from one entry's centre to the next.
const LEGEND_ROW_PX: f64 = 46.0;

/// One median: where and how it is drawn.
struct Point {
    variant_index: usize,
    mode: CacheMode,
    size_mb: f64,
    seconds: f64,
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    data: &ChartData<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(CHART_WIDTH_PX);
    let height_px = f64::from(CHART_HEIGHT_PX);
    let heading_bottom = style::draw_heading(
        text,
        &data.title("build time vs image size"),
        SUBTITLE,
        width_px,
    );

    let mut points = Vec::new();
    for (variant_index, variant) in data.variants.iter().enumerate() {
        let Some(bytes) = variant.image_bytes() else {
            continue;
        };
        for mode in CacheMode::ALL {
            let median = variant
                .group(mode)
                .and_then(|g| g.build_seconds.as_ref())
                .map(|s| s.median);
            // A log axis has no place for zero (or for anything not a number).
            if let Some(seconds) = median.filter(|s| s.is_finite() && *s > 0.0) {
                let size_mb = bytes as f64 / BYTES_PER_MB;
                if size_mb > 0.0 {
                    points.push(Point {
                        variant_index,
                        mode,
                        size_mb,
                        seconds,
                    });
                }
            }
        }
    }

    let legend_width = draw_legend(root, text, data, heading_bottom + 40.0, width_px)?;
    let plot_top = heading_bottom + 40.0;
    let (_, tick_height) = text.measure("0", style::TICK_LABEL);
    let (_, axis_title_height) = text.measure("image size (MB)", style::AXIS_TITLE);
    let plot_bottom = height_px - style::MARGIN_PX - axis_title_height - tick_height - 24.0;
    let plot_right = width_px - style::MARGIN_PX - legend_width - 56.0;

    if points.is_empty() {
        text.add(Label::new(
            "no successful build with a known image size",
            (
                (style::MARGIN_PX + plot_right) / 2.0,
                (plot_top + plot_bottom) / 2.0,
            ),
            NOTHING,
            Align::Center,
            Baseline::Middle,
        ));
        return Ok(());
    }

    let (size_low, size_high) = extent(points.iter().map(|p| p.size_mb));
    let (seconds_low, seconds_high) = extent(points.iter().map(|p| p.seconds));
    // Padding in ratios, the log axis's natural unit, keeps edge markers off the frame.
    let x_range = (size_low / 1.6, size_high * 1.6);
    let y_range = (seconds_low / 2.0, seconds_high * 2.0);
    let x_ticks = axes::log_ticks(x_range.0, x_range.1);
    let y_ticks = axes::log_ticks(y_range.0, y_range.1);

    let tick_label_width = axes::widest_tick_label(text, &y_ticks);
    let plot_left = style::MARGIN_PX - 8.0 + axis_title_height + 16.0 + tick_label_width + 12.0;
    let plot = PlotRect::from_px(plot_left, plot_top, plot_right, plot_bottom);

    let chart = ChartBuilder::on(&plot.area(root)).build_cartesian_2d(
        (x_range.0..x_range.1).log_scale(),
        (y_range.0..y_range.1).log_scale(),
    )?;
    let to_px = |x: f64, y: f64| chart.backend_coord(&(x, y));
    // A tick right next to an axis would draw its grid line as a second axis line.
    const AXIS_CLEARANCE_PX: i32 = 16;
    let x_tick_list: Vec<Tick> = x_ticks
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: to_px(value, y_range.0).0,
            label,
        })
        .filter(|tick| tick.at_px - plot.left >= AXIS_CLEARANCE_PX)
        .collect();
    let y_tick_list: Vec<Tick> = y_ticks
        .into_iter()
        .map(|(value, label)| Tick {
            at_px: to_px(x_range.0, value).1,
            label,
        })
        .filter(|tick| plot.bottom - tick.at_px >= AXIS_CLEARANCE_PX)
        .collect();
    axes::draw_x_ticks(root, text, plot, &x_tick_list)?;
    axes::draw_y_ticks(root, text, plot, &y_tick_list)?;
    axes::draw_frame(root, plot)?;

    text.add(Label::new(
        "image size (MB)",
        (
            f64::from(plot.left + plot.right) / 2.0,
            f64::from(plot.bottom) + tick_height + 20.0,
        ),
        style::AXIS_TITLE,
        Align::Center,
        Baseline::Top,
    ));
    text.add(
        Label::new(
            "median build time (s)",
            (
                style::MARGIN_PX - 8.0,
                f64::from(plot.top + plot.bottom) / 2.0,
            ),
            style::AXIS_TITLE,
            Align::Center,
            Baseline::Top,
        )
        .upward(),
    );

    // Points stay exactly where their values put them: variants with the same image (`multi`
    // and `prebuilt` often are) are drawn one inside the other, largest first, rather than moved
    // sideways along an axis where every pixel means megabytes.
    let centres: Vec<(i32, i32)> = points.iter().map(|p| to_px(p.size_mb, p.seconds)).collect();
    let scales = nesting_scales(&centres, MARKER_SPACING_PX);
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| scales[b].total_cmp(&scales[a]));
    for index in order {
        let point = &points[index];
        let colour = data.variants[point.variant_index].colour;
        draw_marker(root, point.mode, centres[index], colour, scales[index])?;
    }
    Ok(())
}

/// Centre-to-centre distance below which two markers would hide each other.
const MARKER_SPACING_PX: i32 = 30;

/// How big each marker is drawn: 1 alone; within a cluster of coinciding markers, 1 for the first
/// (in variant order), then smaller for each next one, so that drawn largest first each stays
/// visible as a ring around the next.
fn nesting_scales(centres: &[(i32, i32)], spacing_px: i32) -> Vec<f64> {
    const STEPS: [f64; 4] = [1.0, 0.68, 0.42, 0.24];
    let mut scales = vec![0.0; centres.len()];
    let mut placed = vec![false; centres.len()];
    for first in 0..centres.len() {
        if placed[first] {
            continue;
        }
        let anchor = centres[first];
        let cluster = (first..centres.len()).filter(|&i| {
            !placed[i]
                && (centres[i].0 - anchor.0).abs() < spacing_px
                && (centres[i].1 - anchor.1).abs() < spacing_px
        });
        for (depth, index) in cluster.collect::<Vec<_>>().into_iter().enumerate() {
            placed[index] = true;
            scales[index] = STEPS[depth.min(STEPS.len() - 1)];
        }
    }
    scales
}

/// Smallest and largest of `values` (all positive and finite).
fn extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, 0.0), |(low, high), v| {
        (low.min(v), high.max(v))
    })
}

/// Draws the variant and cache-mode keys at the right edge from `top_px`; returns their width.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    data: &ChartData<'_>,
    top_px: f64,
    width_px: f64,
) -> Result<f64, DrawFailure> {
    const KEY_WIDTH_PX: f64 = 40.0;
    const KEY_GAP_PX: f64 = 14.0;
    const MAX_WIDTH_PX: f64 = 380.0;
    let modes = data.modes_present();
    let names: Vec<String> = data.variants.iter().map(|v| v.legend_name()).collect();
    let widest_name = names
        .iter()
        .map(String::as_str)
        .chain(modes.iter().map(|m| m.as_str()))
        .map(|name| text.measure(name, style::LEGEND).0)
        .fold(text.measure("Cache mode", LEGEND_HEADING).0, f64::max);
    let legend_width = (KEY_WIDTH_PX + KEY_GAP_PX + widest_name).min(MAX_WIDTH_PX);
    let left = width_px - style::MARGIN_PX - legend_width;
    let name_width = legend_width - KEY_WIDTH_PX - KEY_GAP_PX;
    let key_centre_x = left + KEY_WIDTH_PX / 2.0;

    let name_style = text.fit_all(
        names.iter().map(String::as_str),
        style::LEGEND,
        name_width,
        style::MIN_LABEL_PX,
    );
    let mut y = top_px;
    text.add(Label::new(
        "Variant",
        (left, y),
        LEGEND_HEADING,
        Align::Left,
        Baseline::Top,
    ));
    y += LEGEND_ROW_PX + 14.0;
    for (variant, name) in data.variants.iter().zip(&names) {
        // A bar of colour, not a marker, so that no variant's key looks like a cache mode's shape.
        let corners = [
            ((key_centre_x - KEY_WIDTH_PX / 2.0) as i32, (y - 7.0) as i32),
            ((key_centre_x + KEY_WIDTH_PX / 2.0) as i32, (y + 7.0) as i32),
        ];
        root.draw(&Rectangle::new(corners, variant.colour.filled()))?;
        text.add(Label::new(
            name.clone(),
            (left + KEY_WIDTH_PX + KEY_GAP_PX, y),
            name_style,
            Align::Left,
            Baseline::Middle,
        ));
        y += LEGEND_ROW_PX;
    }

    y += 30.0;
    text.add(Label::new(
        "Cache mode",
        (left, y - LEGEND_ROW_PX / 2.0),
        LEGEND_HEADING,
        Align::Left,
        Baseline::Top,
    ));
    y += LEGEND_ROW_PX / 2.0 + 14.0;
    for mode in modes {
        draw_marker(
            root,
            mode,
            (key_centre_x as i32, y as i32),
            style::MUTED_INK,
            1.0,
        )?;
        text.add(Label::new(
            mode.as_str(),
            (left + KEY_WIDTH_PX + KEY_GAP_PX, y),
            name_style,
            Align::Left,
            Baseline::Middle,
        ));
        y += LEGEND_ROW_PX;
    }
    Ok(legend_width)
}

/// The marker of `mode` (its [`Marker`]) centred on `centre` (image pixels), filled with `fill`
/// and outlined dark so that overlaps stay apart and light colours stay visible on white.
fn draw_marker<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    mode: CacheMode,
    (x, y): (i32, i32),
    fill: RGBColor,
    scale: f64,
) -> Result<(), DrawFailure> {
    const OUTLINE_PX: u32 = 2;
    let area_px2 = MARKER_AREA_PX2 * scale * scale;
    match mode.marker() {
        Marker::Circle => {
            let radius = (area_px2 / std::f64::consts::PI).sqrt().round() as u32;
            root.draw(&Circle::new((x, y), radius, fill.filled()))?;
            root.draw(&Circle::new(
                (x, y),
                radius,
                style::INK.stroke_width(OUTLINE_PX),
            ))?;
        }
        Marker::Square => {
            let half = (area_px2.sqrt() / 2.0).round() as i32;
            style::outlined_rect(
                root,
                (x - half, y - half),
                (x + half, y + half),
                fill,
                style::INK,
                OUTLINE_PX as i32,
            )?;
        }
        Marker::Polygon {
            sides,
            first_vertex_degrees,
            area_factor,
        } => {
            let sides_f = f64::from(sides);
            // Area of a regular n-gon of circumradius R: n/2 · R² · sin(2π/n).
            let radius = (area_factor * area_px2
                / (sides_f / 2.0 * (2.0 * std::f64::consts::PI / sides_f).sin()))
            .sqrt();
            let polygon = |radius: f64| {
                (0..sides)
                    .map(|k| {
                        let angle =
                            f64::to_radians(first_vertex_degrees + 360.0 * f64::from(k) / sides_f);
                        (
                            x + (radius * angle.cos()).round() as i32,
                            y - (radius * angle.sin()).round() as i32,
                        )
                    })
                    .collect::<Vec<_>>()
            };
            // Outlined as a larger dark polygon under the fill (a stroked path would leave a
            // notch at the corner where it starts and ends). The outline's width is measured
            // across a side: the apothem shrinks by OUTLINE_PX when the circumradius shrinks by
            // OUTLINE_PX / cos(π/n).
            let inset = f64::from(OUTLINE_PX) / (std::f64::consts::PI / sides_f).cos();
            root.draw(&Polygon::new(polygon(radius), style::INK.filled()))?;
            root.draw(&Polygon::new(polygon(radius - inset), fill.filled()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coinciding_markers_nest_where_they_are() {
        let centres = [(100, 200), (104, 203), (500, 200), (102, 600), (101, 201)];
        assert_eq!(
            nesting_scales(&centres, 30),
            [1.0, 0.68, 1.0, 1.0, 0.42],
            "a lone marker keeps its size; a cluster shrinks in variant order"
        );
    }
}

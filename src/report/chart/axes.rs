//! Tick values, tick labels and grid lines.
//!
//! Drawn here rather than by plotters' mesh because the mesh would write its tick labels as backend
//! text (see `text.rs`), and because choosing the ticks ourselves lets each label carry exactly the
//! decimals its step needs ("0.05", not "0.050000000000000003").

use plotters::coord::Shift;
use plotters::prelude::*;

use super::DrawFailure;
use super::style::{AXIS, GRID, GRID_LINE_PX, TICK_LABEL};
use super::text::{Align, Baseline, Label, TextLayer};

/// The plotting rectangle in image pixels.
#[derive(Debug, Clone, Copy)]
pub(super) struct PlotRect {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

impl PlotRect {
    pub(super) fn from_px(left: f64, top: f64, right: f64, bottom: f64) -> Self {
        PlotRect {
            left: left.round() as i32,
            top: top.round() as i32,
            right: right.round() as i32,
            bottom: bottom.round() as i32,
        }
    }

    pub(super) fn width(self) -> i32 {
        self.right - self.left
    }

    pub(super) fn height(self) -> i32 {
        self.bottom - self.top
    }

    /// The sub-area of `root` this rectangle covers; a chart built on it with no label areas has
    /// exactly this plotting area.
    pub(super) fn area<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
    ) -> DrawingArea<DB, Shift> {
        root.clone().shrink(
            (self.left, self.top),
            (self.width().max(1) as u32, self.height().max(1) as u32),
        )
    }
}

/// One tick: where (image pixels along the axis) and what it says.
pub(super) struct Tick {
    pub at_px: i32,
    pub label: String,
}

/// About `target` round values from 0 to `max` (inclusive), a 1-2-5 step apart.
pub(super) fn linear_ticks(max: f64, target: usize) -> Vec<(f64, String)> {
    if !(max.is_finite() && max > 0.0) {
        return vec![(0.0, "0".to_string())];
    }
    let raw_step = max / target.max(1) as f64;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw_step)
        .unwrap_or(10.0 * magnitude);
    (0..)
        .map(|k| f64::from(k) * step)
        .take_while(|&v| v <= max * (1.0 + 1e-9))
        .map(|v| (v, tick_label(v)))
        .collect()
}

/// Round values between `min` and `max` for a logarithmic axis: powers of ten when the range spans
/// enough decades, else also 3×, then 2× and 5×, then finer multiples, whichever first gives at
/// least four ticks (a log scale cannot be read from fewer).
pub(super) fn log_ticks(min: f64, max: f64) -> Vec<(f64, String)> {
    if !(min.is_finite() && max.is_finite() && min > 0.0 && max > min) {
        return Vec::new();
    }
    const MANTISSA_SETS: [&[f64]; 5] = [
        &[1.0],
        &[1.0, 3.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 5.0, 7.0],
        &[1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0],
    ];
    let mut ticks = Vec::new();
    for mantissas in MANTISSA_SETS {
        ticks.clear();
        for exponent in (min.log10().floor() as i32)..=(max.log10().ceil() as i32) {
            for mantissa in mantissas {
                let value = mantissa * 10f64.powi(exponent);
                if value >= min * (1.0 - 1e-9) && value <= max * (1.0 + 1e-9) {
                    ticks.push((value, tick_label(value)));
                }
            }
        }
        if ticks.len() >= 4 {
            break;
        }
    }
    ticks
}

/// A tick value with only the decimals it has: "0", "0.05", "1500" (ticks are round numbers, so
/// six decimals is far more than any has).
fn tick_label(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// The top of a linear axis from 0 that leaves `label_room_px` above the highest value for its
/// value label; 0..1 when there is nothing to show.
pub(super) fn max_with_label_room(highest: f64, plot_height_px: f64, label_room_px: f64) -> f64 {
    if highest > 0.0 && highest.is_finite() {
        highest * plot_height_px / (plot_height_px - label_room_px)
    } else {
        1.0
    }
}

/// Width of the widest tick label, which sets how far the plot starts from the left edge.
pub(super) fn widest_tick_label(text: &TextLayer, ticks: &[(f64, String)]) -> f64 {
    ticks
        .iter()
        .map(|(_, label)| text.measure(label, TICK_LABEL).0)
        .fold(0.0, f64::max)
}

/// Horizontal grid lines across `plot` at each tick, with labels right-aligned left of it.
pub(super) fn draw_y_ticks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    plot: PlotRect,
    ticks: &[Tick],
) -> Result<(), DrawFailure> {
    for tick in ticks {
        root.draw(&PathElement::new(
            vec![(plot.left, tick.at_px), (plot.right, tick.at_px)],
            GRID.stroke_width(GRID_LINE_PX),
        ))?;
        text.add(Label::new(
            tick.label.clone(),
            (f64::from(plot.left) - 12.0, f64::from(tick.at_px)),
            TICK_LABEL,
            Align::Right,
            Baseline::Middle,
        ));
    }
    Ok(())
}

/// Vertical grid lines across `plot` at each tick, with labels centred below it.
pub(super) fn draw_x_ticks<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    plot: PlotRect,
    ticks: &[Tick],
) -> Result<(), DrawFailure> {
    for tick in ticks {
        root.draw(&PathElement::new(
            vec![(tick.at_px, plot.top), (tick.at_px, plot.bottom)],
            GRID.stroke_width(GRID_LINE_PX),
        ))?;
        text.add(Label::new(
            tick.label.clone(),
            (f64::from(tick.at_px), f64::from(plot.bottom) + 10.0),
            TICK_LABEL,
            Align::Center,
            Baseline::Top,
        ));
    }
    Ok(())
}

/// The x axis line along the plot's bottom (the zero line of a bar chart).
pub(super) fn draw_baseline<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: PlotRect,
) -> Result<(), DrawFailure> {
    root.draw(&PathElement::new(
        vec![(plot.left, plot.bottom), (plot.right, plot.bottom)],
        AXIS.stroke_width(GRID_LINE_PX + 1),
    ))?;
    Ok(())
}

/// Left and bottom axis lines.
pub(super) fn draw_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: PlotRect,
) -> Result<(), DrawFailure> {
    root.draw(&PathElement::new(
        vec![
            (plot.left, plot.top),
            (plot.left, plot.bottom),
            (plot.right, plot.bottom),
        ],
        AXIS.stroke_width(GRID_LINE_PX),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(ticks: &[(f64, String)]) -> Vec<&str> {
        ticks.iter().map(|(_, l)| l.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_round_and_cover_the_range() {
        assert_eq!(
            labels(&linear_ticks(950.0, 5)),
            ["0", "200", "400", "600", "800"]
        );
        assert_eq!(labels(&linear_ticks(0.33, 5)), ["0", "0.1", "0.2", "0.3"]);
        assert_eq!(
            labels(&linear_ticks(0.06, 5)),
            ["0", "0.02", "0.04", "0.06"]
        );
        assert_eq!(labels(&linear_ticks(0.3, 2)), ["0", "0.2"]);
        assert_eq!(
            labels(&linear_ticks(48.0, 5)),
            ["0", "10", "20", "30", "40"]
        );
        assert_eq!(labels(&linear_ticks(0.0, 5)), ["0"]);
        assert_eq!(labels(&linear_ticks(f64::NAN, 5)), ["0"]);
    }

    #[test]
    fn log_ticks_thin_out_over_many_decades() {
        assert_eq!(
            labels(&log_ticks(0.02, 2000.0)),
            ["0.1", "1", "10", "100", "1000"]
        );
        assert_eq!(
            labels(&log_ticks(0.2, 420.0)),
            ["0.3", "1", "3", "10", "30", "100", "300"]
        );
        assert_eq!(
            labels(&log_ticks(3.0, 400.0)),
            ["3", "10", "30", "100", "300"]
        );
        assert_eq!(labels(&log_ticks(4.0, 60.0)), ["5", "10", "20", "50"]);
        assert_eq!(
            labels(&log_ticks(300.0, 1500.0)),
            ["300", "500", "700", "1000"]
        );
        assert_eq!(
            labels(&log_ticks(375.0, 1600.0)),
            ["400", "500", "600", "800", "1000", "1500"]
        );
        assert!(log_ticks(1.0, 1.0).is_empty());
        assert!(log_ticks(0.0, 10.0).is_empty());
    }
}

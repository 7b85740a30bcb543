//! Stage timeline: where the time of one build goes, step by step.
//!
//! One panel per variant (rows) and cache mode (columns), each the median run of its series.
//! Within a panel every stage has a row and every step is a bar on its stage's row, from its
//! start to its end, so that stages BuildKit runs side by side show as overlapping rows, stages
//! it skips have none, and the longest bar says which step dominates. Each panel has its own
//! time scale: the build-time chart already compares the totals, this one shows their shape.

use std::collections::BTreeMap;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::{self, PlotRect, Tick};
use super::style::{self, LegendEntry};
use super::text::{Align, Baseline, Label, LabelStyle, TextLayer, Weight};
use super::{CHART_HEIGHT_PX, DrawFailure};
use crate::builder::Builder;
use crate::cache_mode::CacheMode;

const SUBTITLE: &str = "The median run of each variant and cache mode · one bar per step, coloured \
     by stage · pale: from cache · grey: the builder's own work · each panel has its own scale (s)";
/// The row of the builder's own work (context upload, export), which has no stage; stage names
/// cannot hold parentheses, so it never meets a stage called `builder`.
const BUILDER_ROW: &str = "(builder)";
const BUILDER_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);
const ROW_HEIGHT_PX: f64 = 34.0;
const BAR_HEIGHT_PX: f64 = 24.0;
const PANEL_CAPTION_PX: f64 = 34.0;
const PANEL_AXIS_PX: f64 = 44.0;
const PANEL_GAP_X_PX: f64 = 40.0;
const PANEL_GAP_Y_PX: f64 = 26.0;
const VARIANT_COLUMN_PX: f64 = 170.0;
const STAGE_LABEL_PX: f64 = 96.0;
const COLUMN_HEADER_PX: f64 = 44.0;
const STAGE_LABEL: LabelStyle = LabelStyle::new(22.0, Weight::Regular, style::INK);
const STEP_LABEL: LabelStyle = LabelStyle::new(20.0, Weight::Regular, style::INK);
const CAPTION: LabelStyle = LabelStyle::new(22.0, Weight::Regular, style::MUTED_INK);
const VARIANT_LABEL: LabelStyle = LabelStyle::new(28.0, Weight::Bold, style::INK);
const HEADING_AND_LEGEND_PX: f64 = 190.0;
/// Never shorter than half the other charts, so that the title does not dominate.
const MIN_HEIGHT_PX: u32 = CHART_HEIGHT_PX / 2;

/// One step on a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineStep {
    /// Its stage; empty for the builder's own work.
    pub stage: String,
    /// The instruction.
    pub instruction: String,
    /// Seconds from the start of the build.
    pub started_offset_s: f64,
    /// Its duration.
    pub seconds: f64,
    /// Taken from cache.
    pub cached: bool,
}

/// The median run of one variant in one cache mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// The variant.
    pub variant: String,
    /// The cache mode.
    pub cache: CacheMode,
    /// The run's build time.
    pub build_seconds: f64,
    /// Its steps.
    pub steps: Vec<TimelineStep>,
    /// Stages in order of first start.
    pub stages: Vec<String>,
}

/// What a timeline chart is drawn from.
#[derive(Debug, Clone)]
pub struct TimelineInput<'a> {
    /// The chart's title: the scenario (and host).
    pub title: &'a str,
    /// What the file names start with.
    pub file_stem: &'a str,
    /// The builder.
    pub builder: Builder,
    /// The engine and its version (`Docker 20.10.24`), shown in the title; empty to leave it
    /// out.
    pub daemon: &'a str,
    /// Variants in display order.
    pub variants: &'a [String],
    /// Every median run with steps.
    pub timelines: &'a [Timeline],
}

impl TimelineInput<'_> {
    pub(super) fn modes(&self) -> Vec<CacheMode> {
        CacheMode::ALL
            .into_iter()
            .filter(|m| self.timelines.iter().any(|t| t.cache == *m))
            .collect()
    }

    fn variant_rows(&self) -> Vec<&str> {
        self.variants
            .iter()
            .map(String::as_str)
            .filter(|v| self.timelines.iter().any(|t| t.variant == *v))
            .collect()
    }

    fn timeline(&self, variant: &str, cache: CacheMode) -> Option<&Timeline> {
        self.timelines
            .iter()
            .find(|t| t.variant == variant && t.cache == cache)
    }

    /// A variant's rows, the same in each of its panels so that they line up: its stages in
    /// order of first start, cold run first, then the builder's own work.
    fn rows_of(&self, variant: &str) -> Vec<&str> {
        let mut rows: Vec<&str> = Vec::new();
        let mut builder = false;
        for mode in CacheMode::ALL {
            if let Some(timeline) = self.timeline(variant, mode) {
                for stage in &timeline.stages {
                    if !rows.contains(&stage.as_str()) {
                        rows.push(stage);
                    }
                }
                builder |= timeline.steps.iter().any(|s| s.stage.is_empty());
            }
        }
        if builder || rows.is_empty() {
            rows.push(BUILDER_ROW);
        }
        rows
    }

    /// The image's height: what every variant's rows need, so that a short timeline leaves no
    /// empty half.
    pub(super) fn height_px(&self) -> u32 {
        let panels: f64 = self
            .variant_rows()
            .iter()
            .map(|v| panel_height(self.rows_of(v).len()) + PANEL_GAP_Y_PX)
            .sum();
        let needed = HEADING_AND_LEGEND_PX + COLUMN_HEADER_PX + panels + style::MARGIN_PX;
        (needed.ceil() as u32).max(MIN_HEIGHT_PX)
    }

    /// Stage colours: stages by name in order of first appearance across the chart.
    fn stage_colours(&self) -> BTreeMap<&str, RGBColor> {
        let mut colours: BTreeMap<&str, RGBColor> = BTreeMap::new();
        let mut next = 0;
        for variant in self.variant_rows() {
            for mode in self.modes() {
                if let Some(timeline) = self.timeline(variant, mode) {
                    for stage in &timeline.stages {
                        colours.entry(stage.as_str()).or_insert_with(|| {
                            next += 1;
                            style::variant_colour(next - 1)
                        });
                    }
                }
            }
        }
        colours
    }
}

fn panel_height(rows: usize) -> f64 {
    PANEL_CAPTION_PX + rows as f64 * ROW_HEIGHT_PX + PANEL_AXIS_PX
}

pub(super) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    input: &TimelineInput<'_>,
) -> Result<(), DrawFailure> {
    let width_px = f64::from(root.dim_in_pixel().0);
    let title = if input.daemon.is_empty() {
        format!("{}: stage timeline ({})", input.title, input.builder)
    } else {
        format!(
            "{}: stage timeline ({}, {})",
            input.title, input.builder, input.daemon
        )
    };
    let heading_bottom = style::draw_heading(text, &title, SUBTITLE, width_px);
    let colours = input.stage_colours();
    let mut order: Vec<(&str, RGBColor)> = colours.iter().map(|(s, c)| (*s, *c)).collect();
    order.sort_by_key(|(_, colour)| {
        style::PALETTE
            .iter()
            .position(|p| p == colour)
            .unwrap_or(usize::MAX)
    });
    let mut entries: Vec<LegendEntry> = order
        .iter()
        .map(|(stage, colour)| LegendEntry {
            name: format!("stage {stage}"),
            colour: *colour,
        })
        .collect();
    entries.push(LegendEntry {
        name: "builder's own work".to_string(),
        colour: BUILDER_COLOUR,
    });
    let legend_y = heading_bottom + 34.0;
    style::draw_legend(root, text, &entries, legend_y, 0.8, 2)?;
    let modes = input.modes();
    let variants = input.variant_rows();
    if modes.is_empty() || variants.is_empty() {
        return Ok(());
    }
    let grid_left = style::MARGIN_PX + VARIANT_COLUMN_PX;
    let grid_right = width_px - style::MARGIN_PX;
    let columns = modes.len() as f64;
    let panel_width = (grid_right - grid_left - PANEL_GAP_X_PX * (columns - 1.0)) / columns;
    let headers_top = legend_y + 40.0;
    for (column, mode) in modes.iter().enumerate() {
        let left = grid_left + column as f64 * (panel_width + PANEL_GAP_X_PX);
        text.add(Label::new(
            mode.as_str(),
            (left + panel_width / 2.0, headers_top),
            style::PANEL_CAPTION,
            Align::Center,
            Baseline::Top,
        ));
    }
    let variant_style = text.fit_all(
        variants.iter().copied(),
        VARIANT_LABEL,
        VARIANT_COLUMN_PX - 16.0,
        style::MIN_LABEL_PX,
    );
    let mut top = headers_top + COLUMN_HEADER_PX;
    for variant in variants {
        let rows = input.rows_of(variant);
        let height = panel_height(rows.len());
        text.add(Label::new(
            variant,
            (
                style::MARGIN_PX,
                top + PANEL_CAPTION_PX + rows.len() as f64 * ROW_HEIGHT_PX / 2.0,
            ),
            variant_style,
            Align::Left,
            Baseline::Middle,
        ));
        for (column, mode) in modes.iter().enumerate() {
            let left = grid_left + column as f64 * (panel_width + PANEL_GAP_X_PX);
            if let Some(timeline) = input.timeline(variant, *mode) {
                draw_panel(
                    root,
                    text,
                    timeline,
                    &rows,
                    &colours,
                    (left, top, left + panel_width, top + height),
                )?;
            }
        }
        top += height + PANEL_GAP_Y_PX;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    text: &mut TextLayer,
    timeline: &Timeline,
    rows: &[&str],
    colours: &BTreeMap<&str, RGBColor>,
    (left_px, top_px, right_px, bottom_px): (f64, f64, f64, f64),
) -> Result<(), DrawFailure> {
    text.add(Label::new(
        format!(
            "median run: {}",
            super::report_format::seconds(timeline.build_seconds)
        ),
        (right_px, top_px + 4.0),
        CAPTION,
        Align::Right,
        Baseline::Top,
    ));
    let plot = PlotRect::from_px(
        left_px + STAGE_LABEL_PX,
        top_px + PANEL_CAPTION_PX,
        right_px,
        bottom_px - PANEL_AXIS_PX,
    );
    let span = timeline
        .steps
        .iter()
        .map(|s| s.started_offset_s + s.seconds)
        .fold(timeline.build_seconds, f64::max)
        .max(1e-3);
    let ticks = axes::linear_ticks(span, 4);
    let x_of = |seconds: f64| f64::from(plot.left) + seconds / span * f64::from(plot.width());
    let x_ticks: Vec<Tick> = ticks
        .into_iter()
        .filter(|(value, _)| *value <= span * 1.0001)
        .map(|(value, label)| Tick {
            at_px: x_of(value).round() as i32,
            label,
        })
        .collect();
    axes::draw_x_ticks(root, text, plot, &x_ticks)?;
    let label_style = text.fit_all(
        rows.iter().copied(),
        STAGE_LABEL,
        STAGE_LABEL_PX - 10.0,
        style::MIN_LABEL_PX,
    );
    for (index, row) in rows.iter().enumerate() {
        let centre = f64::from(plot.top) + (index as f64 + 0.5) * ROW_HEIGHT_PX;
        text.add(Label::new(
            *row,
            (left_px + STAGE_LABEL_PX - 10.0, centre),
            label_style,
            Align::Right,
            Baseline::Middle,
        ));
    }
    for step in &timeline.steps {
        let (row, colour) = if step.stage.is_empty() {
            (
                rows.iter().position(|r| *r == BUILDER_ROW).unwrap_or(0),
                BUILDER_COLOUR,
            )
        } else {
            (
                rows.iter().position(|r| *r == step.stage).unwrap_or(0),
                colours
                    .get(step.stage.as_str())
                    .copied()
                    .unwrap_or(BUILDER_COLOUR),
            )
        };
        let centre = f64::from(plot.top) + (row as f64 + 0.5) * ROW_HEIGHT_PX;
        let x0 = x_of(step.started_offset_s);
        // A step too short to see still gets a sliver, so that no step is invisible.
        let x1 = x_of(step.started_offset_s + step.seconds).max(x0 + 3.0);
        let fill = if step.cached {
            style::tint(colour, 0.3)
        } else {
            style::tint(colour, 0.75)
        };
        style::outlined_rect(
            root,
            (
                x0.round() as i32,
                (centre - BAR_HEIGHT_PX / 2.0).round() as i32,
            ),
            (
                x1.round() as i32,
                (centre + BAR_HEIGHT_PX / 2.0).round() as i32,
            ),
            fill,
            colour,
            1,
        )?;
        if let Some(label) = shortened(text, &step.instruction, STEP_LABEL, x1 - x0 - 10.0) {
            text.add(Label::new(
                label,
                (x0 + 5.0, centre),
                STEP_LABEL,
                Align::Left,
                Baseline::Middle,
            ));
        }
    }
    axes::draw_baseline(root, plot)?;
    Ok(())
}

/// `instruction` cut to whole words with "…" so that it fits `width_px`, or `None` when not
/// even its first word fits.
pub(super) fn shortened(
    text: &TextLayer,
    instruction: &str,
    style: LabelStyle,
    width_px: f64,
) -> Option<String> {
    if width_px <= 0.0 {
        return None;
    }
    if text.measure(instruction, style).0 <= width_px {
        return Some(instruction.to_string());
    }
    let words: Vec<&str> = instruction.split_whitespace().collect();
    (1..words.len())
        .rev()
        .map(|count| format!("{}…", words[..count].join(" ")))
        .find(|candidate| text.measure(candidate, style).0 <= width_px)
}

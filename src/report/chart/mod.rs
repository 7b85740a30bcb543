//! Charts of one scenario: build time, image size, and the two against each other; the stage
//! timeline, the layers and the CI modes where the results hold them.
//!
//! Each chart kind has its own file and draws onto any plotters backend; this module renders each
//! one twice, as SVG (for the web, sharp at any size) and as PNG (for places that take only
//! bitmaps), and names the files. Charts end up in blog posts, so they are drawn big (1600 × 900,
//! large type, thick lines) to stay legible when shrunk into a ~700 px column, and their letters
//! come from the DejaVu Sans embedded in the binary (see `text.rs`), so a chart looks the same
//! whichever machine renders or displays it.

mod axes;
mod build_time;
mod ci;
mod image_size;
mod layers;
mod raster;
mod style;
mod text;
mod time_vs_size;
mod timeline;
mod trend;

use plotters::coord::Shift;
use plotters::drawing::DrawingAreaErrorKind;
use plotters::prelude::*;

use crate::builder::Builder;
use crate::cache_mode::CacheMode;
use crate::stats::{Comparison, GroupSummary};

use super::format as report_format;
pub use ci::CiInput;
pub use layers::LayersInput;
use text::TextLayer;
pub(crate) use text::xml_escape;
pub use timeline::{Timeline, TimelineInput, TimelineStep};
pub use trend::{TrendInput, TrendPoint, TrendSeries};

/// Width of every chart in pixels (the SVG's user units are the same pixels).
pub const CHART_WIDTH_PX: u32 = 1600;
/// Height of every chart in pixels.
pub const CHART_HEIGHT_PX: u32 = 900;

/// What the charts of one series set (a scenario, on one host, with one builder) are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct ChartInput<'a> {
    /// The scenario's name; it starts every title.
    pub scenario: &'a str,
    /// What every file name starts with: the scenario's name, followed by the host and builder
    /// when the report holds more than one of either.
    pub file_stem: &'a str,
    /// The Docker host every group was built on.
    pub host: &'a str,
    /// Whether titles name the host (the report holds more than one).
    pub show_host: bool,
    /// The builder every group was built with.
    pub builder: Builder,
    /// The engine and its version (`Docker 20.10.24`), shown in titles; empty to leave it out.
    pub daemon: &'a str,
    /// Variants in display order, baseline first; a variant's colour is fixed by its index here, in every chart.
    pub variants: &'a [String],
    /// The variant the others are compared with, marked "(baseline)" in legends.
    pub baseline: Option<&'a str>,
    /// This scenario's groups (all cache modes, this builder).
    pub groups: &'a [GroupSummary],
    /// The comparisons of those groups with the baseline, for direct "2.0× faster" labels.
    pub comparisons: &'a [Comparison],
}

/// One rendered chart file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFile {
    /// File name without a directory, such as `go-service-build-time.svg`.
    pub file_name: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
    /// The chart's title as drawn at its top, for an SVG's `<title>` and an `<img>`'s `alt`.
    pub title: String,
}

/// A chart could not be rendered; the message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The font built into stagebench could not be read.
    #[error("cannot draw chart {file_name}: the built-in DejaVu Sans font could not be read")]
    Font {
        /// The chart's file name.
        file_name: String,
    },
    /// Plotters failed while drawing.
    #[error("cannot draw chart {file_name}: {message}")]
    Draw {
        /// The chart's file name.
        file_name: String,
        /// What plotters reported.
        message: String,
    },
}

/// What a chart is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartOutput {
    /// An SVG whose letters are glyph outlines and a PNG: the report's files, which look the same
    /// on every machine, fonts or not.
    Report,
    /// An SVG alone, its letters kept as `<text>` (see [`TextLayer::to_svg_text`]): the site's
    /// charts, a tenth of the size, which screen readers and searches can read.
    SiteSvg,
}

impl ChartOutput {
    fn formats(self) -> &'static [Format] {
        match self {
            ChartOutput::Report => &[Format::Svg, Format::Png],
            ChartOutput::SiteSvg => &[Format::SvgText],
        }
    }
}

/// Renders the three charts, each as SVG and PNG (6 files), named `<stem>-build-time.{svg,png}`,
/// `<stem>-image-size.{svg,png}`, `<stem>-time-vs-size.{svg,png}` after the input's file stem.
///
/// Groups of other scenarios, hosts or builders, and of variants missing from `variants`, are
/// left out: a chart never pools two series.
/// Rendering is deterministic: the same input gives the same bytes.
pub fn render_charts(input: &ChartInput<'_>) -> Result<Vec<ChartFile>, ChartError> {
    render_charts_as(input, ChartOutput::Report)
}

/// [`render_charts`], rendered as `output`.
pub fn render_charts_as(
    input: &ChartInput<'_>,
    output: ChartOutput,
) -> Result<Vec<ChartFile>, ChartError> {
    let data = ChartData::new(input);
    let mut files = Vec::with_capacity(ChartKind::ALL.len() * 2);
    for kind in ChartKind::ALL {
        files.extend(render_as(
            &(kind, &data),
            input.file_stem,
            kind.slug(),
            output,
        )?);
    }
    Ok(files)
}

/// Renders the trend chart of `stagebench history` as SVG and PNG, named
/// `<stem>-history.{svg,png}`.
pub fn render_trend(input: &TrendInput<'_>) -> Result<Vec<ChartFile>, ChartError> {
    render_trend_as(input, ChartOutput::Report)
}

/// [`render_trend`], rendered as `output`.
pub fn render_trend_as(
    input: &TrendInput<'_>,
    output: ChartOutput,
) -> Result<Vec<ChartFile>, ChartError> {
    render_as(input, input.file_stem, "history", output)
}

/// Renders the stage timeline of a section as SVG and PNG, named `<stem>-timeline.{svg,png}`.
pub fn render_timeline(input: &TimelineInput<'_>) -> Result<Vec<ChartFile>, ChartError> {
    render_timeline_as(input, ChartOutput::Report)
}

/// [`render_timeline`], rendered as `output`.
pub fn render_timeline_as(
    input: &TimelineInput<'_>,
    output: ChartOutput,
) -> Result<Vec<ChartFile>, ChartError> {
    render_as(input, input.file_stem, "timeline", output)
}

/// Renders the layer attribution chart of a section as SVG and PNG, named
/// `<stem>-layers.{svg,png}`.
pub fn render_layers(input: &LayersInput<'_>) -> Result<Vec<ChartFile>, ChartError> {
    render_layers_as(input, ChartOutput::Report)
}

/// [`render_layers`], rendered as `output`.
pub fn render_layers_as(
    input: &LayersInput<'_>,
    output: ChartOutput,
) -> Result<Vec<ChartFile>, ChartError> {
    render_as(input, input.file_stem, "layers", output)
}

/// Renders the CI chart of a section as SVG and PNG, named `<stem>-ci.{svg,png}`; nothing when
/// the section measured no CI mode.
pub fn render_ci(input: &CiInput<'_>) -> Result<Vec<ChartFile>, ChartError> {
    render_ci_as(input, ChartOutput::Report)
}

/// [`render_ci`], rendered as `output`.
pub fn render_ci_as(
    input: &CiInput<'_>,
    output: ChartOutput,
) -> Result<Vec<ChartFile>, ChartError> {
    if input.modes().is_empty() {
        return Ok(Vec::new());
    }
    render_as(input, input.file_stem, "ci", output)
}

/// One chart as `<stem>-<slug>.svg` and, for a report, `<stem>-<slug>.png`, in that order.
fn render_as(
    drawing: &impl Drawing,
    file_stem: &str,
    slug: &str,
    output: ChartOutput,
) -> Result<Vec<ChartFile>, ChartError> {
    output
        .formats()
        .iter()
        .map(|&format| {
            let file_name = format!("{file_stem}-{slug}.{}", format.extension());
            rendered(file_name, render(drawing, format))
        })
        .collect()
}

/// Names a rendered chart, or its failure.
fn rendered(
    file_name: String,
    result: Result<(Vec<u8>, String), DrawFailure>,
) -> Result<ChartFile, ChartError> {
    match result {
        Ok((bytes, title)) => Ok(ChartFile {
            file_name,
            bytes,
            title,
        }),
        Err(DrawFailure::Font) => Err(ChartError::Font { file_name }),
        Err(DrawFailure::Plotters(message)) => Err(ChartError::Draw { file_name, message }),
        Err(DrawFailure::Png(error)) => Err(ChartError::Draw {
            file_name,
            message: format!("PNG encoding failed: {error}"),
        }),
    }
}

/// Something that draws one chart onto any plotters backend, over the background `render`
/// has already filled.
trait Drawing {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
    ) -> Result<(), DrawFailure>;

    /// The image's height.
    fn height_px(&self) -> u32 {
        CHART_HEIGHT_PX
    }

    /// The image's width: [`CHART_WIDTH_PX`], unless the chart has more panels side by side
    /// than fit it at [`PANEL_WIDTH_PX`] each.
    fn width_px(&self) -> u32 {
        CHART_WIDTH_PX
    }
}

/// The least width of a panel of a chart drawn as panels side by side (one per cache mode):
/// below it a panel's names and labels run into each other.
pub const PANEL_WIDTH_PX: u32 = 460;

/// The width of a chart with `panels` panels side by side and `margin_px` for everything else.
fn width_for_panels(panels: usize, margin_px: u32) -> u32 {
    let panels = u32::try_from(panels).unwrap_or(u32::MAX);
    CHART_WIDTH_PX.max(
        panels
            .saturating_mul(PANEL_WIDTH_PX)
            .saturating_add(margin_px),
    )
}

impl Drawing for (ChartKind, &ChartData<'_>) {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
    ) -> Result<(), DrawFailure> {
        self.0.draw(root, text, self.1)
    }

    fn width_px(&self) -> u32 {
        match self.0 {
            ChartKind::BuildTime => width_for_panels(self.1.modes_present().len(), 0),
            ChartKind::ImageSize | ChartKind::TimeVsSize => CHART_WIDTH_PX,
        }
    }
}

impl Drawing for TimelineInput<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
    ) -> Result<(), DrawFailure> {
        timeline::draw(root, text, self)
    }

    fn height_px(&self) -> u32 {
        TimelineInput::height_px(self)
    }

    fn width_px(&self) -> u32 {
        // The variant names' column beside the panels.
        width_for_panels(self.modes().len(), 200)
    }
}

impl Drawing for LayersInput<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
    ) -> Result<(), DrawFailure> {
        layers::draw(root, text, self)
    }

    fn height_px(&self) -> u32 {
        LayersInput::height_px(self)
    }
}

impl Drawing for CiInput<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
    ) -> Result<(), DrawFailure> {
        ci::draw(root, text, self)
    }

    fn height_px(&self) -> u32 {
        CiInput::height_px(self)
    }
}

impl Drawing for TrendInput<'_> {
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
    ) -> Result<(), DrawFailure> {
        trend::draw(root, text, self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChartKind {
    BuildTime,
    ImageSize,
    TimeVsSize,
}

impl ChartKind {
    const ALL: [ChartKind; 3] = [
        ChartKind::BuildTime,
        ChartKind::ImageSize,
        ChartKind::TimeVsSize,
    ];

    fn slug(self) -> &'static str {
        match self {
            ChartKind::BuildTime => "build-time",
            ChartKind::ImageSize => "image-size",
            ChartKind::TimeVsSize => "time-vs-size",
        }
    }

    fn draw<DB: DrawingBackend>(
        self,
        root: &DrawingArea<DB, Shift>,
        text: &mut TextLayer,
        data: &ChartData<'_>,
    ) -> Result<(), DrawFailure> {
        match self {
            ChartKind::BuildTime => build_time::draw(root, text, data),
            ChartKind::ImageSize => image_size::draw(root, text, data),
            ChartKind::TimeVsSize => time_vs_size::draw(root, text, data),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Text as glyph outlines.
    Svg,
    /// Text as `<text>` elements.
    SvgText,
    Png,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Svg | Format::SvgText => "svg",
            Format::Png => "png",
        }
    }
}

/// The chart's bytes and its title.
fn render(drawing: &impl Drawing, format: Format) -> Result<(Vec<u8>, String), DrawFailure> {
    let fonts = text::fonts().map_err(|_| DrawFailure::Font)?;
    let mut text = TextLayer::new(fonts);
    let height_px = drawing.height_px();
    let width_px = drawing.width_px();
    let size = (width_px, height_px);
    match format {
        Format::Svg | Format::SvgText => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
                root.fill(&style::BACKGROUND)?;
                drawing.draw(&root, &mut text)?;
                root.present()?;
            }
            // Plotters has closed the document; the text goes last so that it lies on top.
            let closing = svg.rfind("</svg>").unwrap_or(svg.len());
            let letters = match format {
                Format::SvgText => text.to_svg_text(),
                Format::Svg | Format::Png => text.to_svg_paths(),
            };
            svg.insert_str(closing, &letters);
            Ok((svg.into_bytes(), text.heading()))
        }
        Format::Png => {
            let mut rgb = vec![0u8; width_px as usize * height_px as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                root.fill(&style::BACKGROUND)?;
                drawing.draw(&root, &mut text)?;
                root.present()?;
            }
            text.rasterize(&mut rgb, width_px, height_px);
            Ok((
                raster::encode_rgb(&rgb, width_px, height_px)?,
                text.heading(),
            ))
        }
    }
}

/// Why drawing failed, before the file name is known.
#[derive(Debug)]
enum DrawFailure {
    Font,
    Plotters(String),
    Png(png::EncodingError),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawFailure {
    fn from(error: DrawingAreaErrorKind<E>) -> Self {
        DrawFailure::Plotters(error.to_string())
    }
}

/// The input rearranged for drawing: one entry per variant, in display order.
struct ChartData<'a> {
    input: &'a ChartInput<'a>,
    variants: Vec<VariantData<'a>>,
}

/// One variant's groups, colour and name.
struct VariantData<'a> {
    name: &'a str,
    is_baseline: bool,
    colour: RGBColor,
    /// Its group per cache mode, indexed like [`CacheMode::ALL`].
    groups: [Option<&'a GroupSummary>; CacheMode::ALL.len()],
    /// Its comparison with the baseline per cache mode, indexed the same way.
    comparisons: [Option<&'a Comparison>; CacheMode::ALL.len()],
}

impl<'a> ChartData<'a> {
    fn new(input: &'a ChartInput<'a>) -> Self {
        let variants = input
            .variants
            .iter()
            .enumerate()
            .map(|(index, name)| {
                let mut groups = [None; CacheMode::ALL.len()];
                for group in input.groups.iter().filter(|g| {
                    g.key.variant == *name
                        && g.key.scenario == input.scenario
                        && g.key.builder == input.builder
                        && g.key.host == input.host
                }) {
                    // The first group of a cache mode wins; the analysis makes exactly one.
                    let slot = &mut groups[group.key.cache.index()];
                    if slot.is_none() {
                        *slot = Some(group);
                    }
                }
                let mut comparisons = [None; CacheMode::ALL.len()];
                for group in groups.iter().flatten() {
                    comparisons[group.key.cache.index()] =
                        input.comparisons.iter().find(|c| c.key == group.key);
                }
                VariantData {
                    name,
                    is_baseline: input.baseline == Some(name.as_str()),
                    colour: style::variant_colour(index),
                    groups,
                    comparisons,
                }
            })
            .collect();
        ChartData { input, variants }
    }

    /// Cache modes that have at least one group, in [`CacheMode::ALL`] order.
    fn modes_present(&self) -> Vec<CacheMode> {
        CacheMode::ALL
            .into_iter()
            .filter(|&mode| self.variants.iter().any(|v| v.group(mode).is_some()))
            .collect()
    }

    /// "go-service: build time (buildkit, Docker 20.10.24)", with " on HOST" after the scenario
    /// when the report holds several hosts.
    fn title(&self, what: &str) -> String {
        let builder = self.input.builder.as_str();
        let scenario = if self.input.show_host {
            format!("{} on {}", self.input.scenario, self.input.host)
        } else {
            self.input.scenario.to_string()
        };
        match self.input.daemon {
            "" => format!("{scenario}: {what} ({builder})"),
            daemon => format!("{scenario}: {what} ({builder}, {daemon})"),
        }
    }
}

impl<'a> VariantData<'a> {
    /// The name legends show: "single (baseline)" for the baseline.
    fn legend_name(&self) -> String {
        if self.is_baseline {
            format!("{} (baseline)", self.name)
        } else {
            self.name.to_string()
        }
    }

    fn group(&self, mode: CacheMode) -> Option<&'a GroupSummary> {
        self.groups[mode.index()]
    }

    /// "24.5× faster" when the contrast with the baseline found the variant faster or slower in
    /// `mode`; nothing for noise, which a chart must not dress up as a finding.
    fn finding(&self, mode: CacheMode) -> Option<String> {
        let comparison = self.comparisons[mode.index()]?;
        match comparison.outcome()? {
            crate::stats::Outcome::Faster | crate::stats::Outcome::Slower => {
                Some(report_format::speedup_phrase(comparison.speedup()))
            }
            crate::stats::Outcome::Same | crate::stats::Outcome::Inconclusive => None,
        }
    }

    /// "3.01× smaller" against the baseline's image, when the sizes differ.
    fn size_finding(&self) -> Option<String> {
        let ratio = self
            .comparisons
            .iter()
            .flatten()
            .find_map(|c| c.size_ratio)?;
        match ratio.total_cmp(&1.0) {
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Less | std::cmp::Ordering::Greater => {
                Some(report_format::size_phrase(ratio))
            }
        }
    }

    /// The image's size: from the cold build, which always makes the image from scratch, else from
    /// any build that recorded one.
    fn image_bytes(&self) -> Option<u64> {
        self.group(CacheMode::Cold)
            .and_then(|g| g.image_bytes)
            .or_else(|| self.groups.iter().flatten().find_map(|g| g.image_bytes))
    }
}

#[cfg(test)]
mod tests;

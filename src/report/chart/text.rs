//! Every letter of a chart, drawn from the outlines of the DejaVu Sans that ships in the binary.
//!
//! Neither plotters backend can be trusted with text: the SVG backend writes `<text
//! font-family="sans-serif">`, which each viewer fills with whatever font it has (so widths, and
//! with them overlaps, change from machine to machine), and the bitmap backend needs a font found
//! at run time. So plotters draws only shapes, and the charts hand their strings to a [`TextLayer`]
//! instead. The layer measures and places each string once, with the embedded font, then either
//! writes the glyph outlines as SVG `<path>` elements or rasterizes them into the PNG's pixels.
//! Both formats therefore put every letter at the same place, on any machine, with no font
//! installed. Text is painted after all shapes, which is what charts want: labels stay readable.

use std::fmt::Write as _;
use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve, Point, PxScale, point};
use plotters::style::RGBColor;

/// The two faces of the embedded font.
pub(super) struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

/// The embedded font could not be parsed (only possible if the `dejavu` crate's data is broken).
#[derive(Debug, Clone, Copy)]
pub(super) struct FontUnavailable;

/// The embedded fonts, parsed once per process.
pub(super) fn fonts() -> Result<&'static Fonts, FontUnavailable> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: FontRef::try_from_slice(dejavu::sans::regular()).ok()?,
                bold: FontRef::try_from_slice(dejavu::sans::bold()).ok()?,
            })
        })
        .as_ref()
        .ok_or(FontUnavailable)
}

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Weight {
    Regular,
    Bold,
}

/// Which point of the text's width sits at the label's x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Center,
    Right,
}

/// Which point of the text's line box (ascender to descender) sits at the label's y.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Baseline {
    Top,
    Middle,
    Bottom,
}

/// Reading direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Horizontal,
    /// Turned 90° counter-clockwise, read bottom to top: y-axis titles.
    Upward,
}

/// Size, weight and colour of a label.
#[derive(Debug, Clone, Copy)]
pub(super) struct LabelStyle {
    /// Font size in pixels: the em square, as CSS `font-size` means it.
    pub size_px: f64,
    pub weight: Weight,
    pub colour: RGBColor,
}

impl LabelStyle {
    pub(super) const fn new(size_px: f64, weight: Weight, colour: RGBColor) -> Self {
        LabelStyle {
            size_px,
            weight,
            colour,
        }
    }

    pub(super) const fn with_size(self, size_px: f64) -> Self {
        LabelStyle { size_px, ..self }
    }
}

/// One string placed on the chart.
#[derive(Debug, Clone)]
pub(super) struct Label {
    pub text: String,
    /// Anchor point in pixels from the image's top left corner.
    pub x_px: f64,
    pub y_px: f64,
    pub style: LabelStyle,
    pub align: Align,
    pub baseline: Baseline,
    pub direction: Direction,
}

impl Label {
    /// A horizontal label.
    pub(super) fn new(
        text: impl Into<String>,
        (x_px, y_px): (f64, f64),
        style: LabelStyle,
        align: Align,
        baseline: Baseline,
    ) -> Self {
        Label {
            text: text.into(),
            x_px,
            y_px,
            style,
            align,
            baseline,
            direction: Direction::Horizontal,
        }
    }

    /// The same label read bottom to top; align and baseline keep their meaning along the text.
    pub(super) fn upward(self) -> Self {
        Label {
            direction: Direction::Upward,
            ..self
        }
    }
}

/// A glyph of a laid-out label, in the label's own frame: x along the text from the anchor, y down
/// from the anchor across it, both in pixels.
struct PlacedGlyph {
    id: GlyphId,
    origin_x_px: f32,
    baseline_y_px: f32,
}

/// The strings of one chart, painted over its shapes at the end.
pub(super) struct TextLayer {
    fonts: &'static Fonts,
    labels: Vec<Label>,
}

impl TextLayer {
    pub(super) fn new(fonts: &'static Fonts) -> Self {
        TextLayer {
            fonts,
            labels: Vec::new(),
        }
    }

    pub(super) fn add(&mut self, label: Label) {
        self.labels.push(label);
    }

    /// The first string placed: every chart draws its heading before anything else.
    pub(super) fn heading(&self) -> String {
        self.labels
            .first()
            .map_or_else(String::new, |label| label.text.clone())
    }

    /// Width and height of `text`'s line box in pixels, as it will be drawn.
    pub(super) fn measure(&self, text: &str, style: LabelStyle) -> (f64, f64) {
        let font = self.font(style.weight);
        let scale = em_scale(font, style.size_px);
        let (_, width) = self.advance_positions(font, text, scale);
        let height = (font.ascent_unscaled() - font.descent_unscaled()) * scale;
        (f64::from(width), f64::from(height))
    }

    /// `style` shrunk, if needed, so that `text` is at most `max_width_px` wide (never below
    /// `min_size_px`): long scenario names must not run off the image.
    pub(super) fn fit(
        &self,
        text: &str,
        style: LabelStyle,
        max_width_px: f64,
        min_size_px: f64,
    ) -> LabelStyle {
        let (width_px, _) = self.measure(text, style);
        if width_px <= max_width_px || width_px <= 0.0 {
            return style;
        }
        style.with_size(
            (style.size_px * max_width_px / width_px)
                .floor()
                .max(min_size_px),
        )
    }

    /// The largest size at which every one of `texts` fits `max_width_px` (never below
    /// `min_size_px`), so that labels of one kind share one size.
    pub(super) fn fit_all<'t>(
        &self,
        texts: impl IntoIterator<Item = &'t str>,
        style: LabelStyle,
        max_width_px: f64,
        min_size_px: f64,
    ) -> LabelStyle {
        let size_px = texts
            .into_iter()
            .map(|text| self.fit(text, style, max_width_px, min_size_px).size_px)
            .fold(style.size_px, f64::min);
        style.with_size(size_px)
    }

    fn font(&self, weight: Weight) -> &FontRef<'static> {
        match weight {
            Weight::Regular => &self.fonts.regular,
            Weight::Bold => &self.fonts.bold,
        }
    }

    /// Pen positions of each glyph (with kerning) and the total advance, in pixels.
    fn advance_positions(
        &self,
        font: &FontRef<'static>,
        text: &str,
        scale: f32,
    ) -> (Vec<(GlyphId, f32)>, f32) {
        let mut pen_px = 0.0f32;
        let mut previous: Option<GlyphId> = None;
        let mut glyphs = Vec::with_capacity(text.len());
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen_px += font.kern_unscaled(previous, id) * scale;
            }
            glyphs.push((id, pen_px));
            pen_px += font.h_advance_unscaled(id) * scale;
            previous = Some(id);
        }
        (glyphs, pen_px)
    }

    /// Glyphs of `label` relative to its anchor, after alignment.
    fn layout(&self, label: &Label) -> Vec<PlacedGlyph> {
        let font = self.font(label.style.weight);
        let scale = em_scale(font, label.style.size_px);
        let (glyphs, width_px) = self.advance_positions(font, &label.text, scale);
        let ascent_px = font.ascent_unscaled() * scale;
        let height_px = (font.ascent_unscaled() - font.descent_unscaled()) * scale;
        let shift_x_px = match label.align {
            Align::Left => 0.0,
            Align::Center => -width_px / 2.0,
            Align::Right => -width_px,
        };
        let top_px = match label.baseline {
            Baseline::Top => 0.0,
            Baseline::Middle => -height_px / 2.0,
            Baseline::Bottom => -height_px,
        };
        glyphs
            .into_iter()
            .map(|(id, pen_px)| PlacedGlyph {
                id,
                origin_x_px: shift_x_px + pen_px,
                baseline_y_px: top_px + ascent_px,
            })
            .collect()
    }

    /// One `<path>` per label, to go inside the chart's `<svg>` element.
    pub(super) fn to_svg_paths(&self) -> String {
        let mut svg = String::new();
        for label in &self.labels {
            let font = self.font(label.style.weight);
            let scale = em_scale(font, label.style.size_px);
            let (anchor_x, anchor_y) = anchor_pixel(label);
            let mut d = String::new();
            for glyph in self.layout(label) {
                let Some(outline) = font.outline(glyph.id) else {
                    continue; // a space
                };
                // Maps a font-unit point (y up) to the image (y down), through the label's frame.
                let to_image = |p: Point| {
                    let along = glyph.origin_x_px + p.x * scale;
                    let across = glyph.baseline_y_px - p.y * scale;
                    match label.direction {
                        Direction::Horizontal => (anchor_x + along, anchor_y + across),
                        Direction::Upward => (anchor_x + across, anchor_y - along),
                    }
                };
                let mut pen: Option<Point> = None;
                for curve in &outline.curves {
                    let (start, end) = match curve {
                        OutlineCurve::Line(a, b)
                        | OutlineCurve::Quad(a, _, b)
                        | OutlineCurve::Cubic(a, _, _, b) => (*a, *b),
                    };
                    if pen != Some(start) {
                        if pen.is_some() {
                            d.push('Z');
                        }
                        push_command(&mut d, 'M', &[to_image(start)]);
                    }
                    match curve {
                        OutlineCurve::Line(_, b) => push_command(&mut d, 'L', &[to_image(*b)]),
                        OutlineCurve::Quad(_, c, b) => {
                            push_command(&mut d, 'Q', &[to_image(*c), to_image(*b)])
                        }
                        OutlineCurve::Cubic(_, c1, c2, b) => {
                            push_command(
                                &mut d,
                                'C',
                                &[to_image(*c1), to_image(*c2), to_image(*b)],
                            );
                        }
                    }
                    pen = Some(end);
                }
                if pen.is_some() {
                    d.push('Z');
                }
            }
            if d.is_empty() {
                continue;
            }
            let RGBColor(r, g, b) = label.style.colour;
            let _ = writeln!(svg, "<path fill=\"#{r:02X}{g:02X}{b:02X}\" d=\"{d}\"/>");
        }
        svg
    }

    /// One `<text>` per label, to go inside the chart's `<svg>` element: the same layout as
    /// [`to_svg_paths`](Self::to_svg_paths), kept as text so that it can be read, searched and
    /// copied. `textLength` holds each label to the width DejaVu Sans gives it, so that a viewer
    /// that falls back to another font still keeps every fit and every gap the layout measured;
    /// the baseline comes from the layout rather than `dominant-baseline`, which viewers
    /// implement differently.
    pub(super) fn to_svg_text(&self) -> String {
        let mut svg = String::new();
        for label in &self.labels {
            let font = self.font(label.style.weight);
            let scale = em_scale(font, label.style.size_px);
            let (_, width_px) = self.advance_positions(font, &label.text, scale);
            if label.text.trim().is_empty() || width_px <= 0.0 {
                continue;
            }
            let (anchor_x, anchor_y) = anchor_pixel(label);
            let (start_along_px, baseline_across_px) = self
                .layout(label)
                .first()
                .map_or((0.0, 0.0), |g| (g.origin_x_px, g.baseline_y_px));
            let RGBColor(r, g, b) = label.style.colour;
            let mut x = String::new();
            let mut y = String::new();
            let rotate = match label.direction {
                Direction::Horizontal => {
                    push_tenths(&mut x, anchor_x + start_along_px);
                    push_tenths(&mut y, anchor_y + baseline_across_px);
                    String::new()
                }
                Direction::Upward => {
                    push_tenths(&mut x, anchor_x + baseline_across_px);
                    push_tenths(&mut y, anchor_y - start_along_px);
                    format!(" transform=\"rotate(-90 {x} {y})\"")
                }
            };
            let mut length = String::new();
            push_tenths(&mut length, width_px);
            let mut size = String::new();
            push_tenths(&mut size, label.style.size_px as f32);
            let weight = match label.style.weight {
                Weight::Regular => "",
                Weight::Bold => " font-weight=\"bold\"",
            };
            let _ = writeln!(
                svg,
                "<text x=\"{x}\" y=\"{y}\" font-family=\"{SVG_FONT_FAMILY}\" font-size=\"{size}\"{weight} \
                 fill=\"#{r:02X}{g:02X}{b:02X}\" textLength=\"{length}\" lengthAdjust=\"spacingAndGlyphs\" \
                 xml:space=\"preserve\"{rotate}>{}</text>",
                xml_escape(&label.text)
            );
        }
        svg
    }

    /// Paints every label, anti-aliased, into an RGB buffer of `width_px` × `height_px`.
    pub(super) fn rasterize(&self, rgb: &mut [u8], width_px: u32, height_px: u32) {
        let (width, height) = (i64::from(width_px), i64::from(height_px));
        for label in &self.labels {
            let font = self.font(label.style.weight);
            let px_scale = px_scale(font, label.style.size_px);
            let (anchor_x, anchor_y) = anchor_pixel(label);
            let (anchor_x, anchor_y) = (anchor_x as i64, anchor_y as i64);
            let RGBColor(r, g, b) = label.style.colour;
            for glyph in self.layout(label) {
                let positioned = glyph.id.with_scale_and_position(
                    px_scale,
                    point(glyph.origin_x_px, glyph.baseline_y_px),
                );
                let Some(outlined) = font.outline_glyph(positioned) else {
                    continue;
                };
                let bounds = outlined.px_bounds();
                let (min_x, min_y) = (bounds.min.x as i64, bounds.min.y as i64);
                outlined.draw(|x, y, coverage| {
                    let (along, across) = (min_x + i64::from(x), min_y + i64::from(y));
                    // Pixel (along, across) of the label's frame is the unit square from that corner;
                    // turned upward, that square's top-left corner lands at (across, -along - 1).
                    let (px, py) = match label.direction {
                        Direction::Horizontal => (anchor_x + along, anchor_y + across),
                        Direction::Upward => (anchor_x + across, anchor_y - along - 1),
                    };
                    if coverage <= 0.0 || px < 0 || py < 0 || px >= width || py >= height {
                        return;
                    }
                    let alpha = coverage.min(1.0);
                    let index = ((py * width + px) * 3) as usize;
                    if let Some(pixel) = rgb.get_mut(index..index + 3) {
                        for (channel, target) in pixel.iter_mut().zip([r, g, b]) {
                            let blended = f32::from(*channel)
                                + (f32::from(target) - f32::from(*channel)) * alpha;
                            *channel = blended.round().clamp(0.0, 255.0) as u8;
                        }
                    }
                });
            }
        }
    }
}

/// The font a text-mode chart asks for: the DejaVu Sans its layout was measured with, then
/// look-alikes.
const SVG_FONT_FAMILY: &str = "'DejaVu Sans', Verdana, sans-serif";

/// `text` with XML's five special characters escaped, for element content and attribute values.
pub(crate) fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// Anchors are snapped to whole pixels so that SVG and PNG agree exactly and stems stay crisp.
fn anchor_pixel(label: &Label) -> (f32, f32) {
    (label.x_px.round() as f32, label.y_px.round() as f32)
}

/// Pixels per font unit at `size_px` (an em of `size_px` pixels).
fn em_scale(font: &FontRef<'static>, size_px: f64) -> f32 {
    // Every TrueType font has units per em; 2048 is DejaVu's, should a broken table hide it.
    size_px as f32 / font.units_per_em().unwrap_or(2048.0)
}

/// ab_glyph's scale for an em of `size_px`: it measures scale as ascent-to-descent height.
fn px_scale(font: &FontRef<'static>, size_px: f64) -> PxScale {
    PxScale::from(em_scale(font, size_px) * font.height_unscaled())
}

/// Appends an SVG path command with coordinates rounded to 0.1 px, which keeps files small
/// without visible change.
fn push_command(d: &mut String, command: char, points: &[(f32, f32)]) {
    d.push(command);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            d.push(' ');
        }
        push_tenths(d, x);
        d.push(',');
        push_tenths(d, y);
    }
}

fn push_tenths(d: &mut String, value: f32) {
    let tenths = (value * 10.0).round() as i64;
    if tenths < 0 {
        d.push('-');
    }
    let magnitude = tenths.unsigned_abs();
    let _ = write!(d, "{}", magnitude / 10);
    if !magnitude.is_multiple_of(10) {
        let _ = write!(d, ".{}", magnitude % 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer() -> TextLayer {
        TextLayer::new(fonts().unwrap_or_else(|_| panic!("embedded font")))
    }

    const STYLE: LabelStyle = LabelStyle::new(30.0, Weight::Regular, RGBColor(0, 0, 0));

    #[test]
    fn wider_text_measures_wider_and_bold_is_wider() {
        let layer = layer();
        let (narrow, height) = layer.measure("ii", STYLE);
        let (wide, _) = layer.measure("WW", STYLE);
        assert!(wide > narrow * 2.0);
        assert!(
            (height - 30.0 * 1.164).abs() < 1.0,
            "DejaVu's line box is 1.164 em, got {height}"
        );
        let (bold, _) = layer.measure(
            "build time",
            LabelStyle {
                weight: Weight::Bold,
                ..STYLE
            },
        );
        assert!(bold > layer.measure("build time", STYLE).0);
    }

    #[test]
    fn fit_shrinks_only_when_needed() {
        let layer = layer();
        assert_eq!(layer.fit("ok", STYLE, 1000.0, 10.0).size_px, 30.0);
        let fitted = layer.fit("a long long title", STYLE, 100.0, 10.0);
        assert!(layer.measure("a long long title", fitted).0 <= 100.0);
        assert_eq!(
            layer.fit("a long long title", STYLE, 10.0, 12.0).size_px,
            12.0
        );
    }

    #[test]
    fn fit_all_uses_the_smallest_fitting_size() {
        let layer = layer();
        let style = layer.fit_all(["a", "a much longer text"], STYLE, 120.0, 10.0);
        assert_eq!(
            style.size_px,
            layer.fit("a much longer text", STYLE, 120.0, 10.0).size_px
        );
        assert_eq!(layer.fit_all([], STYLE, 120.0, 10.0).size_px, STYLE.size_px);
    }

    #[test]
    fn svg_paths_follow_the_anchor_and_direction() {
        let mut layer = layer();
        layer.add(Label::new(
            "H",
            (100.0, 50.0),
            STYLE,
            Align::Left,
            Baseline::Top,
        ));
        let svg = layer.to_svg_paths();
        assert!(svg.starts_with("<path fill=\"#000000\" d=\"M"));
        assert_eq!(svg.matches("<path").count(), 1);

        let mut upward = super::TextLayer::new(layer.fonts);
        upward.add(Label::new("H", (100.0, 500.0), STYLE, Align::Left, Baseline::Top).upward());
        let d = upward.to_svg_paths();
        // Read upward, the letter lies right of the anchor's x and above its y.
        let numbers: Vec<f64> = d
            .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .filter_map(|s| s.parse().ok())
            .collect();
        let xs: Vec<f64> = numbers.iter().skip(1).step_by(2).copied().collect();
        let ys: Vec<f64> = numbers.iter().skip(2).step_by(2).copied().collect();
        assert!(xs.iter().all(|x| (100.0..140.0).contains(x)), "{xs:?}");
        assert!(ys.iter().all(|y| (460.0..=500.0).contains(y)), "{ys:?}");
    }

    #[test]
    fn rasterizing_paints_inside_the_text_box_only() {
        let mut layer = layer();
        layer.add(Label::new(
            "Hg",
            (20.0, 10.0),
            STYLE,
            Align::Left,
            Baseline::Top,
        ));
        let (width_px, height_px) = (100u32, 60u32);
        let mut rgb = vec![255u8; (width_px * height_px * 3) as usize];
        layer.rasterize(&mut rgb, width_px, height_px);
        let (text_w, text_h) = layer.measure("Hg", STYLE);
        let mut painted = 0;
        for y in 0..height_px {
            for x in 0..width_px {
                let i = ((y * width_px + x) * 3) as usize;
                if rgb[i] < 128 {
                    painted += 1;
                    assert!(
                        f64::from(x) >= 19.0 && f64::from(x) <= 21.0 + text_w,
                        "x {x}"
                    );
                    assert!(
                        f64::from(y) >= 9.0 && f64::from(y) <= 11.0 + text_h,
                        "y {y}"
                    );
                }
            }
        }
        assert!(painted > 50);
    }

    #[test]
    fn tenths_are_compact() {
        let mut d = String::new();
        push_command(&mut d, 'M', &[(12.04, -3.25), (7.0, 0.96)]);
        assert_eq!(d, "M12,-3.3 7,1");
    }
}

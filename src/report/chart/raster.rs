//! PNG encoding of the RGB buffer plotters draws into, in memory.
//!
//! plotters' own bitmap encoder can only save to a path; the reporter needs bytes so that every
//! output goes through one writer (and `report` can compare them), so the `png` crate encodes.

use super::DrawFailure;

/// Encodes `rgb` (rows top to bottom, 3 bytes a pixel) as an 8-bit RGB PNG.
pub(super) fn encode_rgb(
    rgb: &[u8],
    width_px: u32,
    height_px: u32,
) -> Result<Vec<u8>, DrawFailure> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width_px, height_px);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Measured with benches/report.rs: `Best` made files no smaller than `Default` (about
        // 100 KB for a 1600x900 chart) at twice the time; `Fast` made them 70% larger.
        encoder.set_compression(png::Compression::Default);
        encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
        let mut writer = encoder.write_header().map_err(DrawFailure::Png)?;
        writer.write_image_data(rgb).map_err(DrawFailure::Png)?;
        writer.finish().map_err(DrawFailure::Png)?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_decoder() {
        let (width_px, height_px) = (7u32, 5u32);
        let rgb: Vec<u8> = (0..width_px * height_px * 3)
            .map(|i| (i * 37 % 251) as u8)
            .collect();
        let encoded = encode_rgb(&rgb, width_px, height_px).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(encoded));
        let mut reader = decoder.read_info().unwrap();
        let mut decoded = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut decoded).unwrap();
        assert_eq!((info.width, info.height), (width_px, height_px));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&decoded[..info.buffer_size()], &rgb[..]);
    }
}

//! Reads a QR code out of one camera frame: the in-app scanner's decoder, built as its own wasm binary
//! (`main.rs`, run in a Web Worker) so the app's first load does not carry it.
//!
//! Chosen by its rate on a frame set of what cameras see (`tests/frames`, docs/benchmarks.md): rxing (ZXing's
//! reader) reads the most, light on dark too; quircs reads a few it misses (a code turned 45°, a tilted screen).

/// Frames larger than this are refused rather than decoded: the scanner sends 640x480 at most, and a worker
/// must not be made to allocate without bound by whatever it is sent.
pub const MAX_PIXELS: usize = 1920 * 1080;

/// The text of the first readable QR code in an RGBA frame (`width` x `height`, 4 bytes a pixel), if any.
pub fn decode_rgba(rgba: &[u8], width: usize, height: usize) -> Option<String> {
    let pixels = width.checked_mul(height)?;
    if pixels == 0 || pixels > MAX_PIXELS || rgba.len() != pixels * 4 {
        return None;
    }
    let grey: Vec<u8> = rgba.chunks_exact(4).map(|p| luma(p[0], p[1], p[2])).collect();
    let inverted = || grey.iter().map(|v| 255 - v).collect::<Vec<u8>>();
    zxing(&grey, width, height)
        .or_else(|| zxing(&inverted(), width, height))
        .or_else(|| quirc(&grey, width, height))
}

/// rxing's QR reader, trying harder (rotated and skewed codes) on its hybrid binarisation.
fn zxing(grey: &[u8], width: usize, height: usize) -> Option<String> {
    use rxing::{BinaryBitmap, DecodeHintValue, DecodeHints, Luma8LuminanceSource, Reader};
    let hints = DecodeHints::default().with(DecodeHintValue::TryHarder(true));
    let source = Luma8LuminanceSource::new(grey.to_vec(), u32::try_from(width).ok()?, u32::try_from(height).ok()?);
    let mut bitmap = BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    let result = rxing::qrcode::QRCodeReader.decode_with_hints(&mut bitmap, &hints);
    result.ok().map(|read| read.getText().to_owned())
}

fn quirc(grey: &[u8], width: usize, height: usize) -> Option<String> {
    let mut quirc = quircs::Quirc::default();
    let codes = quirc.identify(width, height, grey);
    codes
        .filter_map(Result::ok)
        .find_map(|code| code.decode().ok().and_then(|data| String::from_utf8(data.payload).ok()))
}

/// Rec. 601 luma in integers (weights out of 256): what a camera's Y plane holds, and cheap.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * u32::from(r) + 150 * u32::from(g) + 29 * u32::from(b)) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::{Color, EcLevel, QrCode};

    /// An RGBA frame with `text` as a QR code of `module` pixels a module, on white, at (`left`, `top`).
    fn frame(text: &str, width: usize, height: usize, module: usize, left: usize, top: usize) -> Vec<u8> {
        let code = QrCode::with_error_correction_level(text, EcLevel::M).unwrap();
        let size = code.width();
        let mut rgba = vec![255; width * height * 4];
        for y in 0..size * module {
            for x in 0..size * module {
                if code[(x / module, y / module)] == Color::Dark {
                    let at = ((top + y) * width + left + x) * 4;
                    rgba[at..at + 3].fill(16);
                }
            }
        }
        rgba
    }

    #[test]
    fn reads_a_code_link_from_a_camera_sized_frame() {
        let link = format!("https://guihai.example/q/{}", "AbC-_9".repeat(45));
        let rgba = frame(&link, 640, 480, 6, 100, 20);
        assert_eq!(decode_rgba(&rgba, 640, 480), Some(link));
    }

    #[test]
    fn a_frame_without_a_code_or_of_the_wrong_size_reads_nothing() {
        assert_eq!(decode_rgba(&vec![200; 640 * 480 * 4], 640, 480), None);
        let rgba = frame("hello", 640, 480, 8, 0, 0);
        assert_eq!(decode_rgba(&rgba, 640, 479), None);
        assert_eq!(decode_rgba(&[], 0, 0), None);
        assert_eq!(decode_rgba(&[], usize::MAX, 2), None);
    }
}

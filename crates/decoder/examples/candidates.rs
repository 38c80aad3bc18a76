//! The candidate QR decoders side by side on the frame set (`tests/frames`, written to a folder by
//! `tests/frames/dump.mjs`), natively: rqrr (the scanner's first decoder), quircs, rxing, and the scanner's
//! decoder as it ships (`decode_rgba`: rxing, light on dark too, then quircs). Prints JSON for `cargo xtask
//! bench`: per candidate, the frames it read and its time for each frame.
//!
//! Usage: `cargo run --release -p guihai-decoder --example candidates -- <folder>`

use std::time::Instant;

use guihai_decoder::decode_rgba;

/// A decoder of one RGBA frame.
type Decode = fn(&[u8]) -> Option<String>;

const WIDTH: usize = 640;
const HEIGHT: usize = 480;

fn grey(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| ((77 * u32::from(p[0]) + 150 * u32::from(p[1]) + 29 * u32::from(p[2])) >> 8) as u8)
        .collect()
}

fn rqrr(rgba: &[u8]) -> Option<String> {
    let grey = grey(rgba);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(WIDTH, HEIGHT, |x, y| grey[y * WIDTH + x]);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

fn quircs(rgba: &[u8]) -> Option<String> {
    let grey = grey(rgba);
    let mut quirc = quircs::Quirc::default();
    let codes = quirc.identify(WIDTH, HEIGHT, &grey);
    codes
        .filter_map(Result::ok)
        .find_map(|code| code.decode().ok().and_then(|data| String::from_utf8(data.payload).ok()))
}

fn rxing(rgba: &[u8]) -> Option<String> {
    use rxing::{BinaryBitmap, DecodeHintValue, DecodeHints, Luma8LuminanceSource, Reader};
    let hints = DecodeHints::default().with(DecodeHintValue::TryHarder(true));
    let source = Luma8LuminanceSource::new(grey(rgba), WIDTH as u32, HEIGHT as u32);
    let mut bitmap = BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
    let result = rxing::qrcode::QRCodeReader.decode_with_hints(&mut bitmap, &hints);
    result.ok().map(|read| read.getText().to_owned())
}

fn shipped(rgba: &[u8]) -> Option<String> {
    decode_rgba(rgba, WIDTH, HEIGHT)
}

fn main() {
    let folder = std::env::args().nth(1).expect("usage: candidates <folder>");
    let frames = std::fs::read(format!("{folder}/frames.rgba")).expect("frames.rgba");
    let list = std::fs::read_to_string(format!("{folder}/frames.tsv")).expect("frames.tsv");
    let texts: Vec<&str> = list
        .lines()
        .filter_map(|line| line.split_once('\t').map(|(_, text)| text))
        .collect();
    let candidates: [(&str, Decode); 4] = [
        ("rqrr", rqrr),
        ("quircs", quircs),
        ("rxing", rxing),
        ("shipped", shipped),
    ];
    let mut out = Vec::new();
    for (name, decode) in candidates {
        let mut read = 0;
        let mut frame_ms = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let rgba = &frames[i * WIDTH * HEIGHT * 4..(i + 1) * WIDTH * HEIGHT * 4];
            let started = Instant::now();
            let decoded = decode(rgba);
            frame_ms.push((started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0);
            read += usize::from(decoded.as_deref() == Some(*text));
        }
        let ms: Vec<String> = frame_ms.iter().map(f64::to_string).collect();
        out.push(format!(
            r#"{{"name":"{name}","read":{read},"frameMs":[{}]}}"#,
            ms.join(",")
        ));
    }
    println!(r#"{{"frames":{},"candidates":[{}]}}"#, texts.len(), out.join(","));
}

//! The fifth figure: how fast the in-app scanner reads a code (the decoder worker's time for one 640x480 frame)
//! and turns it into the check-in confirmation, measured in Chromium with a fake camera by
//! `tests/bench/decode.mjs` (which prints them as JSON).

use serde::Deserialize;

use super::parse_printed;
use super::start::{spread, Spread};
use crate::Result;

pub const SCRIPT: &str = "tests/bench/decode.mjs";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decoding {
    cpu_slowdown: u64,
    /// Characters of the code link shown to the camera.
    link_chars: u64,
    /// The worker's decode time for each frame, in milliseconds.
    frame_ms: Vec<f64>,
    decode_to_screen_ms: Vec<u64>,
}

pub fn parse(json: &str) -> Result<Decoding> {
    let decoding: Decoding = parse_printed(SCRIPT, json)?;
    if decoding.frame_ms.is_empty() || decoding.decode_to_screen_ms.is_empty() {
        return Err(format!("{SCRIPT} made no measurement").into());
    }
    Ok(decoding)
}

/// Tenths of a millisecond, so frames can share `spread` with the whole-millisecond figures.
fn tenths(ms: f64) -> u64 {
    (ms * 10.0).round() as u64
}

fn ms_of_tenths(tenths: u64) -> String {
    format!("{}.{} ms", tenths / 10, tenths % 10)
}

impl Decoding {
    pub fn markdown(&self) -> String {
        let frames: Vec<u64> = self.frame_ms.iter().copied().map(tenths).collect();
        let frame = spread(&frames);
        let screen = spread(&self.decode_to_screen_ms);
        let Spread { median, min, max } = screen;
        format!(
            "\
## QR scanner

| figure | median | min | max | runs |
|---|--:|--:|--:|--:|
| QR decode per 640x480 frame (median) | **{frame_median}** | {frame_min} | {frame_max} | {frame_runs} frames |
| decode to confirmation screen, CPU slowed down {slowdown}x | **{median} ms** | {min} ms | {max} ms | {screen_runs} scans |

### Method

Measured by `{SCRIPT}` in the headless Chromium above, whose fake camera plays a 640x480 video of a QR code
(written by `tests/e2e/camera.mjs`: error correction M, black on white) against the release build and a real
`guihai-server` on loopback.

- **decode per frame**: the decoder worker (`crates/decoder`, rqrr, its own wasm) times each frame it is sent,
  from receiving the RGBA pixels to its answer (greyscale, detection, decoding). The code is a link of
  {link_chars} characters, as large as a real activity code's, on a path the app does not take, so the scanner
  keeps decoding; the first frame (which also compiles the wasm) is left out. The CPU is not slowed down:
  DevTools' throttling does not slow a worker's thread reliably, so these are this machine's times.
- **decode to confirmation screen**: member `GH-M01`, signed in and synced, opens the scanner from the home
  screen while the camera shows the running activity's check-in code; from the worker's answer reaching the page
  (`performance.now()`) until the first animation frame after the confirmation is in the page: checking the
  signature, storing the check-in, routing to `/q/…` and rendering it. The page's CPU is slowed down {slowdown}x
  as for the start time. The first scan checks in; the later ones find that check-in and say so.
",
            frame_median = ms_of_tenths(frame.median),
            frame_min = ms_of_tenths(frame.min),
            frame_max = ms_of_tenths(frame.max),
            frame_runs = frames.len(),
            slowdown = self.cpu_slowdown,
            screen_runs = self.decode_to_screen_ms.len(),
            link_chars = self.link_chars,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_script_and_reports_medians() {
        let json = r#"{"cpuSlowdown":4,"linkChars":266,"frameMs":[30.2,24.7,65.6],"decodeToScreenMs":[149,51,188]}"#;
        let markdown = parse(json).unwrap().markdown();
        assert!(
            markdown.contains("| QR decode per 640x480 frame (median) | **30.2 ms** | 24.7 ms | 65.6 ms | 3 frames |")
        );
        assert!(markdown.contains("| **149 ms** | 51 ms | 188 ms | 3 scans |"));
        assert!(parse(r#"{"cpuSlowdown":4,"linkChars":1,"frameMs":[],"decodeToScreenMs":[1]}"#).is_err());
    }
}

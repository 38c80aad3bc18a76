//! The second figure: how long the app takes to show its first screen on a slow phone, measured in Chromium
//! by `tests/bench/start.mjs` (which prints its runs as JSON).

use serde_json::Value;

use crate::process::{capture, Workspace};
use crate::{server, Result};

const SCRIPT: &str = "tests/bench/start.mjs";

pub struct StartTimes {
    pub chromium: String,
    /// ISO 8601, in UTC: `2026-11-28T07:03:55.381Z`.
    measured_at: String,
    cpu_slowdown: u64,
    screen: String,
    /// Milliseconds, one a run.
    cold: Vec<u64>,
    repeat_offline: Vec<u64>,
}

pub fn measure(ws: &Workspace) -> Result<StartTimes> {
    parse(&capture(server::node(ws).arg(SCRIPT))?)
}

fn parse(json: &str) -> Result<StartTimes> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("{SCRIPT} printed no JSON: {e}"))?;
    let missing = |key: &str| format!("{SCRIPT} printed no {key}");
    let text = |key: &str| value[key].as_str().map(str::to_string).ok_or_else(|| missing(key));
    let number = |value: &Value, key: &str| value[key].as_u64().ok_or_else(|| missing(key));
    let runs = |key: &str| -> Result<Vec<u64>> {
        let runs = value[key]
            .as_array()
            .filter(|runs| !runs.is_empty())
            .ok_or_else(|| missing(key))?;
        Ok(runs
            .iter()
            .map(|ms| ms.as_u64().ok_or_else(|| missing(key)))
            .collect::<std::result::Result<_, _>>()?)
    };
    let screen = &value["screen"];
    Ok(StartTimes {
        chromium: text("chromium")?,
        measured_at: text("measuredAt")?,
        cpu_slowdown: number(&value, "cpuSlowdown")?,
        screen: format!(
            "{}×{} CSS px at {}x",
            number(screen, "width")?,
            number(screen, "height")?,
            number(screen, "deviceScaleFactor")?
        ),
        cold: runs("coldMs")?,
        repeat_offline: runs("repeatOfflineMs")?,
    })
}

#[derive(Debug, PartialEq)]
pub struct Spread {
    pub median: u64,
    pub min: u64,
    pub max: u64,
}

/// `runs` is not empty.
pub fn spread(runs: &[u64]) -> Spread {
    let mut sorted = runs.to_vec();
    sorted.sort_unstable();
    let middle = sorted.len() / 2;
    let median = if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2
    };
    Spread {
        median,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    }
}

impl StartTimes {
    /// `2026-11-28 07:03 UTC`.
    pub fn measured_at_utc(&self) -> String {
        let minutes = self.measured_at.get(..16).unwrap_or(&self.measured_at);
        format!("{} UTC", minutes.replacen('T', " ", 1))
    }

    pub fn markdown(&self) -> String {
        let row = |name: &str, runs: &[u64]| {
            let Spread { median, min, max } = spread(runs);
            let each: Vec<String> = runs.iter().map(u64::to_string).collect();
            format!(
                "| {name} | **{median} ms** | {min} ms | {max} ms | {} |\n",
                each.join(", ")
            )
        };
        format!(
            "\
## App start time

Chromium with the CPU slowed down {slowdown}x, a phone screen ({screen}):
milliseconds from navigation start until the first screen is painted, {count} runs of each.

| start | median | min | max | runs, in order |
|---|--:|--:|--:|---|
{cold}{repeat}
### Method

Measured by `{SCRIPT}` (Playwright driving the headless Chromium above), against the release
build served by a real `guihai-server` with demo data on loopback. One browser serves all runs; each run has a fresh browser
context (profile) with the phone screen of the end-to-end tests, touch and `zh-CN`. The page's CPU is slowed
down {slowdown}x with the DevTools protocol's `Emulation.setCPUThrottlingRate` (the service worker's thread and
the network are not slowed, and loopback has next to no latency, so these times are mostly the phone's work). A
script added before the app's own notes `performance.now()` (milliseconds since navigation start) in the first
animation frame after the screen's element is in the page, the frame that paints it.

- **cold**: a first visit, with empty HTTP and service worker caches and the server running: opening `/` until
  the sign-in form (`[data-testid=activation-code]`) is painted. It includes downloading and compiling the wasm.
- **repeat, offline**: member `GH-M01` signed in through the sign-in form and the service worker controls the
  page; then the server is stopped and the context set offline, and the page reloads until the home screen
  (`[data-testid=home]`) is painted. Everything comes from the service worker's cache and the phone's storage.

Each kind first runs once more without being counted, as a new browser's first pages are slower for reasons
that are not the app's. The machine may be running other work at the same time (see the load average above):
the spread from min to max shows how much that moved the runs.
",
            slowdown = self.cpu_slowdown,
            screen = self.screen,
            count = self.cold.len(),
            cold = row("cold, first visit", &self.cold),
            repeat = row("repeat, offline", &self.repeat_offline),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = r#"{"measuredAt":"2026-11-28T07:03:55.381Z","chromium":"156.0.8078.108","cpuSlowdown":4,
        "screen":{"width":390,"height":844,"deviceScaleFactor":2},
        "coldMs":[1278,674,828,1133,854],"repeatOfflineMs":[855,1094,1201,1121,1157]}"#;

    #[test]
    fn reads_what_the_script_prints() {
        let times = parse(PRINTED).unwrap();
        assert_eq!(times.chromium, "156.0.8078.108");
        assert_eq!(times.measured_at_utc(), "2026-11-28 07:03 UTC");
        assert_eq!(times.screen, "390×844 CSS px at 2x");
        assert_eq!(times.cold, [1278, 674, 828, 1133, 854]);
        assert!(times
            .markdown()
            .contains("| repeat, offline | **1121 ms** | 855 ms | 1201 ms | 855, 1094, 1201, 1121, 1157 |"));
    }

    #[test]
    fn refuses_a_run_that_measured_nothing() {
        assert!(parse("not json").is_err());
        assert!(parse(&PRINTED.replace("[855,1094,1201,1121,1157]", "[]")).is_err());
        assert!(parse(&PRINTED.replace("1278", "\"slow\"")).is_err());
    }

    #[test]
    fn median_min_and_max() {
        assert_eq!(
            spread(&[30, 10, 20, 50, 40]),
            Spread {
                median: 30,
                min: 10,
                max: 50
            }
        );
        assert_eq!(spread(&[4, 1, 3, 2]).median, 2);
        assert_eq!(spread(&[7]).median, 7);
    }
}

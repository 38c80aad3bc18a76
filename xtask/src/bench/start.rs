//! The second figure: how long the app takes to show its first screen on a slow phone, measured in Chromium
//! by `tests/bench/start.mjs` (which prints its runs as JSON).

use serde_json::Value;

use super::{met, thousands};
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
    /// Cold starts on emulated slow links.
    links: Vec<Link>,
    repeat_offline: Vec<u64>,
}

/// Cold starts on one emulated link: when the page's own frame and when the sign-in form showed, and how long
/// signing in at once took to the member app's first screen, each run.
struct Link {
    name: String,
    latency_ms: u64,
    down_kbps: u64,
    up_kbps: u64,
    usable_goal_ms: u64,
    frame_goal_ms: Option<u64>,
    frame: Vec<u64>,
    usable: Vec<u64>,
    signed_in: Vec<u64>,
}

pub fn measure(ws: &Workspace) -> Result<StartTimes> {
    parse(&capture(server::node(ws).arg(SCRIPT))?)
}

fn parse(json: &str) -> Result<StartTimes> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("{SCRIPT} printed no JSON: {e}"))?;
    let missing = |key: &str| format!("{SCRIPT} printed no {key}");
    let text = |key: &str| value[key].as_str().map(str::to_string).ok_or_else(|| missing(key));
    let number = |value: &Value, key: &str| value[key].as_u64().ok_or_else(|| missing(key));
    let runs = |value: &Value, key: &str| -> Result<Vec<u64>> {
        let runs = value[key]
            .as_array()
            .filter(|runs| !runs.is_empty())
            .ok_or_else(|| missing(key))?;
        Ok(runs
            .iter()
            .map(|ms| ms.as_u64().ok_or_else(|| missing(key)))
            .collect::<std::result::Result<_, _>>()?)
    };
    let links = value["links"]
        .as_array()
        .filter(|links| !links.is_empty())
        .ok_or_else(|| missing("links"))?
        .iter()
        .map(|link| {
            Ok(Link {
                name: link["name"]
                    .as_str()
                    .ok_or_else(|| missing("a link's name"))?
                    .to_string(),
                latency_ms: number(link, "latencyMs")?,
                down_kbps: number(link, "downKbps")?,
                up_kbps: number(link, "upKbps")?,
                usable_goal_ms: number(link, "usableGoalMs")?,
                frame_goal_ms: link["frameGoalMs"].as_u64(),
                frame: runs(link, "frameMs")?,
                usable: runs(link, "usableMs")?,
                signed_in: runs(link, "signedInMs")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
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
        cold: runs(&value, "coldMs")?,
        links,
        repeat_offline: runs(&value, "repeatOfflineMs")?,
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
On a slow link too, a first visit (cold), {link_runs} runs on each: until the page's own frame and progress bar
(painted by `index.html` before any wasm arrives) and until the sign-in form, the first usable screen; then,
signing in at once, from the tap to the member app's first screen.

| link | frame, median | usable, median | min | max | runs, in order (frame / usable) | goal | | signed in, median | runs |
|---|--:|--:|--:|--:|---|---|---|--:|---|
{links}{repeat_goal}
### Method

Measured by `{SCRIPT}` (Playwright driving the headless Chromium above), against the release
build served by a real `guihai-server` with demo data on loopback. One browser serves all runs; each run has a fresh browser
context (profile) with the phone screen of the end-to-end tests, touch and `zh-CN`. The page's CPU is slowed
down {slowdown}x with the DevTools protocol's `Emulation.setCPUThrottlingRate` (the service worker's thread and
the network are not slowed, and loopback has next to no latency, so these times are mostly the phone's work). A
script added before the app's own notes `performance.now()` (milliseconds since navigation start) in the first
animation frame after the screen's element is in the page, the frame that paints it, and says so on the
console, where the script hears it: none of the script's own code runs in the page while it is timed (until
3 December 2026 it polled the page with Playwright's `waitForFunction`, whose script then ran in it).

- **cold**: a first visit, with empty HTTP and service worker caches and the server running: opening `/` until
  the sign-in form (`[data-testid=activation-code]`) is painted. It includes downloading and compiling the wasm.
- **repeat, offline**: member `GH-M01` signed in through the sign-in form and the service worker controls the
  page; then the server is stopped and the context set offline, and the page reloads until the home screen
  (`[data-testid=home]`) is painted. Everything comes from the service worker's cache and the phone's storage.
- **slow links**: as *cold*, with the page's network emulated by the DevTools protocol's
  `Network.emulateNetworkConditions` ({link_list}; the latency is added to every request, 1 kbit = 1000
  bits), the CPU still slowed down {slowdown}x. *frame* is the first animation frame after `index.html`'s
  `[data-testid=loading]` is in the page. *signed in*, in runs of their own: once the form shows, the demo
  activation code is typed and sent at once; from the tap (`performance.timeOrigin + performance.now()`)
  until the member app's first screen (setting the PIN) is painted, in the document the sign-in left for.
  These runs keep the service worker out (the DevTools protocol slows the page's network, not a service
  worker's), so the member app comes over the slow link after the tap. That is the worst case: a member
  takes seconds to type a code, while the service worker fetches the member app in the background.

Each kind first runs once more without being counted, as a new browser's first pages are slower for reasons
that are not the app's. The machine may be running other work at the same time (see the load average above):
the spread from min to max shows how much that moved the runs.
",
            slowdown = self.cpu_slowdown,
            screen = self.screen,
            count = self.cold.len(),
            cold = row("cold, first visit", &self.cold),
            repeat = row("repeat, offline", &self.repeat_offline),
            link_runs = self.links.first().map_or(0, |link| link.usable.len()),
            links = self.links.iter().map(Link::row).collect::<String>(),
            repeat_goal = repeat_goal(&self.repeat_offline),
            link_list = self.links.iter().map(Link::describe).collect::<Vec<_>>().join("; "),
        )
    }
}

/// The goal for the repeat start offline, and whether the median met it.
const REPEAT_GOAL_MS: u64 = 1_000;

fn repeat_goal(runs: &[u64]) -> String {
    let median = spread(runs).median;
    format!(
        "\nRepeat start offline: goal at most {} ms, median {median} ms: {}.\n",
        thousands(REPEAT_GOAL_MS),
        met(median <= REPEAT_GOAL_MS)
    )
}

impl Link {
    fn row(&self) -> String {
        let frame = spread(&self.frame);
        let usable = spread(&self.usable);
        let each: Vec<String> = self
            .frame
            .iter()
            .zip(&self.usable)
            .map(|(frame, usable)| format!("{} / {}", thousands(*frame), thousands(*usable)))
            .collect();
        let mut goals = vec![format!("usable at most {} ms", thousands(self.usable_goal_ms))];
        let mut ok = usable.median <= self.usable_goal_ms;
        if let Some(frame_goal) = self.frame_goal_ms {
            goals.push(format!("frame at most {} ms", thousands(frame_goal)));
            ok &= frame.median <= frame_goal;
        }
        let signed_in: Vec<String> = self.signed_in.iter().map(|ms| thousands(*ms)).collect();
        format!(
            "| {} | **{} ms** | **{} ms** | {} ms | {} ms | {} | {} | {} | {} ms | {} |\n",
            self.name,
            thousands(frame.median),
            thousands(usable.median),
            thousands(usable.min),
            thousands(usable.max),
            each.join(", "),
            goals.join(", "),
            met(ok),
            thousands(spread(&self.signed_in).median),
            signed_in.join(", ")
        )
    }

    fn describe(&self) -> String {
        format!(
            "{}: {} ms, {} kbit/s down, {} kbit/s up",
            self.name, self.latency_ms, self.down_kbps, self.up_kbps
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = r#"{"measuredAt":"2026-11-28T07:03:55.381Z","chromium":"156.0.8078.108","cpuSlowdown":4,
        "screen":{"width":390,"height":844,"deviceScaleFactor":2},
        "coldMs":[1278,674,828,1133,854],"repeatOfflineMs":[855,1094,1201,1121,1157],
        "links":[{"name":"slow 4G","latencyMs":150,"downKbps":1600,"upKbps":750,"usableGoalMs":2000,
                  "frameMs":[310,305,320],"usableMs":[5210,5400,5302],"signedInMs":[900,1200,1000]},
                 {"name":"poor link","latencyMs":400,"downKbps":400,"upKbps":400,"usableGoalMs":6000,
                  "frameGoalMs":1500,"frameMs":[900,950,1000],"usableMs":[5900,5800,5950],"signedInMs":[3000,3100,2900]}]}"#;

    #[test]
    fn reads_what_the_script_prints() {
        let times = parse(PRINTED).unwrap();
        assert_eq!(times.chromium, "156.0.8078.108");
        assert_eq!(times.measured_at_utc(), "2026-11-28 07:03 UTC");
        assert_eq!(times.screen, "390×844 CSS px at 2x");
        assert_eq!(times.cold, [1278, 674, 828, 1133, 854]);
        let markdown = times.markdown();
        assert!(markdown.contains("| repeat, offline | **1121 ms** | 855 ms | 1201 ms | 855, 1094, 1201, 1121, 1157 |"));
        assert!(markdown.contains(
            "| slow 4G | **310 ms** | **5,302 ms** | 5,210 ms | 5,400 ms | 310 / 5,210, 305 / 5,400, 320 / 5,302 | \
             usable at most 2,000 ms | **not met** | 1,000 ms | 900, 1,200, 1,000 |"
        ));
        assert!(markdown.contains("| poor link | **950 ms** | **5,900 ms** |"));
        assert!(markdown.contains("frame at most 1,500 ms | met |"));
        assert!(markdown.contains("median 1121 ms: **not met**"));
    }

    #[test]
    fn refuses_a_run_that_measured_nothing() {
        assert!(parse("not json").is_err());
        assert!(parse(&PRINTED.replace("[855,1094,1201,1121,1157]", "[]")).is_err());
        assert!(parse(&PRINTED.replace("1278", "\"slow\"")).is_err());
        assert!(parse(&PRINTED.replace("[5900,5800,5950]", "[]")).is_err());
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

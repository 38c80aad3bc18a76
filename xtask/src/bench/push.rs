//! The fifth and sixth figures: how many check-ins a second the server takes into SQLite from devices pushing
//! full batches, and how long a push takes with 1,000 devices pushing at once. Measured against the real
//! server by `tests/bench/push.mjs` with autocannon (which prints them as JSON).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{parse_printed, thousands};
use crate::Result;

pub const SCRIPT: &str = "tests/bench/push.mjs";

/// Check-ins a second into SQLite, at least.
const BUDGET_INGEST_PER_SECOND: f64 = 5_000.0;
/// The 99th percentile of push latency with 1,000 devices, in milliseconds, at most.
const BUDGET_P99_MS: f64 = 50.0;

#[derive(Deserialize)]
pub struct Pushes {
    ingest: Run,
    /// 1,000 devices, each pushing again as soon as it has its answer: what the server takes at most.
    concurrent: Run,
    /// The same devices each pushing once a second, spread over the second: the run the budget is for.
    spread: Run,
    /// One device alone, pushing the same way.
    alone: Run,
}

/// One autocannon run.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    devices: u64,
    check_ins_per_push: u64,
    pushes: u64,
    seconds: f64,
    pushes_per_second: f64,
    check_ins_applied: u64,
    check_ins_not_applied: u64,
    non2xx: u64,
    /// Answers by HTTP status.
    status_codes: BTreeMap<String, u64>,
    /// Connection errors, and requests without an answer within autocannon's 10 s.
    errors: u64,
    timeouts: u64,
    /// What the server logged as errors, by message.
    server_errors: BTreeMap<String, u64>,
    latency_ms: Latency,
    /// The spread run's latency counting also the pushes answered while its devices were starting.
    #[serde(default)]
    with_start: Option<WithStart>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithStart {
    measured_after_ms: f64,
    latency_ms: Latency,
}

#[derive(Clone, Copy, Deserialize)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

pub fn parse(json: &str) -> Result<Pushes> {
    parse_printed(SCRIPT, json)
}

impl Run {
    fn check_ins_per_second(&self) -> f64 {
        self.check_ins_applied as f64 / self.seconds
    }

    /// Answers other than 200, connection errors and timeouts, in words; `none` if there were none.
    fn failures(&self) -> String {
        let mut failures: Vec<String> = self
            .status_codes
            .iter()
            .filter(|(status, _)| status.as_str() != "200")
            .map(|(status, count)| format!("{} × {status}", thousands(*count)))
            .collect();
        if self.non2xx > 0 && failures.is_empty() {
            failures.push(format!("{} × non-2xx", thousands(self.non2xx)));
        }
        for (count, what) in [(self.errors, "connection errors"), (self.timeouts, "timeouts")] {
            if count > 0 {
                failures.push(format!("{} {what}", thousands(count)));
            }
        }
        for (error, count) in &self.server_errors {
            failures.push(format!("{} × logged by the server: `{error}`", thousands(*count)));
        }
        if self.check_ins_not_applied > 0 {
            failures.push(format!(
                "{} check-ins answered as not applied",
                thousands(self.check_ins_not_applied)
            ));
        }
        if failures.is_empty() {
            "none".to_string()
        } else {
            failures.join(", ")
        }
    }

    fn latency_row(&self, name: &str) -> String {
        let Latency { p50, p90, p99, max } = self.latency_ms;
        format!(
            "| {name} | {} | {} | {} | {} ms | {} ms | **{} ms** | {} ms | {} |\n",
            thousands(self.check_ins_per_push),
            thousands(self.pushes),
            whole(self.pushes_per_second),
            whole(p50),
            whole(p90),
            whole(p99),
            whole(max),
            self.failures(),
        )
    }
}

impl Pushes {
    pub fn markdown(&self) -> String {
        let Pushes {
            ingest,
            concurrent,
            spread,
            alone,
        } = self;
        let rate = ingest.check_ins_per_second();
        let p99 = spread.latency_ms.p99;
        format!(
            "\
## Server ingest

{ingest_verdict}: the budget is at least {ingest_budget} check-ins a second into SQLite, and the server took
**{rate} check-ins a second**: {devices} devices each pushing {per_device} pushes of {batch} (a phone's first
push of a round), {applied} check-ins applied in {seconds:.1} s. Failed pushes: {ingest_failures}. Latency of
such a push: {i50} ms median, {i99} ms at the 99th percentile.

## Push latency with {concurrent_devices} devices

{latency_verdict}: the budget is at most {p99_budget:.0} ms at the 99th percentile with {concurrent_devices}
devices pushing at the same time, each once a second (the *spread* row; the app itself syncs a phone about once
a minute), and it is **{p99} ms**.{with_start}

| devices | check-ins a push | pushes | pushes a second | p50 | p90 | p99 | max | failed |
|---|--:|--:|--:|--:|--:|--:|--:|---|
{spread_row}{concurrent_row}{alone_row}
*spread*: each device pushes once a second, and the devices' seconds start at different moments, as a fleet's
do ({spread_rate} pushes a second in all). *saturated*: each device pushes again as soon as it has its answer,
so a push waits for the ones ahead of it: with {concurrent_devices} devices and {concurrent_rate} pushes a
second, about {concurrent_devices} ÷ {concurrent_rate} = {little} ms (Little's law). That run shows what the
server takes at most; no server answers it within {p99_budget:.0} ms without taking {needed} pushes a second.

### Method

Measured by `{SCRIPT}` with [autocannon](https://github.com/mcollina/autocannon) (npm, the version in
`package.json`) on the same machine as the server, which shares its {cpus} CPUs with it. Each run has a fresh
server (the release build, logging as in production) and a fresh database: the demo county plus, written through
the server's own library by `crates/server/examples/bench_seed.rs`, one member for each device, signed in with
a device (client id) of their own, and activities of the member's organisation with codes signed by the
server's key. Each autocannon connection is one device: its member's token and client id, and its own seq,
numbered on from the last push the server answered (so a device's pushes are never out of order), one push at a
time. Every check-in is new to the server (a device's *n*-th push carries the codes of the next activities, with
fresh UUIDv7 ids), so each one's activity is looked up, and it is stored and logged for pull. Every device's
*n*-th push carries the same activities, as the members at one event scan the same code: the server checks a
code's signature once and remembers it. The server's answers are read: *applied* counts the check-ins it says it applied, and a failed push is named by the
errors the server logged. The machine may be running other work at the same time (see the load average above).

- **ingest**: {devices} devices, each pushing {per_device} pushes of {batch} check-ins (what a phone's
  first push of a round carries at most) back to back; check-ins applied ÷ seconds from the first request to the last answer.
- **latency**: {concurrent_devices} devices (connections) pushing {concurrent_per_push} check-ins each (a phone
  that was offline for a day or two) for {concurrent_seconds:.0} s; the latency is from sending a request until
  its answer. *spread* runs the devices in 50 autocannon runs of 20, started 20 ms apart, each connection
  paced to one push a second (autocannon starts a run's connections together), for {spread_seconds:.0} s, and
  puts together the latency of every push answered once all runs are going (see above). *1* is one device
  alone pushing back to back, with no other push to wait for.
",
            ingest_verdict = sentence_verdict(rate >= BUDGET_INGEST_PER_SECOND),
            ingest_budget = thousands(BUDGET_INGEST_PER_SECOND as u64),
            rate = thousands(rate.round() as u64),
            devices = thousands(ingest.devices),
            per_device = thousands(ingest.pushes / ingest.devices.max(1)),
            batch = thousands(ingest.check_ins_per_push),
            applied = thousands(ingest.check_ins_applied),
            seconds = ingest.seconds,
            ingest_failures = ingest.failures(),
            i50 = whole(ingest.latency_ms.p50),
            i99 = whole(ingest.latency_ms.p99),
            latency_verdict = sentence_verdict(p99 <= BUDGET_P99_MS),
            p99 = whole(p99),
            p99_budget = BUDGET_P99_MS,
            concurrent_devices = thousands(concurrent.devices),
            concurrent_row = concurrent.latency_row(&format!("{}, saturated", thousands(concurrent.devices))),
            spread_row = spread.latency_row(&format!("{}, spread", thousands(spread.devices))),
            spread_rate = whole(spread.pushes_per_second),
            needed = whole(concurrent.devices as f64 / BUDGET_P99_MS * 1000.0),
            alone_row = alone.latency_row(&thousands(alone.devices)),
            concurrent_rate = whole(concurrent.pushes_per_second),
            little = whole(concurrent.devices as f64 / concurrent.pushes_per_second * 1000.0),
            concurrent_per_push = concurrent.check_ins_per_push,
            concurrent_seconds = concurrent.seconds,
            spread_seconds = spread.seconds,
            with_start = spread.with_start.as_ref().map_or(String::new(), WithStart::sentence),
            cpus = std::thread::available_parallelism().map_or(0, usize::from),
        )
    }
}

impl WithStart {
    fn sentence(&self) -> String {
        format!(
            " The pushes answered in the first {:.0} s are left out: while the 50 runs of the load generator are \
             starting, the generator (on the same CPUs) sends what they queued in bursts, and the server's log shows \
             it receiving almost nothing for most of a second and then hundreds of pushes at once. Counting them, \
             p99 is {} ms (max {} ms).",
            self.measured_after_ms / 1000.0,
            whole(self.latency_ms.p99),
            whole(self.latency_ms.max),
        )
    }
}

/// A measured quantity, rounded, with thousands separated.
fn whole(x: f64) -> String {
    thousands(x.round() as u64)
}

/// `met` at the start of a sentence.
fn sentence_verdict(ok: bool) -> &'static str {
    if ok {
        "Met"
    } else {
        "**Not met**"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(devices: u64, per_push: u64, applied: u64, non2xx: u64, codes: &str, errors: &str) -> String {
        format!(
            r#"{{"devices":{devices},"checkInsPerPush":{per_push},"pushes":200,"seconds":18.13,"pushesPerSecond":245.5,
                "checkInsApplied":{applied},"checkInsNotApplied":0,"non2xx":{non2xx},"statusCodes":{codes},
                "errors":0,"timeouts":0,"serverErrors":{errors},
                "latencyMs":{{"p50":1294,"p90":3293,"p99":6248,"max":6553}}}}"#
        )
    }

    fn printed() -> String {
        format!(
            r#"{{"ingest":{},"concurrent":{},"spread":{},"alone":{}}}"#,
            run(
                20,
                200,
                38_000,
                10,
                r#"{"200":190,"500":10}"#,
                r#"{"database is locked":10}"#
            ),
            run(1000, 3, 600, 0, r#"{"200":200}"#, "{}"),
            run(1000, 3, 600, 0, r#"{"200":200}"#, "{}").replacen(
                "{",
                r#"{"withStart":{"measuredAfterMs":2000,"latencyMs":{"p50":5,"p90":9,"p99":900,"max":1000}},"#,
                1
            ),
            run(1, 3, 600, 0, r#"{"200":200}"#, "{}"),
        )
    }

    #[test]
    fn judges_ingest_and_latency_by_their_budgets() {
        let markdown = parse(&printed()).unwrap().markdown();
        assert!(markdown.contains("**Not met**: the budget is at least 5,000 check-ins a second"));
        assert!(markdown.contains("**2,096 check-ins a second**: 20 devices each pushing 10 pushes of 200"));
        assert!(markdown.contains("Failed pushes: 10 × 500, 10 × logged by the server: `database is locked`."));
        assert!(markdown
            .contains("| 1,000, spread | 3 | 200 | 246 | 1,294 ms | 3,293 ms | **6,248 ms** | 6,553 ms | none |"));
        assert!(markdown.contains("1,000 ÷ 246 = 4,073 ms"));
        assert!(markdown.contains("answered in the first 2 s are left out"));
        assert!(markdown.contains("Counting them, p99 is 900 ms (max 1,000 ms)."));
    }

    #[test]
    fn refuses_a_run_that_measured_nothing() {
        assert!(parse("{}").is_err());
        assert!(parse(&printed().replace("\"p99\":6248", "\"p99\":null")).is_err());
    }
}

//! The third and fourth figures: 1,000 check-ins made offline by the real app and pushed once the phone is
//! online again (on loopback and on 3G), and what check-ins and the member's record take of the phone's local
//! storage. Measured in Chromium by `tests/bench/sync.mjs` (which prints them as JSON).

use serde::Deserialize;

use super::start::{spread, Spread};
use super::{kb, met, parse_printed, thousands};
use crate::Result;

pub const SCRIPT: &str = "tests/bench/sync.mjs";

/// Milliseconds from coming online until the outbox is empty, at most, by network.
const BUDGETS_MS: [(&str, u64); 2] = [("loopback", 2_000), ("3G", 10_000)];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineSync {
    check_ins: u64,
    member: String,
    networks: Vec<Network>,
    storage: Storage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Network {
    name: String,
    latency_ms: u64,
    down_kbps: u64,
    up_kbps: u64,
    runs: Vec<Times>,
}

/// One run, in milliseconds.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Times {
    /// Making every check-in offline, one link after another.
    make_ms: u64,
    /// From the `online` event until the outbox is empty: the figure with a budget.
    empty_ms: u64,
    /// Until the round has also pulled every check-in back.
    round_ms: u64,
}

/// Bytes of localStorage, as UTF-16 (2 bytes a code unit, keys and values).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Storage {
    pending_per_check_in: f64,
    outbox_per_check_in: f64,
    synced_per_check_in: f64,
    me: u64,
    profile: u64,
    signed_in: u64,
    queued: u64,
    synced: u64,
}

pub fn parse(json: &str) -> Result<OfflineSync> {
    let sync: OfflineSync = parse_printed(SCRIPT, json)?;
    for network in &sync.networks {
        budget_ms(&network.name)?;
        if network.runs.is_empty() {
            return Err(format!("{SCRIPT} made no run on {}", network.name).into());
        }
    }
    if sync.networks.is_empty() {
        return Err(format!("{SCRIPT} measured no network").into());
    }
    Ok(sync)
}

fn budget_ms(network: &str) -> Result<u64> {
    BUDGETS_MS
        .iter()
        .find(|(name, _)| *name == network)
        .map(|(_, ms)| *ms)
        .ok_or_else(|| format!("{SCRIPT} measured a network with no budget: {network}").into())
}

impl Network {
    fn describe(&self) -> String {
        if self.latency_ms == 0 && self.down_kbps == 0 && self.up_kbps == 0 {
            self.name.clone()
        } else {
            format!(
                "{} ({} ms, {} kbit/s down, {} kbit/s up)",
                self.name, self.latency_ms, self.down_kbps, self.up_kbps
            )
        }
    }
}

impl OfflineSync {
    pub fn markdown(&self) -> String {
        let rows: String = self
            .networks
            .iter()
            .map(|network| {
                let budget = budget_ms(&network.name).expect("checked by parse");
                let times = |time: fn(&Times) -> u64| -> Vec<u64> { network.runs.iter().map(time).collect() };
                let empty = times(|run| run.empty_ms);
                let Spread { median, min, max } = spread(&empty);
                let each: Vec<String> = empty.iter().map(|ms| thousands(*ms)).collect();
                format!(
                    "| {} | **{} ms** | {} ms | {} ms | {} | at most {} ms | {} | {} ms | {} s |\n",
                    network.describe(),
                    thousands(median),
                    thousands(min),
                    thousands(max),
                    each.join(", "),
                    thousands(budget),
                    met(median <= budget),
                    thousands(spread(&times(|run| run.round_ms)).median),
                    format_seconds(spread(&times(|run| run.make_ms)).median),
                )
            })
            .collect();
        let storage = &self.storage;
        let queued = storage.pending_per_check_in + storage.outbox_per_check_in;
        format!(
            "\
## Sync: {count} check-ins made offline

The member's phone makes {count} check-ins offline, then comes back online: milliseconds from the moment the
app learns it is online until its outbox is empty, that is until the server has acknowledged every check-in
(and so holds all {count}). {runs} runs on each network; the budget is for the median.

| network | outbox empty, median | min | max | runs, in order | budget | | round done | making the check-ins |
|---|--:|--:|--:|---|--:|---|--:|--:|
{rows}
*round done*: until the same round has also pulled the {count} check-ins back as the server's records, which
replace the phone's pending ones (the screens then show them as synced). *making the check-ins*: opening the
{count} links offline, before the clock starts. Both are medians.

### Method

Measured by `{SCRIPT}` (Playwright driving the headless Chromium above, the CPU not slowed down), each run with
a fresh browser profile and a fresh server (the release build on loopback) whose database holds the demo county
plus {count} activities of {member}'s organisation running now, written through the server's own library by
`crates/server/examples/bench_seed.rs` with codes signed by the server's key. {member} signs in through the
sign-in screen, the service worker takes control, and the first sync round pulls the member's records (and the
{count} activities). The page is then set offline with the DevTools protocol
(`Network.emulateNetworkConditions`), and the app opens the {count} check-in links `/q/<code>` one after
another through its router (`history.pushState` and a `popstate` event, as a tap on a link does; no reloads):
each time the app checks the code with its cached keys, stores the check-in and waits for the screen to
confirm it. *making the check-ins offline* is that whole loop. Then the network comes back, throttled or not,
through the same protocol call; the app's `online` event starts the sync, and the clock runs from that event
until the sync badge shows no check-in waiting. Afterwards the test checks that nothing was refused and that
the server, asked by a second device of the member, holds the {count} check-ins once each. The machine may be
running other work at the same time (see the load average above): the spread of the runs shows how much that
moved them.

*3G* adds the latency to every request (from sending it until the response headers) and caps the throughput:
the throughput of Chrome DevTools' former \"Regular 3G\" preset with the round trip of Lighthouse's
\"regular 3G\" (1 kbit = 1000 bits). A push carries at most 200 check-ins, so {count} take at least 5 pushes,
each one latency and its upload.

## Local storage

What the phone keeps, in bytes of localStorage, from the loopback run above. No budget is set.

| what | bytes |
|---|--:|
| a check-in waiting to sync: its `pending:` record and its `outbox:` entry | **{queued}** ({pending} + {outbox}) |
| a synced check-in: its `rec:checkin:` record | **{synced}** |
| the member's record kept by the organisation, `rec:me` | **{me}** |
| the member's profile, `rec:profile` (as seeded: a phone number only; each filled field adds its text) | **{profile}** |
| the whole store after signing in (with the {count} activities pulled) | {signed_in} |
| … with {count} check-ins waiting | {all_queued} |
| … once they are synced | {all_synced} |

### Method

Every key of the app's localStorage (all under `gh1:`) with its value, read in the page: 2 bytes for each
UTF-16 code unit (JavaScript's `length`) of the key and of the value, so a Chinese character costs 2 bytes, as
does an ASCII one. That is the unit localStorage limits are stated in (Chromium allows 10 MiB an origin, that is
5,242,880 code units). Per check-in: the bytes of all keys of that kind divided by {count}; the check-ins carry
the seeded activity titles, as long as the demo's (Chinese, about 20 characters). 1 KB = 1000 bytes.
",
            count = thousands(self.check_ins),
            runs = self.networks[0].runs.len(),
            member = self.member,
            queued = thousands(queued.round() as u64),
            pending = thousands(storage.pending_per_check_in.round() as u64),
            outbox = thousands(storage.outbox_per_check_in.round() as u64),
            synced = thousands(storage.synced_per_check_in.round() as u64),
            me = thousands(storage.me),
            profile = thousands(storage.profile),
            signed_in = kb(storage.signed_in),
            all_queued = kb(storage.queued),
            all_synced = kb(storage.synced),
        )
    }
}

/// `12_345` ms as `12.3`.
fn format_seconds(ms: u64) -> String {
    format!("{:.1}", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINTED: &str = r#"{"chromium":"156.0.8078.108","checkIns":1000,"member":"GH-M01",
        "networks":[{"name":"loopback","latencyMs":0,"downKbps":0,"upKbps":0,"runs":[
                        {"makeMs":61234,"emptyMs":812,"roundMs":1400},{"makeMs":60000,"emptyMs":2500,"roundMs":3000},
                        {"makeMs":50000,"emptyMs":1900,"roundMs":2000}]},
                    {"name":"3G","latencyMs":300,"downKbps":750,"upKbps":250,"runs":[
                        {"makeMs":60000,"emptyMs":12345,"roundMs":15000}]}],
        "storage":{"pendingPerCheckIn":402.5,"outboxPerCheckIn":790.1,"syncedPerCheckIn":640,"me":700,"profile":120,
                   "signedIn":812000,"queued":2004000,"synced":1452000}}"#;

    #[test]
    fn reads_what_the_script_prints_and_judges_each_network_by_its_budget() {
        let markdown = parse(PRINTED).unwrap().markdown();
        assert!(markdown.contains(
            "| loopback | **1,900 ms** | 812 ms | 2,500 ms | 812, 2,500, 1,900 | at most 2,000 ms | met | 2,000 ms | 60.0 s |"
        ));
        assert!(markdown.contains(
            "| 3G (300 ms, 750 kbit/s down, 250 kbit/s up) | **12,345 ms** | 12,345 ms | 12,345 ms | 12,345 | at most 10,000 ms | **not met** |"
        ));
        assert!(markdown.contains("| **1,193** (403 + 790) |"));
        assert!(markdown.contains("| … with 1,000 check-ins waiting | 2004.0 KB |"));
    }

    #[test]
    fn refuses_a_network_without_a_budget_or_runs() {
        assert!(parse(&PRINTED.replace("\"3G\"", "\"5G\"")).is_err());
        assert!(parse(&PRINTED.replace("\"emptyMs\":812", "\"emptyMs\":\"fast\"")).is_err());
        assert!(parse(&PRINTED.replace(
            r#"[
                        {"makeMs":60000,"emptyMs":12345,"roundMs":15000}]"#,
            "[]"
        ))
        .is_err());
    }
}

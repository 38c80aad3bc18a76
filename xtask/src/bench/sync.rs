//! The third and fourth figures: 1,000 check-ins made offline by the real app and pushed once the phone is
//! online again (on loopback and on 3G); and 10,000 on one phone against PouchDB in the same Chromium: the time
//! each takes to store, the bytes each takes, and the time to sync them all. Measured in Chromium by
//! `tests/bench/sync.mjs` and `peer.mjs` (which print them as JSON).

use serde::Deserialize;

use super::start::{spread, Spread};
use super::{met, parse_printed, thousands};
use crate::Result;

pub const SCRIPT: &str = "tests/bench/sync.mjs";

/// Milliseconds from coming online until nothing waits in the outbox, at most, by network.
const BUDGETS_MS: [(&str, u64); 2] = [("loopback", 2_000), ("3G", 10_000)];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineSync {
    check_ins: u64,
    member: String,
    networks: Vec<Network>,
    many: Many,
    peer: Peer,
}

/// 10,000 check-ins on one phone.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Many {
    check_ins: u64,
    /// How many check-ins at each end make "the 1st" and "the 10,000th" (their median).
    window: u64,
    slowdown: u64,
    first_ms: f64,
    first_slow_ms: f64,
    last_ms: f64,
    last_slow_ms: f64,
    make_ms: u64,
    empty_ms: u64,
    round_ms: u64,
    bytes_waiting: Bytes,
    bytes_synced: Bytes,
    /// The same figures as medians of fewer check-ins (the window before 1 December 2026), from the same run.
    narrow: Narrow,
}

/// The 1st and the 10,000th as medians of `window` check-ins.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Narrow {
    window: u64,
    first_ms: f64,
    first_slow_ms: f64,
    last_ms: f64,
    last_slow_ms: f64,
}

/// PouchDB with the same check-ins.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Peer {
    check_ins: u64,
    first_ms: f64,
    last_ms: f64,
    write_ms: u64,
    bytes_waiting: Bytes,
    bytes_synced: Bytes,
    trials: Vec<Trial>,
}

/// Bytes of storage per check-in (`measure.mjs` `bytesPer`): of the records (the origin's IndexedDB), and of the
/// whole origin, which also counts the app's files and what the browser caches with them.
#[derive(Deserialize)]
struct Bytes {
    records: f64,
    origin: f64,
}

impl Bytes {
    /// What the rest of the origin changed by, over `items` check-ins: `1,234` or `−1,234` bytes.
    fn rest(&self, items: u64) -> String {
        let bytes = ((self.origin - self.records) * items as f64).round() as i64;
        let sign = if bytes < 0 { "−" } else { "" };
        format!("{sign}{}", thousands(bytes.unsigned_abs()))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Trial {
    batch_size: u64,
    ms: u64,
}

/// Goals of the 10,000-check-in run: the 10,000th check-in costs at most this many times the 1st…
const GROWTH: f64 = 1.5;
/// … and, with the CPU as it is, less than this many milliseconds.
const CHECK_IN_MS: f64 = 10.0;
/// Bytes of storage per check-in, waiting or synced, at most.
const BYTES: f64 = 200.0;
/// Syncing is at least this many times faster than the peer's best…
const FASTER: f64 = 5.0;
/// … and takes at most this share of its bytes.
const SMALLER: f64 = 1.0 / 3.0;

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
    /// From the `online` event until nothing waits in the outbox: the figure with a budget.
    empty_ms: u64,
    /// Until the round has also pulled every check-in back.
    round_ms: u64,
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
    if sync.peer.trials.is_empty() {
        return Err(format!("{SCRIPT} made no replication of the peer").into());
    }
    if sync.peer.check_ins != sync.many.check_ins {
        return Err(format!("{SCRIPT}: the peer did not write the same check-ins as the app").into());
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
        format!(
            "\
## Sync: {count} check-ins made offline

The member's phone makes {count} check-ins offline, then comes back online: milliseconds from the moment the
app learns it is online until nothing waits in its outbox (its waiting count is 0), that is until the server
has acknowledged every check-in (and so holds all {count}); the rows of the synced check-ins stay until the
pull brings the server's records back, which *round done* counts. {runs} runs on each network; the budget is
for the median.

| network | nothing waits, median | min | max | runs, in order | budget | | round done | making the check-ins |
|---|--:|--:|--:|---|--:|---|--:|--:|
{rows}
*round done*: until the same round has also pulled the {count} check-ins back as the server's records (the
screens then show them as synced). *making the check-ins*: opening the {count} links offline, before the clock
starts. Both are medians.

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
\"regular 3G\" (1 kbit = 1000 bits). A round's first push carries at most 200 check-ins; each push answered
within a second lets the next carry twice as many, up to 2,000. On 3G none is that quick, so {count} take 5
pushes, each one latency and its upload; on loopback they take 3.

{many}",
            count = thousands(self.check_ins),
            runs = self.networks[0].runs.len(),
            member = self.member,
            many = self.many_markdown(),
        )
    }

    fn many_markdown(&self) -> String {
        let (many, peer) = (&self.many, &self.peer);
        let best = peer.trials.iter().min_by_key(|t| t.ms).expect("checked by parse");
        let trials: Vec<String> = peer
            .trials
            .iter()
            .map(|t| format!("{}: {} ms", thousands(t.batch_size), thousands(t.ms)))
            .collect();
        let growth = many.last_ms / many.first_ms;
        let slow_growth = many.last_slow_ms / many.first_slow_ms;
        let narrow_growth = many.narrow.last_ms / many.narrow.first_ms;
        let narrow_slow_growth = many.narrow.last_slow_ms / many.narrow.first_slow_ms;
        let faster = best.ms as f64 / many.empty_ms as f64;
        let smaller_waiting = many.bytes_waiting.records / peer.bytes_waiting.records;
        let smaller_synced = many.bytes_synced.records / peer.bytes_synced.records;
        let smaller_origin_waiting = many.bytes_waiting.origin / peer.bytes_waiting.origin;
        let smaller_origin_synced = many.bytes_synced.origin / peer.bytes_synced.origin;
        let window = many.window;
        let n = many.check_ins;
        format!(
            "\
## {count} check-ins on one phone, against PouchDB

One phone makes {count} check-ins offline and then syncs them; in the same run, in the same Chromium, a page
running PouchDB 9 writes the same {count} check-ins and replicates them to a CouchDB-compatible server on
loopback. Goals: the {count}th check-in costs at most {growth_goal}× the 1st, and under {ms_goal} ms with the
CPU as it is; at most {bytes_goal} bytes of storage per check-in, waiting and synced, and at most a third of the
peer's; syncing at least {faster_goal}× faster than the peer at its best.

**Storing one check-in**, from the code read to the stored record (its signatures checked and its transaction
completed), in milliseconds:

| CPU | the 1st | the {count}th | {count}th ÷ 1st | goal | |
|---|--:|--:|--:|---|---|
| as it is | **{first:.2} ms** | **{last:.2} ms** | {growth:.2}× | at most {growth_goal}×, under {ms_goal} ms | {met_fast} |
| slowed down {slowdown}× | {first_slow:.2} ms | {last_slow:.2} ms | {slow_growth:.2}× | at most {growth_goal}× | {met_slow} |
| PouchDB `put`, as it is | {peer_first:.2} ms | {peer_last:.2} ms | {peer_growth:.2}× | | |

The window of each figure above is {window} check-ins; until 1 December 2026 it was {narrow}, and on this shared
machine their medians went up and down from run to run and along a run. The same run, by medians of {narrow}:

| CPU | the 1st | the {count}th | {count}th ÷ 1st | goal | |
|---|--:|--:|--:|---|---|
| as it is | {narrow_first:.2} ms | {narrow_last:.2} ms | {narrow_growth:.2}× | at most {growth_goal}×, under {ms_goal} ms | {met_narrow_fast} |
| slowed down {slowdown}× | {narrow_first_slow:.2} ms | {narrow_last_slow:.2} ms | {narrow_slow_growth:.2}× | at most {growth_goal}× | {met_narrow_slow} |

**Storage per check-in** (`navigator.storage.estimate()`, bytes): the whole origin's usage, as the goal was set,
and the records alone, which are the origin's IndexedDB databases in Chromium's breakdown of its usage:

| | Guihai: the whole origin | Guihai: the records | PouchDB (the whole origin; the records) | Guihai ÷ PouchDB | goal | the whole origin | the records |
|---|--:|--:|--:|--:|---|---|---|
| waiting to sync | **{origin_waiting:.0}** | **{waiting:.0}** | {peer_origin_waiting:.0}; {peer_waiting:.0} | {smaller_origin_waiting:.2}; {smaller_waiting:.2} | at most {bytes_goal:.0}, and a third | {met_origin_waiting} | {met_waiting} |
| synced | **{origin_synced:.0}** | **{synced:.0}** | {peer_origin_synced:.0}; {peer_synced:.0} | {smaller_origin_synced:.2}; {smaller_synced:.2} | at most {bytes_goal:.0}, and a third | {met_origin_synced} | {met_synced} |

Beside the records, the whole origin holds the app's files in Cache Storage. Until 3 December 2026 V8 also added
the compiled code of the member's WebAssembly module to its cached response there once it had optimised enough
of it: about 1.4 MB, once per version of the app, at a moment V8 chose, and about 140 bytes more for each of the
{count} check-ins whenever that moment fell between two of the measures. The app now compiles its module from a
response of its own, which V8 keeps no code for (`src/store/loader.js`; docs/sync.md). In this run the rest of the origin changed by {rest_waiting}
bytes by the time the check-ins waited, and by {rest_synced} once they were synced.

**Syncing the {count} check-ins** on loopback, until the server holds them all:

| | time | |
|---|--:|---|
| Guihai: from the `online` event until nothing waits in the outbox | **{empty} ms** | (the round, pulling them back too: {round} ms) |
| PouchDB: one replication at its best batch size ({best_batch}) | **{best} ms** | (each batch size tried: {trials}) |
| PouchDB ÷ Guihai | **{faster:.1}×** | goal at least {faster_goal}×: {met_faster} |

Making the {count} check-ins (opening the links one after another, as above) took {make} s in the app; PouchDB's
{count} `put`s took {peer_write} s.

### Method

Measured by `{SCRIPT}` and `tests/bench/peer.mjs` in the headless Chromium above, in one run (a single run: it
takes minutes). The app's phone is set up as for the 1,000 above, on a server seeded with {count} activities.
Offline, it opens the {count} links; the CPU is slowed down with `Emulation.setCPUThrottlingRate` for check-ins
{slow_from}–{slow_to} and {last_slow_from}–{count_plain}, and not otherwise. *The 1st* is the median of check-ins
{first_from}–{window_twice} (with {window} stored), slowed down {slow_from}–{slow_to}; *the {count}th* the median of
{last_from}–{last_to} (with {last_from_before} stored), slowed down {last_slow_from}–{count_plain}. The page opens the links it
is handed in stretches, each stretch at one CPU speed, and the first check-ins after it is handed a new list are
slower whatever the store holds: so at both ends the window as it is follows {window} check-ins of its own
stretch (1–{window}, and the long stretch from {bulk_from}), and the window slowed down starts a stretch. Each time is
the app's own measure (`performance.measure`, `guihai:check-in`): from the code read (its signatures are checked
while the transaction's reads are answered) to the IndexedDB transaction that stores the check-in having completed with `durability: \"strict\"`. The bytes are the
origin's usage as Chromium reports it to the page (`usage`, and `usageDetails.indexedDB` for the records), after
the {count} check-ins minus before them (the {count} activities, pulled before, are in both), divided by {count};
*synced* once the round has pulled them back. The profile is Playwright's fresh context, which Chromium keeps in
memory, where its IndexedDB is a SQLite database: the records' usage is its pages in use, 4 KiB each, so a page
counts while any record in it is live, and what a transaction writes besides its records counts too. The peer is
measured the same way in the same browser.

The peer, `tests/bench/peer.mjs`: PouchDB 9 (npm `pouchdb`, its browser build, default IndexedDB adapter) in a
fresh context of the same browser, on a page served by its server (`tests/bench/peer-server.mjs`:
express-pouchdb over PouchDB's in-memory adapter, in a Node process of its own on loopback). Each check-in is a
document `{{_id, type, activity_id, scanned_at, code}}` with the same signed code the app stored, written with
`db.put` one at a time, each awaited, as an app does on each scan. Then one replication
(`PouchDB.replicate`) to a fresh database on the server for each batch size above (`batches_limit` 10), each
checked to have written every document; the best is its figure. Our server keeps each push on disk (SQLite,
synced commits); the peer's keeps them in memory, which favours the peer.
",
            count = thousands(n),
            count_plain = n,
            growth_goal = GROWTH,
            ms_goal = CHECK_IN_MS,
            bytes_goal = BYTES,
            faster_goal = FASTER,
            first = many.first_ms,
            last = many.last_ms,
            first_slow = many.first_slow_ms,
            last_slow = many.last_slow_ms,
            slowdown = many.slowdown,
            met_fast = met(growth <= GROWTH && many.last_ms < CHECK_IN_MS),
            met_slow = met(slow_growth <= GROWTH),
            narrow = many.narrow.window,
            narrow_first = many.narrow.first_ms,
            narrow_last = many.narrow.last_ms,
            narrow_growth = narrow_growth,
            narrow_first_slow = many.narrow.first_slow_ms,
            narrow_last_slow = many.narrow.last_slow_ms,
            narrow_slow_growth = narrow_slow_growth,
            met_narrow_fast = met(narrow_growth <= GROWTH && many.narrow.last_ms < CHECK_IN_MS),
            met_narrow_slow = met(narrow_slow_growth <= GROWTH),
            peer_first = peer.first_ms,
            peer_last = peer.last_ms,
            peer_growth = peer.last_ms / peer.first_ms,
            waiting = many.bytes_waiting.records,
            synced = many.bytes_synced.records,
            peer_waiting = peer.bytes_waiting.records,
            peer_synced = peer.bytes_synced.records,
            origin_waiting = many.bytes_waiting.origin,
            origin_synced = many.bytes_synced.origin,
            peer_origin_waiting = peer.bytes_waiting.origin,
            peer_origin_synced = peer.bytes_synced.origin,
            rest_waiting = many.bytes_waiting.rest(n),
            rest_synced = many.bytes_synced.rest(n),
            met_waiting = met(many.bytes_waiting.records <= BYTES && smaller_waiting <= SMALLER),
            met_synced = met(many.bytes_synced.records <= BYTES && smaller_synced <= SMALLER),
            met_origin_waiting = met(many.bytes_waiting.origin <= BYTES && smaller_origin_waiting <= SMALLER),
            met_origin_synced = met(many.bytes_synced.origin <= BYTES && smaller_origin_synced <= SMALLER),
            empty = thousands(many.empty_ms),
            round = thousands(many.round_ms),
            best_batch = thousands(best.batch_size),
            best = thousands(best.ms),
            trials = trials.join(", "),
            met_faster = met(faster >= FASTER),
            make = format_seconds(many.make_ms),
            peer_write = format_seconds(peer.write_ms),
            first_from = window + 1,
            window_twice = 2 * window,
            slow_from = 2 * window + 1,
            slow_to = 3 * window,
            last_from = n - 2 * window + 1,
            last_to = n - window,
            last_from_before = thousands(n - 2 * window),
            bulk_from = 3 * window + 1,
            last_slow_from = n - window + 1,
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
        "many":{"checkIns":10000,"window":20,"slowdown":4,"firstMs":2.0,"firstSlowMs":6.0,"lastMs":2.5,
                "lastSlowMs":12.0,"makeMs":90000,"emptyMs":3000,"roundMs":5000,"bytesWaiting":{"records":190.4,"origin":330.1},
                "bytesSynced":{"records":120.2,"origin":260.0},"narrow":{"window":5,"firstMs":2.0,"firstSlowMs":6.0,"lastMs":4.0,"lastSlowMs":7.0}},
        "peer":{"checkIns":10000,"firstMs":3.0,"lastMs":3.5,"writeMs":40000,"bytesWaiting":{"records":800,"origin":801},
                "bytesSynced":{"records":810,"origin":812},
                "trials":[{"batchSize":100,"ms":30000},{"batchSize":1000,"ms":16000}]}}"#;

    #[test]
    fn reads_what_the_script_prints_and_judges_each_network_by_its_budget() {
        let markdown = parse(PRINTED).unwrap().markdown();
        assert!(markdown.contains(
            "| loopback | **1,900 ms** | 812 ms | 2,500 ms | 812, 2,500, 1,900 | at most 2,000 ms | met | 2,000 ms | 60.0 s |"
        ));
        assert!(markdown.contains(
            "| 3G (300 ms, 750 kbit/s down, 250 kbit/s up) | **12,345 ms** | 12,345 ms | 12,345 ms | 12,345 | at most 10,000 ms | **not met** |"
        ));
        assert!(markdown.contains("| as it is | **2.00 ms** | **2.50 ms** | 1.25× | at most 1.5×, under 10 ms | met |"));
        assert!(markdown.contains("| slowed down 4× | 6.00 ms | 12.00 ms | 2.00× | at most 1.5× | **not met** |"));
        assert!(markdown.contains("The same run, by medians of 5:"));
        assert!(markdown.contains("| as it is | 2.00 ms | 4.00 ms | 2.00× | at most 1.5×, under 10 ms | **not met** |"));
        assert!(markdown.contains("| slowed down 4× | 6.00 ms | 7.00 ms | 1.17× | at most 1.5× | met |"));
        assert!(markdown.contains(
            "| waiting to sync | **330** | **190** | 801; 800 | 0.41; 0.24 | at most 200, and a third | **not met** | met |"
        ));
        assert!(markdown.contains(
            "| synced | **260** | **120** | 812; 810 | 0.32; 0.15 | at most 200, and a third | **not met** | met |"
        ));
        assert!(markdown.contains("changed by 1,397,000"));
        assert!(markdown.contains("and by 1,398,000 once they were synced"));
        assert!(markdown.contains("| PouchDB ÷ Guihai | **5.3×** | goal at least 5×: met |"));
        assert!(markdown.contains("(each batch size tried: 100: 30,000 ms, 1,000: 16,000 ms)"));
    }

    #[test]
    fn refuses_a_network_without_a_budget_or_runs_and_a_peer_without_a_replication() {
        assert!(parse(&PRINTED.replace(
            r#""trials":[{"batchSize":100,"ms":30000},{"batchSize":1000,"ms":16000}]"#,
            r#""trials":[]"#
        ))
        .is_err());
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

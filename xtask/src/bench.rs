//! `cargo xtask bench`: builds the app and the server as `test` does, then measures what the app costs a phone
//! (the bytes of the first visit, the time until the first screen, syncing 1,000 check-ins made offline, local
//! storage), how fast the scanner reads a code, how the staff screens hold a county, and what pushes cost the server (check-ins a second, latency with
//! 1,000 devices) into `docs/benchmarks.md`.

mod decode;
mod oversight;
mod push;
mod start;
mod sync;
pub(crate) mod transfer;
mod weight;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::de::DeserializeOwned;

use crate::process::{capture, output, run, step, Workspace};
use crate::tools::{self, toml_string, Purpose};
use crate::{build, server, Result};

const REPORT: &str = "docs/benchmarks.md";
/// The program that seeds a database with many members and activities for the sync benchmarks.
const SEEDER: &str = "bench_seed";

pub fn bench(ws: &Workspace) -> Result {
    tools::ensure(ws, Purpose::Bench)?;
    build::app(ws)?;
    server::build(ws)?;
    let seeder = step("build the bench seeder", || build_seeder(ws))?;
    let first_load = step("first-load transfer size", || transfer::measure(&ws.dist()))?;
    let weights = step("what weighs what in the member's wasm (twiggy)", || {
        weight::measure(ws, &build::member_wasm(ws))
    })?;
    let start = step("start time in Chromium", || start::measure(ws))?;
    let decoding = step("QR decoding, in Chromium with a fake camera", || {
        decode::parse(&capture(server::node(ws).arg(decode::SCRIPT))?)
    })?;
    let candidates = step("QR decoders on the frame set, natively", || decoder_candidates(ws))?;
    let offline_sync = step(
        "check-ins made offline and synced (1,000; 10,000 against PouchDB), in Chromium",
        || sync::parse(&capture(&mut seeded_node(ws, &seeder, sync::SCRIPT))?),
    )?;
    let pushes = step("pushes into the server, with autocannon", || {
        push::parse(&capture(&mut seeded_node(ws, &seeder, push::SCRIPT))?)
    })?;
    let oversight = step("township and county screens with 2,200 members, in Chromium", || {
        oversight::parse(&capture(server::node(ws).arg(oversight::SCRIPT))?)
    })?;
    let machine = Machine::describe(ws)?;
    let report = render(&machine, &first_load, &weights, &start)
        + "\n"
        + &offline_sync.markdown()
        + "\n"
        + &decoding.markdown(&candidates)
        + "\n"
        + &oversight.markdown()
        + "\n"
        + &pushes.markdown();
    fs::write(ws.root.join(REPORT), report)?;
    println!("\nwrote {REPORT}");
    Ok(())
}

/// Builds `crates/server/examples/bench_seed.rs` in the server's profile and returns its path.
fn build_seeder(ws: &Workspace) -> Result<PathBuf> {
    run(server::cargo(ws, "build").args(["--example", SEEDER]))?;
    // Cargo puts a package's examples in `examples/` beside its binaries.
    let binaries = server::binary(ws)
        .parent()
        .map(Path::to_path_buf)
        .ok_or("the server binary has no folder")?;
    Ok(binaries.join("examples").join(SEEDER))
}

/// The candidate decoders on the frame set (written by `tests/frames/dump.mjs`), natively.
fn decoder_candidates(ws: &Workspace) -> Result<decode::Candidates> {
    let folder = ws.target_dir.join("xtask").join("frames");
    run(ws.command("node").arg("tests/frames/dump.mjs").arg(&folder))?;
    let printed = capture(
        ws.command("cargo")
            .args([
                "run",
                "--quiet",
                "--release",
                "-p",
                "guihai-decoder",
                "--example",
                "candidates",
                "--",
            ])
            .arg(&folder),
    )?;
    decode::parse_candidates(&printed)
}

/// `node <script>` for a script that starts servers on seeded data.
fn seeded_node(ws: &Workspace, seeder: &Path, script: &str) -> Command {
    let mut command = server::node(ws);
    command.env("GUIHAI_BENCH_SEED", seeder).arg(script);
    command
}

/// The JSON a benchmark script printed, read into `T`.
fn parse_printed<T: DeserializeOwned>(script: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| format!("{script} printed unexpected JSON: {e}").into())
}

/// `met`, or `**not met**`, for a figure and its budget.
fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// Bytes in kilobytes of 1000 bytes: `12.3 KB`.
fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

/// A count with thousands separated: `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Where the figures were measured.
struct Machine {
    cpus: String,
    cpu_model: String,
    memory: String,
    os: String,
    commit: String,
    load: String,
}

impl Machine {
    fn describe(ws: &Workspace) -> Result<Self> {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo")?;
        let meminfo = fs::read_to_string("/proc/meminfo")?;
        let os_release = fs::read_to_string("/etc/os-release")?;
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")?;
        let load = fs::read_to_string("/proc/loadavg")?;
        let memory_kib: u64 = proc_field(&meminfo, "MemTotal")
            .and_then(|total| total.trim_end_matches(" kB").parse().ok())
            .ok_or("/proc/meminfo has no MemTotal")?;
        let git = |args: &[&str]| output(ws.command("git").args(args));
        let commit = git(&["rev-parse", "--short=12", "HEAD"]).ok_or("git rev-parse HEAD failed")?;
        let changed = git(&["status", "--porcelain"]).is_some_and(|status| !status.is_empty());
        Ok(Self {
            cpus: output(&mut ws.command("nproc")).ok_or("nproc failed")?,
            cpu_model: proc_field(&cpuinfo, "model name").unwrap_or("unknown").to_string(),
            memory: format!("{:.1} GiB", memory_kib as f64 / (1024.0 * 1024.0)),
            os: format!(
                "{}, Linux {}",
                toml_string(&os_release, "PRETTY_NAME").unwrap_or("unknown"),
                kernel.trim()
            ),
            commit: if changed {
                format!("{commit} with uncommitted changes")
            } else {
                commit
            },
            load: load.split_whitespace().take(3).collect::<Vec<_>>().join(", "),
        })
    }
}

/// The value of `key` in a `/proc` file of `key : value` lines.
fn proc_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        (name.trim() == key).then(|| value.trim())
    })
}

fn render(
    machine: &Machine,
    first_load: &transfer::FirstLoad,
    weights: &weight::Weights,
    start: &start::StartTimes,
) -> String {
    let Machine {
        cpus,
        cpu_model,
        memory,
        os,
        commit,
        load,
    } = machine;
    format!(
        "\
# Benchmarks

What Guihai costs a phone: the bytes of the first visit, the time until the first screen, syncing check-ins
made offline and what they take of local storage, reading a QR code; and what pushes cost the server. Written by
`cargo xtask bench`, which builds the app and the server first; do not edit it, run that again.

## Machine

| | |
|---|---|
| measured | {measured_at} |
| commit | `{commit}` |
| CPU | {cpu_model}, {cpus} CPUs (`nproc`) |
| memory | {memory} |
| OS | {os} |
| load average | {load} (1, 5 and 15 minutes, taken right after the runs) |
| browser | Chromium {chromium}, headless (Debian's package) |

{first_load}
{weights}
{start}",
        measured_at = start.measured_at_utc(),
        chromium = start.chromium,
        first_load = first_load.markdown(),
        weights = weights.markdown(first_load.wasm_gzip()),
        start = start.markdown(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn reads_proc_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nmodel\t\t: 1\n";
        assert_eq!(proc_field(cpuinfo, "model name"), Some("AMD EPYC 7B13"));
        assert_eq!(proc_field(cpuinfo, "model"), Some("1"));
        assert_eq!(
            proc_field("MemTotal:       24683656 kB\n", "MemTotal"),
            Some("24683656 kB")
        );
        assert_eq!(proc_field(cpuinfo, "flags"), None);
    }
}

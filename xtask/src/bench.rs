//! `cargo xtask bench`: builds the app and the server as `test` does, then measures what the app costs a phone
//! (the bytes of the first visit, the time until the first screen) into `docs/benchmarks.md`.

mod start;
mod transfer;

use std::fs;

use crate::process::{output, step, Workspace};
use crate::tools::{self, toml_string, Purpose};
use crate::{build, server, Result};

const REPORT: &str = "docs/benchmarks.md";

pub fn bench(ws: &Workspace) -> Result {
    tools::ensure(ws, Purpose::Bench)?;
    build::app(ws)?;
    server::build(ws)?;
    let first_load = step("first-load transfer size", || transfer::measure(&ws.dist()))?;
    let start = step("start time in Chromium", || start::measure(ws))?;
    let machine = Machine::describe(ws)?;
    fs::write(ws.root.join(REPORT), render(&machine, &first_load, &start))?;
    println!("\nwrote {REPORT}");
    Ok(())
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

fn render(machine: &Machine, first_load: &transfer::FirstLoad, start: &start::StartTimes) -> String {
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

What Guihai costs a phone: the bytes of the first visit and the time until the first screen. Written by
`cargo xtask bench`, which builds the app and the server first; do not edit it, run that again.

## Machine

| | |
|---|---|
| measured | {measured_at} |
| commit | `{commit}` |
| CPU | {cpu_model}, {cpus} CPUs (`nproc`) |
| memory | {memory} |
| OS | {os} |
| load average | {load} (1, 5 and 15 minutes, taken right after the start-time runs) |
| browser | Chromium {chromium}, headless (Debian's package) |

{first_load}
{start}",
        measured_at = start.measured_at_utc(),
        chromium = start.chromium,
        first_load = first_load.markdown(),
        start = start.markdown(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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

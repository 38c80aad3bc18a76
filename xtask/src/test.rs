//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use crate::process::{run, step, Workspace};
use crate::tools::{self, Purpose, CHROMEDRIVER, CHROMIUM, WASM_TARGET};
use crate::{build, server, Result};

pub fn test(ws: &Workspace) -> Result {
    let started = Instant::now();
    tools::ensure(ws, Purpose::Test)?;
    step("format", || run(&mut cargo(ws, "fmt --all -- --check")))?;
    step("lints: core, server, xtask", || {
        run(&mut cargo(
            ws,
            "clippy --workspace --exclude guihai --all-targets -- -D warnings",
        ))
    })?;
    // The member app, the staff app and the entry app are three builds of the crate (its `staff` and `entry`
    // features): all are linted.
    step("lints: app (wasm), member, staff and entry", || {
        for features in ["", "--features staff", "--features entry"] {
            run(&mut cargo(
                ws,
                &format!("clippy -p guihai --target {WASM_TARGET} --all-targets {features} -- -D warnings"),
            ))?;
        }
        Ok(())
    })?;
    step("unit tests: core, server, xtask", || {
        run(&mut cargo(ws, "test --workspace --exclude guihai"))
    })?;
    step("app tests in Chromium", || browser_tests(ws))?;
    end_to_end(ws, &[])?;
    println!("\nall checks passed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Builds the app and the server, then runs the end-to-end tests: all of them, or only the files named
/// (`cargo xtask e2e profile`, for `tests/e2e/profile.test.mjs`) while working on one flow.
pub fn end_to_end(ws: &Workspace, only: &[String]) -> Result {
    tools::ensure(ws, Purpose::Test)?;
    build::app(ws)?;
    step("the member's first load against its budget", || {
        crate::bench::transfer::measure(&ws.dist())?.gate()
    })?;
    server::build(ws)?;
    step("end-to-end tests", || end_to_end_tests(ws, only))
}

/// `cargo` with space-separated arguments.
fn cargo(ws: &Workspace, args: &str) -> Command {
    let mut command = ws.cargo();
    command.args(args.split_whitespace());
    command
}

/// wasm-bindgen-test-runner drives headless Chromium through chromedriver; the capabilities file
/// says which browser binary to use and lets it run as root in a container.
fn browser_tests(ws: &Workspace) -> Result {
    let folder = ws.target_dir.join("xtask");
    std::fs::create_dir_all(&folder)?;
    let capabilities = folder.join("webdriver.json");
    std::fs::write(&capabilities, webdriver_json())?;
    let scratch = Scratch::new()?;
    // The store's tests run again in the entry app's build, for the store's part only it has.
    let outcome = ["", " --features entry --test store"].into_iter().try_for_each(|more| {
        run(cargo(ws, &format!("test -p guihai --target {WASM_TARGET}{more}"))
            .env("TMPDIR", scratch.path())
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
            .env("WASM_BINDGEN_USE_BROWSER", "1")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
            .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &capabilities)
            .env("CHROMEDRIVER", CHROMEDRIVER))
    });
    scratch.finish(outcome)
}

fn webdriver_json() -> String {
    let args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    .map(|arg| format!("\"{arg}\""))
    .join(", ");
    format!("{{\"goog:chromeOptions\": {{\"binary\": \"{CHROMIUM}\", \"args\": [{args}]}}}}\n")
}

/// The node:test files in tests/e2e, one at a time: they start servers and browsers of their own.
fn end_to_end_tests(ws: &Workspace, only: &[String]) -> Result {
    let folder = PathBuf::from("tests").join("e2e");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(ws.root.join(&folder))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let wanted = only.is_empty() || only.iter().any(|o| name.strip_suffix(".test.mjs") == Some(o.as_str()));
        if name.ends_with(".test.mjs") && wanted {
            files.push(folder.join(name));
        }
    }
    if files.is_empty() {
        return Err("no end-to-end tests found (tests/e2e/*.test.mjs, or none by the names given)".into());
    }
    files.sort();
    let scratch = Scratch::new()?;
    let outcome = run(server::node(ws)
        .env("TMPDIR", scratch.path())
        .args(["--test", "--test-concurrency=1"])
        .args(&files));
    scratch.finish(outcome)
}

/// The temporary folder of one run of browser tests: every server data folder, browser profile and camera video
/// the tests make, and what Chromium and chromedriver leave behind when a test kills them (`TMPDIR` points here).
/// Without it each run left gigabytes in the system's temporary folder. Removed when the tests pass; kept, and
/// named, when they fail, for the logs.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Result<Self> {
        Ok(Self(tempfile::Builder::new().prefix("guihai-tests-").tempdir()?))
    }

    fn path(&self) -> &std::path::Path {
        self.0.path()
    }

    fn finish(self, outcome: Result) -> Result {
        if outcome.is_err() {
            eprintln!("the tests' temporary files are kept in {}", self.0.keep().display());
        }
        outcome
    }
}

//! Where the workspace is, and how xtask starts child processes and reports timed steps.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::Instant;

use crate::Result;

/// The repository xtask works on, found from xtask's own manifest.
pub struct Workspace {
    pub root: PathBuf,
    /// Cargo's target directory: `CARGO_TARGET_DIR` when set, else `<root>/target`.
    pub target_dir: PathBuf,
    /// `PATH` for children, with `<root>/node_modules/.bin` first (Trunk finds `wasm-opt` there).
    path: OsString,
}

impl Workspace {
    pub fn locate() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .ok_or("xtask must live in a folder of the workspace")?
            .to_path_buf();
        let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
            // Cargo reads a relative CARGO_TARGET_DIR from the directory it was started in.
            Some(dir) => std::env::current_dir()?.join(dir),
            None => root.join("target"),
        };
        let node_bin = root.join("node_modules").join(".bin");
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(std::iter::once(node_bin).chain(std::env::split_paths(&inherited)))?;
        Ok(Self { root, target_dir, path })
    }

    pub fn dist(&self) -> PathBuf {
        self.root.join("dist")
    }

    /// A command that runs in the workspace root with the workspace's `PATH`.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.root).env("PATH", &self.path);
        command
    }

    /// `cargo`, the same one that started xtask when it is known.
    pub fn cargo(&self) -> Command {
        self.command(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
    }
}

/// Runs a command with inherited output and fails unless it exits successfully.
pub fn run(command: &mut Command) -> Result {
    println!("$ {}", describe(command));
    let status = command.status().map_err(|e| not_started(command, e))?;
    succeeded(command, status)
}

/// Runs a command with inherited standard error and returns its standard output, failing unless it exits
/// successfully.
pub fn capture(command: &mut Command) -> Result<String> {
    println!("$ {}", describe(command));
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| not_started(command, e))?;
    succeeded(command, output.status)?;
    Ok(String::from_utf8(output.stdout)?)
}

fn not_started(command: &Command, error: std::io::Error) -> String {
    format!("could not start {}: {error}", describe(command))
}

fn succeeded(command: &Command, status: ExitStatus) -> Result {
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({status})", describe(command)).into())
    }
}

/// The trimmed standard output of a command that succeeded, or `None` if it could not start or failed.
pub fn output(command: &mut Command) -> Option<String> {
    let output = command.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Runs one named step between a heading and a line with its elapsed time.
pub fn step<T>(title: &str, body: impl FnOnce() -> Result<T>) -> Result<T> {
    println!("\n==> {title}");
    let started = Instant::now();
    let result = body();
    let seconds = started.elapsed().as_secs_f64();
    match &result {
        Ok(_) => println!("<== {title}: done in {seconds:.1}s"),
        Err(_) => println!("<== {title}: FAILED after {seconds:.1}s"),
    }
    result
}

/// The command line as a person would type it (`cargo …`, not the toolchain's full path to cargo).
fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program());
    std::iter::once(program.file_name().unwrap_or(program.as_os_str()))
        .chain(command.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

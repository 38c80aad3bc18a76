//! `cargo xtask run`: builds the app and the server, then serves the demo until Ctrl-C.

use crate::process::{run as run_command, step, Workspace};
use crate::tools::{self, Purpose};
use crate::{build, server, Result};

/// `data_dir` is relative to the repository root when not absolute.
pub fn run(ws: &Workspace, addr: &str, data_dir: &str) -> Result {
    tools::ensure(ws, Purpose::Build)?;
    build::app(ws)?;
    step("server (Ctrl-C stops it)", || {
        run_command(server::cargo(ws, "run").args([
            "--",
            "--demo",
            "--dist",
            "dist",
            "--addr",
            addr,
            "--data-dir",
            data_dir,
        ]))
    })
}

//! How xtask builds and starts the server: with the workspace's `server` profile (fast, unwinding).

use std::path::PathBuf;
use std::process::Command;

use crate::process::{run, step, Workspace};
use crate::Result;

const PROFILE: &str = "server";

/// `cargo <subcommand>` for the server package in its profile; add `--` and server options to run it.
pub fn cargo(ws: &Workspace, subcommand: &str) -> Command {
    let mut command = ws.cargo();
    command.args([subcommand, "--profile", PROFILE, "-p", "guihai-server"]);
    command
}

pub fn binary(ws: &Workspace) -> PathBuf {
    ws.target_dir.join(PROFILE).join("guihai-server")
}

pub fn build(ws: &Workspace) -> Result {
    step("build the server", || run(&mut cargo(ws, "build")))
}

/// `node`, for the scripts under `tests/` that start servers: they find the built server and app through
/// `GUIHAI_SERVER_BIN` and `GUIHAI_DIST`.
pub fn node(ws: &Workspace) -> Command {
    let mut command = ws.command("node");
    command
        .env("GUIHAI_SERVER_BIN", binary(ws))
        .env("GUIHAI_DIST", ws.dist());
    command
}

//! How xtask builds and starts the server: with the workspace's `server` profile (fast, unwinding).

use std::path::PathBuf;
use std::process::Command;

use crate::process::Workspace;

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

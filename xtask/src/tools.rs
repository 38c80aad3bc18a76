//! Installs what a build or a test run needs, skipping whatever is already there at the right version.
//!
//! Everything comes from the package registries (crates.io, Debian, npm) through their own clients.

use std::path::Path;

use crate::process::{output, run, step, Workspace};
use crate::Result;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Without a CJK font, Chinese text in screenshots is drawn as empty boxes.
const CJK_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
const TRUNK_VERSION: &str = "0.21.14";
/// Lists what the member's wasm is made of, for the benchmarks.
const TWIGGY_VERSION: &str = "0.8.0";

pub enum Purpose {
    Build,
    Test,
    /// A build, and the browser to measure it in.
    Bench,
}

pub fn ensure(ws: &Workspace, purpose: Purpose) -> Result {
    step("tools", || {
        wasm_target(ws)?;
        trunk(ws)?;
        wasm_bindgen(ws)?;
        node_modules(ws)?;
        if let Purpose::Test = purpose {
            rust_components(ws)?;
        }
        if let Purpose::Test | Purpose::Bench = purpose {
            browser(ws)?;
        }
        if let Purpose::Bench = purpose {
            twiggy(ws)?;
        }
        Ok(())
    })
}

/// Says whether `what` is there, and installs it when it is not.
fn ensure_one(what: &str, present: bool, install: impl FnOnce() -> Result) -> Result {
    if present {
        println!("{what}: present");
        Ok(())
    } else {
        println!("{what}: missing, installing");
        install()
    }
}

fn wasm_target(ws: &Workspace) -> Result {
    let installed = output(ws.command("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    ensure_one(
        &format!("rust target {WASM_TARGET}"),
        installed.lines().any(|line| line == WASM_TARGET),
        || run(ws.command("rustup").args(["target", "add", WASM_TARGET])),
    )
}

fn rust_components(ws: &Workspace) -> Result {
    let installed = output(ws.command("rustup").args(["component", "list", "--installed"])).unwrap_or_default();
    // Installed components are listed with their host triple: `clippy-x86_64-unknown-linux-gnu`.
    let missing: Vec<&str> = ["rustfmt", "clippy"]
        .into_iter()
        .filter(|name| !installed.lines().any(|line| line.starts_with(&format!("{name}-"))))
        .collect();
    ensure_one("rustfmt and clippy", missing.is_empty(), || {
        run(ws.command("rustup").args(["component", "add"]).args(&missing))
    })
}

/// The version a program reports as the second word of `--version` (`trunk 0.21.14`).
fn version_of(ws: &Workspace, program: &str) -> Option<String> {
    let text = output(ws.command(program).arg("--version"))?;
    text.split_whitespace().nth(1).map(str::to_string)
}

fn trunk(ws: &Workspace) -> Result {
    crate_tool(ws, "trunk", TRUNK_VERSION)
}

fn twiggy(ws: &Workspace) -> Result {
    crate_tool(ws, "twiggy", TWIGGY_VERSION)
}

/// A program installed by `cargo install` of the crate of its name, at `version` with its own lock file.
fn crate_tool(ws: &Workspace, name: &str, version: &str) -> Result {
    ensure_one(
        &format!("{name} {version}"),
        version_of(ws, name).as_deref() == Some(version),
        || run(ws.cargo().args(["install", name, "--version", version, "--locked"])),
    )
}

/// wasm-bindgen's CLI must match the library exactly, so its version comes from Cargo.lock;
/// Trunk.toml names it too, and a mismatch there would only surface deep inside Trunk.
fn wasm_bindgen(ws: &Workspace) -> Result {
    let lock = std::fs::read_to_string(ws.root.join("Cargo.lock"))?;
    let version = locked_version(&lock, "wasm-bindgen").ok_or("Cargo.lock has no wasm-bindgen")?;
    let trunk_toml = std::fs::read_to_string(ws.root.join("Trunk.toml"))?;
    let pinned = toml_string(&trunk_toml, "wasm_bindgen");
    if pinned != Some(version) {
        return Err(format!(
            "Trunk.toml pins wasm_bindgen = {pinned:?} but Cargo.lock has wasm-bindgen {version}; make them agree"
        )
        .into());
    }
    let present = ["wasm-bindgen", "wasm-bindgen-test-runner"]
        .iter()
        .all(|program| version_of(ws, program).as_deref() == Some(version));
    ensure_one(&format!("wasm-bindgen-cli {version}"), present, || {
        let exact = format!("={version}");
        run(ws.cargo().args(["install", "wasm-bindgen-cli", "--version", &exact]))
    })
}

/// Every package `package.json` names: `wasm-opt` (from binaryen, for Trunk), Playwright and the QR code maker
/// (for the end-to-end tests) and autocannon (for the push benchmarks). A package added since the last install
/// installs them again.
fn node_modules(ws: &Workspace) -> Result {
    let modules = ws.root.join("node_modules");
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(ws.root.join("package.json"))?)?;
    let wanted: Vec<&String> = manifest["devDependencies"]
        .as_object()
        .map(|packages| packages.keys().collect())
        .unwrap_or_default();
    let names: Vec<&str> = wanted.iter().map(|name| name.as_str()).collect();
    ensure_one(
        &format!("node_modules ({})", names.join(", ")),
        modules.join(".bin/wasm-opt").exists()
            && names
                .iter()
                .all(|name| modules.join(name).join("package.json").exists()),
        || run(ws.command("npm").arg("ci")),
    )
}

fn browser(ws: &Workspace) -> Result {
    ensure_one(
        "chromium, chromedriver and a CJK font",
        [CHROMIUM, CHROMEDRIVER, CJK_FONT]
            .iter()
            .all(|file| Path::new(file).exists()),
        || {
            run(ws.command("apt-get").arg("update"))?;
            run(ws
                .command("apt-get")
                .args(["install", "-y", "chromium", "chromium-driver", "fonts-noto-cjk"])
                .env("DEBIAN_FRONTEND", "noninteractive"))
        },
    )
}

/// The version of `package` in a Cargo.lock.
fn locked_version<'a>(lock: &'a str, package: &str) -> Option<&'a str> {
    lock.split("[[package]]")
        .find(|entry| toml_string(entry, "name") == Some(package))
        .and_then(|entry| toml_string(entry, "version"))
}

/// The value of the first `key = "value"` line in a TOML text; enough for Cargo.lock and Trunk.toml, and
/// for `/etc/os-release` (`KEY="value"`).
pub fn toml_string<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        line.trim()
            .strip_prefix(key)?
            .trim_start()
            .strip_prefix('=')?
            .trim()
            .strip_prefix('"')?
            .strip_suffix('"')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen-shared"
version = "0.2.130"

[[package]]
name = "wasm-bindgen"
version = "0.2.131"
dependencies = [
 "wasm-bindgen-shared",
]
"#;

    #[test]
    fn finds_the_locked_version_of_exactly_that_package() {
        assert_eq!(locked_version(LOCK, "wasm-bindgen"), Some("0.2.131"));
        assert_eq!(locked_version(LOCK, "wasm-bindgen-shared"), Some("0.2.130"));
        assert_eq!(locked_version(LOCK, "leptos"), None);
    }

    #[test]
    fn reads_a_string_setting_and_ignores_longer_keys() {
        let trunk = "[tools]\nwasm_bindgen_x = \"1\"\nwasm_bindgen = \"0.2.130\"\n";
        assert_eq!(toml_string(trunk, "wasm_bindgen"), Some("0.2.130"));
        assert_eq!(toml_string(trunk, "wasm_opt"), None);
    }
}

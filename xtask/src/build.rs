//! Builds the app into `dist/`: Trunk's release builds of the member app (`dist/`) and of the staff app
//! (`dist/staff/`, the crate's `staff` feature), then the service worker and precompressed files.

use std::path::{Path, PathBuf};

use guihai_core::screens::STAFF_APP_DIR;

use crate::process::{run, step, Workspace};
use crate::{compress, service_worker, Result};

pub fn app(ws: &Workspace) -> Result {
    step("build the app (trunk, release): member and staff", || {
        // wasm-bindgen's output folder keeps the snippets of JS modules the app no longer has (one moved to
        // another folder), and Trunk would ship and preload them: each build starts without it.
        let bindgen = ws.target_dir.join("wasm-bindgen");
        if bindgen.exists() {
            std::fs::remove_dir_all(&bindgen)?;
        }
        run(ws.command("trunk").args(["build", "--release", "--offline"]))?;
        // The member's wasm as wasm-bindgen left it, with its functions' names, for the benchmarks' list of
        // what weighs what: the staff build writes over it next.
        let member = member_wasm(ws);
        std::fs::create_dir_all(member.parent().ok_or("the member's wasm has no folder")?)?;
        let built = bindgen.join("release").join("guihai_bg.wasm");
        std::fs::copy(&built, &member).map_err(|e| format!("copying {}: {e}", built.display()))?;
        // The same page built again with the staff screens, into a folder of its own (each Trunk build clears
        // its output folder, so this one comes second). Trunk passes `--features` to the app only: the
        // decoder's link in index.html names its own (none).
        let staff = ws.dist().join(STAFF_APP_DIR);
        let public_url = format!("/{STAFF_APP_DIR}/");
        run(ws
            .command("trunk")
            .args([
                "build",
                "--release",
                "--offline",
                "--features",
                "staff",
                "--public-url",
                &public_url,
            ])
            .arg("--dist")
            .arg(&staff))?;
        keep_only_the_app(&staff)?;
        let dist = ws.dist();
        let files = dist_files(&dist)?;
        service_worker::write(&dist, &files)?;
        compress::write_siblings(&dist, &files)?;
        println!(
            "dist: {} files, service worker and .gz/.br siblings written",
            files.len()
        );
        Ok(())
    })
}

/// The member's wasm before wasm-opt (`app`).
pub fn member_wasm(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("xtask").join("member_bg.wasm")
}

/// The staff build also copied what index.html copies (icons, manifest, service worker, English) and built the decoder:
/// those are the member build's, at the root. The staff app is its page, the files the page names, and the
/// snippets its script imports.
fn keep_only_the_app(staff: &Path) -> Result {
    let page = std::fs::read_to_string(staff.join("index.html"))?;
    for entry in std::fs::read_dir(staff)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "index.html" || name == "snippets" || page.contains(&format!("/{STAFF_APP_DIR}/{name}")) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Every file under `dist` as a `/`-separated relative path, sorted, leaving out
/// precompressed siblings (they are outputs of this post-processing, not of the build).
pub fn dist_files(dist: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut folders = vec![dist.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let relative = path.strip_prefix(dist)?.to_string_lossy().replace('\\', "/");
            if !compress::is_sibling(&relative) {
                files.push(relative);
            }
        }
    }
    files.sort();
    Ok(files)
}

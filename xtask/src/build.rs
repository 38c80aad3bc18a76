//! Builds the app into `dist/`: Trunk's release build, then the service worker and precompressed files.

use std::path::Path;

use crate::process::{run, step, Workspace};
use crate::{compress, service_worker, Result};

pub fn app(ws: &Workspace) -> Result {
    step("build the app (trunk, release)", || {
        run(ws.command("trunk").args(["build", "--release", "--offline"]))?;
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

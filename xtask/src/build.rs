//! Builds the app into `dist/`: Trunk's release builds of the member app (`dist/`), of the staff app
//! (`dist/staff/`, the crate's `staff` feature) and of the entry app (`dist/entry/`, its `entry` feature), the
//! page's loader that chooses between member and entry app (`src/store/loader.js`), then the service worker and
//! precompressed files.

use std::path::{Path, PathBuf};

use guihai_core::screens::STAFF_APP_DIR;

use crate::process::{run, step, Workspace};
use crate::{compress, service_worker, Result};

pub fn app(ws: &Workspace) -> Result {
    step("build the app (trunk, release): member, staff and entry", || {
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
        let staff = build_in_folder(ws, "staff", STAFF_APP_DIR)?;
        keep_only_the_app(&staff, STAFF_APP_DIR)?;
        // The first visit's sign-in page (src/entry.rs): its page is the member app's, whose loader starts it.
        let entry = build_in_folder(ws, "entry", ENTRY_APP_DIR)?;
        let entry_page = std::fs::read_to_string(entry.join("index.html"))?;
        keep_only_the_app(&entry, ENTRY_APP_DIR)?;
        for file in ["index.html", stylesheet(&entry_page, ENTRY_APP_DIR)?] {
            std::fs::remove_file(entry.join(file))?;
        }
        let glue = std::fs::read_to_string(entry.join(format!("{}.js", file_name(started_app(&entry_page)?))))?;
        drop_snippets_not_imported(&entry, &glue)?;
        let dist = ws.dist();
        let page = dist.join("index.html");
        let loader = std::fs::read_to_string(ws.root.join("src").join("store").join("loader.js"))?;
        let member_page = std::fs::read_to_string(&page)?;
        std::fs::write(&page, with_loader(&member_page, &entry_page, &loader)?)?;
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

/// The entry app's folder in `dist/` (src/entry.rs).
pub const ENTRY_APP_DIR: &str = "entry";

/// Trunk's build of the app with `feature`, served from `/{folder}/`, into `dist/{folder}` (each Trunk build
/// clears its output folder, so these come after the member app's). Trunk passes `--features` to the app only:
/// the decoder's link in index.html names its own (none).
fn build_in_folder(ws: &Workspace, feature: &str, folder: &str) -> Result<PathBuf> {
    let dist = ws.dist().join(folder);
    let public_url = format!("/{folder}/");
    run(ws
        .command("trunk")
        .args([
            "build",
            "--release",
            "--offline",
            "--features",
            feature,
            "--public-url",
            &public_url,
        ])
        .arg("--dist")
        .arg(&dist))?;
    Ok(dist)
}

/// The start of the app Trunk wrote into `page`: the path of its JS glue without `.js` (`/guihai-1a2b`), which
/// is also its wasm's with `_bg.wasm`.
fn started_app(page: &str) -> Result<&str> {
    let from = "module_or_path: '";
    let start = page.find(from).ok_or("Trunk's page starts no app")? + from.len();
    let rest = &page[start..];
    let end = rest.find("_bg.wasm'").ok_or("Trunk's page starts no wasm")?;
    Ok(&rest[..end])
}

/// The last part of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// wasm-bindgen writes out every JS snippet of the crate, also those whose functions an app does not use: the
/// entry app's glue imports two of them, and the others would be shipped (and counted in its first load) for
/// nothing.
fn drop_snippets_not_imported(app: &Path, glue: &str) -> Result {
    for file in dist_files(&app.join("snippets"))? {
        if !glue.contains(&format!("./snippets/{file}")) {
            std::fs::remove_file(app.join("snippets").join(&file))?;
        }
    }
    Ok(())
}

/// The stylesheet Trunk linked from `page`, relative to its folder.
fn stylesheet<'a>(page: &'a str, folder: &str) -> Result<&'a str> {
    let from = format!("rel=\"stylesheet\" href=\"/{folder}/");
    let start = page.find(&from).ok_or("Trunk's page links no stylesheet")? + from.len();
    let rest = &page[start..];
    Ok(&rest[..rest.find('"').ok_or("an unterminated stylesheet link")?])
}

/// The member app's `page` with `loader` (src/store/loader.js) in place of Trunk's start-up script and without its
/// preloads: the loader chooses the member app or the entry app (started by `entry_page`), and fetches that
/// one's files only.
fn with_loader(page: &str, entry_page: &str, loader: &str) -> Result<String> {
    if !loader.contains("__MEMBER__") || !loader.contains("__ENTRY__") {
        return Err("the loader names no __MEMBER__ or no __ENTRY__ app to start".into());
    }
    // Its comments are for the source: every member's first visit would download them.
    let code: String = loader
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .map(|line| format!("{line}\n"))
        .collect();
    let script = code
        .replace("__MEMBER__", started_app(page)?)
        .replace("__ENTRY__", started_app(entry_page)?);
    let open = "<script type=\"module\">";
    let start = page.find(open).ok_or("Trunk's page has no start-up script")?;
    let end = start + page[start..].find("</script>").ok_or("an unterminated script")?;
    if !page[start..end].contains("TrunkApplicationStarted") {
        return Err("the page's first module script is not Trunk's start-up script".into());
    }
    // `async`: it runs as soon as it is parsed, not once the whole page and its stylesheet are, so the app's
    // download starts a round trip or two sooner on a slow link.
    let mut html = format!(
        "{}<script type=\"module\" async>\n{script}{}",
        &page[..start],
        &page[end..]
    );
    // The member app's files (`<link rel="modulepreload" …>`, `<link rel="preload" …>`): the loader fetches
    // the app it chose.
    let mut removed = 0;
    for rel in ["<link rel=\"modulepreload\"", "<link rel=\"preload\""] {
        while let Some(at) = html.find(rel) {
            let end = at + html[at..].find('>').ok_or("an unterminated link")? + 1;
            html.replace_range(at..end, "");
            removed += 1;
        }
    }
    if removed == 0 {
        return Err("Trunk's page preloads nothing: has its output changed?".into());
    }
    Ok(html)
}

/// The member's wasm before wasm-opt (`app`).
pub fn member_wasm(ws: &Workspace) -> PathBuf {
    ws.target_dir.join("xtask").join("member_bg.wasm")
}

/// The staff and entry builds also copied what index.html copies (icons, manifest, service worker, English) and
/// built the decoder: those are the member build's, at the root. Such an app is its page, the files the page
/// names, and the snippets its script imports.
fn keep_only_the_app(dist: &Path, folder: &str) -> Result {
    let page = std::fs::read_to_string(dist.join("index.html"))?;
    for entry in std::fs::read_dir(dist)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "index.html" || name == "snippets" || page.contains(&format!("/{folder}/{name}")) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the page Trunk 0.21 writes (shortened).
    const MEMBER_PAGE: &str = "<head>\n<script type=\"module\">\nimport init, * as bindings from '/guihai-aa.js';\n\
        const wasm = await init({ module_or_path: '/guihai-aa_bg.wasm' });\n\
        dispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));\n</script>\n\
        <link rel=\"stylesheet\" href=\"/main-cc.css\"/>\n\
        <link rel=\"modulepreload\" href=\"/guihai-aa.js\" integrity=\"x\"><link rel=\"modulepreload\" \
        href=\"/snippets/s.js\"><link rel=\"preload\" href=\"/guihai-aa_bg.wasm\" as=\"fetch\"></head>";

    #[test]
    fn the_loader_takes_the_place_of_trunks_start_and_preloads() {
        let entry_page = MEMBER_PAGE
            .replace("/guihai-aa", "/entry/guihai-bb")
            .replace("/main-", "/entry/main-");
        let loader = "// Which app.\nstart('__MEMBER__', '__ENTRY__');\n  // the end\n";
        let html = with_loader(MEMBER_PAGE, &entry_page, loader).unwrap();
        assert_eq!(
            html,
            "<head>\n<script type=\"module\" async>\nstart('/guihai-aa', '/entry/guihai-bb');\n</script>\n\
             <link rel=\"stylesheet\" href=\"/main-cc.css\"/>\n</head>"
        );
        assert_eq!(stylesheet(&entry_page, ENTRY_APP_DIR).unwrap(), "main-cc.css");
    }

    #[test]
    fn the_real_loader_starts_both_apps_and_keeps_no_comment() {
        let entry_page = MEMBER_PAGE.replace("/guihai-aa", "/entry/guihai-bb");
        let html = with_loader(MEMBER_PAGE, &entry_page, include_str!("../../src/store/loader.js")).unwrap();
        assert!(html.contains("const MEMBER = '/guihai-aa';") && html.contains("const ENTRY = '/entry/guihai-bb';"));
        assert!(!html.contains("__") && !html.lines().any(|line| line.trim_start().starts_with("//")));
    }

    #[test]
    fn a_page_not_shaped_as_expected_is_an_error() {
        assert!(with_loader(MEMBER_PAGE, MEMBER_PAGE, "no app named").is_err());
        assert!(with_loader("<head></head>", MEMBER_PAGE, "").is_err());
        let without_preloads = &MEMBER_PAGE[..MEMBER_PAGE.find("<link rel=\"modulepreload\"").unwrap()];
        assert!(with_loader(without_preloads, MEMBER_PAGE, "").is_err());
    }
}

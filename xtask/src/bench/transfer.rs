//! The first figure: the bytes a phone downloads the first time it opens the app, as built and as the server
//! sends them (the `.gz` and `.br` siblings the build wrote).

use std::ops::Add;
use std::path::Path;

use guihai_core::screens::STAFF_APP_DIR;

use super::kb;
use crate::build::ENTRY_APP_DIR;
use crate::{build, compress, Result};

/// Everything the first load fetches, gzip-compressed, in bytes (1 KB = 1000 bytes here): the budget, and the
/// gate of `cargo xtask test`.
const BUDGET_GZIP: u64 = 250_000;

/// The size of a file, or of several, in bytes: as built, and its `.gz` and `.br` siblings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Size {
    raw: u64,
    gzip: u64,
    brotli: u64,
}

impl Add for Size {
    type Output = Size;

    fn add(self, other: Size) -> Size {
        Size {
            raw: self.raw + other.raw,
            gzip: self.gzip + other.gzip,
            brotli: self.brotli + other.brotli,
        }
    }
}

/// The scanner's decoder worker (index.html): its files are named after it, and only the scanner loads them.
const DECODER_WORKER: &str = "qr-decoder";

/// When a file of `dist/` is downloaded on the first visit.
#[derive(Debug, PartialEq)]
enum Part {
    /// What starts the first visit's app: `index.html`, the entry app's JS glue and wasm (its loader starts the
    /// entry app on a phone that holds nobody's data), the stylesheet.
    App,
    /// Also fetched by the first visit: the JS snippets the entry app imports, the manifest, the service worker.
    Alongside,
    /// The member app: started once the member has signed in (and by every later visit), fetched by the service
    /// worker in the background meanwhile.
    Member,
    /// Only in the service worker's precache, fetched in the background once it installs (the icons, the
    /// scanner's decoder worker).
    Later,
    /// The staff app (`staff/`): fetched when a staff member opens a staff screen, never by a member.
    Staff,
}

fn part(file: &str) -> Part {
    let at_root = !file.contains('/');
    let app_file = |name: &str| [".js", ".wasm"].iter().any(|ending| name.ends_with(ending));
    match file {
        _ if file.starts_with(&format!("{STAFF_APP_DIR}/")) => Part::Staff,
        _ if file.starts_with(&format!("{ENTRY_APP_DIR}/snippets/")) => Part::Alongside,
        _ if file
            .strip_prefix(&format!("{ENTRY_APP_DIR}/"))
            .is_some_and(|name| !name.contains('/') && app_file(name)) =>
        {
            Part::App
        }
        "manifest.webmanifest" | "sw.js" => Part::Alongside,
        "index.html" => Part::App,
        _ if file.starts_with("snippets/") => Part::Member,
        _ if file.starts_with(DECODER_WORKER) => Part::Later,
        _ if at_root && file.ends_with(".css") => Part::App,
        _ if at_root && app_file(file) => Part::Member,
        _ => Part::Later,
    }
}

pub struct FirstLoad {
    app: Vec<(String, Size)>,
    alongside: Vec<(String, Size)>,
    member: Vec<(String, Size)>,
    staff: Vec<(String, Size)>,
    /// How many files are fetched later, and their bytes as built.
    later_files: usize,
    later_raw: u64,
}

pub fn measure(dist: &Path) -> Result<FirstLoad> {
    let mut first_load = FirstLoad {
        app: Vec::new(),
        alongside: Vec::new(),
        member: Vec::new(),
        staff: Vec::new(),
        later_files: 0,
        later_raw: 0,
    };
    for file in build::dist_files(dist)? {
        let path = dist.join(&file);
        let raw = file_size(&path)?;
        let list = match part(&file) {
            Part::App => &mut first_load.app,
            Part::Alongside => &mut first_load.alongside,
            Part::Member => &mut first_load.member,
            Part::Staff => &mut first_load.staff,
            Part::Later => {
                first_load.later_files += 1;
                first_load.later_raw += raw;
                continue;
            }
        };
        let gzip = file_size(&compress::with_suffix(&path, ".gz"))?;
        let brotli = file_size(&compress::with_suffix(&path, ".br"))?;
        list.push((file, Size { raw, gzip, brotli }));
    }
    if first_load.app.is_empty() {
        return Err(format!("{} holds no built app", dist.display()).into());
    }
    // In the order the browser asks for them: the page first.
    first_load.app.sort_by_key(|(file, _)| file != "index.html");
    Ok(first_load)
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len())
}

fn total(files: &[(String, Size)]) -> Size {
    files.iter().map(|(_, size)| *size).fold(Size::default(), Add::add)
}

fn budget_kept(gzip: u64) -> Result {
    if gzip <= BUDGET_GZIP {
        return Ok(());
    }
    Err(format!(
        "the member's first load is {} gzip, over its budget of {} (xtask/src/bench/transfer.rs): what the entry \
         app (src/entry.rs) starts with grew; cut it, or leave it to the member app",
        kb(gzip),
        kb(BUDGET_GZIP)
    )
    .into())
}

/// Whether `gzip` bytes keep to the budget, in words.
fn verdict(gzip: u64) -> String {
    let budget = format!("the budget is at most {} gzip in total", kb(BUDGET_GZIP));
    if gzip <= BUDGET_GZIP {
        format!("Met: {budget}, and the first load is {}", kb(gzip))
    } else {
        format!(
            "**Not met**: {budget}, and the first load is {}, {} over",
            kb(gzip),
            kb(gzip - BUDGET_GZIP)
        )
    }
}

impl FirstLoad {
    /// The member's first load: the app and what is fetched alongside it.
    fn first_load(&self) -> Size {
        total(&self.app) + total(&self.alongside)
    }

    /// The member app's wasm as served, gzip.
    pub fn wasm_gzip(&self) -> u64 {
        self.member
            .iter()
            .filter(|(file, _)| file.ends_with(".wasm"))
            .map(|(_, size)| size.gzip)
            .sum()
    }

    /// The gate of `cargo xtask test`: an error when the member's first load weighs more than its budget.
    pub fn gate(&self) -> Result {
        let member = self.first_load();
        println!(
            "the member's first load: {} gzip, {} brotli (budget {})",
            kb(member.gzip),
            kb(member.brotli),
            kb(BUDGET_GZIP)
        );
        budget_kept(member.gzip)
    }

    pub fn markdown(&self) -> String {
        let row = |name: &str, size: Size| {
            format!(
                "| {name} | {} | {} | {} |\n",
                kb(size.raw),
                kb(size.gzip),
                kb(size.brotli)
            )
        };
        let files = |files: &[(String, Size)]| -> String {
            files
                .iter()
                .map(|(file, size)| row(&format!("`{file}`"), *size))
                .collect()
        };
        let app = total(&self.app);
        let everything = self.first_load();
        let member_app = total(&self.member);
        let staff = total(&self.staff);
        format!(
            "\
## First-load transfer size

{verdict}.
Chromium asks for brotli, so it receives {brotli}.

| file | raw | gzip | brotli |
|---|--:|--:|--:|
{app_files}{app_total}{alongside_files}{everything_total}
### Method

The files in `dist/` after the release build (Trunk, `wasm-opt -Oz`) and xtask's post-processing. *gzip* and
*brotli* are the `.gz` (level 9) and `.br` (quality 11, window 22) siblings xtask writes; the server sends them as
they are to a browser that accepts them. The first visit fetches `index.html`, whose loader (`src/store/loader.js`)
starts the entry app on a phone that holds nobody's data (`src/entry.rs`: the sign-in page alone, the crate's
`entry` feature, in `dist/{entry}/`): its JS glue and wasm, the stylesheet and the JS snippets it imports; the app
then registers `sw.js` and the browser reads the manifest. The total counts all of them; HTTP headers are not
counted. Once installed, the service worker also precaches the member app (below) and the {later_files} other
files (the icons and the scanner's QR decoder worker, {later_raw} as built) in the background; they are not
counted. 1 KB = 1000 bytes.

### The member app

Every screen a member uses: started once the member has signed in (the sign-in leaves for the next page with a
page load, which the loader answers with the member app) and by every visit after. The service worker fetches it
in the background while the member signs in: {member_gzip_app} gzip ({member_brotli_app} brotli).

| file | raw | gzip | brotli |
|---|--:|--:|--:|
{member_files}{member_total}

### The staff app

A member never downloads it. The staff screens (an organisation's, a township's, a county's, running activities,
sending notices) are a second build of the app with its `staff` feature, in `dist/staff/`: the server gives its
page to the staff paths, and the service worker keeps it on staff members' phones only. It holds the member
screens too, so a staff member moves on inside it. Fetched the first time a staff member opens a staff screen:
{staff_gzip} gzip ({staff_brotli} brotli), against the member app's {member_gzip_app} above.

| file | raw | gzip | brotli |
|---|--:|--:|--:|
{staff_files}{staff_total}",
            verdict = verdict(everything.gzip),
            brotli = kb(everything.brotli),
            app_files = files(&self.app),
            app_total = row("**the app** (index.html, JS, wasm, CSS)", app),
            alongside_files = files(&self.alongside),
            everything_total = row("**total**", everything),
            later_files = self.later_files,
            later_raw = kb(self.later_raw),
            staff_gzip = kb(staff.gzip),
            staff_brotli = kb(staff.brotli),
            entry = ENTRY_APP_DIR,
            member_gzip_app = kb(member_app.gzip),
            member_brotli_app = kb(member_app.brotli),
            member_files = files(&self.member),
            member_total = row("**the member app**", member_app),
            staff_files = files(&self.staff),
            staff_total = row("**the staff app**", staff),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_built_files_by_when_the_first_visit_fetches_them() {
        for file in [
            "index.html",
            "entry/guihai-1a2b_bg.wasm",
            "entry/guihai-1a2b.js",
            "main-3c4d.css",
        ] {
            assert_eq!(part(file), Part::App, "{file}");
        }
        for file in ["sw.js", "manifest.webmanifest", "entry/snippets/guihai-5e6f/src/pwa.js"] {
            assert_eq!(part(file), Part::Alongside, "{file}");
        }
        for file in [
            "guihai-9c0d_bg.wasm",
            "guihai-9c0d.js",
            "snippets/guihai-5e6f/src/pages/scan.js",
        ] {
            assert_eq!(part(file), Part::Member, "{file}");
        }
        for file in [
            "icons/icon-192.png",
            "icons/icon.svg",
            "qr-decoder_loader.js",
            "qr-decoder.js",
            "qr-decoder_bg.wasm",
        ] {
            assert_eq!(part(file), Part::Later, "{file}");
        }
        for file in [
            "staff/index.html",
            "staff/guihai-7a8b_bg.wasm",
            "staff/snippets/guihai-5e6f/src/pwa.js",
        ] {
            assert_eq!(part(file), Part::Staff, "{file}");
        }
    }

    #[test]
    fn the_gate_refuses_a_first_load_over_its_budget() {
        assert!(budget_kept(BUDGET_GZIP).is_ok());
        let refused = budget_kept(BUDGET_GZIP + 1).unwrap_err().to_string();
        assert!(refused.contains("over its budget of 250.0 KB"), "{refused}");
    }

    #[test]
    fn the_budget_is_for_gzip_bytes_in_total() {
        assert!(verdict(250_000).starts_with("Met"));
        assert_eq!(
            verdict(296_500),
            "**Not met**: the budget is at most 250.0 KB gzip in total, and the first load is 296.5 KB, 46.5 KB over"
        );
    }

    #[test]
    fn totals_add_every_encoding() {
        let file = |raw, gzip, brotli| (String::new(), Size { raw, gzip, brotli });
        assert_eq!(
            total(&[file(10, 4, 3), file(5, 2, 1)]),
            Size {
                raw: 15,
                gzip: 6,
                brotli: 4
            }
        );
    }
}

//! Fills in the service worker template that Trunk copied to `dist/sw.js`: the member app's files to precache,
//! the staff app's (kept on staff members' phones only), the staff screens' paths, and a version that changes
//! whenever any file does (so browsers install the update). The entry app is not kept: a phone with the service
//! worker starts the member app.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use guihai_core::screens::{STAFF_APP_DIR, STAFF_PATHS};

use crate::build::ENTRY_APP_DIR;
use crate::Result;

const SERVICE_WORKER: &str = "sw.js";
const PRECACHE_TOKEN: &str = "self.__PRECACHE__";
const STAFF_TOKEN: &str = "self.__STAFF__";
const STAFF_PATHS_TOKEN: &str = "self.__STAFF_PATHS__";
const VERSION_TOKEN: &str = "self.__VERSION__";

/// `files` are dist-relative paths, as listed by the build.
pub fn write(dist: &Path, files: &[String]) -> Result {
    let path = dist.join(SERVICE_WORKER);
    let template = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (index.html should copy public/sw.js)", path.display()))?;
    let (precached, staff) = precached(files);
    let mut hasher = DefaultHasher::new();
    for file in precached.iter().chain(&staff) {
        file.hash(&mut hasher);
        std::fs::read(dist.join(file))?.hash(&mut hasher);
    }
    let version = format!("{:016x}", hasher.finish());
    std::fs::write(&path, render(&template, &precached, &staff, &version)?)?;
    println!(
        "service worker: version {version}, {} files precached, {} of the staff app",
        precached.len(),
        staff.len()
    );
    Ok(())
}

/// Everything but the service worker itself, which the browser fetches on its own terms, and the entry app,
/// which only a phone without the service worker starts (`src/store/loader.js`): the member app's files, and
/// the staff app's.
fn precached(files: &[String]) -> (Vec<&str>, Vec<&str>) {
    let staff_folder = format!("{STAFF_APP_DIR}/");
    let entry_folder = format!("{ENTRY_APP_DIR}/");
    files
        .iter()
        .map(String::as_str)
        .filter(|file| *file != SERVICE_WORKER && !file.starts_with(&entry_folder))
        .partition(|file| !file.starts_with(&staff_folder))
}

fn render(template: &str, precached: &[&str], staff: &[&str], version: &str) -> Result<String> {
    if let Some(token) = [PRECACHE_TOKEN, STAFF_TOKEN, STAFF_PATHS_TOKEN, VERSION_TOKEN]
        .into_iter()
        .find(|token| !template.contains(token))
    {
        return Err(format!("the service worker template has no {token}").into());
    }
    let list = |items: Vec<String>| {
        format!(
            "[{}]",
            items
                .iter()
                .map(|item| json_string(item))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    // "/" is served as index.html too, and a visit usually starts there.
    let urls = std::iter::once("/".to_string()).chain(precached.iter().map(|file| format!("/{file}")));
    Ok(template
        .replace(PRECACHE_TOKEN, &list(urls.collect()))
        .replace(
            STAFF_TOKEN,
            &list(staff.iter().map(|file| format!("/{file}")).collect()),
        )
        .replace(
            STAFF_PATHS_TOKEN,
            &list(STAFF_PATHS.iter().map(|path| path.to_string()).collect()),
        )
        .replace(VERSION_TOKEN, &json_string(version)))
}

/// A JSON (and so JavaScript) string literal.
fn json_string(text: &str) -> String {
    let mut literal = String::from('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                literal.push('\\');
                literal.push(c);
            }
            c if c.is_control() => literal.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_every_file_but_itself_and_the_entry_app_the_staff_app_apart_and_the_version() {
        let files: Vec<String> = [
            "icons/icon.svg",
            "entry/guihai-2.js",
            "index.html",
            "staff/index.html",
            "staff/guihai-1.js",
            "sw.js",
        ]
        .map(String::from)
        .into();
        let template = "const VERSION = self.__VERSION__;\nconst PRECACHE = self.__PRECACHE__;\n\
                        const STAFF = self.__STAFF__;\nconst STAFF_PATHS = self.__STAFF_PATHS__;\n";
        let (precached, staff) = precached(&files);
        assert_eq!(
            render(template, &precached, &staff, "0123abcd").unwrap(),
            "const VERSION = \"0123abcd\";\n\
             const PRECACHE = [\"/\", \"/icons/icon.svg\", \"/index.html\"];\n\
             const STAFF = [\"/staff/index.html\", \"/staff/guihai-1.js\"];\n\
             const STAFF_PATHS = [\"/org/\", \"/township/\", \"/county/\", \"/record/\", \"/receipts/\"];\n"
        );
    }

    #[test]
    fn refuses_a_template_without_its_tokens() {
        assert!(render("const VERSION = self.__VERSION__;", &[], &[], "1").is_err());
    }

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(json_string("a\"b\\c\u{1}d"), r#""a\"b\\c\u0001d""#);
    }
}

//! Fills in the service worker template that Trunk copied to `dist/sw.js`: the list of files to
//! precache and a version that changes whenever any of them does (so browsers install the update).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use crate::Result;

const SERVICE_WORKER: &str = "sw.js";
const PRECACHE_TOKEN: &str = "self.__PRECACHE__";
const VERSION_TOKEN: &str = "self.__VERSION__";

/// `files` are dist-relative paths, as listed by the build.
pub fn write(dist: &Path, files: &[String]) -> Result {
    let path = dist.join(SERVICE_WORKER);
    let template = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: {e} (index.html should copy public/sw.js)", path.display()))?;
    let precached = precached(files);
    let mut hasher = DefaultHasher::new();
    for file in &precached {
        file.hash(&mut hasher);
        std::fs::read(dist.join(file))?.hash(&mut hasher);
    }
    let version = format!("{:016x}", hasher.finish());
    std::fs::write(&path, render(&template, &precached, &version)?)?;
    println!("service worker: version {version}, {} files precached", precached.len());
    Ok(())
}

/// Everything but the service worker itself, which the browser fetches on its own terms.
fn precached(files: &[String]) -> Vec<&str> {
    files
        .iter()
        .map(String::as_str)
        .filter(|file| *file != SERVICE_WORKER)
        .collect()
}

fn render(template: &str, precached: &[&str], version: &str) -> Result<String> {
    if let Some(token) = [PRECACHE_TOKEN, VERSION_TOKEN]
        .into_iter()
        .find(|token| !template.contains(token))
    {
        return Err(format!("the service worker template has no {token}").into());
    }
    // "/" is served as index.html too, and a visit usually starts there.
    let urls: Vec<String> = std::iter::once("/".to_string())
        .chain(precached.iter().map(|file| format!("/{file}")))
        .map(|url| json_string(&url))
        .collect();
    Ok(template
        .replace(PRECACHE_TOKEN, &format!("[{}]", urls.join(", ")))
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
    fn fills_in_every_file_but_itself_and_the_version() {
        let files: Vec<String> = ["icons/icon.svg", "index.html", "sw.js"].map(String::from).into();
        let template = "const VERSION = self.__VERSION__;\nconst PRECACHE = self.__PRECACHE__;\n";
        assert_eq!(
            render(template, &precached(&files), "0123abcd").unwrap(),
            "const VERSION = \"0123abcd\";\n\
             const PRECACHE = [\"/\", \"/icons/icon.svg\", \"/index.html\"];\n"
        );
    }

    #[test]
    fn refuses_a_template_without_its_tokens() {
        assert!(render("const VERSION = self.__VERSION__;", &[], "1").is_err());
    }

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(json_string("a\"b\\c\u{1}d"), r#""a\"b\\c\u0001d""#);
    }
}

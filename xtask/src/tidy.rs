//! House rules, checked by `cargo xtask test` (the workspace's native tests):
//! - the app's words live in `src/locales/zh.json` and `en.json`, with the same keys in both, and every key the
//!   code names literally (`i18n.t("…")`, `i18n.t_with("…", …)`) is in them: a screen never shows a bare key;
//! - pages never touch storage or the network themselves: only `store/`, `api.rs`, `sync/` and `pwa.rs` do.

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn keys(lang: &str) -> BTreeSet<String> {
        let text = std::fs::read_to_string(repo().join(format!("src/locales/{lang}.json"))).unwrap();
        let words: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        words.into_iter().map(|(key, _)| key).collect()
    }

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    /// The literal keys after `.t("` and `.t_with("` in the app's code, with where each is.
    fn named_keys() -> Vec<(String, PathBuf)> {
        let mut files = Vec::new();
        rust_files(&repo().join("src"), &mut files);
        let mut named = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for opening in [".t(\"", ".t_with(\""] {
                for (at, _) in text.match_indices(opening) {
                    let rest = &text[at + opening.len()..];
                    let key = &rest[..rest.find('"').unwrap()];
                    named.push((key.to_owned(), file.clone()));
                }
            }
        }
        named
    }

    #[test]
    fn pages_reach_storage_and_the_network_only_through_the_edges() {
        let mut files = Vec::new();
        rust_files(&repo().join("src"), &mut files);
        let src = repo().join("src");
        let edges = ["store", "api.rs", "sync", "pwa.rs"];
        let mut broken = Vec::new();
        for file in files {
            let relative = file.strip_prefix(&src).unwrap();
            if edges.iter().any(|edge| relative.starts_with(edge)) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            for touch in [
                "reqwest",
                "indexed_db",
                "Idb",
                "local_storage",
                "LocalStorage",
                "gloo_storage",
                "fetch_with",
            ] {
                if text.contains(touch) {
                    broken.push(format!("{}: {touch}", relative.display()));
                }
            }
        }
        assert!(broken.is_empty(), "pages touching storage or the network: {broken:?}");
    }

    #[test]
    fn both_languages_have_the_same_words() {
        let (zh, en) = (keys("zh"), keys("en"));
        assert_eq!(
            zh.difference(&en).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "in Chinese only"
        );
        assert_eq!(
            en.difference(&zh).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "in English only"
        );
    }

    #[test]
    fn every_key_the_code_names_has_its_words() {
        let zh = keys("zh");
        let named = named_keys();
        assert!(named.len() > 100, "the scan finds the code's keys");
        let missing: Vec<_> = named.iter().filter(|(key, _)| !zh.contains(key)).collect();
        assert!(missing.is_empty(), "keys without words: {missing:?}");
    }
}

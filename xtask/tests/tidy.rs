//! House rules checked on every test run: file headers, translations, and the core's independence.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use guihai_core::certificate::Grade;
use guihai_core::domain::ActivityKind;
use guihai_core::profile::{Field, FieldError};
use guihai_core::qr::CodeError;
use guihai_core::sync::Rejection;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the repo root")
        .to_owned()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources(folders: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    folders.iter().for_each(|f| rust_files(&repo().join(f), &mut files));
    files
}

/// The keys of one translation file (`zh`, `zh.staff`, `en`).
fn keys_of(file: &str) -> BTreeSet<String> {
    let text = fs::read_to_string(repo().join(format!("src/locales/{file}.json"))).unwrap();
    let table: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
    table.keys().cloned().collect()
}

/// Every key of a language: Chinese is in three files, the entry app's and the staff app's own keys apart
/// (`i18n::chinese`).
fn translation_keys(locale: &str) -> BTreeSet<String> {
    let mut keys = keys_of(locale);
    if locale == "zh" {
        keys.extend(keys_of("zh.entry"));
        keys.extend(keys_of("zh.staff"));
    }
    keys
}

/// The app's files the entry app (`src/entry.rs`) shows texts from: itself, the sign-in page, the header and
/// what it shows (`app.rs`), and the shell's parts it has.
const ENTRY_SOURCES: [&str; 8] = [
    "src/entry.rs",
    "src/pages/signin.rs",
    "src/app.rs",
    "src/wechat.rs",
    "src/toast.rs",
    "src/pwa.rs",
    "src/i18n.rs",
    "src/store/mod.rs",
];

/// The string literals in `text` that look like a key of `keys` (`area.name`, in an area the files know).
fn key_like_literals(text: &str, keys: &BTreeSet<String>) -> BTreeSet<String> {
    let areas: BTreeSet<&str> = keys.iter().filter_map(|k| k.split('.').next()).collect();
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|literal| {
            literal.contains('.')
                && literal.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')
                && literal.split('.').next().is_some_and(|area| areas.contains(area))
        })
        .map(str::to_owned)
        .collect()
}

/// The entry app carries only `zh.entry.json` (`i18n::chinese`): every text its files use must be there, or it
/// would show the key; and no text none of them uses, as every member downloads it first. (A file at a time: a
/// file the entry app shows one part of brings all its texts.)
#[test]
fn the_entry_apps_texts_are_the_ones_it_shows() {
    let keys = translation_keys("zh");
    let text: String = ENTRY_SOURCES
        .iter()
        .map(|path| fs::read_to_string(repo().join(path)).unwrap())
        .collect();
    assert!(
        !text.contains(".{"),
        "the entry app's files build no keys (they could not be checked)"
    );
    let used = key_like_literals(&text, &keys);
    let entry = keys_of("zh.entry");
    assert_eq!(
        used.difference(&entry).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "used by the entry app's files: move them to zh.entry.json"
    );
    assert_eq!(
        entry.difference(&used).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "in zh.entry.json but not used by the entry app's files: move them to zh.json"
    );
    assert!(
        entry.is_disjoint(&keys_of("zh")) && entry.is_disjoint(&keys_of("zh.staff")),
        "a key in two Chinese files"
    );
}

/// The app's files only the staff build compiles (`#[cfg(feature = "staff")]` on their modules).
fn staff_only_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (folder, declared) in [
        ("src/pages", "src/pages/mod.rs"),
        ("src/pages/activities", "src/pages/activities/mod.rs"),
    ] {
        let text = fs::read_to_string(repo().join(declared)).unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() == "#[cfg(feature = \"staff\")]" {
                let item = lines.next().unwrap_or_default().trim().trim_end_matches(';');
                if let Some((_, name)) = item.split_once("mod ") {
                    files.push(repo().join(folder).join(format!("{name}.rs")));
                }
            }
        }
    }
    files
}

/// The staff app's own Chinese keys are used by staff screens only: a member screen showing one would show the
/// key, as the member app does not carry that file. And each is used by one, or it belongs nowhere.
#[test]
fn the_staff_apps_own_texts_are_used_by_staff_screens_only() {
    let staff_files = staff_only_sources();
    assert!(staff_files.len() >= 10, "staff-only modules found: {staff_files:?}");
    let text_of =
        |files: &mut dyn Iterator<Item = PathBuf>| files.map(|p| fs::read_to_string(p).unwrap()).collect::<String>();
    let staff_text = text_of(&mut staff_files.iter().cloned());
    let member_text = text_of(&mut sources(&["src"]).into_iter().filter(|p| !staff_files.contains(p)));
    for key in keys_of("zh.staff") {
        assert!(
            !member_text.contains(&key),
            "{key} is in zh.staff.json but a member screen uses it: move it to zh.json"
        );
        let family = key.rsplit_once('.').map(|(family, _)| format!("\"{family}.{{"));
        assert!(
            !family.is_some_and(|family| member_text.contains(&family)),
            "{key} is in zh.staff.json but a member screen builds keys of its family"
        );
        assert!(
            staff_text.contains(&format!("\"{key}\"")),
            "{key} is in zh.staff.json but no staff screen uses it"
        );
    }
    assert!(
        keys_of("zh").is_disjoint(&keys_of("zh.staff")),
        "a key in both Chinese files"
    );
}

#[test]
fn every_rust_file_says_what_it_is() {
    let missing: Vec<_> = sources(&["src", "tests", "crates", "xtask"])
        .into_iter()
        .filter(|path| !fs::read_to_string(path).unwrap().starts_with("//!"))
        .collect();
    assert!(missing.is_empty(), "files without a `//!` first line: {missing:?}");
}

#[test]
fn chinese_and_english_have_the_same_keys() {
    let (zh, en) = (translation_keys("zh"), translation_keys("en"));
    assert_eq!(
        zh.difference(&en).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing in en.json"
    );
    assert_eq!(
        en.difference(&zh).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing in zh.json"
    );
}

/// Every string literal in the app that looks like a translation key (`area.name`, in an area the files
/// know) must be in the files; messages built from core's error keys must be there too.
#[test]
fn every_key_the_app_uses_is_translated() {
    let keys = translation_keys("zh");
    let mut missing = BTreeSet::new();
    for path in sources(&["src"]) {
        missing.extend(key_like_literals(&fs::read_to_string(&path).unwrap(), &keys));
    }
    for error in CodeError::ALL {
        missing.insert(format!("code.{}", error.as_str()));
    }
    for rejection in Rejection::OTHERS {
        missing.insert(format!("refused.{}", rejection.key()));
    }
    for field in Field::ALL {
        missing.insert(format!("profile.field.{}", field.as_str()));
    }
    for error in FieldError::ALL {
        missing.insert(format!("profile.error.{}", error.as_str()));
    }
    for kind in ActivityKind::ALL {
        missing.insert(format!("kind.{}", kind.as_str()));
    }
    for grade in Grade::ALL {
        missing.insert(format!("grade.{}", grade.as_str()));
    }
    for kind in guihai_core::domain::OrgKind::ALL {
        missing.insert(format!("org_kind.{}", kind.as_str()));
    }
    for problem in guihai_core::roster::Problem::ALL {
        missing.insert(format!("roster.problem.{}", problem.as_str()));
    }
    for column in guihai_core::roster::Column::ALL {
        missing.insert(format!("roster.col.{}", column.as_str()));
    }
    // Where a member stands (`situation_words`), and what to do next where the home screen says it.
    let situations = ["newcomer", "reported", "at", "leaving", "between", "returned_home"];
    for situation in situations {
        missing.insert(format!("situation.{situation}"));
    }
    for situation in ["newcomer", "between", "returned_home"] {
        missing.insert(format!("situation.next.{situation}"));
    }
    missing.retain(|key| !keys.contains(key));
    assert!(missing.is_empty(), "keys used but not translated: {missing:?}");
}

/// The app reads JSON from bytes only (`serde_json::from_slice`, as core's `Reply::from_http` and reqwest do):
/// a `from_str` anywhere brings a second copy of every JSON reader into the member's first load.
#[test]
fn the_app_reads_json_one_way() {
    let from_str: Vec<_> = sources(&["src"])
        .into_iter()
        .filter(|path| fs::read_to_string(path).unwrap().contains("serde_json::from_str"))
        .collect();
    assert!(
        from_str.is_empty(),
        "serde_json::from_str in the app (use from_slice): {from_str:?}"
    );
}

#[test]
fn the_core_depends_on_nothing_of_the_browser_or_the_server() {
    let manifest = fs::read_to_string(repo().join("crates/core/Cargo.toml")).unwrap();
    for forbidden in [
        "leptos",
        "web-sys",
        "wasm-bindgen",
        "gloo",
        "axum",
        "sqlx",
        "tokio",
        "reqwest",
        "tower",
    ] {
        assert!(
            !manifest.contains(forbidden),
            "crates/core must not depend on {forbidden}"
        );
    }
}

/// The store owns every key: nothing outside `src/store/` touches IndexedDB or localStorage.
#[test]
fn only_the_store_touches_storage() {
    let store = repo().join("src").join("store");
    let offenders: Vec<_> = sources(&["src"])
        .into_iter()
        .filter(|path| !path.starts_with(&store))
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap();
            [
                "gloo_storage",
                "LocalStorage",
                "IdbDatabase",
                "IdbTransaction",
                "indexedDB",
            ]
            .iter()
            .any(|api| text.contains(api))
        })
        .collect();
    assert!(offenders.is_empty(), "storage used outside src/store: {offenders:?}");
}

/// Pages are screens only: the network is `api`'s (with its deadlines and session handling), never a page's own.
#[test]
fn pages_reach_the_network_through_api() {
    let offenders: Vec<_> = sources(&["src/pages"])
        .into_iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap();
            ["reqwest", "fetch_with", "XMLHttpRequest"]
                .iter()
                .any(|api| text.contains(api))
        })
        .collect();
    assert!(offenders.is_empty(), "network used outside src/api.rs: {offenders:?}");
}

/// The page's loader (`src/store/loader.js`) asks in JavaScript whether the phone holds anybody's data, and
/// starts the entry app (`src/entry.rs`) on the paths it has: its names must be the store's and the entry's.
#[test]
fn the_loader_names_what_the_store_and_the_entry_app_name() {
    let read = |path: &str| fs::read_to_string(repo().join(path)).unwrap();
    let quoted = |text: &str, before: &str| -> String {
        let start = text.find(before).unwrap_or_else(|| panic!("no {before}")) + before.len();
        text[start..].split('"').next().unwrap().to_owned()
    };
    let loader = read("src/store/loader.js");
    let database = quoted(&read("src/store/mod.rs"), "const NAME: &str = \"");
    assert!(
        loader.contains(&format!("db.name === '{database}'")),
        "the store's database"
    );
    let legacy = read("src/store/legacy.rs");
    let prefix = quoted(&legacy, "const PREFIX: &str = \"");
    assert!(
        loader.contains(&format!("startsWith('{prefix}')")),
        "the localStorage build's keys"
    );
    let kept = legacy
        .split("pub const KEPT")
        .nth(1)
        .unwrap()
        .split(';')
        .nth(1)
        .unwrap();
    for key in kept.split('"').skip(1).step_by(2) {
        assert!(
            loader.contains(&format!("'{prefix}{key}'")),
            "{prefix}{key}, kept in localStorage"
        );
    }
    // The paths the loader starts the entry app for, all of them: one the entry app lacks would be handed back to
    // the loader, which would start the entry app again, and again.
    assert!(
        loader.contains("if (path !== '/' && path !== '/signin' && !path.startsWith('/q/')) return false;"),
        "the loader's paths changed: the entry app must have each one (src/entry.rs), and this test must list it"
    );
    let entry = read("src/entry.rs");
    for route in ["/signin", "/"] {
        assert!(
            loader.contains(&format!("'{route}'")),
            "the loader starts the entry app for {route}"
        );
        assert!(
            entry.contains(&format!("path!(\"{route}\")")),
            "the entry app has {route}"
        );
    }
    let code_links = quoted(&read("crates/core/src/qr/mod.rs"), "pub const LINK_PATH: &str = \"");
    assert!(
        loader.contains(&format!("startsWith('{code_links}')")),
        "the loader starts the entry app for code links"
    );
    assert!(
        entry.contains("path.starts_with(LINK_PATH)"),
        "the entry app opens code links"
    );
}

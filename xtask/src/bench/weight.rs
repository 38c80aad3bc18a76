//! What weighs what in the member's wasm: twiggy's list of every function and data segment of the wasm as
//! wasm-bindgen left it (the last with the functions' names; wasm-opt comes after), summed by the crate whose
//! code each is, and the crates by area.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::kb;
use crate::process::{capture, Workspace};
use crate::Result;

/// The areas the crates make up, in the order the report lists them; a crate in none is in "other".
const AREAS: [(&str, &[&str]); 9] = [
    (
        "the view layer (Leptos)",
        &[
            "leptos",
            "leptos_dom",
            "leptos_router",
            "leptos_meta",
            "tachys",
            "reactive_graph",
            "either_of",
            "any_spawner",
            "throw_error",
            "oco_ref",
            "next_tuple",
            "or_poisoned",
            "send_wrapper",
            "slotmap",
            "guardian",
            "const_str_slice_concat",
        ],
    ),
    ("the app's own code (`src/`)", &["guihai"]),
    ("the protocol and domain (`crates/core`)", &["guihai_core"]),
    (
        "JSON and binary values (serde)",
        &["serde", "serde_core", "serde_json", "postcard", "zmij", "itoa", "ryu"],
    ),
    (
        "HTTP (reqwest)",
        &[
            "reqwest",
            "http",
            "url",
            "idna",
            "bytes",
            "form_urlencoded",
            "percent_encoding",
            "utf8_iter",
        ],
    ),
    (
        "signatures and hashes",
        &[
            "ed25519_dalek",
            "curve25519_dalek",
            "sha2",
            "digest",
            "block_buffer",
            "subtle",
            "base64",
        ],
    ),
    (
        "bindings to the browser",
        &[
            "js_sys",
            "web_sys",
            "wasm_bindgen",
            "wasm_bindgen_futures",
            "gloo_storage",
            "gloo_utils",
            "gloo_timers",
        ],
    ),
    (
        "futures and locks",
        &[
            "futures_util",
            "futures_channel",
            "futures_core",
            "futures_executor",
            "async_lock",
            "event_listener",
            "pin_project_lite",
        ],
    ),
    (
        "Rust's own library",
        &[
            "core",
            "alloc",
            "std",
            "dlmalloc",
            "hashbrown",
            "compiler_builtins",
            "indexmap",
            "smallvec",
            "__rustc",
        ],
    ),
];
/// `core::ptr::drop_in_place`, one for each type that owns something: Rust's, but written for the types of all.
const DROPS: &str = "each type's drop code (`drop_in_place`)";
const OTHER: &str = "other crates, and the module's imports, tables and glue";
const DATA: &str = "constant data (texts, tables)";

#[derive(Deserialize)]
struct Item {
    name: String,
    shallow_size: u64,
}

/// The areas' bytes, in `AREAS`' order then the rest, and the data.
pub struct Weights {
    areas: Vec<(&'static str, u64)>,
    /// The Chinese translations, built into the data.
    chinese: u64,
}

pub fn measure(ws: &Workspace, wasm: &Path) -> Result<Weights> {
    let listed = capture(
        ws.command("twiggy")
            .args(["top", "-n", "1000000", "--format", "json"])
            .arg(wasm),
    )?;
    let items: Vec<Item> = serde_json::from_str(&listed).map_err(|e| format!("twiggy printed unexpected JSON: {e}"))?;
    let mut chinese = 0;
    for file in ["zh.entry.json", "zh.json"] {
        chinese += std::fs::metadata(ws.root.join("src/locales").join(file))?.len();
    }
    Ok(Weights {
        areas: by_area(&items),
        chinese,
    })
}

fn by_area(items: &[Item]) -> Vec<(&'static str, u64)> {
    let mut sums: BTreeMap<&'static str, u64> = BTreeMap::new();
    for item in items {
        let area = if item.name.starts_with("data segment") {
            DATA
        } else if item.name.starts_with("custom section") || item.name.ends_with(" subsection") {
            // The names, and any other custom section: none is left in the app as served.
            continue;
        } else {
            let krate = crate_of(&item.name);
            if krate == "core" && item.name.contains("::ptr::drop_in_place") {
                DROPS
            } else {
                AREAS
                    .iter()
                    .find(|(_, crates)| crates.contains(&krate))
                    .map_or(OTHER, |(area, _)| *area)
            }
        };
        *sums.entry(area).or_default() += item.shallow_size;
    }
    AREAS
        .iter()
        .map(|(area, _)| *area)
        .chain([DROPS, OTHER, DATA])
        .map(|area| (area, sums.get(area).copied().unwrap_or(0)))
        .collect()
}

/// The crate whose code a function is: a path's first segment, and for `<T as Trait>::f` the type's, or the
/// trait's when the type is a parameter or a reference to one.
fn crate_of(name: &str) -> &str {
    let name = name.trim_start_matches(['<', '&', '*', '(', '[']);
    let name = name
        .strip_prefix("mut ")
        .or_else(|| name.strip_prefix("dyn "))
        .unwrap_or(name);
    let first = leading_path(name);
    match name.find(" as ") {
        // A parameter, a tuple or an array of them: the trait's crate.
        Some(at) if !first.contains("::") => crate_of(&name[at + " as ".len()..]),
        _ if PRIMITIVES.contains(&first) => "core",
        _ => first
            .split("::")
            .next()
            .unwrap_or(first)
            .split('[')
            .next()
            .unwrap_or(first),
    }
}

/// Types of the language itself, whose methods are `core`'s (`<u64>::fmt`).
const PRIMITIVES: [&str; 16] = [
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64", "bool",
    "char",
];

/// The path a name starts with: letters, digits, `_`, `::` and a crate's `[hash]`.
fn leading_path(name: &str) -> &str {
    let end = name
        .char_indices()
        .find(|&(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '[' | ']')))
        .map_or(name.len(), |(at, _)| at);
    &name[..end]
}

impl Weights {
    /// `wasm_gzip`: the member's wasm as served, for the estimate of each area's share of it.
    pub fn markdown(&self, wasm_gzip: u64) -> String {
        let total: u64 = self.areas.iter().map(|(_, bytes)| bytes).sum();
        let share = |bytes: u64| bytes as f64 / total.max(1) as f64;
        let rows: String = self
            .areas
            .iter()
            .map(|&(area, bytes)| {
                format!(
                    "| {area} | {} | {:.0} % | about {} |\n",
                    kb(bytes),
                    100.0 * share(bytes),
                    kb((share(bytes) * wasm_gzip as f64).round() as u64)
                )
            })
            .collect();
        format!(
            "\
### What weighs what

The member's wasm by the crates its code comes from, as wasm-bindgen left it (before wasm-opt, the last step
with its functions' names), from [twiggy](https://crates.io/crates/twiggy)'s list of every function and data
segment: each function counts for the crate it belongs to (a generic function for the crate that wrote it,
whatever it was instantiated with; `<T as Trait>::f` for the type's crate, or the trait's when the type is a
parameter). The last column spreads the served wasm ({wasm_gzip}) by the same shares: an estimate, as
wasm-opt and gzip do not shrink every part alike.

| area | before wasm-opt | share | of the served wasm, gzip |
|---|--:|--:|--:|
{rows}| **in all** | {total_kb} | 100 % | {wasm_gzip} |

The Chinese translations, built into the data so that the first screen needs no second request, are
{chinese} of it (`zh.entry.json` and `zh.json`; the entry app carries the first alone, the staff screens' own are
in the staff app only, and English is fetched when a member chooses it).
",
            wasm_gzip = kb(wasm_gzip),
            total_kb = kb(total),
            chinese = kb(self.chinese),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_counts_for_its_own_crate_or_its_types() {
        assert_eq!(
            crate_of("guihai::store::outbox::settle::{{closure}}::h97eafefd45f5b20c"),
            "guihai"
        );
        assert_eq!(
            crate_of("core[c5930c85a12de822]::fmt::float::float_to_decimal_common_shortest::<f64>"),
            "core"
        );
        assert_eq!(
            crate_of("<either_of::EitherOf16<A,B> as leptos_router::matching::choose_view::ChooseView>::choose"),
            "either_of"
        );
        assert_eq!(
            crate_of("<T as tachys::view::any_view::IntoAny>::into_any::rebuild::h3edadb506fb3931d"),
            "tachys"
        );
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R> as serde_core::de::Deserializer>::deserialize_seq"),
            "serde_json"
        );
        assert_eq!(crate_of("<&T as core::fmt::Debug>::fmt"), "core");
        assert_eq!(crate_of("dlmalloc"), "dlmalloc");
        assert_eq!(crate_of("<(A,B,C) as tachys::view::Render>::build"), "tachys");
        assert_eq!(
            crate_of("<[T; N] as serde_core::de::Deserialize>::deserialize"),
            "serde_core"
        );
        assert_eq!(crate_of("<u64>::_fmt"), "core");
    }

    #[test]
    fn sums_by_area_leaving_out_names_and_bindgen_sections() {
        let item = |name: &str, shallow_size| Item {
            name: name.into(),
            shallow_size,
        };
        let items = [
            item("\"function names\" subsection", 1000),
            item("custom section '__wasm_bindgen_unstable'", 500),
            item("data segment \".rodata\"", 40),
            item("tachys::html::element::build", 30),
            item("<T as reactive_graph::traits::Get>::get", 20),
            item("guihai_core::sync::classify", 7),
            item("no_such_crate::f", 3),
            item(
                "core[c5930c85a12de822]::ptr::drop_in_place<tachys::html::element::ElementState>",
                9,
            ),
        ];
        let areas = by_area(&items);
        let of = |area: &str| areas.iter().find(|(a, _)| *a == area).map(|(_, bytes)| *bytes);
        assert_eq!(of(AREAS[0].0), Some(50));
        assert_eq!(of(AREAS[2].0), Some(7));
        assert_eq!(of(OTHER), Some(3));
        assert_eq!(of(DROPS), Some(9));
        assert_eq!(of(DATA), Some(40));
        assert_eq!(areas.iter().map(|(_, bytes)| bytes).sum::<u64>(), 109);
        let markdown = Weights { areas, chinese: 31_000 }.markdown(109_000);
        assert!(
            markdown.contains("| the view layer (Leptos) | 0.1 KB | 46 % | about 50.0 KB |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("| **in all** | 0.1 KB | 100 % | 109.0 KB |"),
            "{markdown}"
        );
    }
}

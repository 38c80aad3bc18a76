//! UI text in Chinese (default, built in) and English (fetched when chosen), from the translation files in
//! `locales/`; the choice is remembered.

use std::collections::HashMap;
use std::sync::OnceLock;

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Zh,
    En,
}

impl Locale {
    fn tag(self) -> &'static str {
        match self {
            Locale::Zh => "zh-CN",
            Locale::En => "en",
        }
    }
}

type Table = HashMap<String, String>;

/// Where the built app serves the English translation file (index.html copies it there).
const ENGLISH_FILE: &str = "/locales/en.json";

/// From bytes, as all JSON in the app (`store::codec::from_json`).
fn parse(text: &str) -> Option<Table> {
    serde_json::from_slice(text.as_bytes()).ok()
}

/// The texts only staff screens use (checked by xtask's tidy test), in the staff app alone: members need not
/// download them.
#[cfg(feature = "staff")]
const STAFF_CHINESE: &str = include_str!("locales/zh.staff.json");
#[cfg(not(feature = "staff"))]
const STAFF_CHINESE: &str = "{}";

/// The texts of every screen but the entry app's (the sign-in page and the header, in `zh.entry.json`, which
/// every app carries): the entry app, a phone's first download, leaves them out (checked by xtask's tidy test).
#[cfg(not(feature = "entry"))]
const MEMBER_CHINESE: &str = include_str!("locales/zh.json");
#[cfg(feature = "entry")]
const MEMBER_CHINESE: &str = "{}";

fn chinese() -> &'static Table {
    static CHINESE: OnceLock<Table> = OnceLock::new();
    CHINESE.get_or_init(|| {
        let valid = "translation files are valid JSON (tested)";
        let mut table = parse(include_str!("locales/zh.entry.json")).expect(valid);
        table.extend(parse(MEMBER_CHINESE).expect(valid));
        table.extend(parse(STAFF_CHINESE).expect(valid));
        table
    })
}

/// English, once fetched (`load_english`): it is not in the app's first load, which every member downloads and
/// most, reading Chinese, would never use. The service worker keeps the file, so it loads offline too.
static ENGLISH: OnceLock<Table> = OnceLock::new();

/// Fetches the English table unless it is here already; says whether it is.
pub async fn load_english() -> bool {
    if ENGLISH.get().is_some() {
        return true;
    }
    let Some(table) = crate::api::text_file(ENGLISH_FILE).await.as_deref().and_then(parse) else {
        return false;
    };
    let _ = ENGLISH.set(table);
    true
}

/// Looks up `key` in `locale`, falling back to Chinese, then to the key itself so a gap is visible, not blank.
pub fn lookup(locale: Locale, key: &str) -> String {
    let zh = chinese();
    let table = match locale {
        Locale::En => ENGLISH.get(),
        Locale::Zh => None,
    };
    table
        .and_then(|table| table.get(key))
        .or_else(|| zh.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The current language, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    locale: RwSignal<Locale>,
    switching: RwSignal<bool>,
}

impl I18n {
    /// The language the member chose last time (English once `load_english` has brought it), Chinese by
    /// default.
    pub fn load() -> I18n {
        let locale = if chose_english() && ENGLISH.get().is_some() {
            Locale::En
        } else {
            Locale::Zh
        };
        let i18n = I18n {
            locale: RwSignal::new(locale),
            switching: RwSignal::new(false),
        };
        i18n.apply_lang_attribute();
        if chose_english() && locale == Locale::Zh {
            // Not fetched before the start (no service worker yet): English follows as soon as it comes.
            leptos::task::spawn_local(async move {
                // Asked again once it came: the member may have switched back to Chinese meanwhile.
                if load_english().await && chose_english() {
                    i18n.set(Locale::En);
                }
            });
        }
        i18n
    }

    /// Reactive translation: re-runs when the language changes.
    pub fn t(&self, key: &str) -> String {
        lookup(self.locale.get(), key)
    }

    /// Translation with `{name}` placeholders filled in.
    pub fn t_with(&self, key: &str, args: &[(&str, &str)]) -> String {
        args.iter().fold(self.t(key), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
    }

    pub fn locale(&self) -> Locale {
        self.locale.get()
    }

    /// Whether a switch is under way (English being fetched): the switch waits, and takes no second tap.
    pub fn switching(&self) -> bool {
        self.switching.get()
    }

    /// Switches to the other language and remembers it; false when that is English and it could not be fetched
    /// (offline before the service worker kept it), and nothing changed.
    pub async fn toggle(self) -> bool {
        if self.switching.get_untracked() {
            return true;
        }
        let next = match self.locale.get_untracked() {
            Locale::Zh => {
                self.switching.set(true);
                let loaded = load_english().await;
                self.switching.set(false);
                if !loaded {
                    return false;
                }
                Locale::En
            }
            Locale::En => Locale::Zh,
        };
        crate::store::hints::set_locale(if next == Locale::En { "en" } else { "zh" });
        self.set(next);
        true
    }

    fn set(&self, locale: Locale) {
        self.locale.set(locale);
        self.apply_lang_attribute();
    }

    fn apply_lang_attribute(&self) {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", self.locale.get_untracked().tag());
        }
    }
}

/// Whether the member chose English on this phone: the choice belongs to the phone, not to the member, and
/// outlives sign-out.
pub fn chose_english() -> bool {
    crate::store::hints::locale().as_deref() == Some("en")
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

//! UI text in Chinese (default) and English, from the translation files in `locales/`; the choice is remembered.

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

fn tables() -> &'static (Table, Table) {
    static TABLES: OnceLock<(Table, Table)> = OnceLock::new();
    TABLES.get_or_init(|| {
        let parse = |text: &str| serde_json::from_str(text).expect("translation files are valid JSON (tested)");
        (
            parse(include_str!("locales/zh.json")),
            parse(include_str!("locales/en.json")),
        )
    })
}

/// Looks up `key` in `locale`, falling back to Chinese, then to the key itself so a gap is visible, not blank.
pub fn lookup(locale: Locale, key: &str) -> String {
    let (zh, en) = tables();
    let table = if locale == Locale::En { en } else { zh };
    table
        .get(key)
        .or_else(|| zh.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

/// The current language, shared through context.
#[derive(Clone, Copy)]
pub struct I18n {
    locale: RwSignal<Locale>,
}

impl I18n {
    /// The language the member chose last time, Chinese by default.
    pub fn load() -> I18n {
        // The language choice belongs to the phone, not to the member: it outlives sign-out.
        let saved = crate::store::hints::locale();
        let locale = if saved.as_deref() == Some("en") {
            Locale::En
        } else {
            Locale::Zh
        };
        let i18n = I18n {
            locale: RwSignal::new(locale),
        };
        i18n.apply_lang_attribute();
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

    pub fn toggle(&self) {
        let next = if self.locale.get_untracked() == Locale::Zh {
            Locale::En
        } else {
            Locale::Zh
        };
        self.locale.set(next);
        crate::store::hints::set_locale(if next == Locale::En { "en" } else { "zh" });
        self.apply_lang_attribute();
    }

    fn apply_lang_attribute(&self) {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("lang", self.locale.get_untracked().tag());
        }
    }
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

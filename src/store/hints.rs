//! What the phone keeps in localStorage (gloo-storage) because losing it does no harm: the language chosen,
//! larger text (长辈模式), the code link to open once the member has signed in, and why the last session ended.
//! Everything of the member is in IndexedDB.

use gloo_storage::{LocalStorage, Storage};

// The keys the localStorage build used for the same things, so they carry over.
const LOCALE: &str = "gh1:locale";
const AFTER_SIGN_IN: &str = "gh1:after_sign_in";
// Not under `gh1:`: the move from the localStorage build (`legacy.rs`) takes every other `gh1:` key for its data.
const LARGER_TEXT: &str = "guihai.larger_text";
const INSTALL_DECLINED: &str = "guihai.install_declined";
const SESSION_ENDED: &str = "guihai.session_ended";

/// Why the phone's last session ended without anyone signing out on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnded {
    /// The server ended it (a long silence, a changed PIN): what waits stays on the phone.
    Expired,
    /// Another of the member's phones revoked this one, and it wiped itself.
    Revoked,
}

/// Why the last session ended, until someone signs in: the page that heard it says so, and so does every page
/// opened after it (the sign-in page the member lands on) rather than nothing.
pub fn session_ended() -> Option<SessionEnded> {
    // Kept as a word, read as the language is: no code of its own in the app for it.
    match LocalStorage::get::<String>(SESSION_ENDED).ok()?.as_str() {
        "expired" => Some(SessionEnded::Expired),
        "revoked" => Some(SessionEnded::Revoked),
        _ => None,
    }
}

pub fn set_session_ended(why: SessionEnded) {
    let word = match why {
        SessionEnded::Expired => "expired",
        SessionEnded::Revoked => "revoked",
    };
    // Lost: a page opened later does not say why; the member signs in all the same.
    let _ = LocalStorage::set(SESSION_ENDED, word);
}

pub fn forget_session_ended() {
    LocalStorage::delete(SESSION_ENDED);
}

/// Whether the member said no to adding the app to the home screen on this phone.
pub fn install_declined() -> bool {
    LocalStorage::get(INSTALL_DECLINED).unwrap_or(false)
}

pub fn set_install_declined() {
    // Lost: the offer shows once more.
    let _ = LocalStorage::set(INSTALL_DECLINED, true);
}

/// Whether this phone shows larger text and targets (长辈模式).
pub fn larger_text() -> bool {
    LocalStorage::get(LARGER_TEXT).unwrap_or(false)
}

pub fn set_larger_text(on: bool) {
    // Lost: the phone shows normal text until it is switched on again.
    let _ = LocalStorage::set(LARGER_TEXT, on);
}

/// The language chosen on this phone (`"en"` or `"zh"`), if any.
pub fn locale() -> Option<String> {
    LocalStorage::get(LOCALE).ok()
}

pub fn set_locale(tag: &str) {
    // Lost (a full store): the app falls back to Chinese.
    let _ = LocalStorage::set(LOCALE, tag);
}

/// Remembers a code link opened before signing in, to open after.
pub fn remember_after_sign_in(link: &str) {
    // Lost: the member scans again after signing in.
    let _ = LocalStorage::set(AFTER_SIGN_IN, link);
}

pub fn after_sign_in() -> Option<String> {
    LocalStorage::get(AFTER_SIGN_IN).ok()
}

pub fn forget_after_sign_in() {
    LocalStorage::delete(AFTER_SIGN_IN);
}

//! The entry app: what a phone that holds nobody's data downloads on its first visit, to sign in. It is the
//! sign-in page with the app's header and the offer of a new version, nothing else (no sync, no records, no
//! other screen): this crate built again with its `entry` feature, so the first visit fits a cheap phone on a
//! poor link.
//!
//! `src/store/loader.js`, in `index.html`, starts it for `/`, `/signin` and a code link (`/q/…`) when no service
//! worker controls the page and the phone has no `guihai` database and no data of the localStorage build; any
//! other visit starts the member app. Signing in keeps the session in the store, durably, as the member app would
//! (`records::save_first_session`), then leaves for the page that follows with a full page load, which the
//! loader answers with the member app (the service worker has been fetching it meanwhile). So does every link to
//! another page.

use guihai_core::qr::LINK_PATH;
use leptos::prelude::*;
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::app::Header;
use crate::i18n::I18n;
use crate::pages::signin::{SignIn, SignInFirst};
use crate::pwa::UpdatePrompt;
use crate::store::hints;
use crate::toast::{provide_toast, ToastBar};
use crate::wechat::OpenInBrowser;

#[component]
pub fn Entry() -> impl IntoView {
    provide_context(I18n::load());
    provide_toast();
    view! {
        <Router>
            <div class="app" data-testid="app">
                <Header />
                <UpdatePrompt />
                <ToastBar />
                <main>
                    <Routes fallback=Elsewhere>
                        <Route path=path!("/") view=|| view! { <Redirect path="/signin" /> } />
                        <Route path=path!("/signin") view=SignIn />
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// Any other page is the member app's (the router has put its address in the address bar), but for a code link
/// (`/q/…`) opened first on this phone, by a member scanning an organisation's poster: as the member app would,
/// it is remembered, to be opened once the member has signed in, and the member is asked to sign in. (Here and not
/// a route of its own: a route with a parameter weighs a few KB more.)
#[component]
fn Elsewhere() -> impl IntoView {
    let location = window().location();
    let path = location.pathname().unwrap_or_default();
    if path.starts_with(LINK_PATH) {
        hints::remember_after_sign_in(&path);
        return view! {
            <OpenInBrowser />
            <SignInFirst />
        }
        .into_any();
    }
    if let Ok(address) = location.href() {
        hand_over(&address);
    }
    ().into_any()
}

/// Leaves for `path` with a full page load: the loader starts the member app for it (it is not the entry's, or
/// the phone now holds a session).
pub fn hand_over(path: &str) {
    // Replaced, not pushed: "back" from the member app does not return to the entry app's page.
    let _ = window().location().replace(path);
}

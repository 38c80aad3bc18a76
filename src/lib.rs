//! Guihai's phone app: a client-side Leptos PWA that keeps a mobile member's records on the phone and syncs
//! them when it can. Pages live in `pages`, in modules named for what people do; I/O sits at the edges (`api`,
//! `store`, `pwa`), the sync decisions in `guihai_core::engine`.

// The entry build (`entry` feature) compiles the whole crate but starts only the sign-in page: what it does not
// use is the member build's, which is the one checked for dead code. (Without the router's `navigate`, the
// sign-in's closures are `Copy` there, and the clones the member build needs look needless.)
#![cfg_attr(feature = "entry", allow(dead_code, unused_imports, clippy::clone_on_copy))]

mod api;
mod app;
mod clock;
#[cfg(feature = "entry")]
mod entry;
pub mod i18n;
mod online;
mod pages;
mod pwa;
mod qr_image;
pub mod store;
pub mod sync;
mod toast;
mod wechat;

/// Opens the phone's store (bringing its data to this build's schema), then mounts the app on the page, and
/// registers the service worker.
pub fn start() {
    console_error_panic_hook::set_once();
    pwa::register_service_worker();
    // Leptos's own executor starts with the mount, so the store is opened on wasm-bindgen's.
    wasm_bindgen_futures::spawn_local(async {
        // A member who chose English gets it from the first screen on when the service worker holds it (read
        // while the store opens); without one, the app does not wait for the network: it starts in Chinese and
        // turns English when the file comes (`I18n::load`).
        let english = async { i18n::chose_english() && pwa::controlled() && i18n::load_english().await };
        // The entry app opens the store only when the member signs in.
        #[cfg(feature = "entry")]
        let mount = {
            english.await;
            || entry::Entry()
        };
        #[cfg(not(feature = "entry"))]
        let mount = {
            let (opened, _) = futures_util::join!(store::open(), english);
            #[cfg(feature = "staff")]
            if let (Ok(store::Opened::Ready), Some(session)) = (opened, store::records::session()) {
                online::early::ask(
                    &leptos::prelude::location().pathname().unwrap_or_default(),
                    &session.token,
                )
                .await;
            }
            move || app::App(app::AppProps { opened })
        };
        // The page the HTML painted while the app downloaded (index.html) gives way to the app.
        if let Some(loading) = leptos::prelude::document().get_element_by_id("loading") {
            loading.remove();
        }
        let mounting = clock::Timing::start("guihai:mount");
        leptos::mount::mount_to_body(mount);
        mounting.end();
    });
}

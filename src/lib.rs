//! Guihai's phone app: a client-side Leptos PWA that keeps a mobile member's records on the phone and syncs
//! them when it can. Pages live in `pages`, in modules named for what people do; I/O sits at the edges (`api`,
//! `store`, `pwa`), the sync decisions in `guihai_core::engine`.

mod api;
mod app;
mod clock;
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
        let (opened, _) = futures_util::join!(store::open(), english);
        // The page the HTML painted while the app downloaded (index.html) gives way to the app.
        if let Some(loading) = leptos::prelude::document().get_element_by_id("loading") {
            loading.remove();
        }
        leptos::mount::mount_to_body(move || app::App(app::AppProps { opened }));
    });
}

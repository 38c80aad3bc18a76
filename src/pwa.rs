//! The installable-app side: registering the service worker and offering a waiting new version.

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::i18n::use_i18n;

#[wasm_bindgen(module = "/src/pwa.js")]
extern "C" {
    #[wasm_bindgen(js_name = registerServiceWorker)]
    pub fn register_service_worker();
    #[wasm_bindgen(js_name = applyUpdate)]
    fn apply_update();
}

/// Shown when a newer service worker is installed and waiting; the member chooses when to reload, so a
/// half-filled form is never lost to an automatic refresh.
#[component]
pub fn UpdatePrompt() -> impl IntoView {
    let i18n = use_i18n();
    let ready = RwSignal::new(false);
    let _ = window_event_listener_untyped("guihai-update-ready", move |_| ready.set(true));
    view! {
        <Show when=move || ready.get()>
            <div class="update" role="status" data-testid="update-prompt">
                <span>{move || i18n.t("update.available")}</span>
                <button class="primary" on:click=move |_| apply_update()>{move || i18n.t("update.reload")}</button>
            </div>
        </Show>
    }
}

//! The installable-app side and the browser features around it: the service worker and a waiting new
//! version, the cross-tab sync lock, and storage use.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use crate::i18n::use_i18n;
use crate::store::hints;

#[wasm_bindgen(module = "/src/pwa.js")]
extern "C" {
    #[wasm_bindgen(js_name = registerServiceWorker)]
    pub fn register_service_worker();
    #[wasm_bindgen(js_name = applyUpdate)]
    fn apply_update();
    /// Has the service worker keep the staff app on this phone, for a staff member's use with no network.
    #[wasm_bindgen(js_name = keepStaffApp)]
    pub fn keep_staff_app();
    /// Whether a service worker controls this page (so the files it keeps answer at once, offline too).
    pub fn controlled() -> bool;
    #[wasm_bindgen(js_name = withSyncLock)]
    fn js_with_sync_lock(run: &Closure<dyn FnMut() -> js_sys::Promise>, wait: bool) -> js_sys::Promise;
    #[wasm_bindgen(js_name = storageEstimate)]
    fn js_storage_estimate() -> js_sys::Promise;
    #[wasm_bindgen(js_name = gzip)]
    fn js_gzip(text: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = canOfferInstall)]
    fn can_offer_install() -> bool;
    #[wasm_bindgen(js_name = offerInstall)]
    fn js_offer_install() -> js_sys::Promise;
    #[wasm_bindgen(js_name = runsInstalled)]
    fn runs_installed() -> bool;
}

/// Runs `work` holding the app-wide sync lock. When another tab (or this one) holds it: with `wait`, runs once
/// it is free; without, returns false at once without running it.
pub async fn with_sync_lock(wait: bool, work: impl Future<Output = ()> + 'static) -> bool {
    let run: Closure<dyn FnMut() -> js_sys::Promise> = Closure::once(move || {
        future_to_promise(async move {
            work.await;
            Ok(JsValue::TRUE)
        })
    });
    let ran = JsFuture::from(js_with_sync_lock(&run, wait)).await;
    ran.is_ok_and(|value| value.as_bool() == Some(true))
}

/// `text` gzipped by the browser, or `None` where it cannot.
pub async fn gzip(text: &str) -> Option<Vec<u8>> {
    let bytes = JsFuture::from(js_gzip(text)).await.ok()?;
    bytes.dyn_into::<js_sys::Uint8Array>().ok().map(|bytes| bytes.to_vec())
}

/// Bytes used and available to this app, where the browser says.
pub async fn storage_estimate() -> Option<(f64, f64)> {
    let pair = JsFuture::from(js_storage_estimate()).await.ok()?;
    let pair = js_sys::Array::from(&pair);
    let (used, quota) = (pair.get(0).as_f64()?, pair.get(1).as_f64()?);
    (quota > 0.0).then_some((used, quota))
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

/// Saves `bytes` as a file named `name` through the browser's download, byte for byte (a spreadsheet's byte
/// order mark included).
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), wasm_bindgen::JsValue> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let link: web_sys::HtmlAnchorElement = document().create_element("a")?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    web_sys::Url::revoke_object_url(&url)
}

/// Puts `text` on the clipboard; `false` where the browser will not (no permission, or not a secure page): the
/// text is then on screen to select and copy by hand.
pub async fn copy_text(text: &str) -> bool {
    let promise = window().navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.is_ok()
}

/// Adding the app to the home screen, offered on purpose once the member has signed in: the browser's own
/// dialog where it has one (Chrome on Android), otherwise the steps for this phone (Safari on iPhone, others).
/// Not offered when the app already runs installed, once the member said no, or inside WeChat (which cannot
/// install; `wechat.rs` says what to do there).
#[component]
pub fn InstallOffer() -> impl IntoView {
    let i18n = use_i18n();
    let toast = crate::toast::use_toast();
    let wanted = !runs_installed() && !hints::install_declined() && !crate::wechat::in_wechat();
    let shown = RwSignal::new(wanted);
    let offer = RwSignal::new(can_offer_install());
    let _ = window_event_listener_untyped("guihai-install-offer", move |_| offer.set(true));
    let install = move |_| {
        spawn_local(async move {
            let accepted = JsFuture::from(js_offer_install())
                .await
                .is_ok_and(|answer| answer.as_bool() == Some(true));
            offer.set(false);
            if accepted {
                shown.set(false);
                toast.ok(i18n.t("install.added"));
            }
        });
    };
    let decline = move |_| {
        hints::set_install_declined();
        shown.set(false);
    };
    let iphone = window()
        .navigator()
        .user_agent()
        .is_ok_and(|agent| agent.contains("iPhone") || agent.contains("iPad"));
    view! {
        <Show when=move || shown.get()>
            <section class="card install" data-testid="install-offer">
                <h2>{move || i18n.t("install.title")}</h2>
                <p>{move || i18n.t("install.why")}</p>
                {move || if offer.get() {
                    view! {
                        <button class="button primary" data-testid="install-app" on:click=install>{i18n.t("install.add")}</button>
                    }.into_any()
                } else {
                    let steps = if iphone { "install.steps_iphone" } else { "install.steps_browser" };
                    view! { <p class="note" data-testid="install-steps">{i18n.t(steps)}</p> }.into_any()
                }}
                <button class="button" data-testid="install-decline" on:click=decline>{move || i18n.t("install.decline")}</button>
            </section>
        </Show>
    }
}

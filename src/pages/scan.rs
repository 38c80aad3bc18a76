//! The in-app scanner (扫码): the rear camera, frames decoded by the qr-decoder worker (`scan.js` drives both),
//! and typing the link by hand when there is no camera. A code link is opened right here, as its `/q/` page
//! would open it (`checkin::open`: verified, and an activity's code checks in), with a tap to scan the next;
//! any other text is said so on this page and scanning goes on.

use guihai_core::qr;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::clock::after_paint;
use crate::i18n::use_i18n;
use crate::pages::checkin::{self, CodeOutcome, Outcome};

#[wasm_bindgen(module = "/src/pages/scan.js")]
extern "C" {
    type Scanner;
    #[wasm_bindgen(constructor)]
    fn new(video: &web_sys::HtmlVideoElement, on_event: &Closure<dyn FnMut(String, String)>) -> Scanner;
    #[wasm_bindgen(method, js_name = setTorch)]
    fn set_torch(this: &Scanner, on: bool) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    fn stop(this: &Scanner);
    #[wasm_bindgen(js_name = drawQr)]
    fn draw_qr(text: &str) -> js_sys::Promise;
}

/// `text` drawn as a QR code by the scanner's worker (the encoder is not in the app's first load); `None` when
/// the worker cannot be started or the text is too long.
#[cfg(feature = "staff")]
pub async fn draw(text: &str) -> Option<guihai_core::sync::QrDrawing> {
    let answer = JsFuture::from(draw_qr(text)).await.ok()?;
    let field = |name: &str| js_sys::Reflect::get(&answer, &name.into()).ok();
    Some(guihai_core::sync::QrDrawing {
        path: field("path")?.as_string()?,
        modules: field("modules")?.as_f64()? as u32,
    })
}

/// The open camera with the callback it reports to. Dropping it (leaving the page, or a code found) lets the
/// camera go before the callback is freed.
struct Camera {
    scanner: Scanner,
    _on_event: Closure<dyn FnMut(String, String)>,
}

impl Drop for Camera {
    fn drop(&mut self) {
        self.scanner.stop();
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CameraState {
    /// Waiting for the camera (and, the first time, the member's permission).
    Opening,
    On {
        torch: bool,
    },
    Denied,
    NoCamera,
}

impl CameraState {
    fn as_str(self) -> &'static str {
        match self {
            CameraState::Opening => "opening",
            CameraState::On { .. } => "on",
            CameraState::Denied => "denied",
            CameraState::NoCamera => "no-camera",
        }
    }

    fn message_key(self) -> &'static str {
        match self {
            CameraState::Opening => "scan.opening",
            CameraState::On { .. } => "scan.aim",
            CameraState::Denied => "scan.denied",
            CameraState::NoCamera => "scan.no_camera",
        }
    }
}

#[component]
pub fn ScanPage() -> impl IntoView {
    let i18n = use_i18n();
    let video = NodeRef::<leptos::html::Video>::new();
    let state = RwSignal::new(CameraState::Opening);
    let not_ours = RwSignal::new(false);
    let found = RwSignal::new(None::<String>);
    let torch_on = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let camera = StoredValue::new_local(None::<Camera>);

    let outcome = RwSignal::new(None::<Outcome>);
    // The keys a code is checked with, decoded now rather than when the first code is read; and once the page
    // is painted, the first time in the app's life, one code opened for practice while the camera starts
    // (`checkin::rehearse`: once compiled, the way a code takes stays compiled for the app's life).
    let _ = crate::store::records::verifier();
    let owner = Owner::current();
    after_paint(move || {
        if let Some(owner) = owner {
            checkin::rehearse(&owner);
        }
    });
    // A found code is opened at once (verified, and an activity's code checked in), and the screen changes only
    // when that is done: one new screen to build and paint, the confirmation.
    let open = move |payload: String| {
        spawn_local(async move {
            let opened = checkin::open(payload).await;
            outcome.set(Some(opened));
        })
    };
    // The first code link wins; repeats of it from the next frames change nothing. It is opened before what
    // the find changes (the camera let go) runs, which then runs while the storage answers the check-in's reads.
    let take = move |payload: Option<&str>| match payload {
        Some(payload) if found.get_untracked().is_none() => {
            open(payload.to_owned());
            found.set(Some(payload.to_owned()));
        }
        Some(_) => {}
        None => not_ours.set(true),
    };

    // The permission is asked when the page opens, not before.
    Effect::new(move |_| {
        let Some(element) = video.get() else { return };
        if camera.with_value(Option::is_some) {
            return;
        }
        let on_event = Closure::new(move |kind: String, detail: String| match kind.as_str() {
            "ready" => state.set(CameraState::On {
                torch: detail == "torch",
            }),
            "denied" => state.set(CameraState::Denied),
            "no-camera" => state.set(CameraState::NoCamera),
            "text" => take(qr::link_payload(&detail)),
            _ => {}
        });
        let scanner = Scanner::new(&element, &on_event);
        camera.set_value(Some(Camera {
            scanner,
            _on_event: on_event,
        }));
    });
    // Letting the camera go from an effect, not from inside the camera's callback, which that frees.
    Effect::new(move |_| {
        if found.with(Option::is_some) {
            camera.set_value(None);
        }
    });

    let toggle_torch = move |_| {
        let on = !torch_on.get_untracked();
        let Some(done) = camera.with_value(|c| c.as_ref().map(|c| c.scanner.set_torch(on))) else {
            return;
        };
        spawn_local(async move {
            if JsFuture::from(done).await.ok().and_then(|ok| ok.as_bool()) == Some(true) {
                torch_on.set(on);
            }
        });
    };
    let submit_typed = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        take(qr::typed_payload(&typed.get_untracked()));
    };

    let scanning = move || outcome.with(Option::is_none);
    // The camera's view leaves the page only once the outcome is painted: taking out a playing video costs a slow
    // phone tens of milliseconds the confirmation must not wait for. Until then it is hidden.
    let in_page = RwSignal::new(true);
    Effect::new(move |_| {
        if scanning() {
            in_page.set(true);
        } else {
            after_paint(move || in_page.set(false));
        }
    });
    let scan_again = move |_| {
        not_ours.set(false);
        state.set(CameraState::Opening);
        outcome.set(None);
        found.set(None);
    };
    let reopen = Callback::new(move |()| {
        if let Some(payload) = found.get_untracked() {
            open(payload);
        }
    });
    // What it led to is shown here, in place: no new page to build first, so a check-in at the door is
    // confirmed as soon as it is stored (docs/benchmarks.md), and the next member's code is one tap away. Its
    // component is in the page from the start: when a code is read, only what it shows is built.
    let opened = view! {
        <CodeOutcome outcome=outcome.into() reopen />
        // In the page from the start too, hidden while scanning: a found code only shows it.
        <button class="scan-again" class:hidden=scanning data-testid="scan-again" on:click=scan_again>{move || i18n.t("scan.again")}</button>
    };

    view! {
        {opened}
        <Show when=move || in_page.get()>
        <div class="scanning" class:hidden=move || !scanning()>
        <section class="card scanner" data-testid="scanner" data-state=move || state.get().as_str()>
            <h1>{move || i18n.t("scan.title")}</h1>
            <div class="scan-view" class:off=move || !matches!(state.get(), CameraState::On { .. })>
                <video node_ref=video class="scan-video" data-testid="scan-video" playsinline muted prop:muted=true></video>
                <div class="scan-frame" aria-hidden="true"></div>
            </div>
            {move || {
                let state = state.get();
                let problem = matches!(state, CameraState::Denied | CameraState::NoCamera);
                view! {
                    <p class=if problem { "error" } else { "note" } role=problem.then_some("alert") data-testid="scan-camera">
                        {i18n.t(state.message_key())}
                    </p>
                }
            }}
            <Show when=move || state.get() == CameraState::On { torch: true }>
                <button class="torch" data-testid="scan-torch" aria-pressed=move || torch_on.get().to_string() on:click=toggle_torch>
                    {move || i18n.t(if torch_on.get() { "scan.torch_off" } else { "scan.torch_on" })}
                </button>
            </Show>
            <Show when=move || not_ours.get()>
                <p class="error" role="status" data-testid="scan-not-ours">{move || i18n.t("scan.not_ours")}</p>
            </Show>
        </section>
        <section class="card">
            <form class="scan-typed" on:submit=submit_typed>
                <label for="scan-typed">{move || i18n.t("scan.typed_label")}</label>
                <input id="scan-typed" data-testid="scan-typed" inputmode="url" autocomplete="off" autocapitalize="off"
                    spellcheck="false" required prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev)) />
                <button type="submit" class="primary" data-testid="scan-typed-submit">{move || i18n.t("scan.open")}</button>
            </form>
        </section>
        </div>
        </Show>
    }
}

//! Signing in: the first time with the activation code the organisation gave the member (then they set a PIN),
//! and on another phone with their phone number and that PIN.

use std::cell::Cell;
use std::rc::Rc;

use guihai_core::sync::SessionResponse;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::{self, SignInError};
use crate::clock::format_time;
use crate::i18n::use_i18n;
use crate::store::{hints, records, StoreError};
use crate::sync::use_sync;
use crate::wechat::OpenInBrowser;

/// The two ways to sign in.
#[derive(Clone, Copy)]
enum Way {
    /// The activation code, the first time.
    Code,
    /// Phone number and PIN, on another phone.
    Pin,
}

/// Translation key and values of a failed sign-in.
pub fn message(error: SignInError, refused: &'static str) -> (&'static str, Vec<(&'static str, String)>) {
    match error {
        SignInError::Refused => (refused, Vec::new()),
        SignInError::Locked(until) => ("signin.locked", vec![("time", format_time(until))]),
        // The member who signed in here before still has writes waiting: they are theirs to send or to give up.
        SignInError::ClientTaken => (
            "signin.unsynced_other",
            vec![
                ("name", records::me().map(|me| me.name).unwrap_or_default()),
                ("n", records::unsynced().to_string()),
            ],
        ),
        SignInError::Busy => ("signin.busy", Vec::new()),
        SignInError::Offline => ("signin.offline", Vec::new()),
        SignInError::Failed => ("signin.failed", Vec::new()),
    }
}

/// Keeps the session of a sign-in, inside the sync lock: no round of the session before (here or in another tab)
/// may write after it.
#[cfg(not(feature = "entry"))]
async fn keep(response: SessionResponse, client_id: guihai_core::Id) -> Result<(), StoreError> {
    let saved = Rc::new(Cell::new(Err(StoreError::Failed)));
    let outcome = Rc::clone(&saved);
    crate::pwa::with_sync_lock(true, async move {
        outcome.set(records::save_session(response, client_id).await);
    })
    .await;
    saved.get()
}

/// The entry app keeps it on a phone that holds nobody's data, which has no sync rounds to wait for.
#[cfg(feature = "entry")]
async fn keep(response: SessionResponse, client_id: guihai_core::Id) -> Result<(), StoreError> {
    match records::save_first_session(response, client_id).await? {
        true => Ok(()),
        false => Err(StoreError::Failed),
    }
}

/// The activation code a printed link carries, in its fragment (or, on older sheets, its query), taken out of
/// the address bar at once: a code in the browser's history could be used by the next person holding the phone.
/// The fragment never reaches the server, so it is in no log either.
fn code_from_link(query: Option<String>) -> String {
    let location = window().location();
    let fragment = location.hash().unwrap_or_default();
    let from_fragment = fragment
        .trim_start_matches('#')
        .split('&')
        .find_map(|pair| pair.strip_prefix("code="))
        .map(|code| js_sys::decode_uri_component(code).map_or_else(|_| code.to_owned(), String::from));
    let code = from_fragment.or(query).unwrap_or_default();
    if !code.is_empty() {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/signin"));
        }
    }
    code
}

#[component]
pub fn SignIn() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(not(feature = "entry"))]
    let sync = use_sync();
    #[cfg(not(feature = "entry"))]
    let navigate = use_navigate();
    // A printed activation QR code opens `/signin#code=…` (sheets printed before: `?code=…`): the code is filled
    // in, the member only confirms.
    let printed = use_query_map().read_untracked().get("code");
    let code = RwSignal::new(code_from_link(printed));
    let phone = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<(&'static str, Vec<(&'static str, String)>)>);

    // Both forms end here: keep the session, then go on to setting a PIN (first sign-in) or where the member was.
    let finish = async move |result: Result<SessionResponse, SignInError>, refused: &'static str, client_id| {
        let response = match result {
            Ok(response) => response,
            Err(failure) => {
                working.set(false);
                return error.set(Some(message(failure, refused)));
            }
        };
        let pin_set = response.pin_set;
        let saved = keep(response, client_id).await;
        working.set(false);
        match saved {
            Ok(()) => {}
            Err(StoreError::Unsynced) => return error.set(Some(message(SignInError::ClientTaken, refused))),
            Err(failure) => return error.set(Some((failure.message_key(), Vec::new()))),
        }
        #[cfg(not(feature = "entry"))]
        sync.signed_in();
        let next = hints::after_sign_in();
        if pin_set {
            hints::forget_after_sign_in();
        }
        let target = if pin_set {
            next.unwrap_or_else(|| "/".into())
        } else {
            "/pin".into()
        };
        #[cfg(feature = "entry")]
        return crate::entry::hand_over(&target);
        #[cfg(not(feature = "entry"))]
        navigate(&target, Default::default());
    };
    // Both forms submit here; `way` says which credentials to send.
    let submit = move |ev: leptos::ev::SubmitEvent, way: Way| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        working.set(true);
        error.set(None);
        let finish = finish.clone();
        spawn_local(async move {
            // The entry app signs in a phone that holds nobody's data only; one that does now (the member app
            // wrote in another tab) is the member app's to sign in.
            #[cfg(feature = "entry")]
            match records::fresh().await {
                Ok(true) => {}
                Ok(false) => return crate::entry::hand_over("/signin"),
                Err(failure) => {
                    working.set(false);
                    return error.set(Some((failure.message_key(), Vec::new())));
                }
            }
            let client_id = records::client_id_for_sign_in();
            let (result, refused) = match way {
                Way::Code => (api::sign_in(&code.get_untracked(), client_id).await, "signin.bad_code"),
                Way::Pin => (
                    api::sign_in_with_pin(&phone.get_untracked(), &pin.get_untracked(), client_id).await,
                    "signin.bad_pin",
                ),
            };
            finish(result, refused, client_id).await;
        });
    };
    let with_code = {
        let submit = submit.clone();
        move |ev| submit(ev, Way::Code)
    };
    let with_pin = move |ev| submit(ev, Way::Pin);

    view! {
        <OpenInBrowser />
        <section class="card signin">
            <h1>{move || i18n.t("signin.title")}</h1>
            <p>{move || i18n.t("signin.intro")}</p>
            <form on:submit=with_code>
                <label for="activation-code">{move || i18n.t("signin.code")}</label>
                <input
                    id="activation-code"
                    data-testid="activation-code"
                    autocomplete="one-time-code"
                    autocapitalize="characters"
                    required
                    prop:value=code
                    on:input=move |ev| code.set(event_target_value(&ev))
                />
                <button type="submit" class="primary" data-testid="signin-submit" disabled=working>
                    {move || i18n.t(if working.get() { "signin.working" } else { "signin.submit" })}
                </button>
            </form>
            {move || error.get().map(|(key, values)| {
                let values: Vec<(&str, &str)> = values.iter().map(|(name, value)| (*name, value.as_str())).collect();
                let unsynced = key == "signin.unsynced_other";
                view! {
                    <p class="error" role="alert" data-testid="signin-error">{i18n.t_with(key, &values)}</p>
                    {unsynced.then(|| view! {
                        <A href="/signout" attr:class="button" attr:data-testid="signin-unsynced-other">{i18n.t("signin.unsynced_other_action")}</A>
                    })}
                }
            })}
        </section>
        <section class="card signin">
            <h2>{move || i18n.t("signin.pin_title")}</h2>
            <form on:submit=with_pin>
                <label for="signin-phone">{move || i18n.t("profile.field.phone")}</label>
                <input id="signin-phone" data-testid="signin-phone" type="tel" autocomplete="tel" required
                    prop:value=phone on:input=move |ev| phone.set(event_target_value(&ev)) />
                <label for="signin-pin">{move || i18n.t("signin.pin")}</label>
                <input id="signin-pin" data-testid="signin-pin" type="password" inputmode="numeric"
                    autocomplete="current-password" maxlength="6" required
                    prop:value=pin on:input=move |ev| pin.set(event_target_value(&ev)) />
                <button type="submit" class="primary" data-testid="signin-pin-submit" disabled=working>
                    {move || i18n.t("signin.submit")}
                </button>
            </form>
        </section>
    }
}

/// A code opened on a phone nobody is signed in on (`hints::remember_after_sign_in` keeps it to open after).
#[component]
pub fn SignInFirst() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="card" data-testid="checkin-result" data-result="sign-in">
            <p>{move || i18n.t("checkin.sign_in_first")}</p>
            <A href="/signin" attr:class="button primary">{move || i18n.t("signin.title")}</A>
        </section>
    }
}

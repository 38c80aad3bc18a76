//! Setting the PIN that signs the member in on another phone (asked for right after activation, and changeable
//! later). It needs the network: the PIN lives on the server, hashed.

use guihai_core::sync::valid_pin;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::i18n::use_i18n;
use crate::store::{hints, records};

#[component]
pub fn SetPinPage() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<&'static str>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (first, second) = (pin.get_untracked(), again.get_untracked());
        if !valid_pin(&first) {
            return error.set(Some("pin.not_six_digits"));
        }
        if first != second {
            return error.set(Some("pin.mismatch"));
        }
        let Some(session) = records::session() else { return };
        working.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let saved = api::set_pin(&session.token, &first).await;
            working.set(false);
            if !saved {
                return error.set(Some("pin.not_saved"));
            }
            let next = hints::after_sign_in();
            hints::forget_after_sign_in();
            navigate(next.as_deref().unwrap_or("/"), Default::default());
        });
    };

    if records::session().is_none() {
        return view! { <Redirect path="/signin" /> }.into_any();
    }
    view! {
            <section class="card" data-testid="set-pin">
                <h1>{i18n.t("pin.title")}</h1>
                <p>{i18n.t("pin.intro")}</p>
                <form on:submit=submit>
                    <label for="pin-new">{i18n.t("signin.pin")}</label>
                    <input id="pin-new" data-testid="pin-new" type="password" inputmode="numeric" maxlength="6"
                        autocomplete="new-password" required prop:value=pin
                        on:input=move |ev| pin.set(event_target_value(&ev)) />
                    <label for="pin-again">{i18n.t("pin.again")}</label>
                    <input id="pin-again" data-testid="pin-again" type="password" inputmode="numeric" maxlength="6"
                        autocomplete="new-password" required prop:value=again
                        on:input=move |ev| again.set(event_target_value(&ev)) />
                    <button type="submit" class="primary" data-testid="pin-submit" disabled=working>
                        {i18n.t("pin.submit")}
                    </button>
                </form>
                {move || error.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
            </section>
    }
    .into_any()
}

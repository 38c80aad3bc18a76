//! Setting the PIN that signs the member in on another phone (asked for right after activation, and changeable
//! later). It needs the network: the PIN lives on the server, hashed.

use guihai_core::sync::valid_pin;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api::{self, SignInError};
use crate::i18n::use_i18n;
use crate::pages::signin::message;
use crate::store::{hints, records};

#[component]
pub fn SetPinPage() -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let current = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<(&'static str, Vec<(&'static str, String)>)>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (first, second) = (pin.get_untracked(), again.get_untracked());
        if !valid_pin(&first) {
            return error.set(Some(("pin.not_six_digits", Vec::new())));
        }
        if first != second {
            return error.set(Some(("pin.mismatch", Vec::new())));
        }
        let current = Some(current.get_untracked()).filter(|c| !c.is_empty());
        let Some(session) = records::session() else { return };
        working.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let saved = api::set_pin(&session.token, &first, current).await;
            working.set(false);
            if let Err(failure) = saved {
                let message = match failure {
                    SignInError::Refused => ("pin.wrong_current", Vec::new()),
                    SignInError::Offline | SignInError::Failed => ("pin.not_saved", Vec::new()),
                    other => message(other, "pin.wrong_current"),
                };
                return error.set(Some(message));
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
                    <label for="pin-current">{i18n.t("pin.current")}</label>
                    <input id="pin-current" data-testid="pin-current" type="password" inputmode="numeric"
                        maxlength="6" autocomplete="current-password" prop:value=current
                        on:input=move |ev| current.set(event_target_value(&ev)) />
                    <p class="note">{i18n.t("pin.current_hint")}</p>
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
                {move || {
                    error.get().map(|(key, values)| {
                        let values: Vec<(&str, &str)> = values.iter().map(|(name, value)| (*name, value.as_str())).collect();
                        view! { <p class="error" role="alert" data-testid="pin-error">{i18n.t_with(key, &values)}</p> }
                    })
                }}
            </section>
    }
    .into_any()
}

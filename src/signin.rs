//! Signing in with the activation code the organisation gave the member.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api::{self, SignInError};
use crate::i18n::use_i18n;
use crate::records;
use crate::sync::use_sync;

/// Where to go after signing in (set when a code was opened before signing in).
pub const AFTER_SIGN_IN: &str = "after_sign_in";

#[component]
pub fn SignIn() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let navigate = use_navigate();
    let code = RwSignal::new(String::new());
    let working = RwSignal::new(false);
    let error = RwSignal::new(None::<&'static str>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if working.get_untracked() {
            return;
        }
        working.set(true);
        error.set(None);
        let navigate = navigate.clone();
        spawn_local(async move {
            let client_id = records::client_id();
            let outcome = match api::sign_in(&code.get_untracked(), client_id).await {
                Ok(response) => records::save_session(response, client_id).map_err(|e| e.message_key()),
                Err(SignInError::BadCode) => Err("signin.bad_code"),
                Err(SignInError::Offline) => Err("signin.offline"),
                Err(SignInError::Failed) => Err("signin.failed"),
            };
            working.set(false);
            match outcome {
                Ok(()) => {
                    sync.local_write();
                    let next: Option<String> = crate::store::get(AFTER_SIGN_IN);
                    crate::store::remove(AFTER_SIGN_IN);
                    navigate(next.as_deref().unwrap_or("/"), Default::default());
                }
                Err(key) => error.set(Some(key)),
            }
        });
    };

    view! {
        <section class="card signin">
            <h1>{move || i18n.t("signin.title")}</h1>
            <p>{move || i18n.t("signin.intro")}</p>
            <form on:submit=submit>
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
            {move || error.get().map(|key| view! { <p class="error" role="alert" data-testid="signin-error">{i18n.t(key)}</p> })}
        </section>
    }
}

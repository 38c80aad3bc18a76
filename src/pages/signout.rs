//! Signing out: the member's data leaves this phone. Whatever has not reached the server yet is shown first,
//! with the ways to keep it (sync now, export); deleting it takes the member's explicit word.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::i18n::use_i18n;
use crate::store::{self, records};
use crate::sync::{export, use_sync};

#[component]
pub fn SignOut() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let navigate = use_navigate();
    let signed_in = sync.watch(|| records::me().is_some());
    let waiting = sync.watch(records::unsynced);
    let accepted_loss = RwSignal::new(false);
    let working = RwSignal::new(false);
    let failed = RwSignal::new(None::<&'static str>);

    let sign_out = move |_| {
        working.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            // Inside the sync lock, so that no round still running here or in another tab writes the member's
            // records back after the wipe.
            crate::pwa::with_sync_lock(true, async move {
                if let Some(session) = records::session() {
                    api::sign_out(&session.token).await;
                }
                // Failing (storage gone), the member's data stays and the screen says so.
                if let Err(error) = store::wipe().await {
                    failed.set(Some(error.message_key()));
                }
            })
            .await;
            sync.local_write();
            if failed.get_untracked().is_none() {
                navigate("/signin", Default::default());
            } else {
                working.set(false);
            }
        });
    };

    move || {
        if !signed_in() && !working.get_untracked() {
            return view! { <Redirect path="/signin" /> }.into_any();
        }
        let sign_out = sign_out.clone();
        view! {
            <section class="card" data-testid="signout">
                <h1>{i18n.t("signout.title")}</h1>
                <p>{i18n.t("signout.intro")}</p>
                {move || {
                    let n = waiting();
                    (n > 0).then(|| view! {
                        <div class="problem-box" data-testid="signout-unsynced">
                            <p class="error" role="alert">{i18n.t_with("signout.unsynced", &[("n", &n.to_string())])}</p>
                            <div class="actions">
                                <button class="button" on:click=move |_| sync.sync_now()>{i18n.t("sync.now")}</button>
                                <button class="button" on:click=move |_| export()>{i18n.t("sync.export")}</button>
                            </div>
                            <label class="check">
                                <input type="checkbox" data-testid="signout-accept-loss"
                                    prop:checked=accepted_loss
                                    on:change=move |ev| accepted_loss.set(event_target_checked(&ev)) />
                                {i18n.t_with("signout.accept_loss", &[("n", &n.to_string())])}
                            </label>
                        </div>
                    })
                }}
                {move || failed.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
                <button class="button primary" data-testid="signout-submit"
                    disabled=move || working.get() || (waiting() > 0 && !accepted_loss.get())
                    on:click=sign_out>
                    {i18n.t("signout.submit")}
                </button>
            </section>
        }
        .into_any()
    }
}

//! Opened inside WeChat (how most members scan a code): WeChat's own browser keeps its own storage, apart from
//! the phone's browser where the member's app and offline records live, and its camera and service worker are
//! unreliable. The pages a member acts on (a code link, home, sign-in) say so first and give the link to open in
//! the phone's browser; the online screens work as they are.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::use_i18n;
use crate::toast::use_toast;

/// Whether this page runs in WeChat's in-app browser (its user agent says `MicroMessenger`).
pub fn in_wechat() -> bool {
    window()
        .navigator()
        .user_agent()
        .is_ok_and(|agent| agent.contains("MicroMessenger"))
}

/// What to do, with this page's link to copy; nothing outside WeChat.
#[component]
pub fn OpenInBrowser() -> impl IntoView {
    let i18n = use_i18n();
    let toast = use_toast();
    in_wechat().then(|| {
        let link = window().location().href().unwrap_or_default();
        let copy = {
            let link = link.clone();
            move |_| {
                let link = link.clone();
                spawn_local(async move {
                    if crate::pwa::copy_text(&link).await {
                        toast.ok(i18n.t("wechat.copied"));
                    } else {
                        toast.problem(i18n.t("steward.link_not_copied"));
                    }
                });
            }
        };
        view! {
            <section class="card problem" data-testid="open-in-browser">
                <h2>{move || i18n.t("wechat.title")}</h2>
                <p>{move || i18n.t("wechat.explain")}</p>
                <ol>
                    <li>{move || i18n.t("wechat.step_menu")}</li>
                    <li>{move || i18n.t("wechat.step_open")}</li>
                </ol>
                <label for="wechat-link">{move || i18n.t("wechat.link")}</label>
                <div class="copy-row">
                    <input id="wechat-link" data-testid="wechat-link" type="url" readonly prop:value=link />
                    <button class="button" data-testid="wechat-copy" on:click=copy>{move || i18n.t("steward.copy_link")}</button>
                </div>
            </section>
        }
    })
}

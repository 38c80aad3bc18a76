//! The member's signed-in phones, from the server: when each signed in and was last seen, and a way to revoke
//! any other one (a lost or sold phone), which wipes the member's data from it on its next sync.

use guihai_core::sync::Device;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::clock::format_time;
use crate::i18n::use_i18n;
use crate::store::records;
use crate::toast::{confirmed, use_toast};

/// "Chrome · Android" from a browser's description of itself: enough to tell one's phones apart.
pub fn describe(user_agent: &str) -> Option<String> {
    const BROWSERS: [(&str, &str); 6] = [
        ("MicroMessenger", "WeChat"),
        ("EdgA", "Edge"),
        ("Edg/", "Edge"),
        ("Firefox", "Firefox"),
        ("Chrome", "Chrome"),
        ("Safari", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 6] = [
        ("HarmonyOS", "HarmonyOS"),
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ];
    let find = |names: &[(&str, &'static str)]| names.iter().find(|(token, _)| user_agent.contains(token)).map(|n| n.1);
    match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(browser), Some(system)) => Some(format!("{browser} · {system}")),
        (one, other) => one.or(other).map(str::to_owned),
    }
}

/// The list as the server last gave it; `None` while asking or when it cannot be asked (offline).
async fn load() -> Option<Vec<Device>> {
    api::get_json(&records::session()?.token, "/devices").await
}

#[component]
pub fn DevicesPage() -> impl IntoView {
    let i18n = use_i18n();
    let devices = LocalResource::new(load);
    let failed = RwSignal::new(false);
    let forget_pin = RwSignal::new(false);

    let toast = use_toast();
    let revoke = move |id, phone: String| {
        if !confirmed(&i18n.t_with("devices.revoke_confirm", &[("phone", &phone)])) {
            return;
        }
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let revoked = api::revoke_device(&session.token, id, forget_pin.get_untracked()).await;
            failed.set(!revoked);
            if revoked {
                toast.ok(i18n.t_with("devices.revoked", &[("phone", &phone)]));
            }
            devices.refetch();
        });
    };

    view! {
        <section class="card" data-testid="devices">
            <h1>{move || i18n.t("devices.title")}</h1>
            <p class="note">{move || i18n.t("devices.intro")}</p>
            <Suspense fallback=move || view! { <p>{i18n.t("devices.loading")}</p> }>
                {move || devices.get().map(|list| match list {
                    None => view! { <p class="error" role="alert">{i18n.t("devices.offline")}</p> }.into_any(),
                    Some(list) => view! {
                        <ul class="queue">
                            {list.into_iter().map(|device| {
                                let id = device.id;
                                let seen = device.last_seen_at.unwrap_or(device.signed_in_at);
                                let name = device.user_agent.as_deref().and_then(describe).unwrap_or_else(|| i18n.t("devices.unknown"));
                                view! {
                                    <li data-testid="device" data-current=device.current.to_string()>
                                        <span>
                                            {name.clone()}
                                            <br />
                                            <time>{i18n.t_with("devices.seen", &[("time", &format_time(seen))])}</time>
                                        </span>
                                        {if device.current {
                                            view! { <span class="pill synced">{i18n.t("devices.this_phone")}</span> }.into_any()
                                        } else {
                                            view! {
                                                <button data-testid="device-revoke" on:click=move |_| revoke(id, name.clone())>
                                                    {i18n.t("devices.revoke")}
                                                </button>
                                            }.into_any()
                                        }}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            <label class="check">
                <input type="checkbox" data-testid="device-forget-pin" prop:checked=forget_pin
                    on:change=move |ev| forget_pin.set(event_target_checked(&ev)) />
                {move || i18n.t("devices.forget_pin")}
            </label>
            {move || failed.get().then(|| view! { <p class="error" role="alert">{i18n.t("devices.revoke_failed")}</p> })}
        </section>
    }
}

//! The sync page: what is waiting (since when), what the server refused and why, storage use, and a one-tap
//! export of everything not yet synced, so a member can always show or hand over their records.

use guihai_core::checkin::PendingCheckIn;
use guihai_core::sync::{Op, Rejection};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{outbox, use_sync};
use crate::checkin::pending_check_ins;
use crate::clock::{format_time, now_ms};
use crate::i18n::{use_i18n, I18n};

/// What a queued write is, in words: check-ins are named by their activity (from `shown`, the pending
/// check-ins, read once per list rather than once per line).
fn describe(i18n: I18n, op: &Op, shown: &[PendingCheckIn]) -> String {
    match op {
        Op::CheckIn { id, .. } => {
            let title = shown
                .iter()
                .find(|p| p.id == *id)
                .map(|p| p.title.as_str())
                .unwrap_or_default();
            i18n.t_with("sync.kind.check_in", &[("title", title)])
        }
        Op::EditProfile(edit) => {
            let fields: Vec<String> = edit
                .fields
                .keys()
                .map(|field| i18n.t(&format!("profile.field.{}", field.as_str())))
                .collect();
            i18n.t_with(
                "sync.kind.profile",
                &[("fields", &fields.join(i18n.t("list.separator").as_str()))],
            )
        }
        Op::Report { .. } => i18n.t("sync.kind.report"),
        Op::Leave { .. } => i18n.t("sync.kind.leave"),
        Op::Skip => String::new(),
    }
}

/// Translation key of a refusal's reason.
pub fn reason_key(rejection: Rejection) -> String {
    match rejection {
        Rejection::Code(error) => format!("code.{}", error.as_str()),
        other => format!("refused.{}", other.key()),
    }
}

fn megabytes(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1_000_000.0)
}

#[component]
pub fn SyncPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let waiting = sync.watch(outbox::entries);
    let refused_now = sync.watch(outbox::refused);
    let refused = Memo::new(move |_| refused_now());
    let storage = RwSignal::new(None::<(f64, f64)>);
    spawn_local(async move { storage.set(crate::pwa::storage_estimate().await) });

    view! {
        <section class="card" data-testid="sync-page">
            <h1>{move || i18n.t("sync.page_title")}</h1>
            <button class="button primary" on:click=move |_| sync.sync_now()>{move || i18n.t("sync.now")}</button>
            <h2>{move || i18n.t("sync.waiting_title")}</h2>
            {move || {
                let waiting = waiting();
                let shown = pending_check_ins();
                if waiting.is_empty() {
                    return view! { <p class="empty">{i18n.t("sync.none_waiting")}</p> }.into_any();
                }
                view! {
                    <ul class="queue" data-testid="sync-waiting">
                        {waiting
                            .iter()
                            .map(|m| {
                                let since = i18n.t_with("sync.waiting_since", &[("time", &format_time(m.occurred_at))]);
                                view! {
                                    <li>
                                        <span>{describe(i18n, &m.op, &shown)}</span>
                                        <time>{since}</time>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <Show when=move || !refused.with(Vec::is_empty)>
                <h2>{move || i18n.t("sync.refused_title")}</h2>
                <ul class="queue" data-testid="sync-refused">
                    {move || {
                        let shown = pending_check_ins();
                        refused
                            .get()
                            .iter()
                            .map(|r| {
                                view! {
                                    <li>
                                        <span>{describe(i18n, &r.mutation.op, &shown)}</span>
                                        <span class="error">{i18n.t(&reason_key(r.reason))}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
            </Show>
            <button class="button" data-testid="sync-export" on:click=move |_| export()>
                {move || i18n.t("sync.export")}
            </button>
            <p class="note" data-testid="storage-use">
                {move || {
                    storage
                        .get()
                        .map(|(used, quota)| {
                            i18n.t_with("sync.storage", &[("used", &megabytes(used)), ("quota", &megabytes(quota))])
                        })
                }}
            </p>
        </section>
    }
}

/// Downloads everything not yet synced (and what was refused) as one JSON file.
pub fn export() {
    let records = serde_json::json!({
        "exported_at": now_ms(),
        "client_id": crate::records::client_id(),
        "waiting": outbox::entries(),
        "check_ins_waiting": pending_check_ins(),
        "refused": outbox::refused(),
    });
    let text = serde_json::to_string_pretty(&records).expect("records serialise");
    // Failing here leaves the records untouched; the member can try again.
    let _ = crate::pwa::download(&format!("guihai-unsynced-{}.json", now_ms()), "application/json", &text);
}

//! The sync page: what is waiting (since when), what the server refused and why, what was set aside because
//! it no longer reads back, storage use, and a one-tap export of everything not on the server, so a member can
//! always show or hand over their records.

use guihai_core::attendance::hours_text;
use guihai_core::qr;
use guihai_core::sync::{Op, RecordedBy, Rejection};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_sync;
use crate::clock::{format_time, now_ms};
use crate::i18n::{use_i18n, I18n};
use crate::store::outbox::{self, What};
use crate::store::{cache, records};

/// How many waiting writes the page lists; the count says how many there are in all.
const LISTED: usize = 100;

/// What a queued write is, in words.
fn describe(i18n: I18n, what: &What) -> String {
    match what {
        What::CheckIn { title } => i18n.t_with("sync.kind.check_in", &[("title", title)]),
        What::Op(Op::CheckIn { code, .. }) => {
            let title = qr::read_unverified(code).map(|code| code.name).unwrap_or_default();
            i18n.t_with("sync.kind.check_in", &[("title", &title)])
        }
        // Only a push names a code so; what waits or was refused keeps it whole.
        What::Op(Op::CheckInIssued { .. }) => i18n.t_with("sync.kind.check_in", &[("title", "")]),
        What::Op(Op::EditProfile(edit)) => {
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
        What::Op(Op::Report { .. }) => i18n.t("sync.kind.report"),
        What::Op(Op::Leave { .. }) => i18n.t("sync.kind.leave"),
        What::Op(Op::PublishActivity(activity)) => {
            i18n.t_with("sync.kind.publish_activity", &[("title", &activity.title)])
        }
        What::Op(Op::CancelActivity { .. }) => i18n.t("sync.kind.cancel_activity"),
        What::Op(Op::RecordAttendance { by, .. }) => {
            let name = match by {
                RecordedBy::Card { code } => qr::read_unverified(code).map(|code| code.name).unwrap_or_default(),
                RecordedBy::Hand { reason, .. } => reason.clone(),
            };
            i18n.t_with("sync.kind.record_attendance", &[("name", &name)])
        }
        What::Op(Op::WriteMinutes { .. }) => i18n.t("sync.kind.write_minutes"),
        What::Op(Op::CreditHours { hours_tenths, .. }) => i18n.t_with(
            "sync.kind.credit_hours",
            &[("hours", &hours_text(u32::from(*hours_tenths)))],
        ),
        What::Op(Op::ReadNotice { .. }) => i18n.t("sync.kind.read_notice"),
        What::Op(Op::Skip) => String::new(),
        What::Unreadable(stored) => i18n.t_with("sync.kind.unreadable", &[("stored", stored)]),
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
    let revision = sync.revision;
    let waiting = LocalResource::new(move || {
        revision.track();
        outbox::waiting(LISTED)
    });
    let waiting_count = sync.watch(|| cache::with(cache::Cache::waiting));
    let refused = sync.watch(|| cache::with(|c| c.refused.clone()));
    let unreadable = sync.watch(|| cache::with(|c| c.unreadable));
    let damaged = LocalResource::new(move || {
        revision.track();
        outbox::damaged()
    });
    let storage = RwSignal::new(None::<(f64, f64)>);
    spawn_local(async move { storage.set(crate::pwa::storage_estimate().await) });

    view! {
        <section class="card" data-testid="sync-page">
            <h1>{move || i18n.t("sync.page_title")}</h1>
            <button class="button primary" on:click=move |_| sync.sync_now()>{move || i18n.t("sync.now")}</button>
            <h2>{move || i18n.t("sync.waiting_title")}</h2>
            {move || {
                let listed = waiting.get()?.unwrap_or_default();
                if listed.is_empty() {
                    return Some(view! { <p class="empty">{i18n.t("sync.none_waiting")}</p> }.into_any());
                }
                let more = waiting_count().saturating_sub(listed.len() as u64);
                Some(view! {
                    <ul class="queue" data-testid="sync-waiting">
                        {listed
                            .iter()
                            .map(|w| {
                                let since = (w.occurred_at > 0)
                                    .then(|| i18n.t_with("sync.waiting_since", &[("time", &format_time(w.occurred_at))]));
                                let unreadable = matches!(w.what, What::Unreadable(_));
                                view! {
                                    <li class:error=unreadable data-unreadable=unreadable.to_string()>
                                        <span>{describe(i18n, &w.what)}</span>
                                        <time>{since}</time>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    {(more > 0).then(|| view! {
                        <p class="note">{i18n.t_with("sync.more_waiting", &[("n", &more.to_string())])}</p>
                    })}
                }
                .into_any())
            }}
            {move || {
                let refused = refused();
                (!refused.is_empty()).then(|| view! {
                    <h2>{i18n.t("sync.refused_title")}</h2>
                    <ul class="queue" data-testid="sync-refused">
                        {refused
                            .iter()
                            .map(|r| view! {
                                <li>
                                    <span>{describe(i18n, &What::Op(r.mutation.op.clone()))}</span>
                                    <span class="error">{i18n.t(&reason_key(r.reason))}</span>
                                </li>
                            })
                            .collect_view()}
                    </ul>
                })
            }}
            {move || {
                let damaged = damaged.get()?.unwrap_or_default();
                (!damaged.is_empty()).then(|| view! {
                    <h2>{i18n.t("sync.damaged_title")}</h2>
                    <p class="note">{i18n.t("sync.damaged_note")}</p>
                    <ul class="queue" data-testid="sync-damaged">
                        {damaged.into_iter().map(|stored| view! { <li><code>{stored}</code></li> }).collect_view()}
                    </ul>
                })
            }}
            {move || {
                let n = unreadable();
                (n > 0).then(|| view! {
                    <p class="note" data-testid="sync-unreadable">{i18n.t_with("sync.unreadable_records", &[("n", &n.to_string())])}</p>
                })
            }}
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

/// Downloads everything not on the server (waiting, refused, set aside as damaged) as one JSON file.
pub fn export() {
    spawn_local(async {
        // Failing here leaves the records untouched; the member can try again.
        let Ok(mut records) = outbox::export().await else {
            return;
        };
        records["exported_at"] = now_ms().into();
        records["member"] = records::me().map(|me| me.id.to_string()).into();
        let text = serde_json::to_string_pretty(&records).expect("records serialise");
        let _ = crate::pwa::download(
            &format!("guihai-unsynced-{}.json", now_ms()),
            "application/json",
            text.as_bytes(),
        );
    });
}

//! The sync badge shown on every screen: offline / syncing / N waiting / all synced, and the last sync time.

use leptos::prelude::*;

use super::use_sync;
use crate::clock::format_time;
use crate::i18n::use_i18n;
use crate::store::{cache, records};

#[component]
pub fn SyncBadge() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    // A kept count (`Cache::waiting`), never a walk over the outbox.
    let count = sync.watch(|| cache::with(cache::Cache::waiting));
    let waiting = Memo::new(move |_| count());
    let last_synced_at = sync.watch(|| cache::with(|c| c.meta.last_synced_at));
    let signed_in = sync.watch(|| records::session().is_some());
    let label = move || {
        let waiting = waiting.get();
        let mut parts = vec![i18n.t(if sync.online.get() {
            "sync.online"
        } else {
            "sync.offline"
        })];
        if sync.syncing.get() {
            parts.push(i18n.t("sync.syncing"));
        }
        // "All synced" only once something has been: signed out, or before the first round, it is not news.
        if waiting > 0 {
            parts.push(i18n.t_with("sync.waiting", &[("n", &waiting.to_string())]));
        } else if signed_in() && last_synced_at().is_some() {
            parts.push(i18n.t("sync.all_synced"));
        }
        parts.join(" · ")
    };
    let last = move || match last_synced_at() {
        Some(ms) if signed_in() => i18n.t_with("sync.last", &[("time", &format_time(ms))]),
        _ if signed_in() => i18n.t("sync.never"),
        _ => String::new(),
    };
    let state = move || {
        if !sync.online.get() {
            "offline"
        } else if waiting.get() > 0 {
            "waiting"
        } else {
            "synced"
        }
    };
    view! {
        <div class="sync-badge" data-testid="sync-badge" data-state=state data-waiting=move || waiting.get().to_string()
            data-syncing=move || sync.syncing.get().to_string()
            data-last-synced=move || last_synced_at().unwrap_or_default().to_string()>
            <span class="sync-dot"></span>
            <span class="sync-label">{label}</span>
            <span class="sync-last">{last}</span>
            {move || sync.problem.get().map(|key| view! { <p class="sync-problem" role="alert">{i18n.t(key)}</p> })}
        </div>
    }
}

//! "My check-ins": the server's record with this phone's own, not yet confirmed check-ins laid over it.

use guihai_core::checkin::{my_check_ins, CheckInRow, RowState};
use guihai_core::sync::Op;
use leptos::prelude::*;

use crate::checkin::pending_check_ins;
use crate::clock::format_time;
use crate::i18n::use_i18n;
use crate::records;
use crate::sync::{outbox, reason_key, use_sync};

/// Pending check-ins with the reason attached where the server refused them for good.
fn rows() -> Vec<CheckInRow> {
    let refused = outbox::refused();
    let pending: Vec<_> = pending_check_ins()
        .into_iter()
        .map(|mut p| {
            p.refused = refused
                .iter()
                .find(|r| matches!(&r.mutation.op, Op::CheckIn { id, .. } if *id == p.id))
                .map(|r| r.reason);
            p
        })
        .collect();
    my_check_ins(&records::synced_check_ins(), &pending)
}

#[component]
pub fn MyCheckIns() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let rows = sync.watch(rows);
    view! {
        <section class="card">
            <h1>{move || i18n.t("checkins.title")}</h1>
            {move || {
                let rows = rows();
                if rows.is_empty() {
                    return view! { <p class="empty" data-testid="checkins-empty">{i18n.t("checkins.empty")}</p> }.into_any();
                }
                view! {
                    <ul class="checkins" data-testid="checkins">
                        {rows.into_iter().map(|row| view! { <CheckInItem row /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

#[component]
fn CheckInItem(row: CheckInRow) -> impl IntoView {
    let i18n = use_i18n();
    let (state, label, reason) = match row.state {
        RowState::Waiting => ("waiting", "checkins.state.waiting", None),
        RowState::Synced => ("synced", "checkins.state.synced", None),
        RowState::Refused(rejection) => ("refused", "checkins.state.refused", Some(reason_key(rejection))),
    };
    view! {
        <li class="checkin" data-testid="checkin-row" data-state=state data-id=row.id.to_string()>
            <div class="checkin-title">{row.title}</div>
            <div class="checkin-org">{row.org_name}</div>
            <div class="checkin-meta">
                <time>{format_time(row.scanned_at)}</time>
                <span class=format!("pill {state}")>{move || i18n.t(label)}</span>
            </div>
            {reason.map(|key| view! { <p class="error">{move || i18n.t(&key)}</p> })}
        </li>
    }
}

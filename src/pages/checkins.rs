//! "My check-ins": the server's record with this phone's own, not yet confirmed check-ins, newest first, a page
//! at a time (each page is read from the end of its stores, so it costs the same with ten or ten thousand).

use guihai_core::checkin::{CheckInRow, RowState};
use leptos::prelude::*;

use crate::clock::format_time;
use crate::i18n::use_i18n;
use crate::store::checkins;
use crate::sync::{reason_key, use_sync};

/// Check-ins shown at first, and added by each "show more".
const PAGE: usize = 50;

#[component]
pub fn MyCheckIns() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let revision = sync.revision;
    let shown = RwSignal::new(PAGE);
    let page = LocalResource::new(move || {
        revision.track();
        checkins::newest(shown.get())
    });
    view! {
        <section class="card">
            <h1>{move || i18n.t("checkins.title")}</h1>
            {move || {
                let (rows, more) = page.get()?.unwrap_or_default();
                if rows.is_empty() {
                    return Some(view! { <p class="empty" data-testid="checkins-empty">{i18n.t("checkins.empty")}</p> }.into_any());
                }
                Some(view! {
                    <ul class="checkins" data-testid="checkins">
                        {rows.into_iter().map(|row| view! { <CheckInItem row /> }).collect_view()}
                    </ul>
                    {more.then(|| view! {
                        <button class="button" data-testid="checkins-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                            {i18n.t("checkins.more")}
                        </button>
                    })}
                }
                .into_any())
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

//! `/activities`: what the member's organisations hold, upcoming (soonest first) and past (latest first), from
//! the phone's store, so it works offline; each says whether the member checked in.

use leptos::prelude::*;

use super::ActivitySummary;
use crate::clock::now_ms;
use crate::i18n::use_i18n;
use crate::store::activities;
use crate::sync::use_sync;

#[component]
pub fn ActivitiesPage() -> impl IntoView {
    let i18n = use_i18n();
    let revision = use_sync().revision;
    let published = LocalResource::new(move || {
        revision.track();
        activities::published()
    });
    view! {
        <section class="card" data-testid="activities">
            <h1>{move || i18n.t("activities.title")}</h1>
            {move || {
                let all = published.get()?.unwrap_or_default();
                let now = now_ms();
                let (mut upcoming, mut past): (Vec<_>, Vec<_>) = all.into_iter().partition(|(a, _)| a.ends_at >= now);
                upcoming.sort_by_key(|(a, _)| a.starts_at);
                past.sort_by_key(|(a, _)| std::cmp::Reverse(a.starts_at));
                let list = move |items: Vec<(guihai_core::domain::Activity, bool)>, testid: &'static str| {
                    if items.is_empty() {
                        return view! { <p class="empty">{i18n.t("activities.none")}</p> }.into_any();
                    }
                    view! {
                        <ul class="queue activities" data-testid=testid>
                            {items.into_iter().map(|(activity, attended)| {
                                let id = activity.id.to_string();
                                view! {
                                <li data-testid="activity" data-id=id>
                                    <span><ActivitySummary activity i18n /></span>
                                    {attended.then(|| view! {
                                        <span class="pill synced" data-testid="attended">{i18n.t("activities.attended")}</span>
                                    })}
                                </li>
                            }}).collect_view()}
                        </ul>
                    }
                    .into_any()
                };
                Some(view! {
                    <h2>{i18n.t("activities.upcoming")}</h2>
                    {list(upcoming, "activities-upcoming")}
                    <h2>{i18n.t("activities.past")}</h2>
                    {list(past, "activities-past")}
                })
            }}
        </section>
    }
}

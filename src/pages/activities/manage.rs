//! `/org/:id/activities`: a secretary's activities of their organisation, as the phone holds them with the
//! secretary's own writes not yet on the server (marked as waiting), to publish a new one, change or cancel
//! one, and show its code at the door. Offline, like the writes it makes.

use guihai_core::domain::Activity;
use guihai_core::sync::Op;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::{waiting_writes, ActivitySummary};
use crate::clock::now_ms;
use crate::i18n::use_i18n;
use crate::store::{activities, outbox};
use crate::sync::use_sync;
use crate::toast::confirmed;

/// How many activities the list shows at first, and shows more by.
const PAGE: usize = 20;

/// One activity on the list: as published, or as this phone changed it (`waiting`), or cancelled here.
#[derive(Clone)]
struct Listed {
    activity: Activity,
    waiting: bool,
    cancelling: bool,
}

#[component]
pub fn OrgActivitiesPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let params = use_params_map();
    let org_id = move || params.read().get("id").and_then(|id| Id::parse(&id).ok());
    let revision = sync.revision;
    let published = LocalResource::new(move || {
        revision.track();
        activities::published()
    });
    let problem = RwSignal::new(None::<&'static str>);
    // An organisation holds a few hundred a year: the newest first, a page at a time, or found by title.
    let query = RwSignal::new(String::new());
    let shown = RwSignal::new(PAGE);
    let listed = move || -> Option<Vec<Listed>> {
        let org = org_id()?;
        revision.track();
        let (changed, cancelled) = waiting_writes();
        let as_published = published
            .get()?
            .unwrap_or_default()
            .into_iter()
            .map(|(activity, _)| activity)
            .filter(|activity| !changed.iter().any(|c| c.id == activity.id))
            .map(|activity| (activity, false));
        let as_changed = changed.iter().cloned().map(|activity| (activity, true));
        let mut listed: Vec<Listed> = as_published
            .collect::<Vec<_>>()
            .into_iter()
            .chain(as_changed)
            .filter(|(activity, _)| activity.org_id == org && activity.title.contains(query.get().trim()))
            .map(|(activity, waiting)| Listed {
                cancelling: cancelled.contains(&activity.id),
                activity,
                waiting,
            })
            .collect();
        listed.sort_by_key(|listed| std::cmp::Reverse(listed.activity.starts_at));
        Some(listed)
    };
    let cancel = move |id: Id| {
        if !confirmed(&i18n.t("activities.cancel_confirm")) {
            return;
        }
        spawn_local(async move {
            match outbox::enqueue_op(Op::CancelActivity { id }, now_ms(), None).await {
                Ok(()) => {
                    problem.set(None);
                    sync.local_write();
                }
                Err(error) => problem.set(Some(error.message_key())),
            }
        });
    };
    view! {
        <section class="card" data-testid="org-activities">
            <h1>{move || i18n.t("activities.manage_title")}</h1>
            {move || org_id().map(|org| view! {
                <A href=format!("/org/{org}/activities/new") attr:class="button primary" attr:data-testid="new-activity">
                    {i18n.t("activities.new")}
                </A>
                <A href=format!("/org/{org}/volunteer") attr:class="button" attr:data-testid="volunteer-link">
                    {i18n.t("volunteer.link")}
                </A>
            })}
            {move || problem.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
            <input type="search" class="list-search" data-testid="activity-search" aria-label=i18n.t("activities.search")
                placeholder=i18n.t("activities.search") prop:value=query
                on:input=move |ev| { query.set(event_target_value(&ev)); shown.set(PAGE); } />
            {move || listed().map(|listed| {
                if listed.is_empty() {
                    return view! { <p class="empty">{i18n.t("activities.none")}</p> }.into_any();
                }
                let more = listed.len().saturating_sub(shown.get());
                view! {
                    <ul class="queue activities" data-testid="org-activity-list">
                        {listed.into_iter().take(shown.get()).map(|Listed { activity, waiting, cancelling }| {
                            let id = activity.id;
                            let org = activity.org_id;
                            view! {
                                <li data-testid="org-activity" data-id=id.to_string()>
                                    <span>
                                        <ActivitySummary activity i18n />
                                        {waiting.then(|| view! {
                                            <span class="pill waiting" data-testid="activity-waiting">{i18n.t("checkins.state.waiting")}</span>
                                        })}
                                        {cancelling.then(|| view! {
                                            <span class="pill refused" data-testid="activity-cancelling">{i18n.t("activities.cancelling")}</span>
                                        })}
                                    </span>
                                    {(!cancelling).then(|| view! {
                                        <div class="row-actions">
                                            <A href=format!("/org/{org}/activities/{id}/code") attr:class="button primary" attr:data-testid="show-code">
                                                {i18n.t("activities.show_code")}
                                            </A>
                                            <A href=format!("/org/{org}/activities/{id}/attendance") attr:class="button" attr:data-testid="activity-attendance">
                                                {i18n.t("attendance.title")}
                                            </A>
                                            <A href=format!("/org/{org}/activities/{id}") attr:class="button" attr:data-testid="edit-activity">
                                                {i18n.t("activities.edit")}
                                            </A>
                                            <button class="button" data-testid="cancel-activity" on:click=move |_| cancel(id)>
                                                {i18n.t("activities.cancel")}
                                            </button>
                                        </div>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                    {(more > 0).then(|| view! {
                        <button class="button" data-testid="activities-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                            {i18n.t_with("activities.more", &[("n", &more.to_string())])}
                        </button>
                    })}
                }
                .into_any()
            })}
        </section>
    }
}

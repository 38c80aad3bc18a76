//! Publishing an activity (`/org/:id/activities/new`) or changing one (`/org/:id/activities/:aid`): the form a
//! secretary fills in on their phone. Saving checks it as the server will (core's `Activity::checked`) and
//! queues it in the outbox, offline if need be; the list then shows it as waiting until the server has it.

use guihai_core::attendance::{hours_text, parse_hours};
use guihai_core::domain::{Activity, ActivityKind, VolunteerTeam};
use guihai_core::sync::Op;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{current, kind_of};
use crate::clock::{input_time, new_id, now_ms, parse_input_time};
use crate::i18n::use_i18n;
use crate::store::outbox;
use crate::sync::use_sync;

const HOUR_MS: i64 = 3_600_000;

#[component]
pub fn NewActivityPage() -> impl IntoView {
    let params = use_params_map();
    move || {
        let org_id = params.read().get("id").and_then(|id| Id::parse(&id).ok())?;
        // Tomorrow at nine in China (UTC+8), for two hours: a meeting's usual shape, changed in a few taps.
        let tomorrow = (now_ms() / (24 * HOUR_MS) + 1) * 24 * HOUR_MS + HOUR_MS;
        let start = Activity {
            id: new_id(),
            org_id,
            title: String::new(),
            kind: ActivityKind::ThemeDay,
            starts_at: tomorrow,
            ends_at: tomorrow + 2 * HOUR_MS,
            place: None,
            team: None,
            notes: None,
            open_to_visitors: true,
            hours_tenths: None,
        };
        Some(view! { <ActivityForm start /> })
    }
}

#[component]
pub fn EditActivityPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("aid").and_then(|id| Id::parse(&id).ok());
    let start = LocalResource::new(move || async move { current(id()?).await });
    move || {
        // Nothing until the phone has answered, rather than "not found" for a moment.
        Some(match start.get()? {
            Some(start) => view! { <ActivityForm start /> }.into_any(),
            None => view! { <section class="card"><p class="empty">{i18n.t("activities.not_found")}</p></section> }
                .into_any(),
        })
    }
}

#[component]
fn ActivityForm(start: Activity) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let navigate = use_navigate();
    let (id, org_id) = (start.id, start.org_id);
    let kind = RwSignal::new(start.kind);
    let team = RwSignal::new(start.team.unwrap_or(VolunteerTeam::Greening));
    let title = RwSignal::new(start.title.clone());
    let starts = RwSignal::new(input_time(start.starts_at));
    let ends = RwSignal::new(input_time(start.ends_at));
    let place = RwSignal::new(start.place.clone().unwrap_or_default());
    let notes = RwSignal::new(start.notes.clone().unwrap_or_default());
    let open_to_visitors = RwSignal::new(start.open_to_visitors);
    let hours = RwSignal::new(start.hours_tenths.map(|h| hours_text(u32::from(h))).unwrap_or_default());
    let problem = RwSignal::new(None::<String>);
    // A second tap while the first is being kept would queue it twice.
    let saving = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let times = parse_input_time(&starts.get_untracked()).zip(parse_input_time(&ends.get_untracked()));
        let Some((starts_at, ends_at)) = times else {
            problem.set(Some(i18n.t("activities.error.window")));
            return;
        };
        let kind = kind.get_untracked();
        let text = |value: String| Some(value).filter(|v| !v.trim().is_empty());
        let hours_tenths = match text(hours.get_untracked()).filter(|_| kind == ActivityKind::Volunteer) {
            None => None,
            Some(typed) => match parse_hours(&typed) {
                Some(tenths) => Some(tenths),
                None => return problem.set(Some(i18n.t("activities.error.hours"))),
            },
        };
        let activity = Activity {
            id,
            org_id,
            title: title.get_untracked(),
            kind,
            starts_at,
            ends_at,
            place: text(place.get_untracked()),
            team: (kind == ActivityKind::Volunteer).then(|| team.get_untracked()),
            notes: text(notes.get_untracked()),
            open_to_visitors: open_to_visitors.get_untracked(),
            hours_tenths,
        };
        let activity = match activity.checked() {
            Ok(activity) => activity,
            Err(error) => {
                problem.set(Some(i18n.t(&format!("activities.error.{}", error.key()))));
                return;
            }
        };
        saving.set(true);
        let navigate = navigate.clone();
        spawn_local(async move {
            let saved = outbox::enqueue_op(Op::PublishActivity(activity), now_ms(), None).await;
            saving.set(false);
            match saved {
                Ok(()) => {
                    sync.local_write();
                    navigate(&format!("/org/{org_id}/activities"), Default::default());
                }
                Err(error) => problem.set(Some(i18n.t(error.message_key()))),
            }
        });
    };

    view! {
        <section class="card">
            <h1>{move || i18n.t("activities.form_title")}</h1>
            <form class="activity-form" data-testid="activity-form" on:submit=submit>
                <label for="activity-kind">{move || i18n.t("activities.field.kind")}</label>
                <select id="activity-kind" data-testid="activity-kind-input"
                    on:change=move |ev| kind.set(kind_of(&event_target_value(&ev)))>
                    {ActivityKind::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str() selected=move || kind.get() == k>{i18n.t(&format!("kind.{}", k.as_str()))}</option>
                    }).collect_view()}
                </select>
                <Show when=move || kind.get() == ActivityKind::Volunteer>
                    <label for="activity-team">{move || i18n.t("activities.field.team")}</label>
                    <select id="activity-team" data-testid="activity-team-input" on:change=move |ev| {
                        if let Some(t) = VolunteerTeam::parse(&event_target_value(&ev)) {
                            team.set(t);
                        }
                    }>
                        {VolunteerTeam::ALL.into_iter().map(|t| view! {
                            <option value=t.as_str() selected=move || team.get() == t>{i18n.t(&format!("team.{}", t.as_str()))}</option>
                        }).collect_view()}
                    </select>
                    <label for="activity-hours">{move || i18n.t("activities.hours")}</label>
                    <input id="activity-hours" data-testid="activity-hours-input" type="text" inputmode="decimal" maxlength="5"
                        prop:value=hours on:input=move |ev| hours.set(event_target_value(&ev)) />
                </Show>
                <label for="activity-title-input">{move || i18n.t("activities.field.title")}</label>
                <input id="activity-title-input" data-testid="activity-title-input" type="text" maxlength="60"
                    prop:value=title on:input=move |ev| title.set(event_target_value(&ev)) />
                <label for="activity-starts">{move || i18n.t("activities.field.starts")}</label>
                <input id="activity-starts" data-testid="activity-starts-input" type="datetime-local"
                    prop:value=starts on:input=move |ev| starts.set(event_target_value(&ev)) />
                <label for="activity-ends">{move || i18n.t("activities.field.ends")}</label>
                <input id="activity-ends" data-testid="activity-ends-input" type="datetime-local"
                    prop:value=ends on:input=move |ev| ends.set(event_target_value(&ev)) />
                <label for="activity-place">{move || i18n.t("activities.field.place")}</label>
                <input id="activity-place" data-testid="activity-place-input" type="text" maxlength="120"
                    prop:value=place on:input=move |ev| place.set(event_target_value(&ev)) />
                <label for="activity-notes">{move || i18n.t("activities.field.notes")}</label>
                <textarea id="activity-notes" data-testid="activity-notes-input"
                    prop:value=notes on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                <label class="check">
                    <input type="checkbox" data-testid="activity-open-input" prop:checked=open_to_visitors
                        on:change=move |ev| open_to_visitors.set(event_target_checked(&ev)) />
                    {move || i18n.t("activities.open_to_visitors")}
                </label>
                {move || problem.get().map(|text| view! { <p class="error" role="alert" data-testid="activity-problem">{text}</p> })}
                <button type="submit" class="primary" data-testid="activity-save" disabled=move || saving.get()>
                    {move || i18n.t("activities.save")}
                </button>
            </form>
        </section>
    }
}

//! `/org/:id/activities/:aid/attendance`: who came to an activity, for its organisation's secretary: the
//! organisation's own members against those expected, visiting members apart, each one's time, how they came
//! (their own scan, their card scanned, entered by hand and why) and flag, the list as a spreadsheet, and the
//! members not here yet, whom the secretary may enter by hand; the minutes (会议记录), and for volunteer service
//! each attendee's hours, which the secretary may change. Online only: these are the server's records of other
//! people, never kept on the secretary's phone; what the secretary writes here goes through the outbox.

use guihai_core::attendance::{check_minutes, check_reason, hours_text, parse_hours, Attendance, Missing};
use guihai_core::checkin::CheckInFlag;
use guihai_core::sync::{Op, RecordedBy};
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{record, ActivitySummary};
use crate::clock::{format_time, now_ms};
use crate::i18n::{use_i18n, I18n};
use crate::online::{fetched, id_param};
use crate::pages::org::DownloadSheet;
use crate::store::outbox;
use crate::sync::{use_sync, SyncService};

#[component]
pub fn AttendancePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param("aid");
    let attendance = fetched::<Attendance>(move || Some(format!("/activities/{}/attendance", id()?)));
    view! {
        <section class="card" data-testid="attendance">
            <h1>{move || i18n.t("attendance.title")}</h1>
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || attendance.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(attendance) => {
                        let counts = i18n.t_with(
                            "attendance.counts",
                            &[
                                ("came", &attendance.members_came().to_string()),
                                ("expected", &attendance.expected.to_string()),
                                ("visitors", &attendance.visitors().to_string()),
                            ],
                        );
                        view! {
                            <ActivitySummary activity=attendance.activity.clone() i18n />
                            <p data-testid="attendance-counts"><strong>{counts}</strong></p>
                            <DownloadSheet path=format!("/activities/{}/attendance.csv", attendance.activity.id)
                                filename="attendance.csv" label="attendance.csv" testid="attendance-csv" />
                            <ul class="queue roster" data-testid="attendees">
                                {attendance.came.into_iter().map(|attendee| {
                                    let flag = attendee.flag.map(|flag| match flag {
                                        CheckInFlag::OutsideWindow => "attendance.flag.outside_window",
                                        CheckInFlag::ClockSkew => "attendance.flag.clock_skew",
                                        CheckInFlag::StaleCode => "attendance.flag.stale_code",
                                    });
                                    let how = i18n.t(&format!("attendance.how.{}", attendee.how.as_str()));
                                    let how = match &attendee.reason {
                                        Some(reason) => format!("{how}：{reason}"),
                                        None => how,
                                    };
                                    view! {
                                        <li data-testid="attendee" data-name=attendee.name.clone() data-how=attendee.how.as_str()>
                                            <span>
                                                <strong>{attendee.name.clone()}</strong>" · "{attendee.home_org.clone()}
                                                <br />
                                                <time>{format_time(attendee.scanned_at)}</time>" · "{how}
                                            </span>
                                            <span>
                                                {attendee.visitor.then(|| view! {
                                                    <span class="pill waiting" data-testid="visitor">{i18n.t("attendance.visitor")}</span>
                                                })}
                                                {flag.map(|key| view! { <span class="pill refused">{i18n.t(key)}</span> })}
                                                {attendee.hours_tenths.map(|tenths| view! {
                                                    <CreditedHours activity_id=attendance.activity.id member_id=attendee.member_id tenths />
                                                })}
                                            </span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                            <MissingMembers activity_id=attendance.activity.id missing=attendance.missing.clone() />
                            <Minutes activity_id=attendance.activity.id start=attendance.minutes.clone().unwrap_or_default() />
                        }
                        .into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

/// How many of the members not here a screen lists at once: an organisation has hundreds; the secretary finds one
/// by typing part of their name.
const MISSING_SHOWN: usize = 30;

/// The organisation's members not here yet, found by name.
#[component]
fn MissingMembers(activity_id: Id, missing: Vec<Missing>) -> impl IntoView {
    let i18n = use_i18n();
    let total = missing.len();
    let query = RwSignal::new(String::new());
    let found = move || {
        let query = query.get();
        let query = query.trim();
        let matching: Vec<Missing> = missing.iter().filter(|m| m.name.contains(query)).cloned().collect();
        let more = matching.len().saturating_sub(MISSING_SHOWN);
        (matching.into_iter().take(MISSING_SHOWN).collect::<Vec<_>>(), more)
    };
    (total > 0).then(|| {
        view! {
            <h2>{i18n.t_with("attendance.missing_count", &[("n", &total.to_string())])}</h2>
            <input type="search" class="list-search" data-testid="missing-search" aria-label=i18n.t("attendance.missing_search")
                placeholder=i18n.t("attendance.missing_search") prop:value=query on:input=move |ev| query.set(event_target_value(&ev)) />
            {move || {
                let (shown, more) = found();
                view! {
                    <ul class="queue roster" data-testid="missing">
                        {shown.into_iter().map(|missing| view! { <ByHand activity_id missing /> }).collect_view()}
                    </ul>
                    {(more > 0).then(|| view! {
                        <p class="note" data-testid="missing-more">{i18n.t_with("attendance.missing_more", &[("n", &more.to_string())])}</p>
                    })}
                }
            }}
        }
    })
}

/// An expected member not here (yet): the secretary may enter them by hand, with a reason, for a member with no
/// phone to scan with. It goes through the outbox and counts once synced.
#[component]
fn ByHand(activity_id: Id, missing: Missing) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let open = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let state = RwSignal::new(None::<&'static str>);
    let member_id = missing.member_id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(reason) = check_reason(&reason.get_untracked()).map(str::to_owned) else {
            return state.set(Some("attendance.reason_needed"));
        };
        let op = record::op(activity_id, RecordedBy::Hand { member_id, reason });
        queue(op, state, "attendance.entered", sync, move || open.set(false));
    };
    view! {
        <li class="missing" data-testid="missing-member" data-name=missing.name.clone()>
            <span><strong>{missing.name.clone()}</strong></span>
            <Show
                when=move || open.get()
                fallback=move || view! {
                    <button class="button" data-testid="by-hand" on:click=move |_| open.set(true)
                        disabled=move || state.get() == Some("attendance.entered")>
                        {i18n.t("attendance.by_hand")}
                    </button>
                }
            >
                <form class="by-hand" on:submit=submit>
                    <input data-testid="by-hand-reason" maxlength="200" required
                        placeholder=i18n.t("attendance.reason") aria-label=i18n.t("attendance.reason")
                        prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev)) />
                    <button type="submit" class="primary" data-testid="by-hand-save">{i18n.t("attendance.by_hand")}</button>
                </form>
            </Show>
            {state_line(i18n, state, "attendance.entered", "by-hand-state")}
        </li>
    }
}

/// Queues a secretary's write in the outbox; `state` says `done` once it is on disk, or why it is not.
fn queue(
    op: Op,
    state: RwSignal<Option<&'static str>>,
    done: &'static str,
    sync: SyncService,
    then: impl FnOnce() + 'static,
) {
    spawn_local(async move {
        match outbox::enqueue_op(op, now_ms(), None).await {
            Ok(()) => {
                state.set(Some(done));
                then();
                sync.local_write();
            }
            Err(error) => state.set(Some(error.message_key())),
        }
    });
}

/// The state line under a secretary's write: done, or why not.
fn state_line(
    i18n: I18n,
    state: RwSignal<Option<&'static str>>,
    done: &'static str,
    testid: &'static str,
) -> impl IntoView {
    move || {
        state.get().map(|key| {
            view! {
                <p class=if key == done { "note success" } else { "error" } role="status" data-testid=testid data-state=key>
                    {i18n.t(key)}
                </p>
            }
        })
    }
}

/// The minutes (会议记录), written after the activity and saved through the outbox.
#[component]
fn Minutes(activity_id: Id, start: String) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let text = RwSignal::new(start);
    let state = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(minutes) = check_minutes(&text.get_untracked()).map(str::to_owned) else {
            return state.set(Some("attendance.minutes_too_long"));
        };
        let op = Op::WriteMinutes {
            activity_id,
            text: minutes,
        };
        queue(op, state, "attendance.minutes_saved", sync, || ());
    };
    view! {
        <form class="minutes" on:submit=submit>
            <h2><label for="minutes">{move || i18n.t("attendance.minutes")}</label></h2>
            <textarea id="minutes" data-testid="minutes-input" rows="6"
                prop:value=text on:input=move |ev| text.set(event_target_value(&ev))></textarea>
            <button type="submit" class="button" data-testid="minutes-save">{move || i18n.t("attendance.minutes_save")}</button>
            {state_line(i18n, state, "attendance.minutes_saved", "minutes-state")}
        </form>
    }
}

/// A volunteer attendee's hours, which the secretary may change for them.
#[component]
fn CreditedHours(activity_id: Id, member_id: Id, tenths: u16) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let open = RwSignal::new(false);
    let typed = RwSignal::new(hours_text(u32::from(tenths)));
    let shown = RwSignal::new(tenths);
    let state = RwSignal::new(None::<&'static str>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(hours_tenths) = parse_hours(&typed.get_untracked()) else {
            return state.set(Some("attendance.hours_invalid"));
        };
        let op = Op::CreditHours {
            activity_id,
            member_id,
            hours_tenths,
        };
        queue(op, state, "attendance.hours_saved", sync, move || {
            shown.set(hours_tenths);
            open.set(false);
        });
    };
    view! {
        <span class="pill" data-testid="attendee-hours">
            {move || i18n.t_with("attendance.hours", &[("hours", &hours_text(u32::from(shown.get())))])}
        </span>
        <Show
            when=move || open.get()
            fallback=move || view! {
                <button class="link" data-testid="hours-change" on:click=move |_| open.set(true)>{i18n.t("attendance.hours_change")}</button>
            }
        >
            <form class="by-hand" on:submit=submit>
                <input data-testid="hours-input" inputmode="decimal" maxlength="5" aria-label=i18n.t("activities.hours")
                    prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev)) />
                <button type="submit" class="primary" data-testid="hours-save">{i18n.t("attendance.hours_save")}</button>
            </form>
        </Show>
        {state_line(i18n, state, "attendance.hours_saved", "hours-state")}
    }
}

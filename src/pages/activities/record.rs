//! A secretary records a member at one of their activities: after scanning the member's card (the verified
//! card's screen, `checkin.rs`), one tap per activity running about now; or, on the attendance page, by hand
//! with a reason for a member without a phone. Either is a write in the outbox like every other, offline if
//! need be; the screen says "recorded" once it is on disk, and the server counts a member once however they came.

use guihai_core::domain::Activity;
use guihai_core::qr;
use guihai_core::sync::{Op, RecordedBy};
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::waiting_writes;
use crate::clock::{new_id, now_ms};
use crate::i18n::use_i18n;
use crate::store::{activities, cache, outbox, records, StoreError};
use crate::sync::use_sync;

/// How long before an activity starts, and after it ends, a card can be recorded for it: members arrive early
/// and a secretary may enter the last ones after the end.
const AROUND_MS: i64 = 2 * 3_600_000;

/// The activities of the organisations this secretary runs that are on about now, as the phone holds them.
async fn on_now() -> Vec<Activity> {
    let runs = records::secretary_of();
    let now = now_ms();
    let (waiting, cancelled) = waiting_writes();
    let published = activities::published()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(a, _)| a);
    let mut on: Vec<Activity> = Vec::new();
    for activity in waiting.into_iter().chain(published) {
        let about_now = activity.starts_at - AROUND_MS <= now && now < activity.ends_at + AROUND_MS;
        if about_now
            && runs.contains(&activity.org_id)
            && !cancelled.contains(&activity.id)
            && !on.iter().any(|a| a.id == activity.id)
        {
            on.push(activity);
        }
    }
    on.sort_by_key(|a| a.starts_at);
    on
}

/// Whether this phone already holds, waiting, this member's attendance at `activity_id`.
fn recorded_here(activity_id: Id, member_id: Id) -> bool {
    cache::with(|c| {
        c.others.iter().any(|other| match &other.queued.op {
            Op::RecordAttendance {
                activity_id: at, by, ..
            } if *at == activity_id => match by {
                RecordedBy::Card { code } => {
                    qr::read_unverified(code).is_some_and(|code| code.subject == qr::Subject::Member { member_id })
                }
                RecordedBy::Hand { member_id: by_hand, .. } => *by_hand == member_id,
            },
            _ => false,
        })
    })
}

/// The write recording one attendance.
pub fn op(activity_id: Id, by: RecordedBy) -> Op {
    Op::RecordAttendance {
        id: new_id(),
        activity_id,
        by,
    }
}

/// Queues one attendance; `Ok` once it is on disk.
async fn record(activity_id: Id, by: RecordedBy) -> Result<(), StoreError> {
    outbox::enqueue_op(op(activity_id, by), now_ms(), None).await
}

/// Under a verified member card: one button per activity this secretary runs about now.
#[component]
pub fn RecordCard(member_id: Id, link: String) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let choices = LocalResource::new(on_now);
    let done = RwSignal::new(Vec::<Id>::new());
    let problem = RwSignal::new(None::<&'static str>);
    move || {
        let choices = choices.get()?;
        if choices.is_empty() {
            return None;
        }
        let link = link.clone();
        Some(view! {
            <div class="record-card" data-testid="record-card">
                <h2>{i18n.t("attendance.record_title")}</h2>
                {choices.into_iter().map(|activity| {
                    let id = activity.id;
                    let title = activity.title.clone();
                    let link = link.clone();
                    let tap = move |_| {
                        let by = RecordedBy::Card { code: link.clone() };
                        spawn_local(async move {
                            match record(id, by).await {
                                Ok(()) => {
                                    done.update(|d| d.push(id));
                                    problem.set(None);
                                    sync.local_write();
                                }
                                Err(error) => problem.set(Some(error.message_key())),
                            }
                        });
                    };
                    let recorded = move || done.get().contains(&id) || recorded_here(id, member_id);
                    view! {
                        <Show
                            when=recorded
                            fallback=move || view! {
                                <button class="button primary" data-testid="record-attendance" on:click=tap.clone()>
                                    {i18n.t_with("attendance.record_at", &[("title", &activity.title)])}
                                </button>
                            }
                        >
                            <p class="note success" role="status" data-testid="attendance-recorded">
                                {i18n.t_with("attendance.recorded", &[("title", &title)])}
                            </p>
                        </Show>
                    }
                }).collect_view()}
                {move || problem.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
            </div>
        })
    }
}

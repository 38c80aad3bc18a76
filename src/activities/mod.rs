//! Activities (活动): what the member's organisations hold, upcoming and past, read offline from the phone's
//! store (`list.rs`); and for a secretary, their organisation's activities to publish, change and cancel,
//! offline through the outbox like every write (`manage.rs`, `form.rs`), the check-in code to show at the
//! door (`door.rs`), and who came (`attendance.rs`).

mod attendance;
mod door;
mod form;
mod list;
mod manage;
mod record;

use guihai_core::domain::{Activity, ActivityKind};
use guihai_core::sync::Op;
use leptos::prelude::*;

use crate::clock::{format_date, format_time};
use crate::i18n::I18n;
use crate::store::cache;

pub use attendance::AttendancePage;
pub use door::DoorCodePage;
pub use form::{EditActivityPage, NewActivityPage};
pub use list::ActivitiesPage;
pub use manage::OrgActivitiesPage;
pub use record::RecordCard;

/// "党课 · 绿化队": the kind, and the team for volunteer service.
fn kind_words(i18n: I18n, activity: &Activity) -> String {
    let kind = i18n.t(&format!("kind.{}", activity.kind.as_str()));
    match activity.team.filter(|_| activity.kind == ActivityKind::Volunteer) {
        Some(team) => format!("{kind} · {}", i18n.t(&format!("team.{}", team.as_str()))),
        None => kind,
    }
}

/// "2026-12-01 14:00 – 16:00", or with the end's date when it ends on another day.
fn window_words(activity: &Activity) -> String {
    let (start, end) = (format_time(activity.starts_at), format_time(activity.ends_at));
    if format_date(activity.starts_at) == format_date(activity.ends_at) {
        format!("{start} – {}", &end[end.len() - 5..])
    } else {
        format!("{start} – {end}")
    }
}

/// An activity's title, kind, time, place and notes.
#[component]
fn ActivitySummary(activity: Activity, i18n: I18n) -> impl IntoView {
    view! {
        <div class="activity-title" data-testid="activity-title">{activity.title.clone()}</div>
        <div class="note" data-testid="activity-kind">{kind_words(i18n, &activity)}</div>
        <time class="note">{window_words(&activity)}</time>
        {activity.place.clone().map(|place| view! { <div class="note" data-testid="activity-place">{place}</div> })}
        {activity.notes.clone().map(|notes| view! { <p class="activity-notes" data-testid="activity-notes">{notes}</p> })}
    }
}

/// What this phone's outbox still holds for activities (the secretary's own writes, not yet on the server):
/// the latest version of each published or changed one, and the cancelled ones.
fn waiting_writes() -> (Vec<Activity>, Vec<guihai_core::Id>) {
    cache::with(|c| {
        let mut published: Vec<Activity> = Vec::new();
        let mut cancelled = Vec::new();
        for other in &c.others {
            match &other.queued.op {
                Op::PublishActivity(activity) => {
                    published.retain(|a| a.id != activity.id);
                    published.push(activity.clone());
                }
                Op::CancelActivity { id } => cancelled.push(*id),
                _ => {}
            }
        }
        (published, cancelled)
    })
}

/// Activity `id` as the secretary last saw it: their own change still waiting, or as published.
async fn current(id: guihai_core::Id) -> Option<Activity> {
    match waiting_writes().0.into_iter().find(|a| a.id == id) {
        Some(waiting) => Some(waiting),
        None => crate::store::activities::published_one(id).await.ok()?,
    }
}

/// Whether `kind` is one `ActivityKind` names, for a form's select.
fn kind_of(value: &str) -> ActivityKind {
    ActivityKind::parse(value).unwrap_or_default()
}

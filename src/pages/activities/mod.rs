//! Activities (活动): what the member's organisations hold, upcoming and past, read offline from the phone's
//! store (`list.rs`); and for a secretary, their organisation's activities to publish, change and cancel,
//! offline through the outbox like every write (`manage.rs`, `form.rs`), the check-in code to show at the
//! door (`door.rs`), who came (`attendance.rs`, `record.rs` for the card scanned at the door and entries by
//! hand), and the year's volunteer hours (`volunteer.rs`). The secretary's are in the staff app only.

#[cfg(feature = "staff")]
mod attendance;
#[cfg(feature = "staff")]
mod door;
#[cfg(feature = "staff")]
mod form;
mod list;
#[cfg(feature = "staff")]
mod manage;
#[cfg(feature = "staff")]
mod record;
#[cfg(feature = "staff")]
mod volunteer;

use guihai_core::attendance::hours_text;
use guihai_core::domain::{Activity, ActivityKind};
use leptos::prelude::*;

use crate::clock::{format_date, format_time};
use crate::i18n::I18n;

#[cfg(feature = "staff")]
pub use attendance::AttendancePage;
#[cfg(feature = "staff")]
pub use door::DoorCodePage;
#[cfg(feature = "staff")]
pub use form::{EditActivityPage, NewActivityPage};
pub use list::ActivitiesPage;
#[cfg(feature = "staff")]
pub use manage::OrgActivitiesPage;
#[cfg(feature = "staff")]
pub use record::RecordCard;
#[cfg(feature = "staff")]
pub use volunteer::VolunteerPage;

/// "志愿服务 · 绿化队 · 2.5 小时 · 只限本组织党员": the kind, the team and hours for volunteer service, and whether
/// it is for the organisation's own members only.
fn kind_words(i18n: I18n, activity: &Activity) -> String {
    let mut words = vec![i18n.t(&format!("kind.{}", activity.kind.as_str()))];
    if activity.kind == ActivityKind::Volunteer {
        words.extend(activity.team.map(|team| i18n.t(&format!("team.{}", team.as_str()))));
        words.extend(
            activity
                .hours_tenths
                .map(|tenths| i18n.t_with("attendance.hours", &[("hours", &hours_text(u32::from(tenths)))])),
        );
    }
    if !activity.open_to_visitors {
        words.push(i18n.t("activities.members_only"));
    }
    words.join(" · ")
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

#[cfg(feature = "staff")]
/// What this phone's outbox still holds for activities (the secretary's own writes, not yet on the server):
/// the latest version of each published or changed one, and the cancelled ones.
fn waiting_writes() -> (Vec<Activity>, Vec<guihai_core::Id>) {
    crate::store::cache::with(|c| {
        let mut published: Vec<Activity> = Vec::new();
        let mut cancelled = Vec::new();
        for other in &c.others {
            match &other.queued.op {
                guihai_core::sync::Op::PublishActivity(activity) => {
                    published.retain(|a| a.id != activity.id);
                    published.push(activity.clone());
                }
                guihai_core::sync::Op::CancelActivity { id } => cancelled.push(*id),
                _ => {}
            }
        }
        (published, cancelled)
    })
}

#[cfg(feature = "staff")]
/// Activity `id` as the secretary last saw it: their own change still waiting, or as published.
async fn current(id: guihai_core::Id) -> Option<Activity> {
    match waiting_writes().0.into_iter().find(|a| a.id == id) {
        Some(waiting) => Some(waiting),
        None => crate::store::activities::published_one(id).await.ok()?,
    }
}

#[cfg(feature = "staff")]
/// Whether `kind` is one `ActivityKind` names, for a form's select.
fn kind_of(value: &str) -> ActivityKind {
    ActivityKind::parse(value).unwrap_or_default()
}

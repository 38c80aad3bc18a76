//! `/org/:id/activities/:aid/attendance`: who came to an activity, for its organisation's secretary: the
//! organisation's own members against those expected, visiting members apart, each one's time and flag, and the
//! list as a spreadsheet. Online only: these are the server's records of other people, never kept on the
//! secretary's phone.

use guihai_core::attendance::Attendance;
use guihai_core::checkin::CheckInFlag;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::ActivitySummary;
use crate::api;
use crate::clock::format_time;
use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};
use crate::store::records;

#[component]
pub fn AttendancePage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param("aid");
    let attendance = fetched::<Attendance>(move || Some(format!("/activities/{}/attendance", id()?)));
    let message = RwSignal::new(None::<&'static str>);
    let download = move |_| {
        spawn_local(async move {
            let (Some(session), Some(id)) = (records::session(), id()) else {
                return;
            };
            let path = format!("/activities/{id}/attendance.csv");
            let saved = match api::get_file(&session.token, &path).await {
                Some(csv) => crate::pwa::download("attendance.csv", "text/csv;charset=utf-8", &csv).is_ok(),
                None => false,
            };
            message.set((!saved).then_some("steward.failed"));
        });
    };
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
                            <button class="button" data-testid="attendance-csv" on:click=download>{i18n.t("attendance.csv")}</button>
                            <ul class="queue roster" data-testid="attendees">
                                {attendance.came.into_iter().map(|attendee| {
                                    let flag = attendee.flag.map(|flag| match flag {
                                        CheckInFlag::OutsideWindow => "attendance.flag.outside_window",
                                        CheckInFlag::ClockSkew => "attendance.flag.clock_skew",
                                        CheckInFlag::StaleCode => "attendance.flag.stale_code",
                                    });
                                    view! {
                                        <li data-testid="attendee" data-name=attendee.name.clone()>
                                            <span>
                                                <strong>{attendee.name.clone()}</strong>" · "{attendee.home_org.clone()}
                                                <br />
                                                <time>{format_time(attendee.scanned_at)}</time>
                                            </span>
                                            <span>
                                                {attendee.visitor.then(|| view! {
                                                    <span class="pill waiting" data-testid="visitor">{i18n.t("attendance.visitor")}</span>
                                                })}
                                                {flag.map(|key| view! { <span class="pill refused">{i18n.t(key)}</span> })}
                                            </span>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }
                })}
            </Suspense>
            {move || message.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
        </section>
    }
}

//! `/org/:id/volunteer`: the organisation's volunteer service (志愿服务) by year, for its secretary: each team's
//! hours and each member's. Online only, like the attendance it is counted from.

use guihai_core::attendance::{hours_text, VolunteerHours};
use leptos::prelude::*;

use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};

#[component]
pub fn VolunteerPage() -> impl IntoView {
    let i18n = use_i18n();
    let org = id_param("id");
    // `None`: the server's current year.
    let year = RwSignal::new(None::<i32>);
    let hours = fetched::<VolunteerHours>(move || {
        let year = year.get().map(|y| format!("?year={y}")).unwrap_or_default();
        Some(format!("/orgs/{}/volunteer-hours{year}", org()?))
    });
    let hours_words = move |tenths: u32| i18n.t_with("attendance.hours", &[("hours", &hours_text(tenths))]);
    view! {
        <section class="card" data-testid="volunteer">
            <h1>{move || i18n.t("volunteer.title")}</h1>
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || hours.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(hours) => {
                        let shown = hours.year;
                        view! {
                            <p class="year-switch">
                                <button class="link" data-testid="volunteer-previous" aria-label=i18n.t("volunteer.previous")
                                    on:click=move |_| year.set(Some(shown - 1))>"‹"</button>
                                <strong data-testid="volunteer-year">{i18n.t_with("volunteer.year", &[("year", &shown.to_string())])}</strong>
                                <button class="link" data-testid="volunteer-next" aria-label=i18n.t("volunteer.next")
                                    on:click=move |_| year.set(Some(shown + 1))>"›"</button>
                            </p>
                            {hours.members.is_empty().then(|| view! { <p class="empty">{i18n.t("volunteer.none")}</p> })}
                            <h2>{i18n.t("volunteer.teams")}</h2>
                            <ul class="queue" data-testid="volunteer-teams">
                                {hours.teams.into_iter().map(|team| {
                                    let name = team.team.map_or_else(
                                        || i18n.t("volunteer.no_team"),
                                        |team| i18n.t(&format!("team.{}", team.as_str())),
                                    );
                                    view! { <li data-testid="volunteer-team"><span>{name}</span><span>{hours_words(team.hours_tenths)}</span></li> }
                                }).collect_view()}
                            </ul>
                            <h2>{i18n.t("volunteer.members")}</h2>
                            <ul class="queue" data-testid="volunteer-members">
                                {hours.members.into_iter().map(|member| view! {
                                    <li data-testid="volunteer-member" data-name=member.name.clone()>
                                        <span>{member.name.clone()}</span><span>{hours_words(member.hours_tenths)}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}

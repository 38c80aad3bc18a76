//! One member on a page of their own, for their township or county (`/township/:id/:mid`, online): who they are,
//! where they are and since when, when they were last heard from (with a contact to record), every stop with what
//! they attended there and how it ended, the township's reviews, and how many activities in the last 12 months.

use guihai_core::report::MemberDetail;
use guihai_core::situation::Situation;
use leptos::prelude::*;

use crate::i18n::use_i18n;
use crate::online::early::asks;
use crate::online::{fetched, id_param};
use crate::pages::certificate::{review_view, stop_view};
use crate::pages::org::{acting, Contact};
use crate::pages::report::situation_words;

#[component]
pub fn TownshipMemberPage() -> impl IntoView {
    let i18n = use_i18n();
    let person = id_param("mid");
    let detail = fetched::<MemberDetail>(move || Some(asks::person(person()?)));
    let act = acting(detail);
    view! {
        <Suspense fallback=move || view! { <section class="card"><p>{i18n.t("steward.loading")}</p></section> }>
            {move || detail.get().map(|loaded| match loaded {
                None => view! { <section class="card"><p class="error" role="alert">{i18n.t("steward.offline")}</p></section> }.into_any(),
                Some(MemberDetail { entry, stops, reviews, attended }) => {
                    let returned_home_at = match entry.situation {
                        Situation::ReturnedHome { at } => Some(at),
                        _ => None,
                    };
                    let whereabouts = entry.current_org.as_ref().map_or_else(
                        || situation_words(i18n, &entry.situation),
                        |org| format!("{} · {}", org.city.clone().unwrap_or_default(), org.name),
                    );
                    view! {
                        <section class="card" data-testid="member-detail">
                            <h1 data-testid="member-detail-name">{entry.name.clone()}</h1>
                            <dl>
                                <dt>{i18n.t("profile.field.phone")}</dt>
                                <dd>{entry.phone.clone().unwrap_or_default()}</dd>
                                <dt>{i18n.t("home.home_org")}</dt>
                                <dd>{entry.home_org.clone()}</dd>
                                <dt>{i18n.t("home.current_org")}</dt>
                                <dd data-testid="whereabouts" data-state=entry.situation.as_str()>{whereabouts}</dd>
                            </dl>
                            <p data-testid="attended-year" data-count=attended.len().to_string()>
                                {i18n.t_with("township.attended_year", &[("n", &attended.len().to_string())])}
                            </p>
                            <Contact entry=entry.clone() act />
                        </section>
                        <section class="card">
                            <h2>{i18n.t("certificate.stops")}</h2>
                            {if stops.is_empty() {
                                view! { <p class="empty">{i18n.t("certificate.no_stops")}</p> }.into_any()
                            } else {
                                stops.iter().map(|stop| stop_view(i18n, stop, &attended, returned_home_at)).collect_view().into_any()
                            }}
                        </section>
                        <section class="card">
                            <h2>{i18n.t("certificate.reviews")}</h2>
                            {if reviews.is_empty() {
                                view! { <p class="empty">{i18n.t("certificate.no_reviews")}</p> }.into_any()
                            } else {
                                reviews.into_iter().map(|review| review_view(i18n, review)).collect_view().into_any()
                            }}
                        </section>
                    }
                    .into_any()
                }
            })}
        </Suspense>
    }
}

//! The mobile member certificate (流动党员证): the member's number and organisations, every stop with what they
//! attended there (counted from this phone's check-ins, waiting ones included) and the evaluation written when
//! they left, and the yearly reviews. Works offline; reads well on a phone and prints on paper.

use std::collections::BTreeMap;

use guihai_core::attendance::hours_text;
use guihai_core::certificate::{attended_at, attended_during, Attended, Review, Stop};
use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::clock::format_date;
use crate::i18n::{use_i18n, I18n};
use crate::pages::report::{my_situation, situation_words};
use crate::store::{checkins, records};
use crate::sync::use_sync;

#[derive(Clone, PartialEq)]
struct Held {
    stops: Vec<Stop>,
    reviews: Vec<Review>,
}

fn held() -> Held {
    let mut stops = records::stops();
    stops.sort_by_key(|s| std::cmp::Reverse(s.arrived_at));
    let mut reviews = records::reviews();
    reviews.sort_by_key(|r| std::cmp::Reverse(r.year));
    Held { stops, reviews }
}

#[component]
pub fn CertificatePage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let me = sync.watch(records::me);
    let held = Memo::new(move |_| sync.watch(held)());
    let revision = sync.revision;
    // Every check-in this phone knows of (waiting ones included), counted per stop.
    let attended = LocalResource::new(move || {
        revision.track();
        checkins::attended()
    });
    // The volunteer hours the server credited, by year.
    let volunteer = LocalResource::new(move || {
        revision.track();
        checkins::volunteer_hours()
    });

    move || {
        let Some(me) = me() else {
            return view! { <Redirect path="/signin" /> }.into_any();
        };
        let current = me.current_org.as_ref().map(|o| o.name.clone());
        let situation = situation_words(i18n, &my_situation());
        let returned_home_at = me.returned_home_at;
        view! {
            <section class="card certificate" data-testid="certificate">
                <h1>{i18n.t("certificate.title")}</h1>
                <dl>
                    <dt>{i18n.t("home.certificate_no")}</dt>
                    <dd data-testid="certificate-no">{me.certificate_no.clone().unwrap_or_default()}</dd>
                    <dt>{i18n.t("profile.name")}</dt>
                    <dd>{me.name.clone()}</dd>
                    <dt>{i18n.t("home.home_org")}</dt>
                    <dd>{me.home_org.name.clone()}</dd>
                    <dt>{i18n.t("home.current_org")}</dt>
                    <dd data-testid="certificate-current">{current.unwrap_or(situation)}</dd>
                </dl>
                {move || {
                    let hours = volunteer.get().and_then(Result::ok).unwrap_or_default();
                    let years = by_year(&hours);
                    (!years.is_empty()).then(|| {
                        let list: Vec<String> = years
                            .iter()
                            .rev()
                            .map(|(year, tenths)| {
                                i18n.t_with("certificate.volunteer_year", &[("year", &year.to_string()), ("hours", &hours_text(*tenths))])
                            })
                            .collect();
                        view! {
                            <p data-testid="volunteer-hours">
                                {i18n.t_with("certificate.volunteer", &[("list", &list.join(i18n.t("list.separator").as_str()))])}
                            </p>
                        }
                    })
                }}
            </section>
            <section class="card">
                <h2>{i18n.t("certificate.stops")}</h2>
                {move || {
                    let stops = held.get().stops;
                    let attended: Vec<Attended> = attended.get().and_then(Result::ok).unwrap_or_default();
                    if stops.is_empty() {
                        return view! { <p class="empty">{i18n.t("certificate.no_stops")}</p> }.into_any();
                    }
                    stops.iter().map(|stop| stop_view(i18n, stop, &attended, returned_home_at)).collect_view().into_any()
                }}
            </section>
            <section class="card">
                <h2>{i18n.t("certificate.reviews")}</h2>
                {move || {
                    let reviews = held.get().reviews;
                    if reviews.is_empty() {
                        return view! { <p class="empty">{i18n.t("certificate.no_reviews")}</p> }.into_any();
                    }
                    reviews.into_iter().map(|review| review_view(i18n, review)).collect_view().into_any()
                }}
            </section>
            <button class="button no-print" data-testid="certificate-print" on:click=move |_| { let _ = window().print(); }>
                {i18n.t("certificate.print")}
            </button>
        }
        .into_any()
    }
}

/// Tenths of an hour per year (the phone's local year of each scan).
fn by_year(hours: &[(i64, u16)]) -> BTreeMap<u32, u32> {
    let mut years = BTreeMap::new();
    for (at, tenths) in hours {
        let year = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(*at as f64)).get_full_year();
        *years.entry(year).or_insert(0) += u32::from(*tenths);
    }
    years
}

/// The township's review of one year.
pub fn review_view(i18n: I18n, review: Review) -> impl IntoView {
    view! {
        <article class="stop" data-testid="review">
            <h3>{i18n.t_with("certificate.review_of", &[("year", &review.year.to_string()), ("org", &review.org_name)])}</h3>
            <p><span class="pill grade">{i18n.t(&format!("grade.{}", review.grade.as_str()))}</span>{review.text}</p>
        </article>
    }
}

/// One stop: where and when, what was attended there (of `attended`, counted and listed), and how it ended.
pub fn stop_view(i18n: I18n, stop: &Stop, attended: &[Attended], returned_home_at: Option<i64>) -> impl IntoView {
    let until = stop.left_at.map_or_else(|| i18n.t("certificate.present"), format_date);
    let counts = attended_at(stop, attended);
    let each: Vec<_> = attended_during(stop, attended)
        .into_iter()
        .map(|a| {
            let kind = i18n.t(&format!("kind.{}", a.kind.as_str()));
            view! {
                <li data-testid="attended-one">
                    <span><time>{format_date(a.at)}</time>" · "{kind}</span>
                    <span>{a.title.clone()}</span>
                </li>
            }
        })
        .collect();
    let taken_part = if counts.is_empty() {
        i18n.t("certificate.none_attended")
    } else {
        let parts: Vec<String> = counts
            .iter()
            .map(|(kind, n)| {
                let kind = i18n.t(&format!("kind.{}", kind.as_str()));
                i18n.t_with("certificate.times", &[("kind", &kind), ("n", &n.to_string())])
            })
            .collect();
        parts.join(i18n.t("list.separator").as_str())
    };
    let evaluation = match (&stop.evaluation, stop.left_at) {
        (Some(e), _) => view! {
            <p data-testid="evaluation">
                <span class="pill grade">{i18n.t(&format!("grade.{}", e.grade.as_str()))}</span>{e.text.clone()}
            </p>
        }
        .into_any(),
        // Ended by the township's registering the return home: it says so, not just "no evaluation".
        (None, Some(left)) if returned_home_at == Some(left) => {
            view! { <p class="note" data-testid="stop-end">{i18n.t("certificate.ended_by_return")}</p> }.into_any()
        }
        (None, Some(_)) => {
            view! { <p class="note" data-testid="stop-end">{i18n.t("certificate.not_evaluated")}</p> }.into_any()
        }
        (None, None) if stop.leaving_at.is_some() => {
            view! { <p class="note" data-testid="stop-end">{i18n.t("certificate.leaving")}</p> }.into_any()
        }
        (None, None) => ().into_any(),
    };
    view! {
        <article class="stop" data-testid="stop" data-open=stop.left_at.is_none().to_string()>
            <h3>{stop.org.name.clone()}</h3>
            <p class="note">{i18n.t_with("certificate.dates", &[("from", &format_date(stop.arrived_at)), ("until", &until)])}</p>
            <p data-testid="attended">{i18n.t_with("certificate.attended", &[("list", &taken_part)])}</p>
            {(!each.is_empty()).then(|| view! {
                <details class="attended-list">
                    <summary>{i18n.t("certificate.attended_each")}</summary>
                    <ul class="queue" data-testid="attended-each">{each}</ul>
                </details>
            })}
            {evaluation}
        </article>
    }
}

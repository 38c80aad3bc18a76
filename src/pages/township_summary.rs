//! A township's one-page summary (`/township/:id/summary`, online), for its quarterly report and for a glance:
//! how many members, where they stand, where they are by city and by organisation (流向), and how many were away
//! at the end of each of the last 12 months, as charts that print on one A4 page.

use guihai_core::flow::Flow;
use guihai_core::listing::Standing;
use guihai_core::report::RosterEntry;
use leptos::prelude::*;

use crate::clock::{format_date, now_ms};
use crate::i18n::use_i18n;
use crate::online::early::asks;
use crate::online::{fetched, id_param};
use crate::pages::charts::{BarChart, MonthChart};
use crate::pages::org::DownloadSheet;

#[component]
pub fn TownshipSummaryPage() -> impl IntoView {
    let i18n = use_i18n();
    let township = id_param("id");
    let members = fetched::<Vec<RosterEntry>>(move || Some(asks::members(township()?)));
    let flow = fetched::<Flow>(move || Some(asks::flow(township()?)));
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    let loaded = move || Some((members.get()??, flow.get()??));
    view! {
        <section class="card summary" data-testid="township-summary">
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || match loaded() {
                    None if members.get().is_some() && flow.get().is_some() => {
                        view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any()
                    }
                    None => ().into_any(),
                    Some((members, flow)) => summary(i18n, &members, flow).into_any(),
                }}
            </Suspense>
            <div class="no-print">
                <button class="button primary" data-testid="summary-print" on:click=print>{move || i18n.t("summary.print")}</button>
                {move || township().map(|township| view! {
                    <DownloadSheet path=format!("/orgs/{township}/flow.csv") filename="township-flow.csv"
                        label="sheet.flow" testid="flow-csv" />
                })}
            </div>
        </section>
    }
}

fn summary(i18n: crate::i18n::I18n, members: &[RosterEntry], flow: Flow) -> impl IntoView {
    let township = members.first().map(|m| m.home_org.clone()).unwrap_or_default();
    let figure = |key: &'static str, testid: &'static str, count: usize| {
        view! {
            <div data-testid=testid data-count=count>
                <strong>{count}</strong>
                {i18n.t(key)}
            </div>
        }
    };
    let standing = |standing: Standing| members.iter().filter(|m| standing.holds_for(m)).count();
    view! {
        <h1>{i18n.t_with("summary.title", &[("township", &township)])}</h1>
        <p class="note">{i18n.t_with("summary.as_of", &[("date", &format_date(now_ms()))])}</p>
        <div class="figures">
            {figure("summary.members", "summary-members", members.len())}
            {figure("summary.at_organisation", "summary-at", standing(Standing::AtOrganisation))}
            {figure("summary.reported", "summary-reported", standing(Standing::Reported))}
            {figure("summary.not_reported", "summary-not-reported", standing(Standing::NotReported))}
            {figure("summary.out_of_contact", "summary-lost", standing(Standing::OutOfContact))}
            {figure("summary.returned_home", "summary-returned", standing(Standing::ReturnedHome))}
        </div>
        <h2>{i18n.t("summary.by_city")}</h2>
        <BarChart tallies=flow.cities label=i18n.t("summary.by_city") testid="flow-cities" />
        <h2>{i18n.t("summary.by_org")}</h2>
        <BarChart tallies=flow.orgs label=i18n.t("summary.by_org") testid="flow-orgs" />
        <h2>{i18n.t("summary.by_month")}</h2>
        <MonthChart months=flow.months label=i18n.t("summary.by_month") />
    }
}

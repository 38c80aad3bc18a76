//! The county administrator's screen (`/county/:id`): the county's tree of organisations, the townships at home
//! and the host organisations in the cities, each with its members, who is out of contact and what waits; a
//! township opens its own screen. Online only.

use guihai_core::attendance::hours_text;
use guihai_core::domain::OrgKind;
use guihai_core::flow::{most_first, Tally};
use guihai_core::report::{CountyTotals, OrgSummary, OrgTree};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::{use_i18n, I18n};
use crate::online::early::asks;
use crate::online::{fetched, id_param};
use crate::pages::charts::BarChart;
use crate::pages::county_tree::{AddOrg, Choice, ManageOrg};
use crate::pages::org::DownloadSheet;
use crate::pages::send_notices::SendNotices;

#[component]
pub fn CountyPage() -> impl IntoView {
    let i18n = use_i18n();
    let county = id_param("id");
    let tree = fetched::<OrgTree>(move || Some(asks::tree(county()?)));
    let reload = move || tree.refetch();
    view! {
        <section class="card" data-testid="county-page">
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || tree.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(tree) => {
                        let totals = CountyTotals::of(&tree.orgs);
                        let (home, host): (Vec<OrgSummary>, Vec<OrgSummary>) =
                            tree.orgs.into_iter().partition(|o| !o.org.kind.is_host_side());
                        let hosts: Vec<Choice> = host.iter().map(Choice::of).collect();
                        let org = {
                            let hosts = hosts.clone();
                            move |summary: OrgSummary| {
                                let others = hosts.iter().filter(|o| o.id != summary.org.id).cloned().collect();
                                let parent = hosts.iter().find(|o| Some(o.id) == summary.parent_id).map(|o| o.name.clone());
                                view! { <Org summary parent others reload /> }
                            }
                        };
                        view! {
                            <h1>{tree.county.name.clone()}</h1>
                            <DownloadSheet path=format!("/orgs/{}/tree.csv", tree.county.id) filename="county-organisations.csv"
                                label="sheet.county" testid="county-csv" />
                            <div class="totals" data-testid="county-totals" data-members=totals.members
                                data-reported=totals.reported data-lost=totals.lost data-activities=totals.activities
                                data-attended=totals.attended data-expected=totals.expected data-hours=totals.hours_tenths>
                                <h2>{i18n.t("county.totals")}</h2>
                                <p>{figures(i18n, totals.members, totals.reported, totals.lost)}</p>
                                <p>{taking_part(i18n, Some(totals.activities), totals.attendance_percent(), totals.hours_tenths)}</p>
                            </div>
                            <h2>{i18n.t("county.members_chart")}</h2>
                            <BarChart tallies=by_members(&home) label=i18n.t("county.members_chart") testid="county-chart" />
                            <h2>{i18n.t("county.townships")}</h2>
                            <ul class="queue roster" data-testid="county-townships">
                                {home.into_iter().map(org.clone()).collect_view()}
                            </ul>
                            <h2>{i18n.t("county.hosts")}</h2>
                            <AddOrg county=tree.county.id hosts reload />
                            <ul class="queue roster" data-testid="county-hosts">
                                {host.into_iter().map(org).collect_view()}
                            </ul>
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
        {move || county().map(|org_id| view! { <SendNotices org_id /> })}
    }
}

#[component]
fn Org(
    summary: OrgSummary,
    parent: Option<String>,
    others: Vec<Choice>,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let manage = view! { <ManageOrg summary=summary.clone() others reload /> };
    let rate = summary.attendance_percent();
    let org = summary.org;
    let name = org.name.clone();
    let counts = figures(i18n, summary.members, summary.reported, summary.lost);
    let host = org.kind.is_host_side();
    let part = taking_part(i18n, host.then_some(summary.activities), rate, summary.hours_tenths);
    let title = match (org.kind, org.city.as_deref()) {
        (OrgKind::Township, _) => view! {
            <A href=format!("/township/{}", org.id) attr:class="tap" attr:data-testid="county-township-link">{org.name.clone()}</A>
        }
        .into_any(),
        (_, city) => view! { <strong>{org.name.clone()}</strong>" · "{city.unwrap_or_default().to_owned()}" · "{i18n.t(&format!("org_kind.{}", org.kind.as_str()))}
        }
        .into_any(),
    };
    view! {
        <li data-testid="county-org" data-name=name data-members=summary.members data-reported=summary.reported>
            {title}
            {parent.map(|name| view! {
                <br /><span class="note" data-testid="county-org-parent">{i18n.t_with("tree.under", &[("name", &name)])}</span>
            })}
            <br />
            <span class="note">{counts}</span>
            {(summary.lost > 0).then(|| view! { <span class="pill refused">{i18n.t("steward.lost")}</span> })}
            {(summary.pending > 0).then(|| view! {
                <span class="pill waiting">{i18n.t_with("county.pending", &[("n", &summary.pending.to_string())])}</span>
            })}
            <br />
            <span class="note" data-testid="county-org-part" data-activities=summary.activities
                data-attended=summary.attended data-expected=summary.expected data-hours=summary.hours_tenths>{part}</span>
            {summary.address.map(|address| view! { <br /><span class="note">{address}</span> })}
            {summary.contact.map(|contact| view! { <br /><span class="note">{contact}</span> })}
            {manage}
        </li>
    }
}

fn figures(i18n: I18n, members: u32, reported: u32, lost: u32) -> String {
    i18n.t_with(
        "county.figures",
        &[
            ("members", &members.to_string()),
            ("reported", &reported.to_string()),
            ("lost", &lost.to_string()),
        ],
    )
}

/// Over the last 12 months: activities held (host organisations and the county), attendance and volunteer hours.
fn taking_part(i18n: I18n, activities: Option<u32>, rate: Option<u32>, hours_tenths: u32) -> String {
    let rate = rate.map_or_else(|| i18n.t("county.no_rate"), |rate| format!("{rate}%"));
    let hours = hours_text(hours_tenths);
    match activities {
        Some(activities) => i18n.t_with(
            "county.taking_part",
            &[
                ("activities", &activities.to_string()),
                ("rate", &rate),
                ("hours", &hours),
            ],
        ),
        None => i18n.t_with("county.taking_part_home", &[("rate", &rate), ("hours", &hours)]),
    }
}

/// The townships for the chart, the most members first.
fn by_members(townships: &[OrgSummary]) -> Vec<Tally> {
    let mut tallies: Vec<Tally> = townships
        .iter()
        .map(|o| Tally {
            name: o.org.name.clone(),
            members: o.members,
        })
        .collect();
    most_first(&mut tallies);
    tallies
}

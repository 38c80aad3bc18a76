//! The county administrator's screen (`/county/:id`): the county's tree of organisations, the townships at home
//! and the host organisations in the cities, each with its members, who is out of contact and what waits; a
//! township opens its own screen. Online only.

use guihai_core::domain::OrgKind;
use guihai_core::report::{OrgSummary, OrgTree};
use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};
use crate::pages::org::DownloadSheet;
use crate::pages::send_notices::SendNotices;

#[component]
pub fn CountyPage() -> impl IntoView {
    let i18n = use_i18n();
    let county = id_param("id");
    let tree = fetched::<OrgTree>(move || Some(format!("/orgs/{}/tree", county()?)));
    view! {
        <section class="card" data-testid="county-page">
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || tree.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(tree) => {
                        let (home, host): (Vec<OrgSummary>, Vec<OrgSummary>) =
                            tree.orgs.into_iter().partition(|o| !o.org.kind.is_host_side());
                        view! {
                            <h1>{tree.county.name.clone()}</h1>
                            <DownloadSheet path=format!("/orgs/{}/tree.csv", tree.county.id) filename="county-organisations.csv"
                                label="sheet.county" testid="county-csv" />
                            <h2>{i18n.t("county.townships")}</h2>
                            <ul class="queue roster" data-testid="county-townships">
                                {home.into_iter().map(|o| view! { <Org summary=o /> }).collect_view()}
                            </ul>
                            <h2>{i18n.t("county.hosts")}</h2>
                            <ul class="queue roster" data-testid="county-hosts">
                                {host.into_iter().map(|o| view! { <Org summary=o /> }).collect_view()}
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
fn Org(summary: OrgSummary) -> impl IntoView {
    let i18n = use_i18n();
    let org = summary.org;
    let name = org.name.clone();
    let counts = i18n.t_with(
        "county.counts",
        &[
            ("members", &summary.members.to_string()),
            ("lost", &summary.lost.to_string()),
        ],
    );
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
        <li data-testid="county-org" data-name=name>
            {title}
            <br />
            <span class="note">{counts}</span>
            {(summary.lost > 0).then(|| view! { <span class="pill refused">{i18n.t("steward.lost")}</span> })}
            {(summary.pending > 0).then(|| view! {
                <span class="pill waiting">{i18n.t_with("county.pending", &[("n", &summary.pending.to_string())])}</span>
            })}
            {summary.address.map(|address| view! { <br /><span class="note">{address}</span> })}
            {summary.contact.map(|contact| view! { <br /><span class="note">{contact}</span> })}
        </li>
    }
}

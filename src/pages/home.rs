//! The home screen: who the member is, where they belong, and the way to their check-ins.

use guihai_core::domain::Role;
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use crate::app::StaffLink;
use crate::i18n::use_i18n;
use crate::pages::report::{my_situation, situation_words, Journey};
use crate::pwa::InstallOffer;
use crate::store::records;
use crate::sync::use_sync;
use crate::wechat::OpenInBrowser;

#[component]
pub fn Home() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let me = sync.watch(records::me);
    let unread = sync.watch(records::unread_notices);
    // A staff member's phone keeps the staff app too: their screens at an event with no signal are in it.
    Effect::new(move |kept: Option<bool>| {
        let staff = me().is_some_and(|me| me.roles.iter().any(|role| *role != Role::Member));
        if staff && kept != Some(true) {
            crate::pwa::keep_staff_app();
        }
        staff
    });
    move || match me() {
        None => view! { <Redirect path="/signin" /> }.into_any(),
        Some(me) => {
            // No host organisation: the words for where they stand instead (返乡, between cities, new).
            let current = me.current_org.as_ref().map(|org| org.name.clone());
            let situation = situation_words(i18n, &my_situation());
            view! {
                <OpenInBrowser />
                <section class="card profile" data-testid="home">
                    <h1 data-testid="member-name">{i18n.t_with("home.greeting", &[("name", &me.name)])}</h1>
                    <dl>
                        <dt>{i18n.t("home.home_org")}</dt>
                        <dd data-testid="home-org">{me.home_org.name.clone()}</dd>
                        <dt>{i18n.t("home.current_org")}</dt>
                        <dd data-testid="current-org">{current.unwrap_or(situation)}</dd>
                        {me.certificate_no.clone().map(|no| view! {
                            <dt>{i18n.t("home.certificate_no")}</dt>
                            <dd>{no}</dd>
                        })}
                    </dl>
                </section>
                <Journey />
                <InstallOffer />
                <nav class="actions">
                    <A href="/scan" attr:class="button primary scan" attr:data-testid="nav-scan">{i18n.t("scan.title")}</A>
                    {me.roles.iter().filter_map(|role| match role {
                        Role::Secretary { org_id } => Some(view! {
                            <StaffLink href=format!("/org/{org_id}/activities") testid="nav-org-activities">{i18n.t("activities.manage_title")}</StaffLink>
                            <StaffLink href=format!("/org/{org_id}") testid="nav-org">{i18n.t("home.my_org")}</StaffLink>
                        }.into_any()),
                        Role::TownshipAdmin { org_id } => Some(view! {
                            <StaffLink href=format!("/township/{org_id}") testid="nav-township">{i18n.t("home.my_township")}</StaffLink>
                        }.into_any()),
                        Role::CountyAdmin { org_id } => Some(view! {
                            <StaffLink href=format!("/county/{org_id}") testid="nav-county">{i18n.t("home.my_county")}</StaffLink>
                        }.into_any()),
                        Role::Member => None,
                    }).collect_view()}
                    <A href="/notices" attr:class="button" attr:data-testid="nav-notices">
                        {i18n.t("notice.title")}
                        {(unread() > 0).then(|| view! {
                            " "<span class="badge" data-testid="notices-unread">{unread()}</span>
                        })}
                    </A>
                    <A href="/activities" attr:class="button" attr:data-testid="nav-activities">{i18n.t("activities.title")}</A>
                    <A href="/card" attr:class="button" attr:data-testid="nav-card">{i18n.t("card.title")}</A>
                    <A href="/certificate" attr:class="button" attr:data-testid="nav-certificate">{i18n.t("certificate.title")}</A>
                    <A href="/profile" attr:class="button" attr:data-testid="nav-profile">{i18n.t("home.my_profile")}</A>
                    <A href="/checkins" attr:class="button" attr:data-testid="nav-checkins">{i18n.t("home.my_checkins")}</A>
                    <A href="/sync" attr:class="button" attr:data-testid="nav-sync">{i18n.t("home.sync_page")}</A>
                    <A href="/signout" attr:class="button" attr:data-testid="nav-signout">{i18n.t("signout.title")}</A>
                </nav>
            }
            .into_any()
        }
    }
}

//! The app shell: contexts (language, sync), the header and the route table.

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::{path, MatchNestedRoutes};

use crate::i18n::{use_i18n, I18n};
use crate::pages::activities::ActivitiesPage;
use crate::pages::card::CardPage;
use crate::pages::certificate::CertificatePage;
use crate::pages::checkin::CheckInLink;
use crate::pages::checkins::MyCheckIns;
use crate::pages::devices::DevicesPage;
use crate::pages::home::Home;
use crate::pages::notices::{NoticePage, NoticesPage};
use crate::pages::pin::SetPinPage;
use crate::pages::profile::ProfilePage;
use crate::pages::scan::ScanPage;
use crate::pages::signin::SignIn;
use crate::pages::signout::SignOut;
use crate::pwa::UpdatePrompt;
use crate::store::{hints, records};
use crate::store::{Opened, StoreError};
use crate::sync::{use_sync, SyncBadge, SyncPage, SyncService};
use crate::toast::{provide_toast, use_toast, Toast, ToastBar};

/// The app, or, when the local data cannot be used by this build, only a screen that says why.
#[component]
pub fn App(opened: Result<Opened, StoreError>) -> impl IntoView {
    provide_context(I18n::load());
    let problem = match opened {
        Ok(Opened::Ready) => None,
        Ok(Opened::Newer) => Some("store.newer"),
        Err(error) => Some(error.message_key()),
    };
    if let Some(key) = problem {
        return view! { <Unusable key /> }.into_any();
    }
    provide_context(SyncService::start());
    provide_toast();
    view! {
        <Router>
            <div class="app" data-testid="app">
                <Header />
                <SyncBadge />
                <SignedInOnly />
                <UpdatePrompt />
                <ToastBar />
                <main>
                    <Routes fallback=NotFound>
                        <Route path=path!("/") view=Home />
                        <Route path=path!("/signin") view=SignIn />
                        <Route path=path!("/signout") view=SignOut />
                        <Route path=path!("/pin") view=SetPinPage />
                        <Route path=path!("/devices") view=DevicesPage />
                        <Route path=path!("/profile") view=ProfilePage />
                        <Route path=path!("/certificate") view=CertificatePage />
                        <Route path=path!("/card") view=CardPage />
                        <Route path=path!("/checkins") view=MyCheckIns />
                        <Route path=path!("/notices") view=NoticesPage />
                        <Route path=path!("/notices/:id") view=NoticePage />
                        <Route path=path!("/sync") view=SyncPage />
                        <Route path=path!("/scan") view=ScanPage />
                        <Route path=path!("/q/:payload") view=CheckInLink />
                        <Route path=path!("/activities") view=ActivitiesPage />
                        <StaffRoutes />
                    </Routes>
                </main>
            </div>
        </Router>
    }
    .into_any()
}

/// The staff screens (core's `screens::STAFF_PATHS`), in the staff app.
#[cfg(feature = "staff")]
#[component(transparent)]
fn StaffRoutes() -> impl MatchNestedRoutes + Clone {
    use crate::pages::activities::{
        AttendancePage, DoorCodePage, EditActivityPage, NewActivityPage, OrgActivitiesPage, VolunteerPage,
    };
    use crate::pages::county::CountyPage;
    use crate::pages::org::OrgPage;
    use crate::pages::send_notices::ReceiptsPage;
    use crate::pages::township::TownshipPage;
    use crate::pages::township_member::TownshipMemberPage;
    use crate::pages::township_summary::TownshipSummaryPage;
    view! {
        <Route path=path!("/org/:id") view=OrgPage />
        <Route path=path!("/org/:id/activities") view=OrgActivitiesPage />
        <Route path=path!("/org/:id/activities/new") view=NewActivityPage />
        <Route path=path!("/org/:id/activities/:aid") view=EditActivityPage />
        <Route path=path!("/org/:id/activities/:aid/code") view=DoorCodePage />
        <Route path=path!("/org/:id/activities/:aid/attendance") view=AttendancePage />
        <Route path=path!("/org/:id/volunteer") view=VolunteerPage />
        <Route path=path!("/township/:id") view=TownshipPage />
        <Route path=path!("/township/:id/summary") view=TownshipSummaryPage />
        <Route path=path!("/township/:id/:mid") view=TownshipMemberPage />
        <Route path=path!("/county/:id") view=CountyPage />
        <Route path=path!("/receipts/:id") view=ReceiptsPage />
        <Route path=path!("/record/:payload") view=CheckInLink />
    }
    .into_inner()
}

/// The member app has none: it leaves for the staff app with a full page load (`StaffLink`).
#[cfg(not(feature = "staff"))]
#[component(transparent)]
fn StaffRoutes() -> impl MatchNestedRoutes + Clone {}

/// A link to a staff screen. In the member app, a page load (the server answers it with the staff app); in the
/// staff app, a move inside it.
#[component]
pub fn StaffLink(href: String, testid: &'static str, children: Children) -> impl IntoView {
    let external = (!cfg!(feature = "staff")).then_some("external");
    view! { <a href=href class="button" rel=external data-testid=testid>{children()}</a> }
}

/// Nothing is read, written or synced: the member's data stays as it is until a build that can use it runs.
#[component]
fn Unusable(key: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="app" data-testid="app">
            <UpdatePrompt />
            <main>
                <section class="card problem" data-testid="store-unusable">
                    <p class="error" role="alert">{move || i18n.t(key)}</p>
                </section>
            </main>
        </div>
    }
}

/// Where "back" leads from `path`: one level up, to a page that exists (`/org/X/activities/new` to
/// `/org/X/activities`, `/org/X` to home).
fn up(path: &str) -> String {
    let path = path.trim_end_matches('/');
    match path.rfind('/') {
        None | Some(0) => "/".into(),
        Some(at) => {
            let parent = &path[..at];
            // `/org`, `/township`, `/county`, `/q`, `/receipts` and `/record` alone are not pages.
            if parent.rfind('/') == Some(0) && !parent[1..].contains('/') && PREFIXES.contains(&parent) {
                "/".into()
            } else {
                parent.into()
            }
        }
    }
}

const PREFIXES: [&str; 6] = ["/org", "/township", "/county", "/q", "/receipts", "/record"];

/// A page that needs a signed-in member leads to sign-in when nobody is (signed out here or in another tab, or
/// the session ended). Signing in and opening a code link (which says so itself) are for anyone.
#[component]
fn SignedInOnly() -> impl IntoView {
    let sync = use_sync();
    let location = use_location();
    let navigate = use_navigate();
    let signed_in = sync.watch(|| records::session().is_some());
    Effect::new(move |_| {
        let path = location.pathname.get();
        let open = path == "/signin" || path.starts_with("/q/");
        if !signed_in() && !open {
            navigate("/signin", Default::default());
        }
    });
}

/// The other language; English is fetched the first time, and offline before the phone kept it, the member is
/// told so.
fn switch_language(i18n: I18n, toast: Toast) {
    leptos::task::spawn_local(async move {
        if !i18n.toggle().await {
            toast.problem(i18n.t("lang.unavailable"));
        }
    });
}

/// The header of every screen: the way back, home, larger text and the other language.
#[component]
pub(crate) fn Header() -> impl IntoView {
    let i18n = use_i18n();
    let toast = use_toast();
    let location = use_location();
    view! {
        <header class="top">
            {move || {
                let path = location.pathname.get();
                (path != "/" && path != "/signin").then(|| view! {
                    <A href=up(&path) attr:class="back" attr:data-testid="back">{move || i18n.t("app.back")}</A>
                })
            }}
            <A href="/" attr:class="brand">
                <span class="brand-name">{move || i18n.t("app.name")}</span>
            </A>
            <div class="top-actions">
                <LargerText />
                <button class="lang" data-testid="lang-switch" aria-busy=move || i18n.switching().to_string()
                    prop:disabled=move || i18n.switching() on:click=move |_| switch_language(i18n, toast)>
                    {move || i18n.t("lang.switch")}
                </button>
            </div>
        </header>
    }
}

/// 长辈模式: larger text and targets for older members (the national ageing-friendly guideline for apps: body
/// text of 18 px or more, targets of 60 px or more), switched here and remembered on the phone.
#[component]
fn LargerText() -> impl IntoView {
    let i18n = use_i18n();
    let on = RwSignal::new(hints::larger_text());
    Effect::new(move |_| {
        if let Some(root) = document().document_element() {
            let _ = root.class_list().toggle_with_force("larger-text", on.get());
        }
    });
    view! {
        <button class="lang larger" data-testid="larger-text" aria-pressed=move || on.get().to_string()
            aria-label=move || i18n.t("app.larger_text")
            on:click=move |_| {
                let next = !on.get_untracked();
                hints::set_larger_text(next);
                on.set(next);
            }>
            {move || i18n.t("app.larger_text_short")}
        </button>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    // In the member app, a staff screen is here only when the staff app could not be had: offline, on a phone
    // that has not kept it yet.
    let staff =
        !cfg!(feature = "staff") && guihai_core::screens::is_staff_path(&use_location().pathname.get_untracked());
    view! {
        <section class="card" data-testid=staff.then_some("staff-offline")>
            <p>{move || i18n.t(if staff { "app.staff_offline" } else { "app.not_found" })}</p>
            <A href="/">{move || i18n.t("app.back_home")}</A>
        </section>
    }
}

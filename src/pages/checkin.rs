//! Opening a code link `/q/<payload>`, from the phone's camera, WeChat or the in-app scanner: an activity's
//! code checks in (签到), an organisation's code leads to reporting there (报到, `report.rs`). The code is
//! checked on the phone with the cached public keys, so this works with no network; the check-in is stored
//! (on disk, before the screen says so) and synced later.

use guihai_core::qr::{self, Code, CodeError, Subject};
use guihai_core::Id;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::clock::{after_paint, format_time, server_now_secs, stamped_id, Timing};
use crate::i18n::{use_i18n, I18n};
use crate::pages::report::{self, ReportConfirm};
use crate::pages::signin::SignInFirst;
use crate::store::checkins::{self, Scanned, Shown};
use crate::store::{hints, records, StoreError};
use crate::sync::use_sync;
use crate::wechat::OpenInBrowser;

/// What opening a code led to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    SignInFirst,
    Invalid(CodeError),
    CheckedIn {
        check_in: Shown,
        already: bool,
    },
    Report {
        code: Code,
        org_id: Id,
        payload: String,
    },
    AlreadyReported(Code),
    /// A member's card, checked: a secretary sees who is in front of them, and may record them at an activity.
    Member {
        code: Code,
        link: String,
    },
    NotSaved(StoreError),
}

/// Checks in with an activity code once `verify` passes it (one transaction: the member's earlier check-in to
/// the activity is found, or this one stored), and times it from the code read to the stored check-in. A
/// rehearsal is timed apart, and its transaction is undone.
async fn check_in(
    claimed: (Id, Id),
    payload: String,
    verify: impl FnOnce() -> Result<Code, CodeError>,
    rehearsal: bool,
) -> Outcome {
    let timing = Timing::start(if rehearsal {
        "guihai:rehearsal"
    } else {
        "guihai:check-in"
    });
    let (id, scanned_at) = stamped_id();
    let stored = checkins::check_in(claimed, &payload, verify, id, scanned_at, rehearsal).await;
    // A rehearsal is measured only when it went the whole way (the tests look for it).
    if !rehearsal || matches!(stored, Ok(Scanned::New(_))) {
        timing.end();
    }
    match stored {
        Ok(Scanned::New(check_in)) => Outcome::CheckedIn {
            check_in,
            already: false,
        },
        Ok(Scanned::Already(check_in)) => Outcome::CheckedIn {
            check_in,
            already: true,
        },
        Ok(Scanned::Refused(error)) => Outcome::Invalid(error),
        Err(error) => Outcome::NotSaved(error),
    }
}

/// Opens the payload of a `/q/` link: what it is, checked, and acted on (an activity's code checks in).
pub async fn open(payload: String) -> Outcome {
    opened(payload, None).await
}

/// The scanner's practice, once in the app's life, for a member signed in (`owner`: the scanner page's): core's
/// rehearsal door code (`qr::door::rehearsal`) opened as a scanned one, with its own keys, down to the
/// check-in's transaction, which is undone; and a confirmation built off screen. So the browser has compiled
/// that whole way before a member's code takes it.
pub fn rehearse(owner: &Owner) {
    thread_local! {
        static REHEARSED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if records::session().is_none() || REHEARSED.with(|done| done.replace(true)) {
        return;
    }
    rehearse_confirmation(owner);
    leptos::task::spawn_local(async {
        let (payload, verifier) = qr::door::rehearsal();
        // Through the link and back, as the scanner reads a code's text (`qr::link_payload`).
        let link = format!("{}{payload}", qr::LINK_PATH);
        if let Some(payload) = qr::link_payload(&link) {
            opened(payload.to_owned(), Some(verifier)).await;
        }
    });
}

/// `open`, or with `rehearsal`'s verifier a rehearsal.
async fn opened(payload: String, rehearsal: Option<qr::Verifier>) -> Outcome {
    let link = format!("{}{payload}", qr::LINK_PATH);
    if records::session().is_none() {
        hints::remember_after_sign_in(&link);
        return Outcome::SignInFirst;
    }
    let practice = rehearsal.is_some();
    let verify = || {
        let code = match rehearsal {
            Some(verifier) => verifier.verify(&link)?,
            None => records::verifier().verify(&link)?,
        };
        // The rehearsal's code was made at time 0: it is checked, and passes.
        match code.check_time(server_now_secs()) {
            Err(_) if practice => Ok(code),
            checked => checked.map(|()| code),
        }
    };
    // An activity's code is checked inside the check-in's transaction, while the storage answers its reads.
    if let Some(Subject::Activity { activity_id, org_id }) = qr::read_unverified(&link).map(|code| code.subject) {
        return check_in((activity_id, org_id), payload, verify, practice).await;
    }
    match verify() {
        Err(error) => Outcome::Invalid(error),
        Ok(code) => match code.subject {
            // Read above as an activity's code when it is one: a code is not two kinds.
            Subject::Activity { .. } => Outcome::Invalid(CodeError::Damaged),
            Subject::Organisation { org_id } => match report::check(&code, org_id) {
                Ok(()) => Outcome::Report { code, org_id, payload },
                Err(report::Refusal::Code(error)) => Outcome::Invalid(error),
                Err(report::Refusal::Already) => Outcome::AlreadyReported(code),
            },
            Subject::Member { .. } => Outcome::Member { code, link },
        },
    }
}

/// Recording a scanned member card at one of the secretary's activities: here in the staff app; from the member
/// app, the same card opened in the staff app (`/record/<payload>`), for a secretary.
#[cfg(feature = "staff")]
#[component]
fn RecordAtDoor(member_id: Id, link: String) -> impl IntoView {
    view! { <crate::pages::activities::RecordCard member_id link /> }
}

#[cfg(not(feature = "staff"))]
#[component]
fn RecordAtDoor(member_id: Id, link: String) -> impl IntoView {
    let _ = member_id;
    let i18n = use_i18n();
    let payload = link.strip_prefix(qr::LINK_PATH).unwrap_or_default().to_owned();
    (!records::secretary_of().is_empty()).then(|| {
        view! {
            <crate::app::StaffLink href=format!("/record/{payload}") testid="record-card">
                {i18n.t("card.record_at_door")}
            </crate::app::StaffLink>
        }
    })
}

#[component]
pub fn CheckInLink() -> impl IntoView {
    let params = use_params_map();
    // Opening the link is the act of checking in: run it once per payload, not on every re-render.
    let opened = LocalResource::new(move || open(params.read().get("payload").unwrap_or_default()));
    view! {
        <OpenInBrowser />
        <CodeOutcome outcome=Signal::derive(move || opened.get()) reopen=Callback::new(move |()| opened.refetch()) />
    }
}

/// What opening a code led to (`open`; `None` while it is being opened), shown where it was opened: its own
/// `/q/` page, or the scanner. `reopen` opens the code again (once the phone learnt the key it was signed by).
#[component]
pub fn CodeOutcome(outcome: Signal<Option<Outcome>>, reopen: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    Effect::new(move |_| {
        match outcome.get() {
            // Stored before it was shown (the store tells the other screens once it is painted): sending it
            // waits for the confirmation to be on screen.
            Some(Outcome::CheckedIn { already: false, .. }) => after_paint(move || sync.sync_now()),
            // Signed by a key the server made since this phone last synced: a sync (online) brings it.
            Some(Outcome::Invalid(CodeError::UnknownKey)) => sync.sync_now(),
            _ => {}
        }
    });
    // Once new keys arrive, the code that needed one is read again.
    let known_keys = Memo::new(move |_| sync.watch(|| records::trusted_keys().len())());
    Effect::new(move |before: Option<usize>| {
        let now = known_keys.get();
        let waiting = matches!(outcome.get_untracked(), Some(Outcome::Invalid(CodeError::UnknownKey)));
        if waiting && before.is_some_and(|before| before != now) {
            reopen.run(());
        }
        now
    });
    let shown = move || {
        let Some(outcome) = outcome.get() else {
            return ().into_any();
        };
        match outcome {
        Outcome::SignInFirst => view! { <SignInFirst /> }.into_any(),
        Outcome::Invalid(error) => view! {
            <section class="card problem" data-testid="checkin-result" data-result="invalid" data-error=error.as_str()>
                <h1>{i18n.t("checkin.title")}</h1>
                <p class="error" role="alert">{i18n.t(&format!("code.{}", error.as_str()))}</p>
                <A href="/">{i18n.t("app.back_home")}</A>
            </section>
        }
        .into_any(),
        Outcome::NotSaved(error) => view! {
            <section class="card problem" data-testid="checkin-result" data-result="not-saved">
                <p class="error" role="alert">{i18n.t(error.message_key())}</p>
            </section>
        }
        .into_any(),
        Outcome::Report { code, org_id, payload } => view! { <ReportConfirm code org_id payload /> }.into_any(),
        Outcome::AlreadyReported(code) => view! {
            <section class="card" data-testid="checkin-result" data-result="already-reported">
                <p>{i18n.t_with("report.already", &[("org", &code.name)])}</p>
                <A href="/">{i18n.t("app.back_home")}</A>
            </section>
        }
        .into_any(),
        Outcome::Member { code, link } => {
            let member_id = match code.subject {
                Subject::Member { member_id } => Some(member_id),
                _ => None,
            };
            view! {
                <section class="card success" data-testid="checkin-result" data-result="member">
                    <h1>{i18n.t("card.verified")}</h1>
                    <p class="card-name" data-testid="verified-name">{code.name.clone()}</p>
                    <p>{code.detail.clone()}</p>
                    <p class="note">{i18n.t_with("card.valid_until", &[("time", &format_time(i64::from(code.valid_until) * 1000))])}</p>
                    {member_id.map(|member_id| view! { <RecordAtDoor member_id link /> })}
                    <A href="/">{i18n.t("app.back_home")}</A>
                </section>
            }
            .into_any()
        }
        Outcome::CheckedIn { check_in, already } => confirmation(i18n, check_in, already),
    }
    };
    view! { {shown} }
}

/// The screen of a check-in stored (`already`: found stored before).
fn confirmation(i18n: I18n, check_in: Shown, already: bool) -> AnyView {
    view! {
        <section class="card success" data-testid="checkin-result" data-result=if already { "already" } else { "done" }>
            <h1>{i18n.t(if already { "checkin.already" } else { "checkin.done" })}</h1>
            <dl>
                <dt>{i18n.t("checkin.activity")}</dt>
                <dd data-testid="checkin-activity">{check_in.title}</dd>
                <dt>{i18n.t("checkin.org")}</dt>
                <dd>{check_in.org_name}</dd>
                <dt>{i18n.t("checkin.time")}</dt>
                <dd>{format_time(check_in.scanned_at)}</dd>
            </dl>
            <p class="note">{i18n.t("checkin.waiting_note")}</p>
            <A href="/checkins" attr:class="button primary" attr:data-testid="view-checkins">{i18n.t("checkin.view_all")}</A>
        </section>
    }
    .into_any()
}

/// A confirmation built off screen and let go, as `rehearse` goes through a check-in: so that the code that
/// builds one is compiled before a member's first. Under `owner`, the page's, for its contexts (the router's).
fn rehearse_confirmation(owner: &Owner) {
    owner.with(|| {
        let Some(i18n) = use_context::<I18n>() else { return };
        let practice = Owner::new();
        practice.with(|| {
            let shown = Shown {
                title: String::new(),
                org_name: String::new(),
                scanned_at: 0,
            };
            // Not inside any effect: nothing is to re-run it.
            untrack(|| drop(confirmation(i18n, shown, false).build()));
        });
        practice.cleanup();
    });
}

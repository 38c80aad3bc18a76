//! Reporting to a host organisation (报到) from its scanned code, and telling it one is leaving. Both work
//! offline: the organisation's name and address come from the signed code itself, the report waits in the
//! outbox, and the home screen shows where it stands until the secretary has decided.

use guihai_core::certificate::Stop;
use guihai_core::qr::{Code, CodeError};
use guihai_core::report::ReportState;
use guihai_core::situation::{situation, Facts, Situation};
use guihai_core::sync::{Op, Rejection};
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::clock::{format_date, new_id, now_ms};
use crate::i18n::{use_i18n, I18n};
use crate::store::records::{self, PendingReport};
use crate::store::{cache, outbox, StoreError};
use crate::sync::{reason_key, use_sync};
use crate::toast::{confirmed, use_toast};

/// Reports made here and not yet confirmed, each with the reason where the server refused it for good (as
/// check-ins are shown: a refused report never comes back as a record, so it stays here with its reason).
fn pending_reports() -> Vec<(PendingReport, Option<Rejection>)> {
    cache::with(|c| {
        c.pending_reports
            .iter()
            .map(|p| {
                let reason = c
                    .refused
                    .iter()
                    .find(|r| matches!(&r.mutation.op, Op::Report { id, .. } if *id == p.id))
                    .map(|r| r.reason);
                (p.clone(), reason)
            })
            .collect()
    })
}

/// Whether a scanned organisation code may be used to report: it must not have been withdrawn since (the
/// phone's copy of the organisation's code rotation), and the member must not be there or waiting already.
pub fn check(code: &Code, org_id: Id) -> Result<(), Refusal> {
    if code.valid_from < records::org_code_since(org_id) {
        return Err(Refusal::Code(CodeError::Revoked));
    }
    let here = records::me()
        .and_then(|me| me.current_org)
        .is_some_and(|org| org.id == org_id);
    let waiting = pending_reports()
        .iter()
        .any(|(p, refused)| p.org_id == org_id && refused.is_none())
        || records::reports()
            .iter()
            .any(|r| r.org.id == org_id && r.state == ReportState::Pending);
    if here || waiting {
        return Err(Refusal::Already);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Code(CodeError),
    Already,
}

/// Where the member stands now, from what this phone holds (its waiting notices counted).
pub fn my_situation() -> Situation {
    let stop = open_stop();
    let leaving = stop.as_ref().is_some_and(|stop| {
        cache::with(|c| {
            c.others
                .iter()
                .any(|other| matches!(other.queued.op, Op::Leave { stop_id } if stop_id == stop.id))
        })
    });
    let waiting = pending_reports()
        .into_iter()
        .find(|(_, refused)| refused.is_none())
        .map(|(p, _)| p.org_name);
    let pending = records::reports()
        .into_iter()
        .filter(|r| r.state == ReportState::Pending)
        .max_by_key(|r| r.received_at)
        .map(|r| r.org.name);
    let last_left = records::stops()
        .into_iter()
        .filter_map(|s| Some((s.org.name, s.left_at?)))
        .max_by_key(|(_, at)| *at);
    let reported_to = waiting.or(pending);
    situation(Facts {
        open_stop: stop.as_ref(),
        leaving,
        reported_to: reported_to.as_deref(),
        last_left: last_left.as_ref().map(|(org, at)| (org.as_str(), *at)),
        returned_home_at: records::me().and_then(|me| me.returned_home_at),
    })
}

/// A situation in words, as every screen says it.
pub fn situation_words(i18n: I18n, situation: &Situation) -> String {
    match situation {
        Situation::Newcomer => i18n.t("situation.newcomer"),
        Situation::Reported { org } => i18n.t_with("situation.reported", &[("org", org)]),
        Situation::At { org, since } => i18n.t_with("situation.at", &[("org", org), ("since", &format_date(*since))]),
        Situation::Leaving { org } => i18n.t_with("situation.leaving", &[("org", org)]),
        Situation::Between { left, at } => {
            i18n.t_with("situation.between", &[("org", left), ("date", &format_date(*at))])
        }
        Situation::ReturnedHome { at } => i18n.t_with("situation.returned_home", &[("date", &format_date(*at))]),
    }
}

/// The stop the member is at: the open one at their current organisation, else the latest open one (a member
/// who reported on without leaving has two).
fn open_stop() -> Option<Stop> {
    let current = records::me().and_then(|me| me.current_org).map(|org| org.id);
    let mut open: Vec<Stop> = records::stops().into_iter().filter(|s| s.left_at.is_none()).collect();
    open.sort_by_key(|s| (Some(s.org.id) == current, s.arrived_at));
    open.pop()
}

async fn send(org_id: Id, code: &Code, payload: &str, left_stop: Option<Id>) -> Result<(), StoreError> {
    let report = PendingReport {
        id: new_id(),
        org_id,
        org_name: code.name.clone(),
        sent_at: now_ms(),
    };
    let op = Op::Report {
        id: report.id,
        code: payload.to_owned(),
        left_stop,
    };
    outbox::enqueue_op(op, report.sent_at, Some(report)).await
}

/// The confirmation screen after scanning an organisation's code.
#[component]
pub fn ReportConfirm(code: Code, org_id: Id, payload: String) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let sent = RwSignal::new(None::<Result<(), StoreError>>);
    // Reporting while a stop is open elsewhere asks whether the member has left it.
    let open = open_stop().filter(|stop| stop.org.id != org_id);
    let (name, detail) = (code.name.clone(), code.detail.clone());
    let sending = RwSignal::new(false);
    let confirm = move |left: Option<Id>| {
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        let (code, payload) = (code.clone(), payload.clone());
        spawn_local(async move {
            let result = send(org_id, &code, &payload, left).await;
            if result.is_ok() {
                sync.local_write();
            }
            sending.set(false);
            sent.set(Some(result));
        });
    };
    let confirm = StoredValue::new(confirm);
    view! {
        <section class="card" data-testid="report-confirm">
            <h1>{move || i18n.t("report.title")}</h1>
            <dl>
                <dt>{move || i18n.t("report.org")}</dt>
                <dd data-testid="report-org">{name.clone()}</dd>
                <dt>{move || i18n.t("report.address")}</dt>
                <dd>{detail.clone()}</dd>
            </dl>
            {move || match sent.get() {
                Some(Ok(())) => view! {
                    <p class="success" data-testid="report-sent">{i18n.t("report.sent")}</p>
                    <A href="/" attr:class="button primary">{i18n.t("app.back_home")}</A>
                }.into_any(),
                Some(Err(error)) => view! {
                    <p class="error" role="alert">{i18n.t(error.message_key())}</p>
                }.into_any(),
                None => match open.clone() {
                    None => view! {
                        <p class="note">{i18n.t("report.explain")}</p>
                        <button class="button primary" data-testid="report-submit"
                            on:click=move |_| confirm.with_value(|c| c(None))>{i18n.t("report.submit")}</button>
                    }.into_any(),
                    Some(stop) => {
                        let question = i18n.t_with("report.left_question", &[("org", &stop.org.name)]);
                        view! {
                            <p data-testid="report-left-question">{question}</p>
                            <button class="button primary" data-testid="report-submit-left"
                                on:click=move |_| confirm.with_value(|c| c(Some(stop.id)))>{i18n.t("report.submit_left")}</button>
                            <button class="button" data-testid="report-submit"
                                on:click=move |_| confirm.with_value(|c| c(None))>{i18n.t("report.submit_both")}</button>
                        }.into_any()
                    }
                },
            }}
        </section>
    }
}

/// Where the member's reports and present stop stand, on the home screen.
#[component]
pub fn Journey() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let waiting = sync.watch(pending_reports);
    let reports = sync.watch(records::reports);
    let stop = sync.watch(open_stop);
    let leaving_sent = sync.watch(|| {
        cache::with(|c| {
            c.others
                .iter()
                .filter_map(|other| match other.queued.op {
                    Op::Leave { stop_id } => Some(stop_id),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
    });
    let failed = RwSignal::new(None::<StoreError>);
    let leaving = RwSignal::new(false);
    let toast = use_toast();
    let leave = move |stop_id: Id, org: String| {
        // A second tap while the first is being kept would queue a second notice.
        if leaving.get_untracked() || !confirmed(&i18n.t_with("report.leave_confirm", &[("org", &org)])) {
            return;
        }
        leaving.set(true);
        spawn_local(async move {
            match outbox::enqueue_op(Op::Leave { stop_id }, now_ms(), None).await {
                Ok(()) => {
                    sync.local_write();
                    toast.ok(i18n.t_with("report.leave_kept", &[("org", &org)]));
                }
                Err(error) => failed.set(Some(error)),
            }
            leaving.set(false);
        })
    };
    let now = sync.watch(my_situation);
    view! {
        <section class="card journey" data-testid="journey">
            {move || {
                let now = now();
                let shown = !matches!(now, Situation::At { .. } | Situation::Leaving { .. } | Situation::Reported { .. });
                view! {
                    <p data-testid="situation" data-state=now.as_str() class:hidden=!shown>
                        {situation_words(i18n, &now)}
                    </p>
                    {shown.then(|| view! { <p class="note">{i18n.t(&format!("situation.next.{}", now.as_str()))}</p> })}
                }
            }}
            {move || waiting().into_iter().map(|(p, refused)| match refused {
                None => view! {
                    <p class="pill waiting" data-testid="report-status" data-state="waiting">
                        {i18n.t_with("report.waiting_sync", &[("org", &p.org_name)])}
                    </p>
                }.into_any(),
                Some(reason) => view! {
                    <p class="error" data-testid="report-status" data-state="refused">
                        {i18n.t_with("report.refused", &[("org", &p.org_name), ("reason", &i18n.t(&reason_key(reason)))])}
                    </p>
                }.into_any(),
            }).collect_view()}
            {move || {
                let mut reports = reports();
                reports.sort_by_key(|r| std::cmp::Reverse(r.received_at));
                reports.into_iter().take(3).filter_map(|r| match r.state {
                    ReportState::Pending => Some(view! {
                        <p class="pill waiting" data-testid="report-status" data-state="pending">
                            {i18n.t_with("report.pending", &[("org", &r.org.name)])}
                        </p>
                    }.into_any()),
                    ReportState::Refused { reason, .. } => Some(view! {
                        <p class="error" data-testid="report-status" data-state="refused">
                            {i18n.t_with("report.refused", &[("org", &r.org.name), ("reason", &reason)])}
                        </p>
                    }.into_any()),
                    ReportState::Accepted { .. } => None,
                }).collect_view()
            }}
            {move || stop().map(|stop| {
                let id = stop.id;
                let told = stop.leaving_at.is_some() || leaving_sent().contains(&id);
                view! {
                    <p data-testid="open-stop">
                        {i18n.t_with("report.at", &[("org", &stop.org.name), ("since", &format_date(stop.arrived_at))])}
                    </p>
                    {if told {
                        view! { <p class="note" data-testid="leaving-told">{i18n.t("report.leaving_told")}</p> }.into_any()
                    } else {
                        view! {
                            <button class="button" data-testid="leave" on:click={
                                let org = stop.org.name.clone();
                                move |_| leave(id, org.clone())
                            }>
                                {i18n.t("report.leave")}
                            </button>
                        }.into_any()
                    }}
                }
            })}
            {move || failed.get().map(|error| view! { <p class="error" role="alert">{i18n.t(error.message_key())}</p> })}
        </section>
    }
}

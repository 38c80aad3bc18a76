//! The secretary's screen for their host organisation (`/org/:id`): reports waiting to be accepted or refused,
//! the members there now (last contact, out of contact, leaving), writing the evaluation when one leaves, those
//! who left, and the organisation's code: its printable poster and rotating it. Online only: these are the
//! server's records of other people, never kept on the secretary's phone.

use guihai_core::certificate::Grade;
use guihai_core::domain::ActivityKind;
use guihai_core::report::{Decision, NewEvaluation, OrgOverview, PendingReport, RosterEntry};
use guihai_core::sync::CodeResponse;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::{self, Answer};
use crate::clock::{format_date, format_time};
use crate::i18n::{use_i18n, I18n};
use crate::online::{fetched, id_param};
use crate::store::records;

/// The outcome of the last action, as a translation key.
fn answer_key(answer: Answer) -> &'static str {
    match answer {
        Answer::Done => "steward.done",
        Answer::Invalid => "steward.invalid",
        Answer::Conflict => "steward.conflict",
        Answer::Failed => "steward.failed",
    }
}

/// "组织生活 3 次、学习 1 次": what the member attended during the stop.
pub fn attended_words(i18n: I18n, attended: &[(ActivityKind, u32)]) -> String {
    if attended.is_empty() {
        return i18n.t("steward.attended_none");
    }
    attended
        .iter()
        .map(|(kind, n)| {
            i18n.t_with(
                "steward.attended_kind",
                &[
                    ("kind", &i18n.t(&format!("kind.{}", kind.as_str()))),
                    ("n", &n.to_string()),
                ],
            )
        })
        .collect::<Vec<_>>()
        .join(i18n.t("list.separator").as_str())
}

/// Last contact and the out-of-contact flag, shared with the township's screen.
#[component]
pub fn Contact(entry: RosterEntry) -> impl IntoView {
    let i18n = use_i18n();
    let seen = entry
        .last_contact
        .map(|at| i18n.t_with("steward.last_contact", &[("time", &format_date(at))]))
        .unwrap_or_else(|| i18n.t("steward.never_contacted"));
    view! {
        <span class="note">{seen}</span>
        {entry.lost.then(|| view! { <span class="pill refused" data-testid="lost">{i18n.t("steward.lost")}</span> })}
    }
}

#[component]
pub fn OrgPage() -> impl IntoView {
    let i18n = use_i18n();
    let org_id = id_param("id");
    let overview = fetched::<OrgOverview>(move || Some(format!("/orgs/{}/overview", org_id()?)));
    let answer = RwSignal::new(None::<Answer>);
    // Every action posts, shows its outcome, and reloads the lists.
    let act = move |path: String, body: Option<serde_json::Value>| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            answer.set(Some(api::post(&session.token, &path, body.as_ref()).await));
            overview.refetch();
        });
    };

    view! {
        <section class="card" data-testid="org-page">
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || overview.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(overview) => view! { <Overview overview act /> }.into_any(),
                })}
            </Suspense>
            {move || answer.get().map(|a| view! {
                <p class=if a == Answer::Done { "success" } else { "error" } role="status" data-testid="steward-answer">
                    {i18n.t(answer_key(a))}
                </p>
            })}
        </section>
    }
}

#[component]
fn Overview(
    overview: OrgOverview,
    act: impl Fn(String, Option<serde_json::Value>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let org_id = overview.org.id;
    view! {
        <h1>{overview.org.name.clone()}</h1>
        <A href=format!("/org/{org_id}/activities") attr:class="button" attr:data-testid="org-activities-link">
            {i18n.t("activities.manage_title")}
        </A>
        <CodeTools org_id />
        <h2>{move || i18n.t("steward.pending_title")}</h2>
        {if overview.pending.is_empty() {
            view! { <p class="empty">{i18n.t("steward.none_pending")}</p> }.into_any()
        } else {
            view! {
                <ul class="queue roster" data-testid="pending-reports">
                    {overview.pending.into_iter().map(|report| view! { <Pending report act /> }).collect_view()}
                </ul>
            }.into_any()
        }}
        <h2>{move || i18n.t("steward.members_title")}</h2>
        <ul class="queue roster" data-testid="org-members">
            {overview.members.into_iter().map(|entry| view! { <Member entry act /> }).collect_view()}
        </ul>
        <h2>{move || i18n.t("steward.departed_title")}</h2>
        <ul class="queue roster" data-testid="org-departed">
            {overview.departed.into_iter().map(|entry| view! { <Member entry act /> }).collect_view()}
        </ul>
    }
}

#[component]
fn Pending(
    report: PendingReport,
    act: impl Fn(String, Option<serde_json::Value>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let reason = RwSignal::new(String::new());
    let path = format!("/reports/{}/decision", report.id);
    let decide = move |decision: Decision| {
        act(
            path.clone(),
            Some(serde_json::to_value(decision).expect("decisions serialise")),
        );
    };
    let decide = StoredValue::new(decide);
    let from = report
        .previous_org
        .as_ref()
        .map(|org| i18n.t_with("steward.coming_from", &[("org", org)]));
    view! {
        <li data-testid="pending-report">
            <span>
                <strong>{report.name.clone()}</strong>" · "{report.home_org.clone()}
                <br />
                {report.phone.clone()}
                <br />
                <time>{i18n.t_with("steward.reported_at", &[("time", &format_time(report.received_at))])}</time>
                {from.map(|from| view! { <br /><span class="note">{from}</span> })}
            </span>
            <div class="row-actions">
                <button class="button primary" data-testid="accept-report"
                    on:click=move |_| decide.with_value(|d| d(Decision::Accept))>{i18n.t("steward.accept")}</button>
                <input type="text" data-testid="refuse-reason" placeholder=i18n.t("steward.refuse_reason")
                    prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev)) />
                <button class="button" data-testid="refuse-report"
                    on:click=move |_| decide.with_value(|d| d(Decision::Refuse { reason: reason.get() }))>{i18n.t("steward.refuse")}</button>
            </div>
        </li>
    }
}

/// A member here now, or one who left: their stop, contact, and the evaluation (written here if missing).
#[component]
fn Member(
    entry: RosterEntry,
    act: impl Fn(String, Option<serde_json::Value>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let attended = attended_words(i18n, &entry.attended);
    let writing = RwSignal::new(false);
    let grade = RwSignal::new(Grade::Qualified);
    // The participation at this organisation, from the check-in log, starts the text.
    let text = RwSignal::new(i18n.t_with("steward.evaluation_start", &[("attended", &attended)]));
    let stop_id = entry.stop_id;
    let evaluate = move |_| {
        if let Some(stop_id) = stop_id {
            let body = NewEvaluation {
                grade: grade.get(),
                text: text.get(),
            };
            act(
                format!("/stops/{stop_id}/evaluation"),
                Some(serde_json::to_value(body).expect("evaluations serialise")),
            );
        }
    };
    let since = entry.arrived_at.map(format_date).unwrap_or_default();
    let until = entry.left_at.map(format_date);
    view! {
        <li data-testid="org-member" data-name=entry.name.clone()>
            <span>
                <strong>{entry.name.clone()}</strong>" · "{entry.home_org.clone()}" · "{entry.phone.clone()}
                <br />
                {i18n.t_with("steward.stay", &[("since", &since), ("until", &until.clone().unwrap_or_default())])}
                <br />
                <span class="note" data-testid="attended">{attended}</span>
                <br />
                <Contact entry=entry.clone() />
                {entry.leaving_at.map(|at| view! {
                    <span class="pill waiting" data-testid="leaving">{i18n.t_with("steward.leaving", &[("time", &format_date(at))])}</span>
                })}
                {entry.evaluation.as_ref().map(|e| view! {
                    <br />
                    <span data-testid="evaluated">{i18n.t(&format!("grade.{}", e.grade.as_str()))}" · "{e.text.clone()}</span>
                })}
            </span>
            {(entry.evaluation.is_none() && stop_id.is_some()).then(|| view! {
                <div class="row-actions">
                    <Show when=move || writing.get() fallback=move || view! {
                        <button class="button" data-testid="write-evaluation" on:click=move |_| writing.set(true)>
                            {i18n.t("steward.evaluate")}
                        </button>
                    }>
                        <select data-testid="evaluation-grade" on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            if let Some(g) = Grade::ALL.into_iter().find(|g| g.as_str() == chosen) {
                                grade.set(g);
                            }
                        }>
                            {Grade::ALL.into_iter().map(|g| view! {
                                <option value=g.as_str() selected=move || grade.get() == g>{i18n.t(&format!("grade.{}", g.as_str()))}</option>
                            }).collect_view()}
                        </select>
                        <textarea data-testid="evaluation-text" prop:value=text
                            on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                        <button class="button primary" data-testid="submit-evaluation" on:click=evaluate>
                            {i18n.t("steward.submit_evaluation")}
                        </button>
                    </Show>
                </div>
            })}
        </li>
    }
}

/// The organisation's code: a poster to print, and rotating the code when a poster was misused.
#[component]
fn CodeTools(org_id: Id) -> impl IntoView {
    let i18n = use_i18n();
    let message = RwSignal::new(None::<&'static str>);
    let poster = move |_| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let saved = match api::get_file(&session.token, &format!("/orgs/{org_id}/poster.svg")).await {
                Some(svg) => crate::pwa::download("guihai-poster.svg", "image/svg+xml", &svg).is_ok(),
                None => false,
            };
            message.set(Some(if saved {
                "steward.poster_saved"
            } else {
                "steward.failed"
            }));
        });
    };
    let code = fetched::<CodeResponse>(move || Some(format!("/orgs/{org_id}/code")));
    let rotate = move |_| {
        let confirmed = window()
            .confirm_with_message(&i18n.t("steward.rotate_confirm"))
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let path = format!("/orgs/{org_id}/code");
            let rotated = api::post(&session.token, &path, None::<&()>).await == Answer::Done;
            message.set(Some(if rotated { "steward.rotated" } else { "steward.failed" }));
            // The link on screen is the withdrawn one until read again.
            code.refetch();
        });
    };
    view! {
        <div class="row-actions" data-testid="code-tools">
            <button class="button" data-testid="download-poster" on:click=poster>{move || i18n.t("steward.poster")}</button>
            <button class="button" data-testid="rotate-code" on:click=rotate>{move || i18n.t("steward.rotate")}</button>
        </div>
        {move || code.get().flatten().map(|code| view! {
            <p class="note code-link">{i18n.t("steward.code_link")}" "<a data-testid="org-code-link" href=code.link.clone()>{code.link.clone()}</a></p>
        })}
        {move || message.get().map(|key| view! { <p class="note" role="status" data-testid="code-message">{i18n.t(key)}</p> })}
    }
}

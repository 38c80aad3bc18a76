//! The secretary's screen for their host organisation (`/org/:id`): reports waiting to be accepted or refused,
//! the members there now (last contact, out of contact, leaving), writing the evaluation when one leaves, those
//! who left, and the organisation's code: its printable poster and rotating it. Online only: these are the
//! server's records of other people, never kept on the secretary's phone.

use guihai_core::certificate::Grade;
use guihai_core::domain::ActivityKind;
use guihai_core::listing::{self, MemberFilter, Standing};
use guihai_core::report::{ContactWay, Decision, NewContact, NewEvaluation, OrgOverview, PendingReport, RosterEntry};
use guihai_core::sync::CodeResponse;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::clock::{format_date, format_time, input_time, now_ms, parse_input_time};
use crate::i18n::{use_i18n, I18n};
use crate::online::early::asks;
use crate::online::{fetched, id_param};
use crate::pages::send_notices::SendNotices;
use crate::qr_image::QrImage;
use crate::store::records;
use crate::toast::{confirmed, tell, use_toast};
use wasm_bindgen::JsCast;

/// A staff action: the path to post to, its body, and the words that say it went through.
#[derive(Clone)]
pub struct Action {
    pub path: String,
    pub body: Option<serde_json::Value>,
    pub done: String,
}

/// Carries out staff actions: each posts, says how it went where the eye is, and reloads `shown`.
pub fn acting<T: 'static>(shown: LocalResource<T>) -> impl Fn(Action) + Copy + Send + Sync + 'static {
    let i18n = use_i18n();
    let toast = use_toast();
    move |action: Action| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let answer = api::post(&session.token, &action.path, action.body.as_ref()).await;
            tell(toast, i18n, answer, action.done);
            shown.refetch();
        });
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

/// Last contact and the out-of-contact flag, the last contact recorded outside the app, and recording one (a
/// phone call, a visit, word through the family), which counts as hearing from the member. Shared with the
/// township's screen.
#[component]
pub fn Contact(entry: RosterEntry, act: impl Fn(Action) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let seen = entry
        .last_contact
        .map(|at| i18n.t_with("steward.last_contact", &[("time", &format_date(at))]))
        .unwrap_or_else(|| i18n.t("steward.never_contacted"));
    let recorded = entry.recorded_contact.as_ref().map(|contact| {
        let words = i18n.t_with(
            "contact.recorded",
            &[
                ("way", &i18n.t(&format!("contact.way.{}", contact.way.as_str()))),
                ("time", &format_date(contact.contacted_at)),
                ("by", &contact.recorded_by),
                ("note", &contact.note),
            ],
        );
        view! { <br /><span class="note" data-testid="recorded-contact">{words}</span> }
    });
    let way = RwSignal::new(ContactWay::Phone);
    let note = RwSignal::new(String::new());
    let when = RwSignal::new(input_time(now_ms()));
    let path = format!("/people/{}/contacts", entry.person_id);
    let name = entry.name.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let contact = NewContact {
            way: way.get_untracked(),
            note: note.get_untracked(),
            contacted_at: parse_input_time(&when.get_untracked()).unwrap_or_else(now_ms),
        };
        act(Action {
            path: path.clone(),
            body: serde_json::to_value(contact).ok(),
            done: i18n.t_with("contact.saved", &[("name", &name)]),
        });
    };
    // The form is built when it is opened: a list of hundreds of members holds a summary line each, no more.
    let open = RwSignal::new(false);
    let form = move || {
        open.get().then(|| {
            let submit = submit.clone();
            view! {
            <form on:submit=submit>
                <label>
                    {move || i18n.t("contact.way")}
                    <select data-testid="contact-way" on:change=move |ev| {
                        if let Some(chosen) = ContactWay::parse(&event_target_value(&ev)) {
                            way.set(chosen);
                        }
                    }>
                        {ContactWay::ALL.map(|option| view! {
                            <option value=option.as_str() selected=option == ContactWay::Phone>
                                {move || i18n.t(&format!("contact.way.{}", option.as_str()))}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    {move || i18n.t("contact.when")}
                    <input type="datetime-local" data-testid="contact-when" required prop:value=when
                        on:input=move |ev| when.set(event_target_value(&ev)) />
                </label>
                <label>
                    {move || i18n.t("contact.note")}
                    <textarea data-testid="contact-note" required maxlength="500" prop:value=note
                        placeholder=move || i18n.t("contact.note_hint")
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class="primary" data-testid="contact-submit">{move || i18n.t("contact.submit")}</button>
            </form>
            }
        })
    };
    view! {
        <span class="note">{seen}</span>
        " "
        {entry.lost.then(|| view! { <span class="pill refused" data-testid="lost">{i18n.t("steward.lost")}</span> })}
        {recorded}
        // Open as the signal says: a reloaded list reuses its elements, and must not show a folded-away form open.
        <details class="record-contact" data-testid="record-contact" prop:open=open
            on:toggle=move |ev| open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
            <summary>{move || i18n.t("contact.record")}</summary>
            {form}
        </details>
    }
}

/// A button that downloads the spreadsheet at `path` (CSV that Excel in Chinese opens) as `filename`, and says
/// so where it is when it cannot.
#[component]
pub fn DownloadSheet(path: String, filename: &'static str, label: &'static str, testid: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let failed = RwSignal::new(false);
    let download = move |_| {
        let path = path.clone();
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let saved = match api::get_file(&session.token, &path).await {
                Some(csv) => crate::pwa::download(filename, "text/csv;charset=utf-8", &csv).is_ok(),
                None => false,
            };
            failed.set(!saved);
        });
    };
    view! {
        <button class="button no-print" data-testid=testid on:click=download>{move || i18n.t(label)}</button>
        {move || failed.get().then(|| view! { <p class="error" role="alert">{i18n.t("steward.failed")}</p> })}
    }
}

/// Members shown at once in a staff list; more at a tap.
const MEMBERS_SHOWN: usize = 30;

/// A staff list of members that holds hundreds: found by name or phone number, narrowed (with `filters`) by city,
/// organisation and where they stand (core's `listing`), `MEMBERS_SHOWN` at a time, each drawn by `row`.
#[component]
pub fn MemberList(
    entries: Vec<RosterEntry>,
    testid: &'static str,
    row: impl Fn(RosterEntry) -> AnyView + Copy + Send + Sync + 'static,
    #[prop(optional)] filters: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let query = RwSignal::new(String::new());
    let shown = RwSignal::new(MEMBERS_SHOWN);
    let narrowed = RwSignal::new(MemberFilter::default());
    let (cities, orgs) = listing::choices(&entries);
    let entries = StoredValue::new(entries);
    // How many match, and the first `shown` of them: only the rows in the page are copied (thousands match
    // before a search narrows them).
    let found = move || {
        let query = query.get();
        let query = query.trim();
        let narrowed = narrowed.get();
        let shown = shown.get();
        entries.with_value(|entries| {
            let mut matching = entries.iter().filter(|entry| {
                narrowed.matches(entry)
                    && (query.is_empty()
                        || entry.name.contains(query)
                        || entry.phone.as_deref().is_some_and(|phone| phone.contains(query)))
            });
            let page: Vec<RosterEntry> = matching.by_ref().take(shown).cloned().collect();
            (page.len() + matching.count(), page)
        })
    };
    let searchable = entries.with_value(|entries| entries.len() > MEMBERS_SHOWN);
    // A new choice starts the list from its first page.
    let narrow = move |change: &dyn Fn(&mut MemberFilter)| {
        narrowed.update(|filter| change(filter));
        shown.set(MEMBERS_SHOWN);
    };
    let choose = move |label: &'static str,
                       which: &'static str,
                       options: Vec<(String, String)>,
                       pick: fn(&mut MemberFilter, String)| {
        view! {
            <label class="list-filter">
                {i18n.t(label)}
                <select data-testid=format!("{testid}-{which}") on:change=move |ev| {
                    let value = event_target_value(&ev);
                    narrow(&|filter| pick(filter, value.clone()));
                }>
                    <option value="">{i18n.t("members.any")}</option>
                    {options.into_iter().map(|(value, words)| view! { <option value=value>{words}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    view! {
        {filters.then(|| view! {
            <div class="list-filters no-print">
                {choose("members.city", "city", cities.into_iter().map(|city| (city.clone(), city)).collect(),
                    |filter, city| filter.city = (!city.is_empty()).then_some(city))}
                {choose("members.org", "org", orgs.into_iter().map(|org| (org.id.to_string(), org.name)).collect(),
                    |filter, org| filter.org = Id::parse(&org).ok())}
                {choose("members.standing", "standing",
                    Standing::ALL.into_iter().map(|s| (s.as_str().to_owned(), i18n.t(&format!("standing.{}", s.as_str())))).collect(),
                    |filter, standing| filter.standing = Standing::parse(&standing))}
            </div>
        })}
        {searchable.then(|| view! {
            <input type="search" class="list-search" data-testid=format!("{testid}-search")
                aria-label=i18n.t("members.search") placeholder=i18n.t("members.search") prop:value=query
                on:input=move |ev| { query.set(event_target_value(&ev)); shown.set(MEMBERS_SHOWN); } />
        })}
        {move || {
            let (count, page) = found();
            let more = count.saturating_sub(page.len());
            view! {
                {filters.then(|| view! {
                    <p class="note" data-testid=format!("{testid}-count") data-count=count.to_string()>
                        {i18n.t_with("members.count", &[("n", &count.to_string())])}
                    </p>
                })}
                <ul class="queue roster no-print" data-testid=testid>
                    {page.into_iter().map(row).collect_view()}
                </ul>
                {(more > 0).then(|| view! {
                    <button class="button" data-testid=format!("{testid}-more") on:click=move |_| shown.update(|n| *n += MEMBERS_SHOWN)>
                        {i18n.t_with("members.more", &[("n", &more.to_string())])}
                    </button>
                })}
            }
        }}
    }
}

#[component]
pub fn OrgPage() -> impl IntoView {
    let i18n = use_i18n();
    let org_id = id_param("id");
    let overview = fetched::<OrgOverview>(move || Some(asks::overview(org_id()?)));
    // Every action posts, says how it went where the eye is, and reloads the lists.
    let act = acting(overview);

    view! {
        <section class="card" data-testid="org-page">
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || overview.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(overview) => view! { <Overview overview act /> }.into_any(),
                })}
            </Suspense>
        </section>
        {move || org_id().map(|org_id| view! { <SendNotices org_id /> })}
    }
}

#[component]
fn Overview(overview: OrgOverview, act: impl Fn(Action) + Copy + Send + Sync + 'static) -> impl IntoView {
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
        <DownloadSheet path=format!("/orgs/{org_id}/overview.csv") filename="organisation-members.csv" label="sheet.members" testid="members-csv" />
        <h2>{move || i18n.t("steward.members_title")}</h2>
        <MemberList entries=overview.members testid="org-members" row=move |entry| view! { <Member entry act /> }.into_any() />
        <h2>{move || i18n.t("steward.departed_title")}</h2>
        <MemberList entries=overview.departed testid="org-departed" row=move |entry| view! { <Member entry act /> }.into_any() />
    }
}

#[component]
fn Pending(report: PendingReport, act: impl Fn(Action) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let reason = RwSignal::new(String::new());
    let needs_reason = RwSignal::new(false);
    let reason_input = NodeRef::<leptos::html::Input>::new();
    let reason_request = NodeRef::<leptos::html::P>::new();
    // The request for a reason is brought into view with the box it is about.
    Effect::new(move |_| {
        if let Some(request) = reason_request.get() {
            request.scroll_into_view_with_bool(false);
        }
    });
    let path = format!("/reports/{}/decision", report.id);
    let name = report.name.clone();
    let decide = move |decision: Decision| {
        let done = match &decision {
            Decision::Accept => i18n.t_with("steward.accepted", &[("name", &name)]),
            Decision::Refuse { .. } => i18n.t_with("steward.refused", &[("name", &name)]),
        };
        act(Action {
            path: path.clone(),
            body: Some(serde_json::to_value(decision).expect("decisions serialise")),
            done,
        });
    };
    let decide = StoredValue::new(decide);
    // Refusing needs a reason (the member is told it): asked for right there, with the cursor in the box.
    let refuse = move |_| {
        let reason = reason.get_untracked();
        if reason.trim().is_empty() {
            needs_reason.set(true);
            if let Some(input) = reason_input.get_untracked() {
                let _ = input.focus();
            }
            return;
        }
        needs_reason.set(false);
        decide.with_value(|d| d(Decision::Refuse { reason }));
    };
    let reason_id = format!("refuse-reason-{}", report.id);
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
                <label class="visually-hidden" for=reason_id.clone()>{i18n.t("steward.refuse_reason")}</label>
                <input type="text" id=reason_id data-testid="refuse-reason" placeholder=i18n.t("steward.refuse_reason")
                    node_ref=reason_input prop:value=reason on:input=move |ev| reason.set(event_target_value(&ev)) />
                <button class="button" data-testid="refuse-report" on:click=refuse>{i18n.t("steward.refuse")}</button>
                {move || needs_reason.get().then(|| view! {
                    <p class="error" role="alert" data-testid="refuse-needs-reason" node_ref=reason_request>{i18n.t("steward.refuse_needs_reason")}</p>
                })}
            </div>
        </li>
    }
}

/// A member here now, or one who left: their stop, contact, and the evaluation (written here if missing).
#[component]
fn Member(entry: RosterEntry, act: impl Fn(Action) + Copy + Send + Sync + 'static) -> impl IntoView {
    let i18n = use_i18n();
    let attended = attended_words(i18n, &entry.attended);
    let writing = RwSignal::new(false);
    let grade = RwSignal::new(Grade::Qualified);
    // The participation at this organisation, from the check-in log, starts the text.
    let text = RwSignal::new(i18n.t_with("steward.evaluation_start", &[("attended", &attended)]));
    let stop_id = entry.stop_id;
    let name = StoredValue::new(entry.name.clone());
    let evaluate = move |_| {
        let Some(stop_id) = stop_id else { return };
        if !confirmed(&i18n.t_with("steward.evaluate_confirm", &[("name", &name.get_value())])) {
            return;
        }
        let body = NewEvaluation {
            grade: grade.get(),
            text: text.get(),
        };
        act(Action {
            path: format!("/stops/{stop_id}/evaluation"),
            body: Some(serde_json::to_value(body).expect("evaluations serialise")),
            done: i18n.t_with("steward.evaluated", &[("name", &name.get_value())]),
        });
    };
    // Only for a member who said they are leaving, or who left without one.
    let may_evaluate =
        entry.evaluation.is_none() && stop_id.is_some() && (entry.leaving_at.is_some() || entry.left_at.is_some());
    let form_id = stop_id.map(|id| id.to_string()).unwrap_or_default();
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
                // Contact and a notice of leaving are this organisation's business only while the member is here.
                {entry.left_at.is_none().then(|| view! { <Contact entry=entry.clone() act /> })}
                {entry.leaving_at.filter(|_| entry.left_at.is_none()).map(|at| view! {
                    <span class="pill waiting" data-testid="leaving">{i18n.t_with("steward.leaving", &[("time", &format_date(at))])}</span>
                })}
                {entry.evaluation.as_ref().map(|e| view! {
                    <br />
                    <span data-testid="evaluated">{i18n.t(&format!("grade.{}", e.grade.as_str()))}" · "{e.text.clone()}</span>
                })}
            </span>
            {may_evaluate.then(|| view! {
                <div class="row-actions">
                    <Show when=move || writing.get() fallback=move || view! {
                        <button class="button" data-testid="write-evaluation" on:click=move |_| writing.set(true)>
                            {i18n.t("steward.evaluate")}
                        </button>
                    }>
                        <label for=format!("grade-{form_id}")>{i18n.t("steward.grade_label")}</label>
                        <select id=format!("grade-{form_id}") data-testid="evaluation-grade" on:change=move |ev| {
                            let chosen = event_target_value(&ev);
                            if let Some(g) = Grade::ALL.into_iter().find(|g| g.as_str() == chosen) {
                                grade.set(g);
                            }
                        }>
                            {Grade::ALL.into_iter().map(|g| view! {
                                <option value=g.as_str() selected=move || grade.get() == g>{i18n.t(&format!("grade.{}", g.as_str()))}</option>
                            }).collect_view()}
                        </select>
                        <label for=format!("evaluation-{form_id}")>{i18n.t("steward.evaluation_label")}</label>
                        <textarea id=format!("evaluation-{form_id}") data-testid="evaluation-text" prop:value=text
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
    let toast = use_toast();
    let poster = move |_| {
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let saved = match api::get_file(&session.token, &format!("/orgs/{org_id}/poster.svg")).await {
                Some(svg) => crate::pwa::download("guihai-poster.svg", "image/svg+xml", &svg).is_ok(),
                None => false,
            };
            if saved {
                toast.ok(i18n.t("steward.poster_saved"));
            } else {
                toast.problem(i18n.t("steward.failed"));
            }
        });
    };
    let code = fetched::<CodeResponse>(move || Some(format!("/orgs/{org_id}/code")));
    let rotate = move |_| {
        if !confirmed(&i18n.t("steward.rotate_confirm")) {
            return;
        }
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let path = format!("/orgs/{org_id}/code");
            let answer = api::post(&session.token, &path, None::<&()>).await;
            tell(toast, i18n, answer, i18n.t("steward.rotated"));
            // The link on screen is the withdrawn one until read again.
            code.refetch();
        });
    };
    view! {
        <div class="row-actions" data-testid="code-tools">
            <button class="button" data-testid="download-poster" on:click=poster>{move || i18n.t("steward.poster")}</button>
            <button class="button" data-testid="rotate-code" on:click=rotate>{move || i18n.t("steward.rotate")}</button>
        </div>
        {move || code.get().flatten().map(|code| {
            let url = code.url.clone().unwrap_or_else(|| code.link.clone());
            let copy = {
                let url = url.clone();
                move |_| {
                    let url = url.clone();
                    spawn_local(async move {
                        let copied = crate::pwa::copy_text(&url).await;
                        if copied {
                            toast.ok(i18n.t("steward.link_copied"));
                        } else {
                            toast.problem(i18n.t("steward.link_not_copied"));
                        }
                    });
                }
            };
            view! {
                <figure class="org-code" data-testid="org-code">
                    {code.qr.clone().map(|qr| view! {
                        <QrImage path=qr.path modules=qr.modules label=i18n.t("steward.code_qr") />
                    })}
                    <figcaption class="note">{i18n.t("steward.code_explain")}</figcaption>
                </figure>
                <label for="org-code-link">{i18n.t("steward.code_link")}</label>
                <div class="copy-row">
                    <input id="org-code-link" data-testid="org-code-link" type="url" readonly prop:value=url.clone()
                        on:focus=move |ev| {
                            if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                input.select();
                            }
                        } />
                    <button class="button" data-testid="copy-org-link" on:click=copy>{i18n.t("steward.copy_link")}</button>
                </div>
            }
        })}
    }
}

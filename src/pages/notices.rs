//! Notices (通知). A member's: the list (`/notices`, the unread marked) and one notice (`/notices/:id`), read
//! from the phone's store with no network; opening one tells the server it was read, through the outbox. Staff:
//! writing one to their organisation's members and the ones sent, with how many have read each
//! (`SendNotices`, on the organisation, township and county screens), and who has read one and who has not
//! (`/notices/:id/receipts`, online).

use guihai_core::notice::{NewNotice, Notice, Receipts, SentNotice, MAX_BODY_CHARS, MAX_TITLE_CHARS};
use guihai_core::sync::Op;
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::clock::{format_date, format_time, now_ms};
use crate::i18n::use_i18n;
use crate::online::{fetched, id_param};
use crate::store::{outbox, records};
use crate::sync::use_sync;
use crate::toast::{tell, use_toast};

/// The member's notices, the newest first, the unread marked.
#[component]
pub fn NoticesPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let notices = sync.watch(records::notices);
    let read = sync.watch(records::notices_read);
    view! {
        <section class="card" data-testid="notices-page">
            <h1>{move || i18n.t("notice.title")}</h1>
            {move || {
                let (notices, read) = (notices(), read());
                if notices.is_empty() {
                    return view! { <p class="empty">{i18n.t("notice.none")}</p> }.into_any();
                }
                view! {
                    <ul class="queue" data-testid="notice-list">
                        {notices.into_iter().map(|notice| {
                            let unread = !read.contains(&notice.id);
                            view! {
                                <li data-testid="notice-item" data-unread=unread.to_string()>
                                    <A href=format!("/notices/{}", notice.id) attr:class="tap">
                                        <strong>{notice.title.clone()}</strong>
                                    </A>
                                    <span class="note">{format!("{} · {}", notice.org_name, format_date(notice.published_at))}</span>
                                    {unread.then(|| view! { <span class="pill waiting">{i18n.t("notice.unread")}</span> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
    }
}

/// One notice, from the phone's store; opening it is reading it.
#[component]
pub fn NoticePage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let id = id_param("id");
    let notice = move || sync.watch(records::notices)().into_iter().find(|n| Some(n.id) == id());
    let problem = RwSignal::new(None::<&'static str>);
    // Reported read once, when it is on the screen and was not read before (here or on another phone).
    Effect::new(move |reported: Option<bool>| {
        if reported == Some(true) {
            return true;
        }
        let Some(notice_id) = notice().map(|n| n.id) else {
            return false;
        };
        if !records::notices_read().contains(&notice_id) {
            spawn_local(async move {
                match outbox::enqueue_op(Op::ReadNotice { notice_id }, now_ms(), None).await {
                    Ok(()) => sync.local_write(),
                    Err(error) => problem.set(Some(error.message_key())),
                }
            });
        }
        true
    });
    view! {
        <section class="card notice" data-testid="notice-page">
            {move || match notice() {
                None => view! { <p class="empty">{i18n.t("notice.gone")}</p> }.into_any(),
                Some(notice) => view! { <NoticeText notice /> }.into_any(),
            }}
            {move || problem.get().map(|key| view! { <p class="error" role="alert">{i18n.t(key)}</p> })}
            <A href="/notices">{move || i18n.t("notice.all")}</A>
        </section>
    }
}

#[component]
fn NoticeText(notice: Notice) -> impl IntoView {
    view! {
        <h1 data-testid="notice-title">{notice.title}</h1>
        <p class="note">{format!("{} · {}", notice.org_name, format_time(notice.published_at))}</p>
        <p class="notice-body" data-testid="notice-body">{notice.body}</p>
    }
}

/// Writing a notice to the members of `org_id`, and those sent, with how many have read each.
#[component]
pub fn SendNotices(org_id: Id) -> impl IntoView {
    let i18n = use_i18n();
    let toast = use_toast();
    let sent = fetched::<Vec<SentNotice>>(move || Some(format!("/orgs/{org_id}/notices")));
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let notice = NewNotice {
            title: title.get_untracked(),
            body: body.get_untracked(),
        };
        spawn_local(async move {
            let Some(session) = records::session() else { return };
            let path = format!("/orgs/{org_id}/notices");
            let answer = api::post(&session.token, &path, Some(&notice)).await;
            let done = answer == api::Answer::Done;
            tell(
                toast,
                i18n,
                answer,
                i18n.t_with("notice.sent", &[("title", &notice.title)]),
            );
            if done {
                title.set(String::new());
                body.set(String::new());
                sent.refetch();
            }
        });
    };
    view! {
        <section class="card no-print" data-testid="send-notices">
            <h2>{move || i18n.t("notice.send_title")}</h2>
            <form on:submit=submit>
                <label>
                    {move || i18n.t("notice.field_title")}
                    <input data-testid="notice-new-title" required maxlength=MAX_TITLE_CHARS.to_string() prop:value=title
                        on:input=move |ev| title.set(event_target_value(&ev)) />
                </label>
                <label>
                    {move || i18n.t("notice.field_body")}
                    <textarea data-testid="notice-new-body" required maxlength=MAX_BODY_CHARS.to_string() prop:value=body
                        on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class="primary" data-testid="notice-send">{move || i18n.t("notice.send")}</button>
            </form>
            <h2>{move || i18n.t("notice.sent_title")}</h2>
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || sent.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(sent) if sent.is_empty() => view! { <p class="empty">{i18n.t("notice.none_sent")}</p> }.into_any(),
                    Some(sent) => view! {
                        <ul class="queue" data-testid="sent-notices">
                            {sent.into_iter().map(|SentNotice { notice, members, read }| view! {
                                <li data-testid="sent-notice">
                                    <span>
                                        <strong>{notice.title.clone()}</strong>
                                        <br />
                                        <span class="note">{format_date(notice.published_at)}</span>
                                        " "
                                        <span data-testid="sent-notice-read">
                                            {i18n.t_with("notice.read_count", &[("read", &read.to_string()), ("members", &members.to_string())])}
                                        </span>
                                    </span>
                                    <A href=format!("/notices/{}/receipts", notice.id) attr:class="button" attr:data-testid="notice-receipts">
                                        {i18n.t("notice.receipts")}
                                    </A>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

/// Who has read a notice and who has not, for the organisation that sent it.
#[component]
pub fn ReceiptsPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param("id");
    let receipts = fetched::<Receipts>(move || Some(format!("/notices/{}/receipts", id()?)));
    view! {
        <section class="card notice" data-testid="receipts-page">
            <Suspense fallback=move || view! { <p>{i18n.t("steward.loading")}</p> }>
                {move || receipts.get().map(|loaded| match loaded {
                    None => view! { <p class="error" role="alert">{i18n.t("steward.offline")}</p> }.into_any(),
                    Some(Receipts { notice, read, unread }) => view! {
                        <NoticeText notice />
                        <h2>{i18n.t_with("notice.read_title", &[("n", &read.len().to_string())])}</h2>
                        <ul class="queue" data-testid="notice-read">
                            {read.into_iter().map(|reader| view! {
                                <li data-testid="reader" data-name=reader.name.clone()>
                                    {reader.name.clone()}
                                    <span class="note">{reader.read_at.map(format_time).unwrap_or_default()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                        <h2>{i18n.t_with("notice.unread_title", &[("n", &unread.len().to_string())])}</h2>
                        <ul class="queue" data-testid="notice-unread">
                            {unread.into_iter().map(|reader| view! {
                                <li data-testid="reader" data-name=reader.name.clone()>{reader.name.clone()}</li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

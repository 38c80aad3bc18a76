//! Sending notices (staff): writing one to an organisation's members and the ones sent, with how many have read
//! each (`SendNotices`, on the organisation, township and county screens), and who has read one and who has not
//! (`/receipts/:id`, online).

use guihai_core::notice::{NewNotice, Receipts, SentNotice, MAX_BODY_CHARS, MAX_TITLE_CHARS};
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api;
use crate::clock::{format_date, format_time};
use crate::i18n::use_i18n;
use crate::online::early::asks;
use crate::online::{fetched, id_param};
use crate::pages::notices::NoticeText;
use crate::store::records;
use crate::toast::{tell, use_toast};

/// Writing a notice to the members of `org_id`, and those sent, with how many have read each.
#[component]
pub fn SendNotices(org_id: Id) -> impl IntoView {
    let i18n = use_i18n();
    let toast = use_toast();
    let sent = fetched::<Vec<SentNotice>>(move || Some(asks::notices(org_id)));
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
            let path = asks::notices(org_id);
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
                                    <A href=format!("/receipts/{}", notice.id) attr:class="button" attr:data-testid="notice-receipts">
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

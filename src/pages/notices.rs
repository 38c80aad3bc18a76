//! Notices (通知), as a member reads them: the list (`/notices`, the unread marked) and one notice
//! (`/notices/:id`), read from the phone's store with no network; opening one tells the server it was read,
//! through the outbox. Staff write them in `send_notices.rs`.

use guihai_core::notice::Notice;
use guihai_core::sync::Op;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::clock::{format_date, format_time, now_ms};
use crate::i18n::use_i18n;
use crate::online::id_param;
use crate::store::{outbox, records};
use crate::sync::use_sync;

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
pub fn NoticeText(notice: Notice) -> impl IntoView {
    view! {
        <h1 data-testid="notice-title">{notice.title}</h1>
        <p class="note">{format!("{} · {}", notice.org_name, format_time(notice.published_at))}</p>
        <p class="notice-body" data-testid="notice-body">{notice.body}</p>
    }
}

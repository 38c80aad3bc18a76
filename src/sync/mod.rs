//! Keeping the phone and the server in step. `SyncService` (in context) runs rounds of the core engine when
//! something may have changed: app start, the `online` event, the page becoming visible, a local write, and a
//! timer while online. Each step reads the head of the outbox (numbering what is new, as much as the push
//! takes), asks the server, and keeps the answer in one transaction with what the engine decided
//! (`store::outbox`). Pushes grow while the server answers them quickly (`Round::batch`). Failures wait out
//! the engine's backoff; the outbox is never dropped unacknowledged.

mod page;
pub mod renew;
mod status;

use std::time::Duration;

use futures_util::future::join;
use guihai_core::engine::{Reply, Round, Step};
use guihai_core::sync::{Mutation, PushRequest};
use guihai_core::Id;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::clock::{jitter, now_ms, Timing};
use crate::store::hints::{self, SessionEnded};
use crate::store::{self, outbox, records, StoreError};

pub use page::{export, reason_key, SyncPage};
pub use status::SyncBadge;

/// While online, sync at least this often to pick up what others published.
const PERIODIC: Duration = Duration::from_secs(60);
/// A page that starts offline looks again after this long.
const OFFLINE_RECHECK: Duration = Duration::from_secs(3);
/// When another tab holds the sync lock, look again after this long.
const BUSY_RETRY: Duration = Duration::from_secs(2);

/// Sync state the screens show, plus `revision`, bumped whenever local data changed so pages re-read it.
#[derive(Clone, Copy)]
pub struct SyncService {
    pub online: RwSignal<bool>,
    pub syncing: RwSignal<bool>,
    /// Translation key of the last problem, if the last round did not finish.
    pub problem: RwSignal<Option<&'static str>>,
    pub revision: RwSignal<u64>,
    /// Set when a sync is asked for while one runs, so that a write made mid-round is not left waiting.
    again: RwSignal<bool>,
}

impl SyncService {
    /// Creates the service and wires its triggers; call once at the app root.
    pub fn start() -> SyncService {
        let navigator_online = window().navigator().on_line();
        // Signed out by the server or from another phone before this page opened: it says why, as the page
        // that heard it did.
        let ended = records::session().is_none().then(hints::session_ended).flatten();
        let service = SyncService {
            online: RwSignal::new(navigator_online),
            syncing: RwSignal::new(false),
            problem: RwSignal::new(ended.map(ended_key)),
            revision: RwSignal::new(0),
            again: RwSignal::new(false),
        };
        let _ = window_event_listener(leptos::ev::online, move |_| {
            service.online.set(true);
            service.sync_now();
        });
        let _ = window_event_listener(leptos::ev::offline, move |_| service.online.set(false));
        // This tab or another wrote (or synced): show it here. Signed in again in another tab, this one no
        // longer says the session ended.
        store::on_change(move || {
            if records::session().is_some() && service.problem.get_untracked().is_some_and(said_ended) {
                service.problem.set(None);
            }
            service.changed();
        });
        let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if document().visibility_state() == web_sys::VisibilityState::Visible {
                service.sync_now();
            }
        });
        let _ = set_interval_with_handle(move || service.sync_now(), PERIODIC);
        service.sync_now();
        if !navigator_online {
            // Started offline: look once more shortly, in case the network came back while the page loaded.
            set_timeout(move || service.sync_now(), OFFLINE_RECHECK);
        }
        service
    }

    /// Local data changed: refresh the screens and try to send it.
    pub fn local_write(&self) {
        self.changed();
        self.sync_now();
    }

    /// A member signed in: whatever the last session ended with is no longer true, and what waited can go.
    pub fn signed_in(&self) {
        self.problem.set(None);
        self.local_write();
    }

    fn changed(&self) {
        self.revision.update(|r| *r += 1);
    }

    /// A reactive read of local data: `read` runs again whenever local data changes (here or in another tab).
    pub fn watch<T>(&self, read: impl Fn() -> T + Copy) -> impl Fn() -> T + Copy {
        let revision = self.revision;
        move || {
            revision.track();
            read()
        }
    }

    /// Starts a round unless one is running (then one more follows it).
    pub fn sync_now(&self) {
        if self.syncing.get_untracked() {
            self.again.set(true);
            return;
        }
        if records::session().is_none() || !self.is_online() {
            return;
        }
        self.syncing.set(true);
        let service = *self;
        spawn_local(async move {
            let ran = crate::pwa::with_sync_lock(false, async move {
                loop {
                    service.again.set(false);
                    service.round().await;
                    if !service.again.get_untracked() {
                        break;
                    }
                }
            })
            .await;
            service.syncing.set(false);
            if !ran {
                // Another tab is syncing; its round may have started before this tab's write.
                set_timeout(move || service.sync_now(), BUSY_RETRY);
            }
        });
    }

    /// Whether the browser says the phone is online, which `online` then shows. Offline there is nothing to
    /// try; the `online` event starts the next round. The browser's own flag is read each time: an `online`
    /// event that came while the page was still loading is never heard.
    fn is_online(&self) -> bool {
        let online = window().navigator().on_line();
        if online != self.online.get_untracked() {
            self.online.set(online);
        }
        online
    }

    async fn round(&self) {
        let mut round = Round::new();
        let mut pull = None;
        // The rows after the push that is out, read meanwhile (`outbox::read_ahead`), and the push they make,
        // encoded meanwhile: the phone reads and encodes while the server works.
        let mut ahead = None;
        let mut prepared: Option<Prepared> = None;
        loop {
            // Gone offline mid-round: stop before the next step rather than send it to fail (and count a
            // failure, and halve the push); the `online` event starts a round afresh.
            if !self.is_online() {
                return;
            }
            let Some(session) = records::session() else { return };
            let timing = Timing::start("guihai:sync:head");
            let head = outbox::head(round.batch(), ahead.take(), round.in_full()).await;
            timing.end();
            let (step, front) = match head {
                Ok((meta, head, front)) => (round.next(&meta, &head), front),
                Err(error) => return self.problem.set(Some(error.message_key())),
            };
            let result = match step {
                Step::Push(mutations) => {
                    let request = push_request(session.client_id, mutations);
                    let encoded = prepared.take().filter(|next| next.made_for(&request, now_ms()));
                    let push = async {
                        let timing = Timing::start("guihai:sync:push");
                        let body = match encoded {
                            Some(next) => next.body,
                            None => api::PushBody::encode(&request).await,
                        };
                        let reply = api::push(&session.token, body).await;
                        (reply, timing.end())
                    };
                    let read_ahead = async {
                        let timing = Timing::start("guihai:sync:ahead");
                        let read = outbox::read_ahead(&front, round.batch_after_quick(), round.in_full()).await;
                        let next = match read.as_ref().and_then(|read| read.next_push(&front, round.in_full())) {
                            Some(mutations) => Some(Prepared::encode(session.client_id, mutations).await),
                            None => None,
                        };
                        timing.end();
                        (read, next)
                    };
                    let ((reply, took), (read, next)) = join(push, read_ahead).await;
                    ahead = read;
                    prepared = next;
                    let pushed = request.mutations.len();
                    if matches!(reply, Reply::Ok(_)) {
                        round.took(took, pushed);
                    }
                    let timing = Timing::start("guihai:sync:settle");
                    let settled = outbox::after_push(&mut round, reply, jitter(), pushed, &front).await;
                    timing.end();
                    settled
                }
                Step::Pull { cursor } => {
                    let reply = api::pull(&session.token, session.client_id, cursor).await;
                    records::after_pull(&mut round, reply, now_ms(), jitter(), pull)
                        .await
                        .map(|this| pull = Some(this))
                }
                Step::Done => {
                    self.problem.set(None);
                    self.changed();
                    spawn_local(renew::all());
                    return;
                }
                Step::RetryIn(ms) => {
                    self.problem.set(Some("sync.retrying"));
                    let service = *self;
                    set_timeout(move || service.sync_now(), Duration::from_millis(ms));
                    return;
                }
                Step::SignIn => {
                    let ended = records::end_session().await;
                    self.problem.set(Some(problem(ended, ended_key(SessionEnded::Expired))));
                    self.changed();
                    return;
                }
                Step::Wipe => {
                    let wiped = store::wipe().await;
                    if wiped.is_ok() {
                        hints::set_session_ended(SessionEnded::Revoked);
                    }
                    self.problem.set(Some(problem(wiped, ended_key(SessionEnded::Revoked))));
                    self.changed();
                    return;
                }
            };
            self.changed();
            if let Err(error) = result {
                self.problem.set(Some(error.message_key()));
                return;
            }
        }
    }
}

/// A push of `mutations`, stamped with the phone's clock now.
fn push_request(client_id: Id, mutations: Vec<Mutation>) -> PushRequest {
    PushRequest {
        client_id,
        mutations,
        sent_at: Some(now_ms()),
    }
}

/// How long a push encoded ahead may wait to be sent (`Prepared::made_for`): on loopback the push out takes
/// about 100 ms, and a code's time is judged in seconds.
const FRESH_MS: i64 = 500;

/// A push encoded ahead of its head (`outbox::ReadAhead::next_push`).
struct Prepared {
    request: PushRequest,
    body: api::PushBody,
}

impl Prepared {
    /// `sent_at` is taken now: the push goes once the one out is answered and settled, moments later, or not at
    /// all (`made_for`).
    async fn encode(client_id: Id, mutations: Vec<Mutation>) -> Prepared {
        let request = push_request(client_id, mutations);
        let body = api::PushBody::encode(&request).await;
        Prepared { request, body }
    }

    /// Whether this is `request`'s body at `now`: the same phone and mutations, made moments ago. `sent_at`
    /// moves the server's view of the phone's clock (`checkin::judge`), so a body made longer ago (on a slow
    /// link, where encoding is the least of a push's time) is made again.
    fn made_for(&self, request: &PushRequest, now: i64) -> bool {
        let fresh = self
            .request
            .sent_at
            .is_some_and(|made| now.saturating_sub(made) <= FRESH_MS);
        fresh && self.request.client_id == request.client_id && self.request.mutations == request.mutations
    }
}

/// What the member is told of a session that ended.
fn ended_key(why: SessionEnded) -> &'static str {
    match why {
        SessionEnded::Expired => "sync.signed_out",
        SessionEnded::Revoked => "sync.revoked",
    }
}

/// Whether `key` says the session ended (`ended_key`).
fn said_ended(key: &'static str) -> bool {
    [SessionEnded::Expired, SessionEnded::Revoked]
        .map(ended_key)
        .contains(&key)
}

/// The message after the round ended with `key`, unless keeping that failed.
fn problem(kept: Result<(), StoreError>, key: &'static str) -> &'static str {
    kept.err().map_or(key, StoreError::message_key)
}

pub fn use_sync() -> SyncService {
    expect_context::<SyncService>()
}

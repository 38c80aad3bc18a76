//! Keeping the phone and the server in step. `SyncService` (in context) runs rounds of the core engine when
//! something may have changed: app start, the `online` event, the page becoming visible, a local write, and a
//! timer while online. Failures wait out the engine's backoff; the outbox is never dropped unacknowledged.

pub mod outbox;
mod page;
mod status;

use std::time::Duration;

use guihai_core::engine::{Round, Step};
use guihai_core::sync::PushRequest;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::clock::{jitter, now_ms};
use crate::{api, records};

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
        let service = SyncService {
            online: RwSignal::new(navigator_online),
            syncing: RwSignal::new(false),
            problem: RwSignal::new(None),
            revision: RwSignal::new(0),
            again: RwSignal::new(false),
        };
        let _ = window_event_listener(leptos::ev::online, move |_| {
            service.online.set(true);
            service.sync_now();
        });
        let _ = window_event_listener(leptos::ev::offline, move |_| service.online.set(false));
        // Another tab wrote (or synced): show it here too.
        let _ = window_event_listener(leptos::ev::storage, move |_| service.changed());
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
        // Offline there is nothing to try; the `online` event starts the next round. The browser's own flag is
        // read again each time: an `online` event that came while the page was still loading is never heard.
        let online = window().navigator().on_line();
        if online != self.online.get_untracked() {
            self.online.set(online);
        }
        if records::session().is_none() || !online {
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

    async fn round(&self) {
        let mut round = Round::new();
        let mut waiting = outbox::Snapshot::default();
        loop {
            let Some(session) = records::session() else { return };
            // Meta is re-read before and after every request and saved at once: a write made while a
            // request was in flight takes its own sequence number from the same stored meta.
            let mut meta = outbox::meta();
            let numbered = match waiting.number_new(&mut meta) {
                Ok(numbered) => numbered,
                Err(error) => {
                    self.problem.set(Some(error.message_key()));
                    return;
                }
            };
            let step = round.next(&meta, &outbox::mutations(&numbered));
            let result = match step {
                Step::Push(mutations) => {
                    let request = PushRequest {
                        client_id: session.client_id,
                        mutations,
                    };
                    let reply = api::push(&session.token, &request).await;
                    let mut meta = outbox::meta();
                    let settled = round.on_push(&mut meta, reply, jitter());
                    outbox::settle(&meta, &settled, &numbered)
                }
                Step::Pull { cursor } => {
                    let reply = api::pull(&session.token, session.client_id, cursor).await;
                    let mut meta = outbox::meta();
                    let (changes, settled_through) = round.on_pull(&mut meta, reply, now_ms(), jitter());
                    records::apply_changes(&changes).and_then(|()| {
                        outbox::drop_through(settled_through, &numbered);
                        outbox::save_meta(&meta)
                    })
                }
                Step::Done => {
                    self.problem.set(None);
                    self.changed();
                    return;
                }
                Step::RetryIn(ms) => {
                    self.problem.set(Some("sync.retrying"));
                    let service = *self;
                    set_timeout(move || service.sync_now(), Duration::from_millis(ms));
                    return;
                }
                Step::SignIn => {
                    records::end_session();
                    self.problem.set(Some("sync.signed_out"));
                    self.changed();
                    return;
                }
                Step::Wipe => {
                    records::wipe();
                    self.problem.set(Some("sync.revoked"));
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

pub fn use_sync() -> SyncService {
    expect_context::<SyncService>()
}

//! The phone's store: everything the member's phone keeps, in one IndexedDB database, `guihai`. A person's
//! action (a check-in, a report, a profile edit, leaving) is one transaction over every object store it
//! touches, committed with `durability: "strict"`; the screen confirms it only once that transaction has
//! committed, so a browser killed a moment later keeps it. This module owns every key; pages never see one.
//!
//! Object stores (database version `VERSION`):
//! - `kv` — singletons by name: `session`, `client` (this installation's sync id), `meta` (core's `SyncMeta`:
//!   cursor, numbers, rows and the waiting count), `card` (the member card). JSON.
//! - `records` — what the server sent, by core's `Record::key` (`me`, `profile`, `stop:<id>`, …), and the
//!   reports made here not yet answered (`pendingreport:<id>`). JSON. Activities and check-ins live apart.
//! - `activities` — by activity id: what the phone knows of an activity (from a pull, a scanned code or a
//!   check-in) and whether this member checked in to it (`activities::Facts`). Binary.
//! - `checkins` — the member's check-ins the server has, by check-in id (UUIDv7, so in scan order). Binary.
//! - `outbox` — local writes waiting for the server, by row (their order on this phone): a check-in as binary,
//!   any other write as `{k: kind, v: JSON}`, with an index `kind` on `k` (check-ins, which have none, are
//!   not in it). `outbox.rs`.
//! - `refused` — writes the server refused for good, by their row, with the reason. JSON.
//! - `damaged` — stored writes that no longer read back, by row, kept as they were to show and export.
//!
//! What may be lost without harm stays in localStorage (gloo-storage): the language and the link to open
//! after signing in.

pub mod activities;
pub mod cache;
pub mod checkins;
mod codec;
pub mod door;
pub mod hints;
mod idb;
mod legacy;
pub mod outbox;
pub mod records;

use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbDatabase, IdbTransaction};

pub use idb::Durability;
use idb::Tx;

const NAME: &str = "guihai";
/// The schema version of the database this build reads and writes.
pub const VERSION: u32 = 1;
const CHANNEL: &str = "guihai-store";

pub(crate) const KV: &str = "kv";
pub(crate) const RECORDS: &str = "records";
pub(crate) const ACTIVITIES: &str = "activities";
pub(crate) const CHECKINS: &str = "checkins";
pub(crate) const OUTBOX: &str = "outbox";
pub(crate) const REFUSED: &str = "refused";
pub(crate) const DAMAGED: &str = "damaged";
/// The outbox's index of the writes that are not check-ins, by kind.
pub(crate) const KIND: &str = "kind";
pub(crate) const ALL: [&str; 7] = [KV, RECORDS, ACTIVITIES, CHECKINS, OUTBOX, REFUSED, DAMAGED];

/// What opening the store found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// The data is in this build's schema (moved from localStorage or upgraded if it had to be).
    Ready,
    /// A newer build of the app wrote it. This build must not touch it: a write it cannot read would look lost
    /// to it, and it could send the server a hole where that write was.
    Newer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The browser refused the write for lack of space (QuotaExceededError).
    Full,
    /// Storage is unavailable (private mode, disabled) or failed.
    Failed,
    /// Signing in another member while writes of the member before still wait on this phone.
    Unsynced,
}

impl StoreError {
    /// Translation key of the message for the member.
    pub fn message_key(self) -> &'static str {
        match self {
            StoreError::Full => "store.full",
            StoreError::Failed => "store.failed",
            StoreError::Unsynced => "signin.unsynced_other",
        }
    }
}

thread_local! {
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
    static CHANNEL_OPEN: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
    /// Called after the data changed, here or in another tab (the sync service bumps its revision).
    static ON_CHANGE: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
}

fn db() -> Result<IdbDatabase, StoreError> {
    DB.with(|db| db.borrow().clone()).ok_or(StoreError::Failed)
}

/// Opens the database (creating or upgrading it), moves in what an earlier build kept in localStorage, and
/// loads what the screens read at once. Call before anything reads the store; calling it again only moves in
/// what localStorage may have gained and reloads.
pub async fn open() -> Result<Opened, StoreError> {
    if legacy::newer() {
        return Ok(Opened::Newer);
    }
    if db().is_err() {
        match connect().await? {
            Opened::Ready => listen_to_other_tabs(),
            newer => return Ok(newer),
        }
    }
    legacy::import().await?;
    cache::reload().await?;
    Ok(Opened::Ready)
}

/// Opens the database (creating it) without moving anything in or loading the screens' cache: the entry app's
/// way in (`records::fresh`), which reads and writes a handful of keys and leaves the rest to the member app.
#[cfg(feature = "entry")]
async fn connect_only() -> Result<Opened, StoreError> {
    if legacy::newer() {
        return Ok(Opened::Newer);
    }
    if db().is_ok() {
        return Ok(Opened::Ready);
    }
    let opened = connect().await?;
    // Its writes are told to the member app's other tabs, which do not listen here.
    open_channel();
    Ok(opened)
}

async fn connect() -> Result<Opened, StoreError> {
    let db = match idb::open(NAME, VERSION, upgrade).await {
        Ok(db) => db,
        Err(None) => return Ok(Opened::Newer),
        Err(Some(error)) => return Err(error),
    };
    // A newer build opening the database in another tab asks this one to let go: the page then stops using
    // it, and the newer build's tab carries on (the member reloads this one to get the newer build too).
    let release: Closure<dyn FnMut()> = Closure::new({
        let db = db.clone();
        move || db.close()
    });
    db.set_onversionchange(Some(release.as_ref().unchecked_ref()));
    release.forget();
    DB.with(|slot| *slot.borrow_mut() = Some(db));
    Ok(Opened::Ready)
}

/// Creates the object stores; later versions add their steps after the first.
fn upgrade(db: IdbDatabase, old_version: f64, _transaction: IdbTransaction) {
    if old_version < 1.0 {
        for name in [KV, RECORDS, ACTIVITIES, CHECKINS, REFUSED, DAMAGED] {
            // Creating a store on a database being created cannot fail but for a wrong name.
            let _ = db.create_object_store(name);
        }
        if let Ok(outbox) = db.create_object_store(OUTBOX) {
            let _ = outbox.create_index_with_str(KIND, "k");
        }
    }
}

/// Runs `work` in one read-only transaction over `stores`.
pub(crate) async fn read<T>(
    stores: &[&str],
    work: impl AsyncFnOnce(&Tx) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = Tx::begin(&db()?, stores, None)?;
    let result = work(&tx).await;
    tx.commit().await?;
    result
}

/// Runs `work` in one read-write transaction over `stores`: all of it is kept, or none of it. Returns once the
/// transaction has committed with `durability`, then tells this tab and the others that the data changed.
pub(crate) async fn write<T>(
    stores: &[&str],
    durability: Durability,
    work: impl AsyncFnOnce(&Tx) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let tx = Tx::begin(&db()?, stores, Some(durability))?;
    match work(&tx).await {
        Ok(value) => {
            tx.commit().await?;
            tell_other_tabs();
            Ok(value)
        }
        Err(error) => {
            tx.abort();
            Err(error)
        }
    }
}

/// `callback` runs whenever the stored data changed: after this tab's writes (once the cache is updated) and
/// after another tab's.
pub fn on_change(callback: impl Fn() + 'static) {
    ON_CHANGE.with(|slot| *slot.borrow_mut() = Some(Box::new(callback)));
}

pub(crate) fn changed() {
    ON_CHANGE.with(|slot| {
        if let Some(callback) = slot.borrow().as_ref() {
            callback();
        }
    });
}

fn tell_other_tabs() {
    CHANNEL_OPEN.with(|channel| {
        if let Some(channel) = channel.borrow().as_ref() {
            let _ = channel.post_message(&JsValue::TRUE);
        }
    });
}

/// The channel this tab tells the others of its writes on.
fn open_channel() -> Option<web_sys::BroadcastChannel> {
    let channel = web_sys::BroadcastChannel::new(CHANNEL).ok()?;
    CHANNEL_OPEN.with(|slot| *slot.borrow_mut() = Some(channel.clone()));
    Some(channel)
}

/// Another tab wrote: read what the screens show again.
fn listen_to_other_tabs() {
    let Some(channel) = open_channel() else {
        return;
    };
    let reload: Closure<dyn FnMut()> = Closure::new(|| {
        wasm_bindgen_futures::spawn_local(async {
            if cache::reload().await.is_ok() {
                changed();
            }
        })
    });
    channel.set_onmessage(Some(reload.as_ref().unchecked_ref()));
    reload.forget();
}

/// Forgets everything of the member on this phone: records, outbox, session and the installation's client id
/// (the server binds it to one person, so the next person to sign in here gets a new one).
pub async fn wipe() -> Result<(), StoreError> {
    write(&ALL, Durability::Strict, async |tx| {
        for store in ALL {
            tx.clear(store)?;
        }
        Ok(())
    })
    .await?;
    // Whoever signs in next starts afresh; a wipe for a revoked phone says so again after it.
    hints::forget_session_ended();
    cache::refresh().await;
    Ok(())
}

//! What the screens read at once, without waiting: the session, the sync bookkeeping, the member's own records
//! (a few dozen) and the few writes waiting that are not check-ins. It is loaded from the store in one
//! transaction when the app starts and again after another tab wrote; this tab's own writes update it as they
//! commit. Check-ins and activities, which grow by the thousand, are never loaded whole: they are read from
//! their object stores when a screen asks.

use std::cell::RefCell;
use std::collections::BTreeMap;

use guihai_core::certificate::MemberCard;
use guihai_core::engine::SyncMeta;
use guihai_core::sync::Record;
use wasm_bindgen::JsValue;

use super::codec::from_json;
use super::outbox::{Other, Refused};
use super::records::{PendingReport, Session, CLIENT, META, PENDING_REPORT, SESSION};
use super::{read, StoreError, DAMAGED, KV, OUTBOX, RECORDS, REFUSED};
use guihai_core::Id;

#[derive(Default, Clone)]
pub struct Cache {
    pub session: Option<Session>,
    pub client_id: Option<Id>,
    pub meta: SyncMeta,
    /// The last row in the outbox: with `meta`, how many writes wait (`waiting`).
    pub last_row: Option<u64>,
    pub card: Option<MemberCard>,
    /// Pulled records by key, but activities and check-ins.
    pub records: BTreeMap<String, Record>,
    pub pending_reports: Vec<PendingReport>,
    /// Waiting writes that are not check-ins (profile edits, reports, leaving), in row order.
    pub others: Vec<Other>,
    pub refused: Vec<Refused>,
    /// Writes set aside because they no longer read back: how many (they count as not synced).
    pub damaged: u32,
    /// Pulled records and refusals that do not read back: how many (kept; a later pull may replace them).
    pub unreadable: u32,
}

impl Cache {
    /// How many of the member's writes wait for the server (core's `outbox::waiting`): a kept count, never a
    /// walk over the outbox.
    pub fn waiting(&self) -> u64 {
        guihai_core::outbox::waiting(&self.meta, self.last_row)
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// Reads the cache.
pub fn with<T>(read: impl FnOnce(&Cache) -> T) -> T {
    CACHE.with(|cache| read(&cache.borrow()))
}

/// Changes the cache after a write of this tab committed.
pub(crate) fn update(change: impl FnOnce(&mut Cache)) {
    CACHE.with(|cache| change(&mut cache.borrow_mut()));
}

/// Loads the cache from the store.
pub async fn reload() -> Result<(), StoreError> {
    let loaded = read(&[KV, RECORDS, OUTBOX, REFUSED, DAMAGED], async |tx| {
        let kv = |name: &'static str| async move { tx.get(KV, &JsValue::from_str(name)).await };
        let mut cache = Cache {
            session: kv(SESSION).await?.as_ref().and_then(from_json),
            client_id: kv(CLIENT).await?.as_ref().and_then(from_json),
            meta: kv(META).await?.as_ref().and_then(from_json).unwrap_or_default(),
            last_row: super::outbox::last_row(tx).await?,
            card: kv(super::records::CARD).await?.as_ref().and_then(from_json),
            ..Cache::default()
        };
        for (key, value) in tx.get_all(RECORDS, None, None).await? {
            let key = key.as_string().unwrap_or_default();
            if key.starts_with(PENDING_REPORT) {
                match from_json(&value) {
                    Some(pending) => cache.pending_reports.push(pending),
                    None => cache.unreadable += 1,
                }
            } else {
                match from_json::<Record>(&value) {
                    Some(record) => {
                        cache.records.insert(key, record);
                    }
                    // Kept where it is and counted on the sync page; a later pull may replace it.
                    None => cache.unreadable += 1,
                }
            }
        }
        cache.others = super::outbox::others(tx).await?;
        for (_, value) in tx.get_all(REFUSED, None, None).await? {
            match from_json(&value) {
                Some(refused) => cache.refused.push(refused),
                None => cache.unreadable += 1,
            }
        }
        cache.damaged += tx.count(DAMAGED).await?;
        Ok(cache)
    })
    .await?;
    CACHE.with(|cache| *cache.borrow_mut() = loaded);
    Ok(())
}

/// After a person's write has committed: reads the cache again and tells the screens. A failure here leaves the
/// screens behind for a moment (the next change reads again), never the write unsaid: it was kept.
pub(crate) async fn refresh() {
    let _ = reload().await;
    super::changed();
}

//! IndexedDB as the store uses it: one database, transactions that commit or fail as a whole, and requests
//! awaited inside them. A transaction stays open while its requests' answers are being handled, so the work
//! given to `Tx` may await its own requests, and nothing else (no timer, no network): a transaction left with
//! nothing to do commits by itself.

use std::collections::BTreeSet;

use js_sys::{Array, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    IdbCursor, IdbCursorDirection, IdbCursorWithValue, IdbDatabase, IdbKeyRange, IdbObjectStore, IdbRequest,
    IdbTransaction,
};

use super::StoreError;

#[wasm_bindgen(module = "/src/store/idb.js")]
extern "C" {
    fn done(request: &IdbRequest) -> Promise;
    fn committed(transaction: &IdbTransaction) -> Promise;
    #[wasm_bindgen(catch)]
    fn records(source: &JsValue, range: &JsValue, count: Option<u32>) -> Result<Promise, JsValue>;
    #[wasm_bindgen(catch)]
    fn transaction(db: &IdbDatabase, stores: &Array, mode: &str, durability: &str) -> Result<IdbTransaction, JsValue>;
    #[wasm_bindgen(js_name = open)]
    fn open_js(name: &str, version: u32, upgrade: &Closure<dyn FnMut(IdbDatabase, f64, IdbTransaction)>) -> Promise;
}

/// How sure a committed transaction must be to be on disk before it counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk (flushed) before the screen may say so: everything a person did.
    Strict,
    /// The browser's choice: bookkeeping the next sync can redo (a lost pull page is pulled again).
    Relaxed,
}

impl StoreError {
    /// What a failed IndexedDB call means for the member.
    pub(super) fn from_js(error: JsValue) -> StoreError {
        let name = error
            .dyn_ref::<web_sys::DomException>()
            .map(web_sys::DomException::name)
            .unwrap_or_default();
        match name.as_str() {
            "QuotaExceededError" => StoreError::Full,
            _ => StoreError::Failed,
        }
    }
}

/// Opens `name` at `version`; `upgrade(db, old_version, transaction)` creates or changes the object stores.
/// `Err(None)` when a newer build has upgraded the database past `version`.
pub async fn open(
    name: &str,
    version: u32,
    upgrade: impl FnMut(IdbDatabase, f64, IdbTransaction) + 'static,
) -> Result<IdbDatabase, Option<StoreError>> {
    let upgrade: Closure<dyn FnMut(IdbDatabase, f64, IdbTransaction)> = Closure::new(upgrade);
    let opened = JsFuture::from(open_js(name, version, &upgrade)).await;
    // The database stays open for the page's life; its upgrade is over once it is open.
    drop(upgrade);
    match opened {
        Ok(db) => Ok(db.unchecked_into()),
        Err(error) => {
            let newer = error
                .dyn_ref::<web_sys::DomException>()
                .is_some_and(|e| e.name() == "VersionError");
            Err((!newer).then(|| StoreError::from_js(error)))
        }
    }
}

/// A transaction over some object stores.
pub struct Tx {
    inner: IdbTransaction,
}

impl Tx {
    pub fn begin(db: &IdbDatabase, stores: &[&str], write: Option<Durability>) -> Result<Tx, StoreError> {
        let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
        let (mode, durability) = match write {
            None => ("readonly", "default"),
            Some(Durability::Strict) => ("readwrite", "strict"),
            Some(Durability::Relaxed) => ("readwrite", "relaxed"),
        };
        let inner = transaction(db, &names, mode, durability).map_err(StoreError::from_js)?;
        Ok(Tx { inner })
    }

    /// Waits until everything asked of the transaction is committed.
    pub async fn commit(self) -> Result<(), StoreError> {
        JsFuture::from(committed(&self.inner))
            .await
            .map(drop)
            .map_err(StoreError::from_js)
    }

    /// Undoes everything asked of the transaction.
    pub fn abort(self) {
        // Already ended (it failed by itself): nothing to undo.
        let _ = self.inner.abort();
    }

    fn store(&self, name: &str) -> Result<IdbObjectStore, StoreError> {
        self.inner.object_store(name).map_err(StoreError::from_js)
    }

    async fn answer(request: Result<IdbRequest, JsValue>) -> Result<JsValue, StoreError> {
        let request = request.map_err(StoreError::from_js)?;
        JsFuture::from(done(&request)).await.map_err(StoreError::from_js)
    }

    /// The value under `key`, or `None`.
    pub async fn get(&self, store: &str, key: &JsValue) -> Result<Option<JsValue>, StoreError> {
        let value = Self::answer(self.store(store)?.get(key)).await?;
        Ok((!value.is_undefined()).then_some(value))
    }

    /// The values under `keys`, asked all at once (IndexedDB answers them in order; waiting for each before
    /// asking the next would cost a round trip to the browser's storage each).
    pub async fn get_many(&self, store: &str, keys: &[JsValue]) -> Result<Vec<Option<JsValue>>, StoreError> {
        let store = self.store(store)?;
        let asked: Vec<Promise> = keys
            .iter()
            .map(|key| {
                store
                    .get(key)
                    .map(|request| done(&request))
                    .map_err(StoreError::from_js)
            })
            .collect::<Result<_, _>>()?;
        let mut values = Vec::with_capacity(asked.len());
        for answer in asked {
            let value = JsFuture::from(answer).await.map_err(StoreError::from_js)?;
            values.push((!value.is_undefined()).then_some(value));
        }
        Ok(values)
    }

    /// The values under the ids `ids`, in their order. Ids close together in the store (the activities of a
    /// push's check-ins, the check-ins of a pulled page: UUIDv7, made one after another) are read with one
    /// request for the key range they span, as long as it holds at most `SPREAD` entries an id; a request for
    /// each costs the page a task of its own and soon dominates (10,000 check-ins took 10,000 requests).
    /// What the range read leaves out is asked one by one.
    pub async fn get_ids(&self, store: &str, ids: &BTreeSet<[u8; 16]>) -> Result<Vec<Option<JsValue>>, StoreError> {
        /// Below this many ids, one request each: the range read costs two requests and a key conversion each.
        const FEW: usize = 16;
        /// Entries of the range read per id asked, at most: beyond that, what it reads in vain costs more.
        const SPREAD: usize = 3;
        let asked = ids.len();
        let mut values = Vec::with_capacity(asked);
        let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
            return Ok(values);
        };
        let mut ids = ids.iter().peekable();
        if asked >= FEW {
            let range = IdbKeyRange::bound(&id_key(first), &id_key(last)).map_err(StoreError::from_js)?;
            let limit = asked * SPREAD;
            let read = self.get_all(store, Some(&range), Some(limit as u32)).await?;
            // When the read stopped at its limit, ids past its last key are still to ask.
            let read_to = match read.len() == limit {
                true => read.last().and_then(|(key, _)| key_id(key)),
                false => Some(*last),
            };
            let mut read = read
                .into_iter()
                .filter_map(|(key, value)| Some((key_id(&key)?, value)))
                .peekable();
            while let Some(id) = ids.next_if(|id| read_to.is_some_and(|to| **id <= to)) {
                while read.next_if(|(key, _)| key < id).is_some() {}
                values.push(read.next_if(|(key, _)| key == id).map(|(_, value)| value));
            }
        }
        let keys: Vec<JsValue> = ids.map(id_key).collect();
        values.extend(self.get_many(store, &keys).await?);
        Ok(values)
    }

    /// Every value (and its key) in `range`, in key order, at most `limit`.
    pub async fn get_all(
        &self,
        store: &str,
        range: Option<&IdbKeyRange>,
        limit: Option<u32>,
    ) -> Result<Vec<(JsValue, JsValue)>, StoreError> {
        let range: JsValue = range.map_or(JsValue::UNDEFINED, |r| r.clone().into());
        Self::all_records(self.store(store)?.as_ref(), &range, limit).await
    }

    /// Every value listed in `index`, with its primary key, in index order.
    pub async fn indexed(&self, store: &str, index: &str) -> Result<Vec<(JsValue, JsValue)>, StoreError> {
        let index = self.store(store)?.index(index).map_err(StoreError::from_js)?;
        Self::all_records(index.as_ref(), &JsValue::UNDEFINED, None).await
    }

    /// The primary keys and values of `source` (a store or an index) in `range`, at most `limit`.
    async fn all_records(
        source: &JsValue,
        range: &JsValue,
        limit: Option<u32>,
    ) -> Result<Vec<(JsValue, JsValue)>, StoreError> {
        let answer = records(source, range, limit).map_err(StoreError::from_js)?;
        let found: Array = JsFuture::from(answer)
            .await
            .map_err(StoreError::from_js)?
            .unchecked_into();
        let keys: Array = found.get(0).unchecked_into();
        let values: Array = found.get(1).unchecked_into();
        Ok(keys.iter().zip(values.iter()).collect())
    }

    pub async fn count(&self, store: &str) -> Result<u32, StoreError> {
        let n = Self::answer(self.store(store)?.count()).await?;
        Ok(n.as_f64().unwrap_or_default() as u32)
    }

    /// The last key of `store`, or `None` when it is empty: one step of a key cursor from the end.
    pub async fn last_key(&self, store: &str) -> Result<Option<JsValue>, StoreError> {
        let request = self
            .store(store)?
            .open_key_cursor_with_range_and_direction(&JsValue::UNDEFINED, IdbCursorDirection::Prev)
            .map_err(StoreError::from_js)?;
        let cursor = JsFuture::from(done(&request)).await.map_err(StoreError::from_js)?;
        match cursor.dyn_ref::<IdbCursor>() {
            Some(cursor) => cursor.key().map(Some).map_err(StoreError::from_js),
            None => Ok(None),
        }
    }

    /// Walks `range` newest key first (`reverse`) or oldest first, handing `each` every key and value until it
    /// answers `false`.
    pub async fn walk(
        &self,
        store: &str,
        range: Option<&IdbKeyRange>,
        reverse: bool,
        mut each: impl FnMut(JsValue, JsValue) -> bool,
    ) -> Result<(), StoreError> {
        let direction = if reverse {
            IdbCursorDirection::Prev
        } else {
            IdbCursorDirection::Next
        };
        let range: JsValue = range.map_or(JsValue::UNDEFINED, |r| r.clone().into());
        let request = self
            .store(store)?
            .open_cursor_with_range_and_direction(&range, direction)
            .map_err(StoreError::from_js)?;
        loop {
            let cursor = JsFuture::from(done(&request)).await.map_err(StoreError::from_js)?;
            let Some(cursor) = cursor.dyn_ref::<IdbCursorWithValue>() else {
                return Ok(());
            };
            let key = cursor.key().map_err(StoreError::from_js)?;
            let value = cursor.value().map_err(StoreError::from_js)?;
            if !each(key, value) {
                return Ok(());
            }
            cursor.continue_().map_err(StoreError::from_js)?;
        }
    }

    /// Stores `value` under `key`. Its failure (a full phone) comes out of `commit`.
    pub fn put(&self, store: &str, key: &JsValue, value: &JsValue) -> Result<(), StoreError> {
        self.store(store)?
            .put_with_key(value, key)
            .map(drop)
            .map_err(StoreError::from_js)
    }

    /// Deletes the entry under `key`, or every entry in a key range.
    pub fn delete(&self, store: &str, key: &JsValue) -> Result<(), StoreError> {
        self.store(store)?.delete(key).map(drop).map_err(StoreError::from_js)
    }

    pub fn clear(&self, store: &str) -> Result<(), StoreError> {
        self.store(store)?.clear().map(drop).map_err(StoreError::from_js)
    }
}

/// A key of 16 bytes (an id): IndexedDB orders binary keys byte by byte, so UUIDv7 keys sort by time.
pub fn id_key(bytes: &[u8; 16]) -> JsValue {
    Uint8Array::from(&bytes[..]).into()
}

/// The bytes of a binary key as a cursor gives it back.
pub fn key_id(key: &JsValue) -> Option<[u8; 16]> {
    let buffer = key.dyn_ref::<js_sys::ArrayBuffer>()?;
    Uint8Array::new(buffer).to_vec().try_into().ok()
}

pub fn number_key(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

pub fn key_number(key: &JsValue) -> Option<u64> {
    key.as_f64().map(|n| n as u64)
}

/// Keys above `after` (numbers).
pub fn above(after: u64) -> Result<IdbKeyRange, StoreError> {
    IdbKeyRange::lower_bound_with_open(&number_key(after), true).map_err(StoreError::from_js)
}

/// Keys up to and including `last` (numbers).
pub fn up_to(last: u64) -> Result<IdbKeyRange, StoreError> {
    IdbKeyRange::upper_bound(&number_key(last)).map_err(StoreError::from_js)
}

/// Keys from `first` to `last`, both included (numbers).
pub fn between(first: u64, last: u64) -> Result<IdbKeyRange, StoreError> {
    IdbKeyRange::bound(&number_key(first), &number_key(last)).map_err(StoreError::from_js)
}

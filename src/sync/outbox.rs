//! The outbox: local writes waiting for the server, one key each under the write's own time-ordered id
//! (`outbox:<id>`), so tabs writing at the same moment never overwrite each other. Only the tab holding the
//! sync lock numbers writes (`seq`), just before their first push, and a number once given is kept. Beside
//! it: the sync bookkeeping (`meta`) and the writes the server refused for good (`refused:<seq>`).

use std::collections::BTreeMap;

use guihai_core::engine::{Settled, SyncMeta};
use guihai_core::sync::{Mutation, Op, Rejection};
use guihai_core::Id;
use serde::{Deserialize, Serialize};

use crate::clock::new_id;
use crate::store::{self, StoreError};

const META: &str = "meta";
const PREFIX: &str = "outbox:";

/// A local write waiting for the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: Id,
    pub occurred_at: i64,
    pub op: Op,
    /// Given by the syncing tab before the first push.
    pub seq: Option<u64>,
}

impl Entry {
    fn key(&self) -> String {
        format!("{PREFIX}{}", self.id)
    }

    fn mutation(&self) -> Option<Mutation> {
        Some(Mutation {
            seq: self.seq?,
            occurred_at: self.occurred_at,
            op: self.op.clone(),
        })
    }
}

pub fn meta() -> SyncMeta {
    store::get(META).unwrap_or_default()
}

pub fn save_meta(meta: &SyncMeta) -> Result<(), StoreError> {
    store::set(META, meta)
}

/// How many writes wait.
pub fn count() -> usize {
    store::keys_with_prefix(PREFIX).len()
}

/// Every waiting write, oldest first.
pub fn entries() -> Vec<Entry> {
    store::values_with_prefix(PREFIX)
}

/// The numbered writes in `seq` order: what the sync engine sends.
pub fn pending() -> Vec<Mutation> {
    mutations(&entries())
}

/// The numbered ones of `entries`, in `seq` order.
pub fn mutations(entries: &[Entry]) -> Vec<Mutation> {
    let mut mutations: Vec<Mutation> = entries.iter().filter_map(Entry::mutation).collect();
    mutations.sort_by_key(|m| m.seq);
    mutations
}

/// Queues a local write together with the records that show it, all or nothing.
pub fn enqueue(op: Op, occurred_at: i64, mut records: Vec<(String, serde_json::Value)>) -> Result<(), StoreError> {
    let entry = Entry {
        id: new_id(),
        occurred_at,
        op,
        seq: None,
    };
    records.push((
        entry.key(),
        serde_json::to_value(&entry).expect("outbox entries serialise"),
    ));
    store::set_all(&records)
}

/// The outbox as one sync round sees it. The first step parses every waiting write (a thousand of them are a
/// megabyte of JSON); later steps only list the keys, parse the writes made since (in any tab) and forget the
/// settled ones. What was parsed stays true: writes are never changed after they are made, except numbered, and
/// only the tab holding the sync lock numbers them.
#[derive(Default)]
pub struct Snapshot {
    entries: BTreeMap<String, Entry>,
}

impl Snapshot {
    /// Numbers the writes that have none yet, oldest first, and returns every numbered one. Call only while
    /// holding the sync lock. The numbers are reserved (the counter saved) before any write takes one, so a
    /// failure part-way can leave numbers unused (the engine fills them with skips) but never give one twice.
    pub fn number_new(&mut self, meta: &mut SyncMeta) -> Result<Vec<Entry>, StoreError> {
        let keys = store::keys_with_prefix(PREFIX);
        self.entries.retain(|key, _| keys.binary_search(key).is_ok());
        for key in keys {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.entries.entry(key) {
                if let Some(entry) = store::get::<Entry>(slot.key()) {
                    slot.insert(entry);
                }
            }
        }
        let mut new: Vec<&mut Entry> = self.entries.values_mut().filter(|e| e.seq.is_none()).collect();
        if !new.is_empty() {
            new.sort_by_key(|e| (e.occurred_at, e.id));
            let first = meta.last_seq + 1;
            meta.last_seq += new.len() as u64;
            save_meta(meta)?;
            for (entry, seq) in new.into_iter().zip(first..) {
                entry.seq = Some(seq);
                if let Err(error) = store::set(&entry.key(), &*entry) {
                    // Not kept with its number: the next round reads it from the store as it is.
                    entry.seq = None;
                    return Err(error);
                }
            }
        }
        Ok(self.entries.values().filter(|e| e.seq.is_some()).cloned().collect())
    }
}

/// Numbers the waiting writes (see `Snapshot::number_new`), reading the whole outbox.
pub fn number_new(meta: &mut SyncMeta) -> Result<Vec<Entry>, StoreError> {
    Snapshot::default().number_new(meta)
}

/// A write the server will never accept, kept with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub mutation: Mutation,
    pub reason: Rejection,
}

pub fn refused() -> Vec<Refused> {
    store::values_with_prefix("refused:")
}

/// Carries out what the engine decided after a push answer; `numbered` is what `number_new` returned.
pub fn settle(meta: &SyncMeta, settled: &Settled, numbered: &[Entry]) -> Result<(), StoreError> {
    for (seq, reason) in &settled.rejected {
        if let Some(mutation) = numbered.iter().filter_map(Entry::mutation).find(|m| m.seq == *seq) {
            store::set(
                &format!("refused:{seq:012}"),
                &Refused {
                    mutation,
                    reason: *reason,
                },
            )?;
        }
    }
    drop_through(settled.drop_through, numbered);
    save_meta(meta)
}

/// Drops the writes the server has settled (also after a pull: the push answer may have been lost).
pub fn drop_through(seq: u64, numbered: &[Entry]) {
    numbered
        .iter()
        .filter(|e| e.seq.is_some_and(|s| s <= seq))
        .for_each(|e| store::remove(&e.key()));
}

//! The localStorage build's way of keeping a phone's data (Guihai up to 45a9bd0: `src/store.rs`,
//! `src/sync/outbox.rs`, `src/records.rs`, `src/checkin.rs`), kept here as it was so the move into IndexedDB is
//! tested against data written by that build's own code path: one key per record under `gh1:`, check-ins
//! with a `pending:` copy, writes numbered only by the syncing tab, refusals under `refused:<seq>`.

use std::collections::BTreeMap;

use gloo_storage::{LocalStorage, Storage};
use guihai_core::checkin::PendingCheckIn;
use guihai_core::engine::{Settled, SyncMeta};
use guihai_core::sync::{Mutation, Op, Record, Rejection};
use guihai_core::Id;
use serde::{Deserialize, Serialize};

const PREFIX: &str = "gh1:";

fn set<T: Serialize>(key: &str, value: &T) {
    LocalStorage::set(format!("{PREFIX}{key}"), value).expect("the legacy store writes");
}

fn get<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    LocalStorage::get(format!("{PREFIX}{key}")).ok()
}

fn keys_with_prefix(prefix: &str) -> Vec<String> {
    let wanted = format!("{PREFIX}{prefix}");
    let mut keys: Vec<String> = js_sys::Object::keys(LocalStorage::raw().as_ref())
        .iter()
        .filter_map(|key| key.as_string())
        .filter(|key| key.starts_with(&wanted))
        .map(|key| key[PREFIX.len()..].to_owned())
        .collect();
    keys.sort();
    keys
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub client_id: Id,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: Id,
    pub occurred_at: i64,
    pub op: Op,
    pub seq: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub mutation: Mutation,
    pub reason: Rejection,
}

/// `save_session`, and the schema stamp `store::open` wrote.
pub fn signed_in(token: &str, client_id: Id, records: &[Record]) {
    set("schema", &1u32);
    set("client_id", &client_id);
    for record in records {
        set(&format!("rec:{}", record.key()), record);
    }
    set(
        "session",
        &Session {
            token: token.to_owned(),
            client_id,
        },
    );
}

/// `checkin::check_in`: the outbox entry and the pending copy the screens showed.
pub fn check_in(id: Id, pending: PendingCheckIn, code: String) {
    set(&format!("pending:{id}"), &pending);
    enqueue(Op::CheckIn { id, code }, pending.scanned_at);
}

/// `outbox::enqueue`: a write under its own id, with no number (the id made from the time here, where that
/// build drew it at random, so a test can find it).
pub fn enqueue(op: Op, occurred_at: i64) {
    let id = Id::new_v7(occurred_at as u64, [occurred_at as u8; 10]);
    set(
        &format!("outbox:{id}"),
        &Entry {
            id,
            occurred_at,
            op,
            seq: None,
        },
    );
}

/// `Snapshot::number_new`: the syncing tab numbers the new writes, oldest first, and saves the counter first.
pub fn number() -> BTreeMap<u64, Entry> {
    let mut meta: SyncMeta = get("meta").unwrap_or_default();
    let mut entries: Vec<Entry> = keys_with_prefix("outbox:").iter().filter_map(|k| get(k)).collect();
    let mut new: Vec<&mut Entry> = entries.iter_mut().filter(|e| e.seq.is_none()).collect();
    new.sort_by_key(|e| (e.occurred_at, e.id));
    let first = meta.last_seq + 1;
    meta.last_seq += new.len() as u64;
    set("meta", &meta);
    for (entry, seq) in new.into_iter().zip(first..) {
        entry.seq = Some(seq);
        set(&format!("outbox:{}", entry.id), &*entry);
    }
    entries.into_iter().filter_map(|e| Some((e.seq?, e))).collect()
}

/// `outbox::settle` after a push answer.
pub fn settle(acked_seq: u64, settled: &Settled) {
    let mut meta: SyncMeta = get("meta").unwrap_or_default();
    let numbered: Vec<(u64, Entry)> = keys_with_prefix("outbox:")
        .iter()
        .filter_map(|k| get::<Entry>(k))
        .filter_map(|e| Some((e.seq?, e)))
        .collect();
    for (seq, entry) in numbered {
        if let Some((_, reason)) = settled.rejected.iter().find(|(refused, _)| *refused == seq) {
            let mutation = Mutation {
                seq,
                occurred_at: entry.occurred_at,
                op: entry.op.clone(),
            };
            set(
                &format!("refused:{seq:012}"),
                &Refused {
                    mutation,
                    reason: *reason,
                },
            );
        }
        if seq <= settled.drop_through {
            LocalStorage::delete(format!("{PREFIX}outbox:{}", entry.id));
        }
    }
    meta.acked_seq = acked_seq;
    set("meta", &meta);
}

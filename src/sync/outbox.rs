//! The outbox: local writes waiting for the server, one key each (`outbox:<seq>`), with the sync bookkeeping
//! (`meta`) and the writes the server refused for good (`refused:<seq>`), kept to show the member why.

use guihai_core::engine::{Settled, SyncMeta};
use guihai_core::sync::{Mutation, Op, Rejection};
use serde::{Deserialize, Serialize};

use crate::store::{self, StoreError};

const META: &str = "meta";

fn outbox_key(seq: u64) -> String {
    // Zero-padded so that key order is seq order.
    format!("outbox:{seq:012}")
}

pub fn meta() -> SyncMeta {
    store::get(META).unwrap_or_default()
}

pub fn save_meta(meta: &SyncMeta) -> Result<(), StoreError> {
    store::set(META, meta)
}

/// Pending mutations in `seq` order.
pub fn pending() -> Vec<Mutation> {
    store::values_with_prefix("outbox:")
}

/// Queues a local write together with the records that show it, all or nothing.
pub fn enqueue(op: Op, occurred_at: i64, mut records: Vec<(String, serde_json::Value)>) -> Result<(), StoreError> {
    let mut meta = meta();
    let mutation = Mutation {
        seq: meta.take_seq(),
        occurred_at,
        op,
    };
    records.push((
        outbox_key(mutation.seq),
        serde_json::to_value(&mutation).expect("mutations serialise"),
    ));
    records.push((META.to_owned(), serde_json::to_value(&meta).expect("meta serialises")));
    store::set_all(&records)
}

/// A write the server will never accept, kept with its reason.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Refused {
    pub mutation: Mutation,
    pub reason: Rejection,
}

pub fn refused() -> Vec<Refused> {
    store::values_with_prefix("refused:")
}

/// Carries out what the engine decided after a push answer.
pub fn settle(meta: &SyncMeta, settled: &Settled) -> Result<(), StoreError> {
    let outbox = pending();
    for (seq, reason) in &settled.rejected {
        if let Some(mutation) = outbox.iter().find(|m| m.seq == *seq) {
            store::set(
                &format!("refused:{seq:012}"),
                &Refused {
                    mutation: mutation.clone(),
                    reason: *reason,
                },
            )?;
        }
    }
    drop_through(settled.drop_through);
    save_meta(meta)
}

/// Drops entries the server reported as settled in a pull (the push answer may have been lost).
pub fn drop_through(seq: u64) {
    pending()
        .iter()
        .filter(|m| m.seq <= seq)
        .for_each(|m| store::remove(&outbox_key(m.seq)));
}

//! Moving in what the localStorage build kept (every key under `gh1:`): the session, the pulled records, the
//! outbox with its numbers and the writes refused. All of it goes into IndexedDB in one transaction, and only
//! the keys read are removed, once that has committed. A tab closed half-way leaves either nothing moved (the
//! next start moves it all) or everything moved (the next start finds the member's data in IndexedDB and the
//! same keys again, and moves in only the writes it does not hold yet), never half, never twice. Writes an
//! old build's tab, still open, made after the move are moved in the same way, as new writes.

use gloo_storage::{LocalStorage, Storage};
use guihai_core::checkin::PendingCheckIn;
use guihai_core::engine::SyncMeta;
use guihai_core::outbox as rows;
use guihai_core::qr::{self, Subject};
use guihai_core::sync::{Op, Record};
use guihai_core::Id;
use serde::Deserialize;
use wasm_bindgen::JsValue;

use super::activities::{self, Facts, Mine};
use super::checkins::SyncedCheckIn;
use super::codec::{to_binary, to_json};
use super::idb::{id_key, number_key, Tx};
use super::outbox::{self, Queued, QueuedCheckIn, QueuedOp};
use super::records::{kv, PendingReport, CARD, CLIENT, META, PENDING_REPORT, SESSION};
use super::{write, Durability, StoreError, ALL, CHECKINS, DAMAGED, KV, RECORDS, REFUSED};

/// The prefix of every key the localStorage build wrote.
const PREFIX: &str = "gh1:";
/// The version the localStorage build stamped its data with (`gh1:schema`); it never wrote another.
const LOCAL_SCHEMA: u32 = 1;
/// Kept in localStorage: harmless to lose, read before anything else.
pub const KEPT: [&str; 2] = ["locale", "after_sign_in"];

/// An outbox entry of the localStorage build.
#[derive(Debug, Clone, Deserialize)]
struct Entry {
    id: Id,
    occurred_at: i64,
    op: Op,
    seq: Option<u64>,
}

fn keys() -> Vec<String> {
    js_sys::Object::keys(LocalStorage::raw().as_ref())
        .iter()
        .filter_map(|key| key.as_string())
        .filter_map(|key| key.strip_prefix(PREFIX).map(str::to_owned))
        .filter(|key| !KEPT.contains(&key.as_str()))
        .collect()
}

/// Whether localStorage holds data of the localStorage build, which `import` moves in (the entry app's question).
#[cfg(feature = "entry")]
pub(super) fn holds_data() -> bool {
    !keys().is_empty()
}

fn text(key: &str) -> Option<String> {
    LocalStorage::raw().get_item(&format!("{PREFIX}{key}")).ok().flatten()
}

fn parsed<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    serde_json::from_slice(text(key)?.as_bytes()).ok()
}

/// Whether localStorage holds data stamped by a build newer than the localStorage build: this build must not
/// touch it.
pub fn newer() -> bool {
    parsed::<u32>("schema").is_some_and(|schema| schema > LOCAL_SCHEMA)
}

/// Moves the localStorage data in, once.
pub async fn import() -> Result<(), StoreError> {
    let keys = keys();
    if keys.is_empty() {
        return Ok(());
    }
    write(&ALL, Durability::Strict, async |tx| {
        let empty = tx.get(KV, &kv(META)).await?.is_none() && tx.get(KV, &kv(SESSION)).await?.is_none();
        if empty {
            move_in(tx, &keys).await
        } else {
            move_late(tx, &keys).await
        }
    })
    .await?;
    for key in keys {
        LocalStorage::delete(format!("{PREFIX}{key}"));
    }
    Ok(())
}

/// The ids of the check-ins in the outbox entries that do not read back (their pending copies are not synced
/// check-ins: they wait, damaged).
fn damaged_check_ins(texts: &[String]) -> Vec<Id> {
    texts
        .iter()
        .filter_map(|text| serde_json::from_slice::<serde_json::Value>(text.as_bytes()).ok())
        .filter_map(|entry| Id::parse(entry["op"]["args"]["id"].as_str()?).ok())
        .collect()
}

async fn move_in(tx: &Tx, keys: &[String]) -> Result<(), StoreError> {
    let with = |prefix: &str| -> Vec<&str> { keys.iter().filter_map(|k| k.strip_prefix(prefix)).collect() };
    let mut meta: SyncMeta = parsed("meta").unwrap_or_default();
    for name in [SESSION, CARD] {
        if let Some(value) = text(name) {
            tx.put(KV, &kv(name), &JsValue::from_str(&value))?;
        }
    }
    if let Some(client_id) = parsed::<Id>("client_id") {
        tx.put(KV, &kv(CLIENT), &to_json(&client_id))?;
    }
    // Records first: the outbox's check-ins take their texts from the activities.
    let mut synced = Vec::new();
    for key in with("rec:") {
        let Some(record) = parsed::<Record>(&format!("rec:{key}")) else {
            // Kept, unread, where the cache counts it as damaged.
            if let Some(value) = text(&format!("rec:{key}")) {
                tx.put(RECORDS, &kv(key), &JsValue::from_str(&value))?;
            }
            continue;
        };
        let change = guihai_core::sync::Change::Upsert { record };
        if let guihai_core::sync::Change::Upsert {
            record: Record::CheckIn(check_in),
        } = &change
        {
            synced.push(check_in.id);
        }
        super::records::apply_changes(tx, std::slice::from_ref(&change), 0).await?;
    }
    // Numbered writes first, in number order, then the rest in the order they were made: rows follow both.
    let (mut entries, damaged) = outbox_entries(tx, &mut meta, None, keys)?;
    entries.sort_by_key(|e| (e.seq.is_none(), e.seq, e.occurred_at, e.id));
    let mut queued_check_ins = damaged_check_ins(&damaged);
    for entry in entries {
        let row = rows::enqueue_counted(&mut meta, None);
        if entry.seq.is_some() {
            meta.numbered_row = row;
        }
        if let Op::CheckIn { id, .. } = entry.op {
            queued_check_ins.push(id);
        }
        queue(tx, row, entry).await?;
    }
    // A check-in the server took whose record had not come back yet: the member's check-in already. (One it
    // refused is shown from its refusal, moved in below.)
    let refused: Vec<(u64, String)> = with("refused:")
        .iter()
        .filter_map(|key| Some((key.parse().ok()?, text(&format!("refused:{key}"))?)))
        .collect();
    let was_refused = |id: Id| {
        refused.iter().any(|(_, text)| {
            serde_json::from_slice::<super::outbox::Refused>(text.as_bytes())
                .is_ok_and(|r| matches!(r.mutation.op, Op::CheckIn { id: refused, .. } if refused == id))
        })
    };
    for key in with("pending:") {
        let Some(pending) = parsed::<PendingCheckIn>(&format!("pending:{key}")) else {
            continue;
        };
        if synced.contains(&pending.id) || queued_check_ins.contains(&pending.id) || was_refused(pending.id) {
            continue;
        }
        let activity = *pending.activity_id.as_bytes();
        let mut facts = activities::get(tx, &activity).await?.unwrap_or(Facts {
            org_id: [0; 16],
            title: pending.title.clone(),
            org_name: pending.org_name.clone(),
            kind: None,
            listed: None,
            mine: None,
            details: None,
            terms: None,
        });
        facts.mine = Some(Mine {
            id: *pending.id.as_bytes(),
            at: pending.scanned_at,
            row: 0,
        });
        activities::put(tx, &activity, &facts).await?;
        let check_in = SyncedCheckIn {
            activity,
            scanned_at: pending.scanned_at,
            received_at: None,
            flag: 0,
        };
        tx.put(CHECKINS, &id_key(pending.id.as_bytes()), &to_binary(&check_in))?;
    }
    for key in with(PENDING_REPORT) {
        if let Some(report) = parsed::<PendingReport>(&format!("{PENDING_REPORT}{key}")) {
            super::records::pending_report(tx, &report)?;
        }
    }
    // Refusals are kept by row: each takes one, as a write would have.
    for (_, value) in &refused {
        let row = rows::take_row(&mut meta, None);
        tx.put(REFUSED, &number_key(row), &JsValue::from_str(value))?;
    }
    outbox::put_meta(tx, &meta)
}

/// The outbox entries of the localStorage build that read back; the others go to `damaged`, each with a row of
/// its own after `last_row` (the outbox's), as they were (returned too, to recognise their pending copies).
fn outbox_entries(
    tx: &Tx,
    meta: &mut SyncMeta,
    last_row: Option<u64>,
    keys: &[String],
) -> Result<(Vec<Entry>, Vec<String>), StoreError> {
    let mut entries = Vec::new();
    let mut damaged = Vec::new();
    for key in keys.iter().filter(|k| k.starts_with("outbox:")) {
        match parsed::<Entry>(key) {
            Some(entry) => entries.push(entry),
            None => {
                let stored = text(key).unwrap_or_default();
                let row = rows::take_row(meta, last_row);
                tx.put(DAMAGED, &number_key(row), &JsValue::from_str(&stored))?;
                damaged.push(stored);
            }
        }
    }
    Ok((entries, damaged))
}

/// The member's data is in IndexedDB already: moves in only the writes it does not hold (an old build's tab made
/// them after the move, or the move committed and its tab closed before removing the keys), as new writes,
/// with no number (the numbers the old build may have given them are its own), and the reports they showed.
async fn move_late(tx: &Tx, keys: &[String]) -> Result<(), StoreError> {
    let mut meta = outbox::meta(tx).await?;
    let last_row = outbox::last_row(tx).await?;
    let (mut entries, _) = outbox_entries(tx, &mut meta, last_row, keys)?;
    entries.sort_by_key(|e| (e.occurred_at, e.id));
    let others: Vec<Op> = outbox::others(tx)
        .await?
        .into_iter()
        .map(|other| other.queued.op)
        .collect();
    for entry in entries {
        let held = match &entry.op {
            Op::CheckIn { id, code } => match qr::read_unverified(code).map(|code| code.subject) {
                Some(Subject::Activity { activity_id, .. }) => activities::get(tx, activity_id.as_bytes())
                    .await?
                    .and_then(|facts| facts.mine)
                    .is_some_and(|mine| mine.id == *id.as_bytes()),
                _ => false,
            },
            Op::Report { id, .. } => {
                let pending = tx.get(RECORDS, &kv(&format!("{PENDING_REPORT}{id}"))).await?;
                pending.is_some() || tx.get(RECORDS, &kv(&format!("report:{id}"))).await?.is_some()
            }
            op => others.contains(op),
        };
        if !held {
            let row = rows::enqueue_counted(&mut meta, last_row);
            queue(tx, row, Entry { seq: None, ..entry }).await?;
        }
    }
    for key in keys.iter().filter(|k| k.starts_with(PENDING_REPORT)) {
        if let Some(report) = parsed::<PendingReport>(key) {
            super::records::pending_report(tx, &report)?;
        }
    }
    outbox::put_meta(tx, &meta)
}

/// Stores one outbox entry of the localStorage build under `row`: a check-in whose code reads back as the
/// compact form, anything else (a damaged code among them, which the server will refuse and say why) as it was.
async fn queue(tx: &Tx, row: u64, entry: Entry) -> Result<(), StoreError> {
    let compact =
        match &entry.op {
            Op::CheckIn { id, code } => match (qr::read_unverified(code), qr::signature_of(code)) {
                (Some(scanned), Some(signature)) => match scanned.subject {
                    Subject::Activity { activity_id, org_id } => {
                        let activity = *activity_id.as_bytes();
                        let known = activities::get(tx, &activity).await?;
                        let queued = QueuedCheckIn::new(*id, entry.occurred_at, &scanned, signature, known.as_ref())
                            .map(|queued| QueuedCheckIn {
                                seq: entry.seq,
                                ..queued
                            });
                        let mut facts = known.unwrap_or_else(|| Facts::from_code(&scanned, org_id));
                        facts.mine = Some(Mine {
                            id: *id.as_bytes(),
                            at: entry.occurred_at,
                            row,
                        });
                        activities::put(tx, &activity, &facts).await?;
                        queued
                    }
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
    let queued = match compact {
        Some(check_in) => Queued::CheckIn(check_in),
        None => Queued::Op(QueuedOp {
            seq: entry.seq,
            occurred_at: entry.occurred_at,
            op: entry.op,
        }),
    };
    outbox::put_row(tx, row, &queued)
}

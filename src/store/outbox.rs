//! The outbox in IndexedDB: local writes waiting for the server, one entry each under its row (core's
//! `outbox::enqueue`: after the last row stored, read in the write's own transaction, so tabs writing at once
//! never share one; the write stores its row and nothing else of the outbox's). The tab holding the sync lock
//! numbers new rows as it puts a push together (`head`, core's `outbox::number`), as many as that push takes,
//! without rewriting them: the bookkeeping's runs give each row its number (core's `outbox::seq_of`). A row
//! that no longer reads back is moved to `damaged` instead, kept as it was and never numbered. Numbered rows
//! come first, in `seq` order; a push answer or a pull settles them from the front (`settle`, core's
//! `outbox::fate`). A settled check-in's row stays in front of them (`SyncMeta::synced_row`), written nowhere
//! else, until a whole pull has brought the server's record of it back (`forget_synced`).
//!
//! A waiting check-in is binary and small (`QueuedCheckIn`): its code is kept as its signature and validity,
//! and its texts and organisation come from the activity's facts, which hold them once per activity; it
//! keeps them itself only when they differ. Any other write is `{k: kind, v: JSON}`, listed by the `kind`
//! index, and few: the cache holds them.

use std::collections::BTreeMap;

use futures_util::future::try_join;
use guihai_core::engine::{Reply, Round, Settled, SyncMeta};
use guihai_core::outbox::{self as rows, Fate, Found};
use guihai_core::qr::{Code, CodeSignature, DoorSigner, Subject};
use guihai_core::sync::{sends_compact, Mutation, Op, PushResponse, Rejection};
use guihai_core::Id;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use super::activities::{self, Batch, Facts, Mine};
use super::codec::{byte_string, bytes_of, from_json, raw, to_json, with_tail};
use super::idb::{above, between, key_number, number_key, up_to, Tx};
use super::records::{kv, PendingReport, META};
use super::{
    cache, checkins, read, write, Durability, StoreError, ACTIVITIES, CHECKINS, DAMAGED, KIND, KV, OUTBOX, RECORDS,
    REFUSED,
};

const KIND_FIELD: &str = "k";
const VALUE_FIELD: &str = "v";

/// A check-in waiting for the server, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedCheckIn {
    /// Its number, as an earlier build kept it in the row (this one keeps numbers in the bookkeeping).
    pub seq: Option<u64>,
    pub id: [u8; 16],
    pub activity: [u8; 16],
    pub scanned_at: i64,
    pub key_id: u16,
    pub valid_from: u32,
    pub valid_until: u32,
    /// The code's Ed25519 signature (64 bytes).
    pub signature: Vec<u8>,
    /// The code's organisation and texts, when the activity's facts do not give them back exactly.
    pub texts: Option<Texts>,
    /// A rotating door code's signer; stored after the fields above (`Queued::encode`), so that the check-ins
    /// kept by builds before door codes read back as they are.
    #[serde(skip)]
    pub door: Option<DoorSigner>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Texts {
    pub org_id: [u8; 16],
    pub name: String,
    pub detail: String,
}

impl QueuedCheckIn {
    /// The check-in of a verified activity code, kept as small as the activity's `facts` allow.
    pub fn new(id: Id, scanned_at: i64, code: &Code, signature: [u8; 64], facts: Option<&Facts>) -> Option<Self> {
        let Subject::Activity { activity_id, org_id } = code.subject else {
            return None;
        };
        let texts = (!facts.is_some_and(|f| f.reproduces(code, org_id))).then(|| Texts {
            org_id: *org_id.as_bytes(),
            name: code.name.clone(),
            detail: code.detail.clone(),
        });
        Some(QueuedCheckIn {
            seq: None,
            id: *id.as_bytes(),
            activity: *activity_id.as_bytes(),
            scanned_at,
            key_id: code.key_id,
            valid_from: code.valid_from,
            valid_until: code.valid_until,
            signature: signature.to_vec(),
            texts,
            door: code.door.clone(),
        })
    }

    /// Its stored bytes: `Compact` when it can say the check-in exactly, else the fields as earlier builds wrote
    /// them; then the door code's signer, if any.
    fn encode(&self) -> Vec<u8> {
        let mut bytes = match Compact::of(self) {
            Some(compact) => {
                let mut bytes = vec![Compact::TAG];
                bytes.extend(postcard::to_allocvec(&compact).expect("stored values serialise"));
                bytes
            }
            None => postcard::to_allocvec(self).expect("stored values serialise"),
        };
        if let Some(door) = &self.door {
            bytes.extend(postcard::to_allocvec(door).expect("stored values serialise"));
        }
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<QueuedCheckIn> {
        let (check_in, door) = match bytes.split_first() {
            Some((&Compact::TAG, rest)) => {
                let (compact, door) = with_tail::<Compact, DoorSigner>(rest)?;
                (compact.check_in()?, door)
            }
            _ => with_tail::<QueuedCheckIn, DoorSigner>(bytes)?,
        };
        Some(QueuedCheckIn { door, ..check_in })
    }

    /// The code exactly as it was scanned.
    fn code(&self, facts: Option<&Facts>) -> Option<Code> {
        let (org_id, name, detail) = match (&self.texts, facts) {
            (Some(t), _) => (t.org_id, t.name.clone(), t.detail.clone()),
            (None, Some(f)) => (f.org_id, f.title.clone(), f.org_name.clone()),
            (None, None) => return None,
        };
        let mut code = Code {
            subject: Subject::Activity {
                activity_id: Id::from_bytes(self.activity),
                org_id: Id::from_bytes(org_id),
            },
            key_id: self.key_id,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            name: String::new(),
            detail: String::new(),
            door: self.door.clone(),
        };
        code.name = code.carried(&name).to_owned();
        code.detail = code.carried(&detail).to_owned();
        Some(code)
    }

    /// The write as the server takes it: with `compact`, a code the server issued named by its signature alone
    /// (`Op::CheckInIssued`), else the code whole, built again from `facts`.
    pub fn op(&self, facts: Option<&Facts>, compact: bool) -> Option<Op> {
        let signature: [u8; 64] = self.signature.as_slice().try_into().ok()?;
        let id = Id::from_bytes(self.id);
        if compact && self.door.is_none() {
            return Some(Op::CheckInIssued {
                id,
                signature: CodeSignature(signature),
            });
        }
        Some(Op::CheckIn {
            id,
            code: self.code(facts)?.with_signature(&signature),
        })
    }

    /// Whether its write needs its activity's facts: its code goes whole (a door code is never issued by the
    /// server, so it always does).
    fn needs_facts(&self, compact: bool) -> bool {
        !compact || self.door.is_some()
    }
}

/// A waiting check-in as this build stores it, after the byte `TAG` (an earlier build's row starts with its
/// `seq`, 0 or 1): its scan time is its id's (`clock::stamped_id`), the code's end a length of time after its
/// start, its signature 64 bytes with no length before them. About 10 bytes fewer.
#[derive(Debug, Serialize, Deserialize)]
struct Compact {
    id: [u8; 16],
    activity: [u8; 16],
    key_id: u16,
    valid_from: u32,
    valid_for: u32,
    signature: ([u8; 32], [u8; 32]),
    texts: Option<Texts>,
}

impl Compact {
    const TAG: u8 = 2;

    /// `check_in` in this form, when it says it exactly.
    fn of(check_in: &QueuedCheckIn) -> Option<Compact> {
        let stamped = Id::from_bytes(check_in.id).unix_ms();
        if check_in.seq.is_some() || stamped != u64::try_from(check_in.scanned_at).ok() {
            return None;
        }
        let (first, second) = check_in.signature.split_at_checked(32)?;
        Some(Compact {
            id: check_in.id,
            activity: check_in.activity,
            key_id: check_in.key_id,
            valid_from: check_in.valid_from,
            valid_for: check_in.valid_until.checked_sub(check_in.valid_from)?,
            signature: (first.try_into().ok()?, second.try_into().ok()?),
            texts: check_in.texts.clone(),
        })
    }

    fn check_in(self) -> Option<QueuedCheckIn> {
        Some(QueuedCheckIn {
            seq: None,
            id: self.id,
            activity: self.activity,
            scanned_at: i64::try_from(Id::from_bytes(self.id).unix_ms()?).ok()?,
            key_id: self.key_id,
            valid_from: self.valid_from,
            valid_until: self.valid_from.checked_add(self.valid_for)?,
            signature: [self.signature.0, self.signature.1].concat(),
            texts: self.texts,
            door: None,
        })
    }
}

/// Any other write waiting for the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedOp {
    /// As in `QueuedCheckIn::seq`.
    pub seq: Option<u64>,
    pub occurred_at: i64,
    pub op: Op,
}

/// A waiting write that is not a check-in, with its row: what the cache holds of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Other {
    pub row: u64,
    pub queued: QueuedOp,
}

/// A write the server will never accept, kept with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub mutation: Mutation,
    pub reason: Rejection,
}

/// One outbox entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    CheckIn(QueuedCheckIn),
    Op(QueuedOp),
}

impl Queued {
    /// Its number, under `row`, once numbered.
    pub fn seq(&self, meta: &SyncMeta, row: u64) -> Option<u64> {
        let kept = match self {
            Queued::CheckIn(c) => c.seq,
            Queued::Op(o) => o.seq,
        };
        kept.or_else(|| rows::seq_of(meta, row))
    }

    pub fn occurred_at(&self) -> i64 {
        match self {
            Queued::CheckIn(c) => c.scanned_at,
            Queued::Op(o) => o.occurred_at,
        }
    }

    pub(super) fn decode(value: &JsValue) -> Option<Queued> {
        // A check-in is binary (a string of bytes, or a `Uint8Array` from earlier builds); any other write an
        // object.
        if !value.is_object() || value.is_instance_of::<js_sys::Uint8Array>() {
            return QueuedCheckIn::decode(&bytes_of(value)?).map(Queued::CheckIn);
        }
        let inner = js_sys::Reflect::get(value, &JsValue::from_str(VALUE_FIELD)).ok()?;
        from_json(&inner).map(Queued::Op)
    }

    fn encode(&self) -> JsValue {
        match self {
            Queued::CheckIn(c) => byte_string(&c.encode()),
            Queued::Op(o) => {
                let object = js_sys::Object::new();
                let kind = serde_json::to_value(&o.op)
                    .ok()
                    .and_then(|op| op["kind"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                // Setting a property on a fresh object cannot fail.
                let _ = js_sys::Reflect::set(&object, &JsValue::from_str(KIND_FIELD), &JsValue::from_str(&kind));
                let _ = js_sys::Reflect::set(&object, &JsValue::from_str(VALUE_FIELD), &to_json(o));
                object.into()
            }
        }
    }

    /// The write as the server takes it (`QueuedCheckIn::op`); a check-in's code from its activity in `batch`.
    fn op(&self, batch: &Batch, compact: bool) -> Option<Op> {
        match self {
            Queued::Op(o) => Some(o.op.clone()),
            Queued::CheckIn(c) => c.op(batch.get(&c.activity), compact),
        }
    }

    /// The mutation the server takes, numbered `seq`.
    fn mutation(&self, seq: u64, batch: &Batch, compact: bool) -> Result<Mutation, StoreError> {
        Ok(Mutation {
            seq,
            occurred_at: self.occurred_at(),
            op: self.op(batch, compact).ok_or(StoreError::Failed)?,
        })
    }

    fn activity(&self) -> Option<[u8; 16]> {
        match self {
            Queued::CheckIn(c) => Some(c.activity),
            Queued::Op(_) => None,
        }
    }

    /// The activity whose facts its write needs (`QueuedCheckIn::needs_facts`), if any.
    fn facts_needed(&self, compact: bool) -> Option<[u8; 16]> {
        match self {
            Queued::CheckIn(c) => c.needs_facts(compact).then_some(c.activity),
            Queued::Op(_) => None,
        }
    }
}

/// The activities `queued`'s check-ins need to be sent (all of them when not `compact`).
async fn activities_of<'a>(
    tx: &Tx,
    queued: impl IntoIterator<Item = &'a Queued>,
    compact: bool,
) -> Result<Batch, StoreError> {
    Batch::load(tx, queued.into_iter().filter_map(|queued| queued.facts_needed(compact))).await
}

/// A numbered row: its row, number and write.
struct Numbered {
    row: u64,
    seq: u64,
    queued: Queued,
}

/// The numbered rows at the front of the outbox, after the synced ones kept (`SyncMeta::synced_row`): rows up
/// to `SyncMeta::numbered_row` are numbered, in `seq` order. At most `limit`. A numbered row that no longer reads
/// back (damaged after it was numbered) is not among them but among the second value's, as stored: it must be
/// set aside (`set_aside`), or it would hold back every write after it.
async fn numbered(tx: &Tx, meta: &SyncMeta, limit: u32) -> Result<(Vec<Numbered>, Stored), StoreError> {
    if meta.numbered_row <= meta.synced_row {
        return Ok(Default::default());
    }
    let rows = tx
        .get_all(
            OUTBOX,
            Some(&between(meta.synced_row + 1, meta.numbered_row)?),
            Some(limit),
        )
        .await?;
    let mut numbered = Vec::with_capacity(rows.len());
    let mut damaged = Vec::new();
    for (key, value) in rows {
        let row = key_number(&key).ok_or(StoreError::Failed)?;
        let Some(queued) = Queued::decode(&value) else {
            damaged.push((key, value));
            continue;
        };
        let Some(seq) = queued.seq(meta, row) else { break };
        numbered.push(Numbered { row, seq, queued });
    }
    Ok((numbered, damaged))
}

/// Rows as stored: each key and value.
type Stored = Vec<(JsValue, JsValue)>;

/// Moves numbered rows that no longer read back to `damaged`, as they were, where they are shown and exported;
/// they no longer count as waiting. Each one's number goes as a skip (core's `engine::Round::next` fills the
/// gap), so that the writes after it are not held back: the server never had it, or had it already and answers
/// the skip as a duplicate.
fn set_aside(tx: &Tx, meta: &mut SyncMeta, damaged: Stored) -> Result<(), StoreError> {
    for (key, value) in damaged {
        move_to_damaged(tx, &key, &value)?;
        rows::leave(meta);
    }
    put_meta(tx, meta)
}

/// Moves the outbox row `key` to `damaged`, with `value` as it was stored.
fn move_to_damaged(tx: &Tx, key: &JsValue, value: &JsValue) -> Result<(), StoreError> {
    tx.put(DAMAGED, key, value)?;
    tx.delete(OUTBOX, key)
}

/// The sync bookkeeping (new when there is none). One that does not read back is an error, never a fresh start:
/// rows and numbers starting over would overwrite waiting writes and give numbers twice.
pub(super) async fn meta(tx: &Tx) -> Result<SyncMeta, StoreError> {
    match tx.get(KV, &kv(META)).await? {
        None => Ok(SyncMeta::default()),
        Some(value) => from_json(&value).ok_or(StoreError::Failed),
    }
}

pub(super) fn put_meta(tx: &Tx, meta: &SyncMeta) -> Result<(), StoreError> {
    tx.put(KV, &kv(META), &to_json(meta))
}

/// The last row stored, if any.
pub(super) async fn last_row(tx: &Tx) -> Result<Option<u64>, StoreError> {
    Ok(tx.last_key(OUTBOX).await?.as_ref().and_then(key_number))
}

/// Stores a new write in the transaction `tx`, with the next row (core's `outbox::enqueue`); returns the row.
/// The bookkeeping is read, not written. The caller stores the records that show it in the same transaction.
pub(super) async fn enqueue(tx: &Tx, queued: Queued) -> Result<u64, StoreError> {
    let (meta, last) = try_join(meta(tx), last_row(tx)).await?;
    enqueue_after(tx, &meta, last, queued)
}

/// `enqueue`, with the bookkeeping and the last row already read in `tx`.
pub(super) fn enqueue_after(
    tx: &Tx,
    meta: &SyncMeta,
    last_row: Option<u64>,
    queued: Queued,
) -> Result<u64, StoreError> {
    let row = rows::enqueue(meta, last_row);
    put_row(tx, row, &queued)?;
    Ok(row)
}

/// Stores an entry under its row (as the localStorage data is moved in).
pub(super) fn put_row(tx: &Tx, row: u64, queued: &Queued) -> Result<(), StoreError> {
    tx.put(OUTBOX, &number_key(row), &queued.encode())
}

/// Queues a write that is not a check-in, with the report copy the home screen shows, if it is a report.
pub async fn enqueue_op(op: Op, occurred_at: i64, report: Option<PendingReport>) -> Result<(), StoreError> {
    let queued = Queued::Op(QueuedOp {
        seq: None,
        occurred_at,
        op,
    });
    write(&[KV, OUTBOX, RECORDS], Durability::Strict, async |tx| {
        enqueue(tx, queued).await?;
        match &report {
            Some(report) => super::records::pending_report(tx, report),
            None => Ok(()),
        }
    })
    .await?;
    cache::refresh().await;
    Ok(())
}

/// The waiting writes that are not check-ins, from the `kind` index (check-ins are not in it).
pub(super) async fn others(tx: &Tx) -> Result<Vec<Other>, StoreError> {
    let mut others = Vec::new();
    for (key, value) in tx.indexed(OUTBOX, KIND).await? {
        if let (Some(row), Some(Queued::Op(queued))) = (key_number(&key), Queued::decode(&value)) {
            others.push(Other { row, queued });
        }
    }
    others.sort_by_key(|other| other.row);
    Ok(others)
}

/// The rows stored after a push's head and their activities, read while that push is out (`read_ahead`), so
/// that the next head need not read them (`head`).
pub struct ReadAhead {
    /// The last row the push's head numbered: these rows follow it.
    after_row: u64,
    rows: Vec<(u64, Queued)>,
    batch: Batch,
    /// Whether `batch` holds only what a compact push needs (`activities_of`); a head that sends its codes
    /// whole reads the rest.
    compact: bool,
}

impl ReadAhead {
    /// The mutations the next head makes of these rows when nothing changed meanwhile: all of them, numbered
    /// after `front` (core's `outbox::number`, as `head` numbers them). The next push can then be encoded while
    /// `front`'s is out; the caller sends it only if the head turns out the same. `None` when the head would
    /// read more than was read ahead (codes sent whole after a compact read).
    pub fn next_push(&self, front: &Front, in_full: bool) -> Option<Vec<Mutation>> {
        let compact = sends_compact(self.rows.len(), in_full);
        if !compact && self.compact {
            return None;
        }
        let mut meta = front.meta.clone();
        let numbered = rows::number(&mut meta, self.rows.iter().map(|(row, _)| Found::Readable(*row)));
        numbered
            .into_iter()
            .zip(&self.rows)
            .map(|((_, seq), (_, queued))| queued.mutation(seq, &self.batch, compact).ok())
            .collect()
    }
}

/// Reads up to `limit` rows stored after the head `front`, and their activities, in one read-only transaction,
/// while `front`'s push is out. `None` when there is nothing to read or a row does not read back (the head will
/// set it aside as damaged). Its rows can be used only as long as nobody has numbered rows since (`head`
/// checks): other tabs only add rows after them, and the only other change to a row not yet numbered (a copy of
/// its code's texts when its activity changes) leaves what it sends as it was; the rows and the activities are
/// of one moment, so each code is built again as it was scanned.
/// `in_full`: the server asked for codes whole this round (`engine::Round::in_full`).
pub async fn read_ahead(front: &Front, limit: usize, in_full: bool) -> Option<ReadAhead> {
    let after_row = front.meta.numbered_row;
    let read_ahead = read(&[OUTBOX, ACTIVITIES, RECORDS], async |tx| {
        let stored = tx.get_all(OUTBOX, Some(&above(after_row)?), Some(limit as u32)).await?;
        let rows = stored
            .iter()
            .map(|(key, value)| Some((key_number(key)?, Queued::decode(value)?)))
            .collect::<Option<Vec<_>>>();
        Ok(match rows {
            Some(rows) if !rows.is_empty() => {
                let compact = sends_compact(rows.len(), in_full);
                Some(ReadAhead {
                    batch: activities_of(tx, rows.iter().map(|(_, queued)| queued), compact).await?,
                    after_row,
                    rows,
                    compact,
                })
            }
            _ => None,
        })
    });
    read_ahead.await.ok().flatten()
}

/// The numbered writes the server has not settled, in `seq` order, at most `limit` (what the engine needs for
/// its next step, with the bookkeeping), numbering as many rows stored since the last numbering as that takes
/// (core's `outbox::number`); one that does not read back is moved to `damaged`, as it was. The new rows come
/// from `ahead` when it read them after the last push's head and that push settled it all. A big head names
/// the server's codes by their signature unless it asked for them whole this round (`in_full`; core's
/// `sync::sends_compact`). Call only while holding the sync lock.
pub async fn head(
    limit: usize,
    ahead: Option<ReadAhead>,
    in_full: bool,
) -> Result<(SyncMeta, Vec<Mutation>, Front), StoreError> {
    // Whether rows wait to be numbered, as far as this tab knows; another tab's write reaches the cache a
    // moment later, and is numbered at the next step. Reading alone needs no write transaction.
    let new = cache::with(|c| c.last_row.unwrap_or(0) > c.meta.numbered_row);
    let read_only = if new {
        None
    } else {
        read(&[KV, OUTBOX, ACTIVITIES, RECORDS], async |tx| {
            read_head(tx, limit, false, None, in_full).await
        })
        .await?
    };
    // Numbering, or setting aside a numbered row that no longer reads back (which reading alone cannot).
    let (meta, mutations, front, damaged) = match read_only {
        Some(head) => head,
        None => write(
            &[KV, OUTBOX, ACTIVITIES, RECORDS, DAMAGED],
            Durability::Strict,
            async |tx| read_head(tx, limit, true, ahead, in_full).await,
        )
        .await?
        .ok_or(StoreError::Failed)?,
    };
    if damaged {
        cache::reload().await?;
    } else {
        cache::update(|c| c.meta = meta.clone());
    }
    Ok((meta, mutations, front))
}

/// The rows a head was read from, so that settling its push need not read them again (core's
/// `outbox::settle_front`): the bookkeeping as the head left it, and each mutation's number, row and kind.
#[derive(Debug, Clone, Default)]
pub struct Front {
    meta: SyncMeta,
    /// `None` when the head is not the whole front (it left out a row numbered and already settled).
    rows: Option<Vec<rows::Read>>,
}

/// What `read_head` gives: the bookkeeping, the mutations, their front, and whether a row was set aside as
/// damaged.
type ReadHead = (SyncMeta, Vec<Mutation>, Front, bool);

/// `head` in `tx`, numbering new rows and setting aside numbered ones that no longer read back if `number` (a
/// write transaction), from `ahead` when it still follows the last numbered row. `None` when it must number or
/// set aside and may not.
async fn read_head(
    tx: &Tx,
    limit: usize,
    number: bool,
    ahead: Option<ReadAhead>,
    in_full: bool,
) -> Result<Option<ReadHead>, StoreError> {
    let mut meta = meta(tx).await?;
    let (read, set_aside_now) = numbered(tx, &meta, limit as u32).await?;
    let mut damaged = !set_aside_now.is_empty();
    if damaged {
        if !number {
            return Ok(None);
        }
        set_aside(tx, &mut meta, set_aside_now)?;
    }
    let whole = read.iter().all(|numbered| numbered.seq > meta.acked_seq);
    let mut head: Vec<Numbered> = read
        .into_iter()
        .filter(|numbered| numbered.seq > meta.acked_seq)
        .collect();
    let mut batch = None;
    if number && head.len() < limit {
        let ahead = ahead.filter(|ahead| head.is_empty() && ahead.after_row == meta.numbered_row);
        let (found, mut readable) = match ahead {
            Some(ahead) => {
                batch = Some((ahead.batch, ahead.compact));
                let rows: BTreeMap<u64, Queued> = ahead.rows.into_iter().take(limit).collect();
                (rows.keys().map(|row| Found::Readable(*row)).collect(), rows)
            }
            None => {
                let (found, readable, set_aside) = new_rows(tx, &meta, limit - head.len()).await?;
                damaged |= set_aside;
                (found, readable)
            }
        };
        if !found.is_empty() {
            for (row, seq) in rows::number(&mut meta, found) {
                let queued = readable.remove(&row).ok_or(StoreError::Failed)?;
                head.push(Numbered { row, seq, queued });
            }
            put_meta(tx, &meta)?;
        }
    }
    let compact = sends_compact(head.len(), in_full);
    // What was read ahead for a compact push lacks the facts of codes sent whole; anything else has them all.
    let batch = match batch {
        Some((batch, ahead_compact)) if compact || !ahead_compact => batch,
        _ => activities_of(tx, head.iter().map(|numbered| &numbered.queued), compact).await?,
    };
    let mutations = head
        .iter()
        .map(|numbered| numbered.queued.mutation(numbered.seq, &batch, compact))
        .collect::<Result<_, _>>()?;
    let front = Front {
        meta: meta.clone(),
        rows: whole.then(|| {
            head.iter()
                .map(|numbered| rows::Read {
                    seq: numbered.seq,
                    row: numbered.row,
                    check_in: matches!(numbered.queued, Queued::CheckIn(_)),
                })
                .collect()
        }),
    };
    Ok(Some((meta, mutations, front, damaged)))
}

/// Up to `limit` rows stored after the last numbered one, in row order: each found, and those that read back;
/// one that does not is moved to `damaged`, as it was (the third value says whether one was).
async fn new_rows(
    tx: &Tx,
    meta: &SyncMeta,
    limit: usize,
) -> Result<(Vec<Found>, BTreeMap<u64, Queued>, bool), StoreError> {
    let stored = tx
        .get_all(OUTBOX, Some(&above(meta.numbered_row)?), Some(limit as u32))
        .await?;
    let mut found = Vec::with_capacity(stored.len());
    let mut readable = BTreeMap::new();
    let mut damaged = false;
    for (key, value) in stored {
        let row = key_number(&key).ok_or(StoreError::Failed)?;
        match Queued::decode(&value) {
            Some(queued) => {
                readable.insert(row, queued);
                found.push(Found::Readable(row));
            }
            None => {
                move_to_damaged(tx, &key, &value)?;
                found.push(Found::Damaged(row));
                damaged = true;
            }
        }
    }
    Ok((found, readable, damaged))
}

/// Takes the answer to a push of `pushed` mutations from the head `front`: the engine decides on the stored
/// bookkeeping, and what it settled leaves the outbox, in the same transaction. A push of check-ins all taken
/// settles from `front` alone, while the bookkeeping is as the head left it (the sync lock keeps other tabs from
/// numbering or settling; their new rows come after it): a push of 2,000 read them again in 15–70 ms.
pub async fn after_push(
    round: &mut Round,
    reply: Reply<PushResponse>,
    jitter: f64,
    pushed: usize,
    front: &Front,
) -> Result<(), StoreError> {
    let (meta, touched) = write(&SETTLING, Durability::Strict, async |tx| {
        let mut meta = meta(tx).await?;
        let unchanged = meta == front.meta;
        let settled = round.on_push(&mut meta, reply, jitter);
        let known = match &front.rows {
            Some(rows) if unchanged => rows::settle_front(&mut meta, rows, &settled),
            _ => false,
        };
        let touched = !known && settle(tx, &mut meta, &settled, pushed).await?;
        put_meta(tx, &meta)?;
        Ok((meta, touched))
    })
    .await?;
    after_settling(meta, touched).await
}

/// Brings the cache up to date after settling: the bookkeeping alone, unless a refusal or a write the cache
/// holds was settled.
pub(super) async fn after_settling(meta: SyncMeta, touched: bool) -> Result<(), StoreError> {
    if touched {
        cache::reload().await
    } else {
        cache::update(|c| c.meta = meta);
        Ok(())
    }
}

/// The object stores settling writes to.
pub(super) const SETTLING: [&str; 7] = [KV, OUTBOX, CHECKINS, ACTIVITIES, REFUSED, RECORDS, DAMAGED];

/// Rows settled at a time, at most.
pub(super) const SETTLE_AT_ONCE: usize = 2_000;

/// Carries out `settled` on the numbered rows at the front of the outbox (core's `outbox::fate`), reading
/// `at_once` rows at a time (what the answer can have settled, at most): a check-in the server has stays where
/// it is, counted as synced (`SyncMeta::synced_row`), until the pull that brings the server's record of it back
/// (`forget_synced`), so that settling writes nothing for it; a refused write is kept with its reason; any
/// other leaves. Says whether the cache must be read again (a refusal, or a write it holds left the outbox).
pub(super) async fn settle(
    tx: &Tx,
    meta: &mut SyncMeta,
    settled: &Settled,
    at_once: usize,
) -> Result<bool, StoreError> {
    let at_once = at_once.clamp(1, SETTLE_AT_ONCE);
    let mut touched = false;
    loop {
        let (front, damaged) = numbered(tx, meta, at_once as u32).await?;
        if !damaged.is_empty() {
            set_aside(tx, meta, damaged)?;
            touched = true;
        }
        let read = front.len();
        let done: Vec<(Numbered, Fate)> = front
            .into_iter()
            .map(|numbered| {
                let fate = rows::fate(numbered.seq, settled);
                (numbered, fate)
            })
            .take_while(|(_, fate)| *fate != Fate::Waits)
            .collect();
        let Some((last, _)) = done.last() else {
            break;
        };
        meta.synced_row = last.row;
        // Only a refused check-in changes its activity (the member may scan again), and a secretary's activity
        // the server took: only those are read.
        let changing = done
            .iter()
            .filter_map(|(numbered, fate)| match (&numbered.queued, fate) {
                (Queued::CheckIn(c), Fate::Refused(_)) => Some(c.activity),
                (Queued::Op(o), Fate::Done) => activities::written_by(&o.op),
                _ => None,
            });
        let mut batch = Batch::load(tx, changing).await?;
        for (numbered, fate) in &done {
            if let Fate::Refused(reason) = *fate {
                // By row: a number starts over with a new client id, a row never does.
                let mutation = numbered.queued.mutation(numbered.seq, &batch, false)?;
                tx.put(
                    REFUSED,
                    &number_key(numbered.row),
                    &to_json(&Refused { mutation, reason }),
                )?;
                touched = true;
            }
            if !matches!((&numbered.queued, fate), (Queued::CheckIn(_), Fate::Done)) {
                tx.delete(OUTBOX, &number_key(numbered.row))?;
            }
            match &numbered.queued {
                Queued::CheckIn(check_in) => {
                    if let Fate::Refused(_) = fate {
                        checkins::refused(&mut batch, check_in);
                    }
                }
                Queued::Op(queued) => {
                    // The server has it as sent: the phone shows it so at once, not only after the pull.
                    if *fate == Fate::Done {
                        activities::settled(tx, &mut batch, &queued.op).await?;
                    }
                    touched = true;
                }
            }
            rows::leave(meta);
        }
        batch.store(tx).await?;
        if done.len() < read || read < at_once {
            break;
        }
    }
    rows::forget_settled(meta);
    Ok(touched)
}

/// Forgets the synced check-ins kept in the outbox up to `row` (`settle`), once a whole pull has brought the
/// server's records of them back: one range delete.
pub(super) fn forget_synced(tx: &Tx, row: u64) -> Result<(), StoreError> {
    match row {
        0 => Ok(()),
        row => tx.delete(OUTBOX, &up_to(row)?.into()),
    }
}

/// The synced check-ins still kept in the outbox (`settle`): each one's id, activity and row.
pub(super) async fn synced_kept(tx: &Tx, synced_row: u64) -> Result<Vec<([u8; 16], [u8; 16], u64)>, StoreError> {
    if synced_row == 0 {
        return Ok(Vec::new());
    }
    let rows = tx.get_all(OUTBOX, Some(&up_to(synced_row)?), None).await?;
    Ok(rows
        .iter()
        .filter_map(|(key, value)| match Queued::decode(value)? {
            Queued::CheckIn(c) => Some((c.id, c.activity, key_number(key)?)),
            Queued::Op(_) => None,
        })
        .collect())
}

/// A waiting check-in whose texts come from `before` (the facts about to change) takes its own copy of them.
pub(super) async fn keep_texts(tx: &Tx, before: &Facts) -> Result<(), StoreError> {
    let Some(Mine { row, .. }) = before.mine.filter(|mine| mine.row > 0) else {
        return Ok(());
    };
    let key = number_key(row);
    let Some(Some(Queued::CheckIn(mut check_in))) = tx.get(OUTBOX, &key).await?.map(|v| Queued::decode(&v)) else {
        return Ok(());
    };
    if check_in.texts.is_none() {
        check_in.texts = Some(Texts {
            org_id: before.org_id,
            name: before.title.clone(),
            detail: before.org_name.clone(),
        });
        tx.put(OUTBOX, &key, &Queued::CheckIn(check_in).encode())?;
    }
    Ok(())
}

/// A waiting write as the sync page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub occurred_at: i64,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq)]
pub enum What {
    CheckIn {
        title: String,
    },
    Op(Op),
    /// Stored, but it no longer reads back (as stored): it is set aside at the next sync, never sent.
    Unreadable(String),
}

/// The first `limit` waiting writes, oldest first.
pub async fn waiting(limit: usize) -> Result<Vec<Waiting>, StoreError> {
    // The rows kept as synced, as this tab knows them: a moment behind another tab's sync at most.
    let after = above(cache::with(|c| c.meta.synced_row))?;
    read(&[OUTBOX, ACTIVITIES, RECORDS], async |tx| {
        let mut stored = Vec::new();
        tx.walk(OUTBOX, Some(&after), false, |_, value| {
            stored.push(value);
            stored.len() < limit
        })
        .await?;
        let mut waiting = Vec::with_capacity(stored.len());
        for value in stored {
            let (occurred_at, what) = match Queued::decode(&value) {
                None => (0, What::Unreadable(raw(&value))),
                Some(Queued::Op(o)) => (o.occurred_at, What::Op(o.op)),
                Some(Queued::CheckIn(c)) => {
                    let title = match c.texts {
                        Some(texts) => texts.name,
                        None => activities::get(tx, &c.activity)
                            .await?
                            .map(|f| f.title)
                            .unwrap_or_default(),
                    };
                    (c.scanned_at, What::CheckIn { title })
                }
            };
            waiting.push(Waiting { occurred_at, what });
        }
        Ok(waiting)
    })
    .await
}

/// Everything not on the server, as one JSON document a member can keep or hand over: the waiting writes as
/// they would be sent (`seq` null when not numbered yet), the refused ones with their reasons, the reports not
/// yet answered, and the entries set aside as damaged, as they were stored.
pub async fn export() -> Result<serde_json::Value, StoreError> {
    read(&[KV, OUTBOX, ACTIVITIES, RECORDS, DAMAGED], async |tx| {
        let meta = meta(tx).await?;
        let stored = tx.get_all(OUTBOX, Some(&above(meta.synced_row)?), None).await?;
        let decoded: Vec<Option<Queued>> = stored.iter().map(|(_, value)| Queued::decode(value)).collect();
        let batch = activities_of(tx, decoded.iter().flatten(), false).await?;
        let waiting: Vec<serde_json::Value> = stored
            .iter()
            .zip(&decoded)
            .map(|((key, value), queued)| match queued {
                Some(queued) => serde_json::json!({
                    "seq": key_number(key).and_then(|row| queued.seq(&meta, row)),
                    "occurred_at": queued.occurred_at(),
                    "op": queued.op(&batch, false),
                    "title": queued.activity().and_then(|id| batch.get(&id)).map(|f| &f.title),
                }),
                None => serde_json::json!({ "unreadable": raw(value) }),
            })
            .collect();
        let damaged: Vec<serde_json::Value> = tx
            .get_all(DAMAGED, None, None)
            .await?
            .iter()
            .map(|(key, value)| serde_json::json!({ "row": key_number(key), "stored": raw(value) }))
            .collect();
        Ok(cache::with(|c| {
            serde_json::json!({
                "client_id": c.client_id,
                "waiting": waiting,
                "refused": c.refused,
                "reports_waiting": c.pending_reports,
                "damaged": damaged,
            })
        }))
    })
    .await
}

/// The entries set aside as damaged, as stored (for the sync page).
pub async fn damaged() -> Result<Vec<String>, StoreError> {
    read(&[DAMAGED], async |tx| {
        Ok(tx
            .get_all(DAMAGED, None, None)
            .await?
            .iter()
            .map(|(_, value)| raw(value))
            .collect())
    })
    .await
}

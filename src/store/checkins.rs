//! The member's check-ins. One made here is one transaction: its outbox row and the activity's "checked in"
//! mark, with the waiting count; "have I checked in" is one read of the activity's facts. Once the server has
//! it, its outbox row stays, counted as synced, until the pull brings the server's record back; that lives in
//! `checkins` under its id (small: its activity, times and flag; the titles stay with the activity), and a
//! check-in the server sends (from another phone) lands there too.

use futures_util::future::try_join3;
use guihai_core::certificate::Attended;
use guihai_core::checkin::{CheckIn, CheckInFlag, CheckInRow, RowState};
use guihai_core::qr::{self, Code, CodeError, Subject};
use guihai_core::sync::Op;
use guihai_core::Id;
use serde::{Deserialize, Serialize};

use std::collections::{BTreeSet, HashMap};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use crate::clock::after_paint;

use super::activities::{self, Batch, Facts, Mine};
use super::codec::{from_binary, from_binary_with_tail, to_binary_with_tail};
use super::idb::{id_key, key_id, key_number, number_key, Tx};
use super::outbox::{self, Queued, QueuedCheckIn};
use super::{cache, read, write, Durability, StoreError, ACTIVITIES, CHECKINS, KV, OUTBOX, RECORDS};

/// A check-in the server has, as the phone keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedCheckIn {
    pub activity: [u8; 16],
    pub scanned_at: i64,
    /// Server time of receipt, once the server's record came back.
    pub received_at: Option<i64>,
    /// 0 none, 1 outside the window, 2 clock skew, 3 a stale door code.
    pub flag: u8,
}

fn flag_code(flag: Option<CheckInFlag>) -> u8 {
    match flag {
        None => 0,
        Some(CheckInFlag::OutsideWindow) => 1,
        Some(CheckInFlag::ClockSkew) => 2,
        Some(CheckInFlag::StaleCode) => 3,
    }
}

/// What the confirmation screen shows of a check-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub title: String,
    pub org_name: String,
    pub scanned_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// Stored, and on disk: the screen may say so. (For a rehearsal, what it read back before it was undone.)
    New(Shown),
    /// The member has checked in to this activity before (here, or on another phone).
    Already(Shown),
    /// The code did not pass its checks: nothing was stored.
    Refused(CodeError),
}

/// Checks in with the activity code `payload` (claiming `activity_id` of `org_id`) once `verify` passes it,
/// unless the member has already: one transaction. What the check-in reads is asked of the browser's storage
/// before the code's signatures are checked, so that it answers while the phone computes. A `rehearsal` goes
/// all the way, reads back what it wrote (as a second scan would) and answers that, and is undone: nothing of
/// it is kept.
pub async fn check_in(
    (activity_id, org_id): (Id, Id),
    payload: &str,
    verify: impl FnOnce() -> Result<Code, CodeError>,
    id: Id,
    scanned_at: i64,
    rehearsal: bool,
) -> Result<Scanned, StoreError> {
    let signature = qr::signature_of(payload).ok_or(StoreError::Failed)?;
    let activity = *activity_id.as_bytes();
    let read_back = std::cell::Cell::new(None);
    let written = write(&[KV, OUTBOX, ACTIVITIES, RECORDS], Durability::Strict, async |tx| {
        // Everything the check-in reads, asked at once: each answer waited for alone costs a slow phone a turn.
        let mut reads = pin!(try_join3(
            activities::get_for_code(tx, &activity, org_id),
            outbox::meta(tx),
            outbox::last_row(tx),
        ));
        // Polled once, the reads are asked; the answers are taken after the check.
        let asked = poll_fn(|cx| Poll::Ready(reads.as_mut().poll(cx))).await;
        let code = match verify() {
            Ok(code) if code.subject == (Subject::Activity { activity_id, org_id }) => code,
            Ok(_) => return Err(StoreError::Failed),
            Err(error) => return Ok((Scanned::Refused(error), None)),
        };
        let ((known, record_name), meta, last_row) = match asked {
            Poll::Ready(answers) => answers?,
            Poll::Pending => reads.await?,
        };
        if let Some(facts) = known.as_ref() {
            if let Some(mine) = facts.mine {
                return Ok((Scanned::Already(shown(facts, mine.at)), None));
            }
        }
        let mut facts = known.unwrap_or_else(|| Facts::from_code(&code, org_id));
        // A pulled activity does not name its organisation; its signed code does.
        if facts.org_name.is_empty() && facts.org_id == *org_id.as_bytes() {
            facts.org_name = code.detail.clone();
        }
        let queued = QueuedCheckIn::new(id, scanned_at, &code, signature, Some(&facts)).ok_or(StoreError::Failed)?;
        let row = outbox::enqueue_after(tx, &meta, last_row, Queued::CheckIn(queued))?;
        facts.mine = Some(Mine {
            id: *id.as_bytes(),
            at: scanned_at,
            row,
        });
        if facts.org_id == *org_id.as_bytes() {
            activities::put_named(tx, &activity, &facts, &record_name)?;
        } else {
            activities::put(tx, &activity, &facts).await?;
        }
        if rehearsal {
            let (facts, _) = activities::get_for_code(tx, &activity, org_id).await?;
            read_back.set(facts.map(|facts| shown(&facts, scanned_at)));
            // Undone: the transaction is aborted.
            return Err(StoreError::Failed);
        }
        Ok((Scanned::New(shown(&facts, scanned_at)), Some(row)))
    })
    .await;
    let (scanned, row) = match written {
        Err(_) if rehearsal => return read_back.take().map(Scanned::New).ok_or(StoreError::Failed),
        written => written?,
    };
    if let Some(row) = row {
        cache::update(|c| c.last_row = c.last_row.max(Some(row)));
        // What else shows the change (the waiting count) is told once the confirmation is painted: before, it
        // would be redrawn first, on the way to the screen the member waits for.
        after_paint(super::changed);
    }
    Ok(scanned)
}

fn shown(facts: &Facts, scanned_at: i64) -> Shown {
    Shown {
        title: facts.title.clone(),
        org_name: facts.org_name.clone(),
        scanned_at,
    }
}

/// A waiting check-in the server refused (`outbox::settle`): the member may scan again (`batch` holds the
/// activities of the refused ones). One it applied needs nothing: its row stays, counted as synced, until the
/// pull brings the server's record, and its activity's mark already names it (should the server hold another
/// for the activity, from another phone, that one replaces it when it is pulled).
pub(super) fn refused(batch: &mut Batch, check_in: &QueuedCheckIn) {
    let mark = batch
        .get(&check_in.activity)
        .filter(|f| f.mine.is_some_and(|m| m.id == check_in.id));
    if let Some(facts) = mark {
        let facts = Facts {
            mine: None,
            ..facts.clone()
        };
        batch.set(check_in.activity, facts);
    }
}

/// A check-in the server sent.
pub(super) async fn pulled(tx: &Tx, batch: &mut Batch, check_in: &CheckIn) -> Result<(), StoreError> {
    let activity = *check_in.activity_id.as_bytes();
    let mut facts = activities::of_check_in(batch, check_in);
    let synced = SyncedCheckIn {
        activity,
        scanned_at: check_in.scanned_at,
        received_at: Some(check_in.received_at),
        flag: flag_code(check_in.flag),
    };
    // The hours it credits follow the fields above, so check-ins kept before them read back as they are.
    let value = to_binary_with_tail(&synced, check_in.hours_tenths.as_ref());
    tx.put(CHECKINS, &id_key(check_in.id.as_bytes()), &value)?;
    // The server's check-in for the activity stands for any other this phone made (it went, or goes, as a
    // duplicate); one still waiting takes its own copy of the code's texts, as the mark no longer points to it.
    if let Some(other) = facts.mine.filter(|mine| mine.id != *check_in.id.as_bytes()) {
        outbox::keep_texts(tx, &facts).await?;
        tx.delete(CHECKINS, &id_key(&other.id))?;
    }
    let row = facts
        .mine
        .filter(|mine| mine.id == *check_in.id.as_bytes())
        .map_or(0, |mine| mine.row);
    facts.mine = Some(Mine {
        id: *check_in.id.as_bytes(),
        at: check_in.scanned_at,
        row,
    });
    batch.set(activity, facts);
    Ok(())
}

/// Where the phone keeps one of its check-ins: its activity, and its outbox row while it is kept there synced
/// (`outbox::settle`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept {
    pub activity: [u8; 16],
    pub row: Option<u64>,
}

/// The check-ins `ids` the phone has, from `checkins` and, for those not there yet, from the synced ones the
/// outbox keeps up to `synced_row` (read only then).
pub(super) async fn kept(tx: &Tx, ids: &[Id], synced_row: u64) -> Result<HashMap<Id, Kept>, StoreError> {
    let ids: BTreeSet<[u8; 16]> = ids.iter().map(|id| *id.as_bytes()).collect();
    let stored = tx.get_ids(CHECKINS, &ids).await?;
    let mut kept: HashMap<Id, Kept> = ids
        .iter()
        .map(|id| Id::from_bytes(*id))
        .zip(stored)
        .filter_map(|(id, value)| {
            let activity = from_binary::<SyncedCheckIn>(&value?)?.activity;
            Some((id, Kept { activity, row: None }))
        })
        .collect();
    if kept.len() < ids.len() {
        for (id, activity, row) in outbox::synced_kept(tx, synced_row).await? {
            if ids.contains(&id) {
                let id = Id::from_bytes(id);
                kept.entry(id).or_insert(Kept {
                    activity,
                    row: Some(row),
                });
            }
        }
    }
    Ok(kept)
}

/// The server took a check-in away (`kept`: where the phone had it).
pub(super) fn forget(tx: &Tx, batch: &mut Batch, id: Id, kept: Option<Kept>) -> Result<(), StoreError> {
    if let Some(Kept { activity, row }) = kept {
        if let Some(mut facts) = batch.get(&activity).cloned() {
            if facts.mine.is_some_and(|mine| mine.id == *id.as_bytes()) {
                facts.mine = None;
                batch.set(activity, facts);
            }
        }
        if let Some(row) = row {
            tx.delete(OUTBOX, &number_key(row))?;
        }
    }
    tx.delete(CHECKINS, &id_key(id.as_bytes()))
}

/// The newest `limit` check-ins of the member, newest first: waiting ones (from the outbox, where the synced
/// ones not pulled back yet are kept too), the server's (from `checkins`) and refused ones, each read from the
/// end of its store, so a page costs the same however many there are. The second value says whether there are
/// more.
pub async fn newest(limit: usize) -> Result<(Vec<CheckInRow>, bool), StoreError> {
    let refused: Vec<CheckInRow> = cache::with(|c| {
        c.refused
            .iter()
            .filter_map(|r| match &r.mutation.op {
                Op::CheckIn { id, code } => {
                    let (title, org_name) = qr::read_unverified(code)
                        .map(|code| (code.name, code.detail))
                        .unwrap_or_default();
                    Some(CheckInRow {
                        id: *id,
                        title,
                        org_name,
                        scanned_at: r.mutation.occurred_at,
                        state: RowState::Refused(r.reason),
                    })
                }
                _ => None,
            })
            .collect()
    });
    // The rows kept as synced, as this tab knows them: a moment behind another tab's sync at most.
    let synced_row = cache::with(|c| c.meta.synced_row);
    read(&[OUTBOX, CHECKINS, ACTIVITIES, RECORDS], async |tx| {
        let mut rows: Vec<(Id, [u8; 16], i64, RowState)> = Vec::new();
        let mut outboxed = 0;
        tx.walk(OUTBOX, None, true, |key, value| {
            if let Some(Queued::CheckIn(c)) = Queued::decode(&value) {
                let state = match key_number(&key) {
                    Some(row) if row <= synced_row => RowState::Synced,
                    _ => RowState::Waiting,
                };
                rows.push((Id::from_bytes(c.id), c.activity, c.scanned_at, state));
                outboxed += 1;
            }
            outboxed <= limit
        })
        .await?;
        let mut synced = 0;
        tx.walk(CHECKINS, None, true, |key, value| {
            if let (Some(id), Some(c)) = (key_id(&key), from_binary::<SyncedCheckIn>(&value)) {
                rows.push((Id::from_bytes(id), c.activity, c.scanned_at, RowState::Synced));
                synced += 1;
            }
            synced <= limit
        })
        .await?;
        rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.0.cmp(&a.0)));
        let batch = Batch::load(tx, rows.iter().map(|row| row.1)).await?;
        let mut shown = Vec::with_capacity(limit);
        for (id, activity, scanned_at, state) in rows {
            let facts = batch.get(&activity);
            // A check-in just settled can be in both stores for a moment; it is shown once. One that went to the
            // server as a duplicate of the member's check-in from another phone gives way to that one.
            let stale = state == RowState::Synced && facts.and_then(|f| f.mine).is_some_and(|m| m.id != *id.as_bytes());
            if stale || shown.iter().any(|row: &CheckInRow| row.id == id) {
                continue;
            }
            let (title, org_name) = facts.map(|f| (f.title.clone(), f.org_name.clone())).unwrap_or_default();
            shown.push(CheckInRow {
                id,
                title,
                org_name,
                scanned_at,
                state,
            });
        }
        shown.extend(refused);
        shown.sort_by(|a, b| b.scanned_at.cmp(&a.scanned_at).then(b.id.cmp(&a.id)));
        let more = shown.len() > limit;
        shown.truncate(limit);
        Ok((shown, more))
    })
    .await
}

/// The volunteer hours the server credited the member, each with its check-in's scan time (Unix ms).
pub async fn volunteer_hours() -> Result<Vec<(i64, u16)>, StoreError> {
    read(&[CHECKINS], async |tx| {
        let mut hours = Vec::new();
        tx.walk(CHECKINS, None, false, |_, value| {
            if let Some((synced, Some(tenths @ 1..))) = from_binary_with_tail::<SyncedCheckIn, u16>(&value) {
                hours.push((synced.scanned_at, tenths));
            }
            true
        })
        .await?;
        Ok(hours)
    })
    .await
}

/// Every check-in this phone knows of, as the certificate counts them: one pass over the activities, whose
/// facts carry the member's mark, organisation and kind. A waiting check-in whose activity was never pulled
/// (its kind unknown) is counted once synced.
pub async fn attended() -> Result<Vec<Attended>, StoreError> {
    read(&[ACTIVITIES], async |tx| {
        let mut attended = Vec::new();
        tx.walk(ACTIVITIES, None, false, |_, value| {
            if let Some(facts) = activities::decode(&value) {
                if let (Some(mine), Some(kind)) = (facts.mine, facts.kind()) {
                    attended.push(Attended {
                        org_id: Id::from_bytes(facts.org_id),
                        at: mine.at,
                        kind,
                        title: facts.title.clone(),
                    });
                }
            }
            true
        })
        .await?;
        Ok(attended)
    })
    .await
}

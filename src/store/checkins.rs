//! The member's check-ins. One made here is one transaction: its outbox row and the activity's "checked in"
//! mark, with the waiting count; "have I checked in" is one read of the activity's facts. Once the server has
//! it, it lives in `checkins` under its id (small: its activity, times and flag; the titles stay with the
//! activity), and a check-in the server sends (from another phone) lands there too.

use guihai_core::certificate::Attended;
use guihai_core::checkin::{CheckIn, CheckInFlag, CheckInRow, RowState};
use guihai_core::outbox::Fate;
use guihai_core::qr::{self, Code, Subject};
use guihai_core::sync::Op;
use guihai_core::Id;
use serde::{Deserialize, Serialize};

use super::activities::{self, Facts, Mine};
use super::codec::{from_binary, to_binary};
use super::idb::{id_key, key_id, Tx};
use super::outbox::{self, Queued, QueuedCheckIn};
use super::{cache, read, write, Durability, StoreError, ACTIVITIES, CHECKINS, KV, OUTBOX};

/// A check-in the server has, as the phone keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncedCheckIn {
    pub activity: [u8; 16],
    pub scanned_at: i64,
    /// Server time of receipt, once the server's record came back.
    pub received_at: Option<i64>,
    /// 0 none, 1 outside the window, 2 clock skew.
    pub flag: u8,
}

fn flag_code(flag: Option<CheckInFlag>) -> u8 {
    match flag {
        None => 0,
        Some(CheckInFlag::OutsideWindow) => 1,
        Some(CheckInFlag::ClockSkew) => 2,
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
    /// Stored, and on disk: the screen may say so.
    New(Shown),
    /// The member has checked in to this activity before (here, or on another phone).
    Already(Shown),
}

/// Checks in with a verified activity code, unless the member has already: one transaction.
pub async fn check_in(code: &Code, payload: &str, id: Id, scanned_at: i64) -> Result<Scanned, StoreError> {
    let Subject::Activity { activity_id, org_id } = code.subject else {
        return Err(StoreError::Failed);
    };
    let signature = qr::signature_of(payload).ok_or(StoreError::Failed)?;
    let activity = *activity_id.as_bytes();
    let (scanned, meta) = write(&[KV, OUTBOX, ACTIVITIES], Durability::Strict, async |tx| {
        let known = activities::get(tx, &activity).await?;
        if let Some(facts) = known.as_ref() {
            if let Some(mine) = facts.mine {
                return Ok((Scanned::Already(shown(facts, mine.at())), None));
            }
        }
        let mut facts = known.unwrap_or_else(|| Facts::from_code(code, org_id));
        // A pulled activity does not name its organisation; its signed code does.
        if facts.org_name.is_empty() && facts.org_id == *org_id.as_bytes() {
            facts.org_name = code.detail.clone();
        }
        let queued = QueuedCheckIn::new(id, scanned_at, code, signature, Some(&facts)).ok_or(StoreError::Failed)?;
        let (row, meta) = outbox::enqueue(tx, Queued::CheckIn(queued)).await?;
        facts.mine = Some(Mine::Waiting { row, at: scanned_at });
        activities::put(tx, &activity, &facts)?;
        Ok((Scanned::New(shown(&facts, scanned_at)), Some(meta)))
    })
    .await?;
    if let Some(meta) = meta {
        cache::update(|c| c.meta = meta);
        super::changed();
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

/// A waiting check-in the server settled (`outbox::settle`): applied, it is the member's check-in at once
/// (unless the server holds another for the activity, from another phone: that one stands); refused, the
/// member may scan again.
pub(super) async fn settled(tx: &Tx, row: u64, check_in: &QueuedCheckIn, fate: Fate) -> Result<(), StoreError> {
    let Some(mut facts) = activities::get(tx, &check_in.activity).await? else {
        return Ok(());
    };
    if facts.mine
        != Some(Mine::Waiting {
            row,
            at: check_in.scanned_at,
        })
    {
        return Ok(());
    }
    facts.mine = match fate {
        Fate::Done => {
            let synced = SyncedCheckIn {
                activity: check_in.activity,
                scanned_at: check_in.scanned_at,
                received_at: None,
                flag: 0,
            };
            tx.put(CHECKINS, &id_key(&check_in.id), &to_binary(&synced))?;
            Some(Mine::Synced {
                id: check_in.id,
                at: check_in.scanned_at,
            })
        }
        Fate::Refused(_) | Fate::Waits => None,
    };
    activities::put(tx, &check_in.activity, &facts)
}

/// A check-in the server sent.
pub(super) async fn pulled(tx: &Tx, check_in: &CheckIn) -> Result<(), StoreError> {
    let activity = *check_in.activity_id.as_bytes();
    let mut facts = activities::of_check_in(tx, check_in).await?;
    let synced = SyncedCheckIn {
        activity,
        scanned_at: check_in.scanned_at,
        received_at: Some(check_in.received_at),
        flag: flag_code(check_in.flag),
    };
    tx.put(CHECKINS, &id_key(check_in.id.as_bytes()), &to_binary(&synced))?;
    facts.mine = Some(Mine::Synced {
        id: *check_in.id.as_bytes(),
        at: check_in.scanned_at,
    });
    activities::put(tx, &activity, &facts)
}

/// The server took a check-in away.
pub(super) async fn forget(tx: &Tx, id: &str) -> Result<(), StoreError> {
    let Ok(id) = Id::parse(id) else { return Ok(()) };
    let key = id_key(id.as_bytes());
    if let Some(synced) = tx
        .get(CHECKINS, &key)
        .await?
        .as_ref()
        .and_then(from_binary::<SyncedCheckIn>)
    {
        if let Some(mut facts) = activities::get(tx, &synced.activity).await? {
            if matches!(facts.mine, Some(Mine::Synced { id: mine, .. }) if mine == *id.as_bytes()) {
                facts.mine = None;
                activities::put(tx, &synced.activity, &facts)?;
            }
        }
    }
    tx.delete(CHECKINS, &key)
}

/// The newest `limit` check-ins of the member, newest first: waiting ones (from the outbox), the server's (from
/// `checkins`) and refused ones, each read from the end of its store, so a page costs the same however many
/// there are. The second value says whether there are more.
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
    read(&[OUTBOX, CHECKINS, ACTIVITIES], async |tx| {
        let mut rows: Vec<(Id, [u8; 16], i64, RowState)> = Vec::new();
        let mut waiting = 0;
        tx.walk(OUTBOX, None, true, |_, value| {
            if let Some(Queued::CheckIn(c)) = Queued::decode(&value) {
                rows.push((Id::from_bytes(c.id), c.activity, c.scanned_at, RowState::Waiting));
                waiting += 1;
            }
            waiting <= limit
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
        let mut shown = Vec::with_capacity(limit);
        for (id, activity, scanned_at, state) in rows {
            // A check-in just settled can be in both stores for a moment; it is shown once.
            if shown.iter().any(|row: &CheckInRow| row.id == id) {
                continue;
            }
            let facts = activities::get(tx, &activity).await?;
            let (title, org_name) = facts.map(|f| (f.title, f.org_name)).unwrap_or_default();
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

/// Every check-in this phone knows of, as the certificate counts them: one pass over the activities, whose
/// facts carry the member's mark, organisation and kind. A waiting check-in whose activity was never pulled
/// (its kind unknown) is counted once synced.
pub async fn attended() -> Result<Vec<Attended>, StoreError> {
    read(&[ACTIVITIES], async |tx| {
        let mut attended = Vec::new();
        tx.walk(ACTIVITIES, None, false, |_, value| {
            if let Some(facts) = from_binary::<Facts>(&value) {
                if let (Some(mine), Some(kind)) = (facts.mine, facts.kind()) {
                    attended.push(Attended {
                        org_id: Id::from_bytes(facts.org_id),
                        at: mine.at(),
                        kind,
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

//! What the phone holds of the server's data (the last pulled state) and of its own session: read from the
//! cache, written in the sync round's transactions and at sign-in.

use guihai_core::certificate::{MemberCard, Review, Stop};
use guihai_core::domain::Me;
use guihai_core::engine::{Reply, Round, Settled};
use guihai_core::notice::Notice;
use guihai_core::outbox as rows;
use guihai_core::profile::Profile;
use guihai_core::qr::{RevokedDoorKey, TrustedKey, Verifier};
use guihai_core::report::Report;
use guihai_core::sync::{Change, CodeResponse, Op, PullResponse, Record, SessionResponse};
use guihai_core::Id;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::activities;
use super::cache::{self, Cache};
use super::codec::{from_json, to_json};
use super::hints::{self, SessionEnded};
use super::idb::Tx;
use super::{checkins, outbox, write, Durability, StoreError, ALL, KV, RECORDS};

pub(super) const SESSION: &str = "session";
pub(super) const CLIENT: &str = "client";
pub(super) const META: &str = "meta";
pub(super) const CARD: &str = "card";
/// Prefix of the `kv` keys of the check-in codes a secretary keeps for the door.
const DOOR_CODE: &str = "door:";
pub(super) const PENDING_REPORT: &str = "pendingreport:";

/// The device session: the token never leaves this phone except in the Authorization header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub client_id: Id,
}

/// A report made on this phone that the server has not confirmed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReport {
    pub id: Id,
    pub org_id: Id,
    pub org_name: String,
    pub sent_at: i64,
}

pub(super) fn kv(name: &str) -> JsValue {
    JsValue::from_str(name)
}

pub fn session() -> Option<Session> {
    cache::with(|c| c.session.clone())
}

/// The installation's sync identity to sign in with. The one kept is used only while writes of the member
/// signed in before still wait (they are numbered for it); otherwise a new one, so that whoever signs in next
/// on this phone, the same member or another, starts a sync identity of their own.
pub fn client_id_for_sign_in() -> Id {
    cache::with(|c| match c.client_id {
        Some(id) if has_unsynced(c) => id,
        _ => crate::clock::new_id(),
    })
}

/// Whether the phone holds writes the server does not have: waiting, or set aside as damaged.
fn has_unsynced(cache: &Cache) -> bool {
    cache.waiting() > 0 || cache.damaged > 0
}

/// How many of the member's writes are not on the server: waiting, or set aside because they no longer read.
pub fn unsynced() -> u64 {
    cache::with(|c| c.waiting() + u64::from(c.damaged))
}

/// Keeps a new session with the member's record and the signing keys it came with. When it is another member
/// than the one whose records the phone holds, theirs leave the phone in the same transaction, unless writes of
/// theirs wait (`StoreError::Unsynced`): what decides is read in the transaction, not from the cache. Call it
/// holding the sync lock, so that no round of the session before writes into the new one.
pub async fn save_session(response: SessionResponse, client_id: Id) -> Result<(), StoreError> {
    write(&ALL, Durability::Strict, async |tx| {
        let previous = match tx.get(RECORDS, &kv("me")).await? {
            Some(value) => match from_json::<Record>(&value) {
                Some(Record::Me(me)) => Some(me.id),
                _ => return Err(StoreError::Failed),
            },
            None => None,
        };
        let another = previous.is_some_and(|id| id != response.me.id);
        let meta = outbox::meta(tx).await?;
        let waiting = rows::waiting(&meta, outbox::last_row(tx).await?);
        if another && (waiting > 0 || tx.count(super::DAMAGED).await? > 0) {
            return Err(StoreError::Unsynced);
        }
        let stored_client = tx.get(KV, &kv(CLIENT)).await?.as_ref().and_then(from_json::<Id>);
        let fresh_client = stored_client != Some(client_id);
        if another {
            for store in ALL {
                tx.clear(store)?;
            }
        }
        if another || fresh_client {
            // A new sync identity numbers its writes from 1; the pull cursor is the member's, not the client's.
            let mut meta = if another { Default::default() } else { meta };
            meta.last_seq = 0;
            meta.acked_seq = 0;
            meta.runs.clear();
            tx.put(KV, &kv(META), &to_json(&meta))?;
        }
        put_session(tx, response, client_id)
    })
    .await?;
    hints::forget_session_ended();
    cache::refresh().await;
    Ok(())
}

/// What a sign-in keeps: the installation's client id, the session, and the member's own record and the
/// server's keys that came with it.
fn put_session(tx: &Tx, response: SessionResponse, client_id: Id) -> Result<(), StoreError> {
    let session = Session {
        token: response.token,
        client_id,
    };
    tx.put(KV, &kv(CLIENT), &to_json(&client_id))?;
    tx.put(KV, &kv(SESSION), &to_json(&session))?;
    let records = std::iter::once(Record::Me(response.me)).chain(response.keys.into_iter().map(Record::Key));
    for record in records {
        tx.put(RECORDS, &kv(&record.key()), &to_json(&record))?;
    }
    Ok(())
}

/// Whether this phone holds nobody's data: no member's record, no client id, no sync bookkeeping, nothing of the
/// localStorage build. The entry
/// app (`crate::entry`) signs in only such a phone; any other is the member app's, which knows who was here.
/// Opens the database (creating it) when this tab has not.
#[cfg(feature = "entry")]
pub async fn fresh() -> Result<bool, StoreError> {
    if super::connect_only().await? != super::Opened::Ready {
        return Ok(false);
    }
    super::read(&[KV, RECORDS], is_fresh).await
}

#[cfg(feature = "entry")]
async fn is_fresh(tx: &Tx) -> Result<bool, StoreError> {
    if super::legacy::holds_data() {
        return Ok(false);
    }
    for (store, key) in [(KV, CLIENT), (KV, META), (KV, SESSION), (RECORDS, "me")] {
        if tx.get(store, &kv(key)).await?.is_some() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The entry app's sign-in: keeps the session as `save_session` does on a phone that holds nobody's data, in
/// one durable transaction. `Ok(false)`, with nothing written, when the phone turned out to hold data after
/// all (the member app, in another tab, wrote in the moment since `fresh`).
#[cfg(feature = "entry")]
pub async fn save_first_session(response: SessionResponse, client_id: Id) -> Result<bool, StoreError> {
    let saved = write(&[KV, RECORDS], Durability::Strict, async |tx| {
        if !is_fresh(tx).await? {
            return Ok(false);
        }
        put_session(tx, response, client_id)?;
        Ok(true)
    })
    .await?;
    if saved {
        hints::forget_session_ended();
    }
    Ok(saved)
}

/// Forgets the session (it was revoked or expired) but keeps every record and the outbox.
pub async fn end_session() -> Result<(), StoreError> {
    write(&[KV], Durability::Strict, async |tx| tx.delete(KV, &kv(SESSION))).await?;
    hints::set_session_ended(SessionEnded::Expired);
    cache::update(|c| c.session = None);
    super::changed();
    Ok(())
}

pub fn me() -> Option<Me> {
    match record("me") {
        Some(Record::Me(me)) => Some(me),
        _ => None,
    }
}

/// The member's profile as last pulled (empty before the first pull).
pub fn profile() -> Profile {
    match record("profile") {
        Some(Record::Profile(profile)) => profile,
        _ => Profile::default(),
    }
}

/// A pulled record by its key (core's `Record::key`); activities and check-ins are in their own stores.
pub fn record(key: &str) -> Option<Record> {
    cache::with(|c| c.records.get(key).cloned())
}

fn each<T>(prefix: &str, pick: impl Fn(&Record) -> Option<T>) -> Vec<T> {
    cache::with(|c| {
        c.records
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .filter_map(|(_, record)| pick(record))
            .collect()
    })
}

pub fn stops() -> Vec<Stop> {
    each("stop:", |r| {
        if let Record::Stop(stop) = r {
            Some(stop.clone())
        } else {
            None
        }
    })
}

pub fn reviews() -> Vec<Review> {
    each("review:", |r| {
        if let Record::Review(review) = r {
            Some(review.clone())
        } else {
            None
        }
    })
}

pub fn reports() -> Vec<Report> {
    each("report:", |r| {
        if let Record::Report(report) = r {
            Some(report.clone())
        } else {
            None
        }
    })
}

/// Since when (Unix seconds) the organisation's codes are valid: earlier ones were withdrawn.
pub fn org_code_since(org_id: Id) -> u32 {
    match record(&format!("orgcode:{org_id}")) {
        Some(Record::OrgCode(since)) => since.valid_since,
        _ => 0,
    }
}

pub fn trusted_keys() -> Vec<TrustedKey> {
    each("key:", |r| {
        if let Record::Key(key) = r {
            Some(key.clone())
        } else {
            None
        }
    })
}

/// The organisations whose activities the signed-in person runs (as their secretary).
pub fn secretary_of() -> Vec<Id> {
    me().map(|me| me.roles)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|role| match role {
            guihai_core::domain::Role::Secretary { org_id } => Some(org_id),
            _ => None,
        })
        .collect()
}

/// Secretaries' phone keys that were revoked (signed out): their door codes made since are refused.
pub fn revoked_door_keys() -> Vec<RevokedDoorKey> {
    each("doorkey:", |r| match r {
        Record::DoorKey(key) => Some(key.clone()),
        _ => None,
    })
}

/// The notices on this phone, the newest first.
pub fn notices() -> Vec<Notice> {
    let mut notices = each("notice:", |r| match r {
        Record::Notice(notice) => Some(notice.clone()),
        _ => None,
    });
    notices.sort_by_key(|notice| std::cmp::Reverse(notice.published_at));
    notices
}

/// The notices the member has read: on any of their phones (the server says so), or here and not yet sent.
pub fn notices_read() -> std::collections::HashSet<Id> {
    let mut read: std::collections::HashSet<Id> = each("noticeread:", |r| match r {
        Record::NoticeRead(read) => Some(read.notice_id),
        _ => None,
    })
    .into_iter()
    .collect();
    cache::with(|c| {
        read.extend(c.others.iter().filter_map(|other| match other.queued.op {
            Op::ReadNotice { notice_id } => Some(notice_id),
            _ => None,
        }))
    });
    read
}

/// How many notices the member has not read.
pub fn unread_notices() -> usize {
    let read = notices_read();
    notices().iter().filter(|notice| !read.contains(&notice.id)).count()
}

/// The codes this phone accepts: signed by the server's keys, or by a door key it certified and did not revoke.
/// Decoding the keys costs a slow phone milliseconds at every scan, so the verifier is kept while they stay the
/// same (the scanner asks for it as it opens, before any code is read).
pub fn verifier() -> Verifier {
    type Kept = Option<((Vec<TrustedKey>, Vec<RevokedDoorKey>), Verifier)>;
    thread_local! {
        static KEPT: std::cell::RefCell<Kept> = const { std::cell::RefCell::new(None) };
    }
    let keys = (trusted_keys(), revoked_door_keys());
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        match kept.as_ref() {
            Some((of, verifier)) if *of == keys => verifier.clone(),
            _ => {
                let verifier = Verifier::new(&keys.0).revoking(&keys.1);
                *kept = Some((keys, verifier.clone()));
                verifier
            }
        }
    })
}

/// The member card kept for offline use.
pub fn card() -> Option<MemberCard> {
    cache::with(|c| c.card.clone())
}

/// Keeps a fresh member card.
pub async fn save_card(card: &MemberCard) -> Result<(), StoreError> {
    write(&[KV], Durability::Relaxed, async |tx| {
        tx.put(KV, &kv(CARD), &to_json(card))
    })
    .await?;
    cache::update(|c| c.card = Some(card.clone()));
    Ok(())
}

/// Keeps the check-in code a secretary showed for an activity, to show it again at the door with no signal.
pub async fn keep_door_code(activity_id: Id, code: &CodeResponse) -> Result<(), StoreError> {
    write(&[KV], Durability::Relaxed, async |tx| {
        tx.put(KV, &kv(&format!("{DOOR_CODE}{activity_id}")), &to_json(code))
    })
    .await
}

/// The check-in code kept for an activity (`keep_door_code`).
pub async fn door_code(activity_id: Id) -> Result<Option<CodeResponse>, StoreError> {
    super::read(&[KV], async |tx| {
        Ok(tx
            .get(KV, &kv(&format!("{DOOR_CODE}{activity_id}")))
            .await?
            .as_ref()
            .and_then(from_json))
    })
    .await
}

/// Applies a page of pulled changes inside the pull's transaction. Activities and check-ins go to their own
/// stores; a report that comes back replaces the copy shown while it waited.
pub(super) async fn apply_changes(tx: &Tx, changes: &[Change], synced_row: u64) -> Result<(), StoreError> {
    // The activities the page touches, read at once: its activities, its check-ins', and those of the
    // check-ins it takes away.
    let taken: Vec<Id> = changes
        .iter()
        .filter_map(|change| match change {
            Change::Delete { key } => key.strip_prefix("checkin:").and_then(|id| Id::parse(id).ok()),
            _ => None,
        })
        .collect();
    let taken = checkins::kept(tx, &taken, synced_row).await?;
    let touched = changes.iter().filter_map(|change| match change {
        Change::Upsert {
            record: Record::Activity(activity),
        } => Some(*activity.id.as_bytes()),
        Change::Upsert {
            record: Record::CheckIn(check_in),
        } => Some(*check_in.activity_id.as_bytes()),
        Change::Delete { key } => key
            .strip_prefix("activity:")
            .and_then(|id| Id::parse(id).ok())
            .map(|id| *id.as_bytes()),
        _ => None,
    });
    let mut batch = activities::Batch::load(tx, touched.chain(taken.values().map(|kept| kept.activity))).await?;
    for change in changes {
        match change {
            Change::Upsert {
                record: Record::Activity(activity),
            } => activities::pulled(tx, &mut batch, activity).await?,
            Change::Upsert {
                record: Record::CheckIn(check_in),
            } => checkins::pulled(tx, &mut batch, check_in).await?,
            Change::Upsert { record } => {
                match record {
                    Record::Report(report) => {
                        tx.delete(RECORDS, &kv(&format!("{PENDING_REPORT}{}", report.id)))?;
                    }
                    Record::Organisation(org) => activities::keep_org_name(tx, &mut batch, org.id, &org.name).await?,
                    _ => {}
                }
                tx.put(RECORDS, &kv(&record.key()), &to_json(record))?;
            }
            Change::Delete { key } => match key.split_once(':').map(|(kind, id)| (kind, Id::parse(id))) {
                Some(("activity", Ok(id))) => activities::forget(&mut batch, *id.as_bytes()),
                Some(("checkin", Ok(id))) => checkins::forget(tx, &mut batch, id, taken.get(&id).copied())?,
                Some(("org", Ok(id))) => {
                    activities::keep_org_name(tx, &mut batch, id, "").await?;
                    tx.delete(RECORDS, &kv(key))?
                }
                _ => tx.delete(RECORDS, &kv(key))?,
            },
        }
    }
    batch.store(tx).await
}

/// Takes a pull answer: the engine decides on the stored bookkeeping, the page's changes are applied and what
/// the server says it holds leaves the outbox, all in one transaction, so the cursor never passes a change
/// that was not kept. `pull` is the pull this page belongs to, as the last page returned it (`None` for its
/// first page); its last page forgets the synced check-ins the outbox kept when the pull began, as the pull
/// has brought the server's records of them back.
pub async fn after_pull(
    round: &mut Round,
    reply: Reply<PullResponse>,
    now_ms: i64,
    jitter: f64,
    pull: Option<Pull>,
) -> Result<Pull, StoreError> {
    let last_page = matches!(&reply, Reply::Ok(page) if !page.has_more);
    let pull = write(&outbox::SETTLING, Durability::Strict, async |tx| {
        let mut meta = outbox::meta(tx).await?;
        let pull = pull.unwrap_or(Pull {
            synced_row: meta.synced_row,
        });
        let (changes, settled_through) = round.on_pull(&mut meta, reply, now_ms, jitter);
        apply_changes(tx, &changes, meta.synced_row).await?;
        let settled = Settled {
            drop_through: settled_through,
            rejected: Vec::new(),
        };
        outbox::settle(tx, &mut meta, &settled, outbox::SETTLE_AT_ONCE).await?;
        if last_page {
            outbox::forget_synced(tx, pull.synced_row)?;
        }
        outbox::put_meta(tx, &meta)?;
        Ok(pull)
    })
    .await?;
    cache::reload().await?;
    Ok(pull)
}

/// A pull under way, over its pages: what the outbox kept as synced when it began.
#[derive(Debug, Clone, Copy)]
pub struct Pull {
    synced_row: u64,
}

/// Queues a report with the copy the home screen shows until the server's record comes back.
pub(super) fn pending_report(tx: &Tx, report: &PendingReport) -> Result<(), StoreError> {
    tx.put(
        RECORDS,
        &kv(&format!("{PENDING_REPORT}{}", report.id)),
        &to_json(report),
    )
}

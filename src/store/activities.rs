//! What the phone knows of each activity, once per activity, and whether this member checked in to it: the
//! titles and organisation names every check-in shows are kept here, not in each check-in, and "have I
//! checked in to this activity" is one read by its id.
//!
//! An activity becomes known from a pull (its organisation's activities), from a scanned code (its name and
//! organisation, signed), or from a check-in the server sent (made on another phone). When the server takes it
//! away (cancelled, or the member moved on) but the member checked in to it, it stays, unlisted: check-ins are
//! facts and keep their titles.

use std::collections::{BTreeSet, HashMap};

use guihai_core::checkin::CheckIn;
use guihai_core::domain::{Activity, ActivityKind};
use guihai_core::qr::{code_text, Code};
use guihai_core::sync::Record;
use guihai_core::Id;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{from_binary, from_json, to_binary};
use super::idb::{id_key, Tx};
use super::{outbox, StoreError, ACTIVITIES, RECORDS};

/// One activity as the phone keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub org_id: [u8; 16],
    pub title: String,
    /// The organisation's name, as a code or a check-in gave it ("" when only pulled).
    pub org_name: String,
    /// The activity's kind (`ActivityKind::as_str`), when known: a scanned code does not say.
    pub kind: Option<String>,
    /// From the organisation's published activity; `None` when only known from a code or a check-in, or
    /// withdrawn since.
    pub listed: Option<Listed>,
    pub mine: Option<Mine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    pub starts_at: i64,
    pub ends_at: i64,
    pub place: Option<String>,
}

/// This member's check-in to the activity: its id and scan time, and the outbox row it took when it was made
/// here (0 for one made on another phone). While that row is in the outbox it waits; once settled, the check-in
/// is in `checkins` under its id. The mark does not change when a check-in is settled, so settling a push
/// writes nothing here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mine {
    pub id: [u8; 16],
    pub at: i64,
    pub row: u64,
}

impl Facts {
    pub fn kind(&self) -> Option<ActivityKind> {
        self.kind.as_deref().and_then(ActivityKind::parse)
    }

    /// From a scanned code: its signed name and organisation.
    pub fn from_code(code: &Code, org_id: Id) -> Facts {
        Facts {
            org_id: *org_id.as_bytes(),
            title: code.name.clone(),
            org_name: code.detail.clone(),
            kind: None,
            listed: None,
            mine: None,
        }
    }

    /// Whether a code's texts and organisation are exactly what these facts say, so that a waiting check-in
    /// need not keep them itself (`outbox::QueuedCheckIn::texts`).
    pub fn reproduces(&self, code: &Code, org_id: Id) -> bool {
        self.org_id == *org_id.as_bytes()
            && code_text(&self.title) == code.name
            && code_text(&self.org_name) == code.detail
    }
}

pub async fn get(tx: &Tx, activity_id: &[u8; 16]) -> Result<Option<Facts>, StoreError> {
    Ok(tx
        .get(ACTIVITIES, &id_key(activity_id))
        .await?
        .as_ref()
        .and_then(from_binary))
}

pub fn put(tx: &Tx, activity_id: &[u8; 16], facts: &Facts) -> Result<(), StoreError> {
    tx.put(ACTIVITIES, &id_key(activity_id), &to_binary(facts))
}

/// The activities a batch of writes touches (a page of pulled changes, a push answer), read all at once at the
/// start and written back once at the end, whatever each write did to them in between.
pub(super) struct Batch {
    known: HashMap<[u8; 16], Option<Facts>>,
    changed: BTreeSet<[u8; 16]>,
    /// Organisation names read from `records` for this batch.
    org_names: HashMap<Id, String>,
}

impl Batch {
    pub async fn load(tx: &Tx, ids: impl IntoIterator<Item = [u8; 16]>) -> Result<Batch, StoreError> {
        let ids: BTreeSet<[u8; 16]> = ids.into_iter().collect();
        let keys: Vec<JsValue> = ids.iter().map(id_key).collect();
        let values = tx.get_many(ACTIVITIES, &keys).await?;
        let known = ids
            .into_iter()
            .zip(values)
            .map(|(id, value)| (id, value.as_ref().and_then(from_binary)))
            .collect();
        Ok(Batch {
            known,
            changed: BTreeSet::new(),
            org_names: HashMap::new(),
        })
    }

    pub fn get(&self, id: &[u8; 16]) -> Option<&Facts> {
        self.known.get(id).and_then(Option::as_ref)
    }

    pub fn set(&mut self, id: [u8; 16], facts: Facts) {
        self.changed.insert(id);
        self.known.insert(id, Some(facts));
    }

    pub fn remove(&mut self, id: [u8; 16]) {
        self.changed.insert(id);
        self.known.insert(id, None);
    }

    /// The name of the organisation `org_id` as the phone holds its record, read in the transaction (a page may
    /// bring the organisation before its activities), "" when it does not.
    async fn org_name(&mut self, tx: &Tx, org_id: Id) -> Result<String, StoreError> {
        if let Some(name) = self.org_names.get(&org_id) {
            return Ok(name.clone());
        }
        let stored = tx.get(RECORDS, &JsValue::from_str(&format!("org:{org_id}"))).await?;
        let name = match stored.as_ref().and_then(from_json::<Record>) {
            Some(Record::Organisation(org)) => org.name,
            _ => String::new(),
        };
        self.org_names.insert(org_id, name.clone());
        Ok(name)
    }

    pub fn store(self, tx: &Tx) -> Result<(), StoreError> {
        for id in &self.changed {
            match self.known.get(id).and_then(Option::as_ref) {
                Some(facts) => put(tx, id, facts)?,
                None => tx.delete(ACTIVITIES, &id_key(id))?,
            }
        }
        Ok(())
    }
}

/// A pulled activity. A check-in waiting on texts that change here takes its own copy first, so it is sent
/// exactly as it was scanned. A pulled activity does not name its organisation: the organisation's record
/// does, when the phone has it.
pub(super) async fn pulled(tx: &Tx, batch: &mut Batch, activity: &Activity) -> Result<(), StoreError> {
    let id = *activity.id.as_bytes();
    let before = batch.get(&id).cloned();
    let mut facts = before.clone().unwrap_or(Facts {
        org_id: *activity.org_id.as_bytes(),
        title: String::new(),
        org_name: String::new(),
        kind: None,
        listed: None,
        mine: None,
    });
    if facts.org_name.is_empty() || facts.org_id != *activity.org_id.as_bytes() {
        facts.org_name = batch.org_name(tx, activity.org_id).await?;
    }
    facts.org_id = *activity.org_id.as_bytes();
    facts.title = activity.title.clone();
    facts.kind = Some(activity.kind.as_str().to_owned());
    facts.listed = Some(Listed {
        starts_at: activity.starts_at,
        ends_at: activity.ends_at,
        place: activity.place.clone(),
    });
    if let Some(before) = before.filter(|before| *before != facts) {
        outbox::keep_texts(tx, &before).await?;
    }
    batch.set(id, facts);
    Ok(())
}

/// The activity of a check-in the server sent; unknown ones are learned from it.
pub(super) fn of_check_in(batch: &Batch, check_in: &CheckIn) -> Facts {
    batch
        .get(check_in.activity_id.as_bytes())
        .cloned()
        .unwrap_or_else(|| Facts {
            org_id: *check_in.org_id.as_bytes(),
            title: check_in.title.clone(),
            org_name: check_in.org_name.clone(),
            kind: Some(check_in.kind.as_str().to_owned()),
            listed: None,
            mine: None,
        })
}

/// The server took the activity away: forgotten, unless the member checked in to it.
pub(super) fn forget(batch: &mut Batch, id: [u8; 16]) {
    match batch.get(&id).cloned() {
        Some(mut facts) if facts.mine.is_some() => {
            facts.listed = None;
            batch.set(id, facts);
        }
        _ => batch.remove(id),
    }
}

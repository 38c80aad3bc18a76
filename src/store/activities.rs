//! What the phone knows of each activity, once per activity, and whether this member checked in to it: the
//! titles and organisation names every check-in shows are kept here, not in each check-in, and "have I
//! checked in to this activity" is one read by its id.
//!
//! An organisation's name is kept once, in its record, when the phone has that record: an activity keeps the
//! name itself only when it differs or the phone has no record of the organisation. `get` and `Batch` give
//! the facts with the name filled in, and `put` and `Batch::store` leave it out again where the record has it
//! (a check-in marks its activity's record, and a smaller record costs fewer bytes to write again). When an
//! organisation's record is renamed or goes away, its activities take the old name themselves first
//! (`keep_org_name`), so a waiting check-in is still sent exactly as it was scanned.
//!
//! An activity becomes known from a pull (its organisation's activities), from a scanned code (its name and
//! organisation, signed), or from a check-in the server sent (made on another phone). When the server takes it
//! away (cancelled, or the member moved on) but the member checked in to it, it stays, unlisted: check-ins are
//! facts and keep their titles.

use std::collections::{BTreeSet, HashMap};

use futures_util::future::try_join;
use guihai_core::checkin::CheckIn;
use guihai_core::domain::{Activity, ActivityKind, VolunteerTeam};
use guihai_core::qr::Code;
use guihai_core::sync::{Op, Record};
use guihai_core::Id;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::codec::{bytes_of, from_binary_with_tail, from_json, to_binary_with_tail};
use super::idb::{id_key, Tx};
use super::{outbox, read, StoreError, ACTIVITIES, RECORDS};

/// One activity as the phone keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub org_id: [u8; 16],
    pub title: String,
    /// The organisation's name, as a code or a check-in gave it, or its record (see above).
    pub org_name: String,
    /// The activity's kind (`ActivityKind::as_str`), when known: a scanned code does not say.
    pub kind: Option<String>,
    /// From the organisation's published activity; `None` when only known from a code or a check-in, or
    /// withdrawn since.
    pub listed: Option<Listed>,
    pub mine: Option<Mine>,
    /// The team and notes of a published activity, when it has either. Last, so that facts stored before it
    /// existed still read (`decode`).
    pub details: Option<Details>,
    /// Who a published activity is for and the hours it credits, when not the usual (open to all, no hours):
    /// stored after the fields above (`encode`), so that facts stored before it read back as they are.
    #[serde(skip)]
    pub terms: Option<Terms>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub open_to_visitors: bool,
    pub hours_tenths: Option<u16>,
}

fn encode(facts: &Facts) -> JsValue {
    to_binary_with_tail(facts, facts.terms.as_ref())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// `VolunteerTeam::as_str`.
    pub team: Option<String>,
    pub notes: Option<String>,
}

/// Facts as the phone stored them before `details`.
#[derive(Deserialize)]
struct FactsBeforeDetails {
    org_id: [u8; 16],
    title: String,
    org_name: String,
    kind: Option<String>,
    listed: Option<Listed>,
    mine: Option<Mine>,
}

/// Stored facts, of this build (with or without `terms`) or of one before `details`: postcard's fields follow
/// one another, so facts stored before end where `details` would start.
pub(super) fn decode(value: &JsValue) -> Option<Facts> {
    if let Some((facts, terms)) = from_binary_with_tail::<Facts, Terms>(value) {
        return Some(Facts { terms, ..facts });
    }
    let before = postcard::from_bytes::<FactsBeforeDetails>(&bytes_of(value)?).ok()?;
    Some(Facts {
        org_id: before.org_id,
        title: before.title,
        org_name: before.org_name,
        kind: before.kind,
        listed: before.listed,
        mine: before.mine,
        details: None,
        terms: None,
    })
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
            details: None,
            terms: None,
        }
    }

    /// The activity as its organisation published it, if it did (and the phone still lists it).
    pub fn published(&self, id: Id) -> Option<Activity> {
        let listed = self.listed.as_ref()?;
        let details = self.details.as_ref();
        Some(Activity {
            id,
            org_id: Id::from_bytes(self.org_id),
            title: self.title.clone(),
            kind: self.kind().unwrap_or_default(),
            starts_at: listed.starts_at,
            ends_at: listed.ends_at,
            place: listed.place.clone(),
            team: details.and_then(|d| d.team.as_deref()).and_then(VolunteerTeam::parse),
            notes: details.and_then(|d| d.notes.clone()),
            open_to_visitors: self.terms.is_none_or(|t| t.open_to_visitors),
            hours_tenths: self.terms.and_then(|t| t.hours_tenths),
        })
    }

    /// Whether a code's texts and organisation are exactly what these facts say, so that a waiting check-in
    /// need not keep them itself (`outbox::QueuedCheckIn::texts`).
    pub fn reproduces(&self, code: &Code, org_id: Id) -> bool {
        self.org_id == *org_id.as_bytes()
            && code.carried(&self.title) == code.name
            && code.carried(&self.org_name) == code.detail
    }
}

/// The activity's facts, its organisation's name filled in (the transaction must cover `records`).
pub async fn get(tx: &Tx, activity_id: &[u8; 16]) -> Result<Option<Facts>, StoreError> {
    let Some(mut facts) = get_stored(tx, activity_id).await? else {
        return Ok(None);
    };
    if facts.org_name.is_empty() {
        facts.org_name = record_name(tx, Id::from_bytes(facts.org_id)).await?;
    }
    Ok(Some(facts))
}

async fn get_stored(tx: &Tx, activity_id: &[u8; 16]) -> Result<Option<Facts>, StoreError> {
    Ok(tx
        .get(ACTIVITIES, &id_key(activity_id))
        .await?
        .as_ref()
        .and_then(decode))
}

/// What the phone knows of an activity whose code names `org_id`, and the name of `org_id`'s record ("" when
/// the phone holds none), both asked at once (`put_named` takes the name back).
pub(super) async fn get_for_code(
    tx: &Tx,
    activity_id: &[u8; 16],
    org_id: Id,
) -> Result<(Option<Facts>, String), StoreError> {
    let (stored, record) = try_join(get_stored(tx, activity_id), record_name(tx, org_id)).await?;
    let Some(mut facts) = stored else {
        return Ok((None, record));
    };
    if facts.org_name.is_empty() {
        facts.org_name = match facts.org_id == *org_id.as_bytes() {
            true => record.clone(),
            false => record_name(tx, Id::from_bytes(facts.org_id)).await?,
        };
    }
    Ok((Some(facts), record))
}

/// Stores the facts, leaving the organisation's name out where its record has it.
pub async fn put(tx: &Tx, activity_id: &[u8; 16], facts: &Facts) -> Result<(), StoreError> {
    let record = record_name(tx, Id::from_bytes(facts.org_id)).await?;
    put_named(tx, activity_id, facts, &record)
}

/// `put`, with the name of the organisation's record already read.
pub(super) fn put_named(tx: &Tx, activity_id: &[u8; 16], facts: &Facts, record_name: &str) -> Result<(), StoreError> {
    if !facts.org_name.is_empty() && facts.org_name == record_name {
        let facts = Facts {
            org_name: String::new(),
            ..facts.clone()
        };
        return tx.put(ACTIVITIES, &id_key(activity_id), &encode(&facts));
    }
    tx.put(ACTIVITIES, &id_key(activity_id), &encode(facts))
}

/// The name of the organisation `org_id` as the phone holds its record, read in the transaction, "" when it
/// does not.
pub async fn record_name(tx: &Tx, org_id: Id) -> Result<String, StoreError> {
    let stored = tx.get(RECORDS, &JsValue::from_str(&format!("org:{org_id}"))).await?;
    Ok(match stored.as_ref().and_then(from_json::<Record>) {
        Some(Record::Organisation(org)) => org.name,
        _ => String::new(),
    })
}

/// The activities a batch of writes touches (a page of pulled changes, a push answer), read all at once at the
/// start and written back once at the end, whatever each write did to them in between.
pub(super) struct Batch {
    known: HashMap<[u8; 16], Option<Facts>>,
    changed: BTreeSet<[u8; 16]>,
    /// Organisation names read from `records` for this batch.
    org_names: HashMap<Id, String>,
    /// The activities whose organisation's name was filled in from its record when read.
    named_by_record: BTreeSet<[u8; 16]>,
}

impl Batch {
    /// Reads the activities `ids` (the transaction must cover `records`), their organisations' names filled in.
    pub async fn load(tx: &Tx, ids: impl IntoIterator<Item = [u8; 16]>) -> Result<Batch, StoreError> {
        let ids: BTreeSet<[u8; 16]> = ids.into_iter().collect();
        let values = tx.get_ids(ACTIVITIES, &ids).await?;
        let mut batch = Batch {
            known: HashMap::with_capacity(ids.len()),
            changed: BTreeSet::new(),
            org_names: HashMap::new(),
            named_by_record: BTreeSet::new(),
        };
        for (id, value) in ids.into_iter().zip(values) {
            let mut facts: Option<Facts> = value.as_ref().and_then(decode);
            if let Some(facts) = facts.as_mut().filter(|facts| facts.org_name.is_empty()) {
                facts.org_name = batch.org_name(tx, Id::from_bytes(facts.org_id)).await?;
                batch.named_by_record.insert(id);
            }
            batch.known.insert(id, facts);
        }
        Ok(batch)
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

    /// `record_name`, read once a batch (a page may bring the organisation before its activities).
    async fn org_name(&mut self, tx: &Tx, org_id: Id) -> Result<String, StoreError> {
        if let Some(name) = self.org_names.get(&org_id) {
            return Ok(name.clone());
        }
        let name = record_name(tx, org_id).await?;
        self.org_names.insert(org_id, name.clone());
        Ok(name)
    }

    pub async fn store(mut self, tx: &Tx) -> Result<(), StoreError> {
        for id in std::mem::take(&mut self.changed) {
            match self.known.get(&id).cloned().flatten() {
                Some(facts) => {
                    let record = self.org_name(tx, Id::from_bytes(facts.org_id)).await?;
                    put_named(tx, &id, &facts, &record)?;
                }
                None => tx.delete(ACTIVITIES, &id_key(&id))?,
            }
        }
        Ok(())
    }
}

/// A pulled activity. A check-in waiting on texts that change here takes its own copy first, so it is sent
/// exactly as it was scanned. A pulled activity does not name its organisation: the organisation's record
/// does, when the phone has it (kept there, see above).
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
        details: None,
        terms: None,
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
    facts.details = (activity.team.is_some() || activity.notes.is_some()).then(|| Details {
        team: activity.team.map(|team| team.as_str().to_owned()),
        notes: activity.notes.clone(),
    });
    facts.terms = (!activity.open_to_visitors || activity.hours_tenths.is_some()).then_some(Terms {
        open_to_visitors: activity.open_to_visitors,
        hours_tenths: activity.hours_tenths,
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
            details: None,
            terms: None,
        })
}

/// The server took the activity away: forgotten, unless the member checked in to it.
pub(super) fn forget(batch: &mut Batch, id: [u8; 16]) {
    match batch.get(&id).cloned() {
        Some(mut facts) if facts.mine.is_some() => {
            facts.listed = None;
            facts.details = None;
            batch.set(id, facts);
        }
        _ => batch.remove(id),
    }
}

/// The activity a secretary's write publishes or cancels.
pub(super) fn written_by(op: &Op) -> Option<[u8; 16]> {
    match op {
        Op::PublishActivity(activity) => Some(*activity.id.as_bytes()),
        Op::CancelActivity { id } => Some(*id.as_bytes()),
        _ => None,
    }
}

/// A secretary's write the server took (`outbox::settle`): the activity as published, or cancelled.
pub(super) async fn settled(tx: &Tx, batch: &mut Batch, op: &Op) -> Result<(), StoreError> {
    match op {
        Op::PublishActivity(activity) => pulled(tx, batch, activity).await,
        Op::CancelActivity { id } => {
            forget(batch, *id.as_bytes());
            Ok(())
        }
        _ => Ok(()),
    }
}

/// One activity as its organisation published it, if the phone lists it: one read.
pub async fn published_one(id: Id) -> Result<Option<Activity>, StoreError> {
    read(&[ACTIVITIES, RECORDS], async |tx| {
        Ok(get(tx, id.as_bytes()).await?.and_then(|facts| facts.published(id)))
    })
    .await
}

/// The activities the member's organisations publish, as the phone holds them, each with whether the member
/// checked in to it. One pass over the activities: an organisation holds a few hundred a year.
pub async fn published() -> Result<Vec<(Activity, bool)>, StoreError> {
    read(&[ACTIVITIES], async |tx| {
        let mut published = Vec::new();
        tx.walk(ACTIVITIES, None, false, |key, value| {
            let id = super::idb::key_id(&key).map(Id::from_bytes);
            if let (Some(id), Some(facts)) = (id, decode(&value)) {
                if let Some(activity) = facts.published(id) {
                    published.push((activity, facts.mine.is_some()));
                }
            }
            true
        })
        .await?;
        Ok(published)
    })
    .await
}

/// The organisation `org_id`'s record is about to be renamed or to go away: its activities that took their
/// organisation's name from it keep `old_name` themselves, so what they show, and the codes waiting check-ins
/// are rebuilt from, stay as they were. One pass over the activities, on an event as rare as a renaming.
pub(super) async fn keep_org_name(tx: &Tx, batch: &mut Batch, org_id: Id, new_name: &str) -> Result<(), StoreError> {
    let old_name = record_name(tx, org_id).await?;
    if old_name.is_empty() || old_name == new_name {
        return Ok(());
    }
    let mut relying = Vec::new();
    tx.walk(ACTIVITIES, None, false, |key, value| {
        if let (Some(id), Some(facts)) = (super::idb::key_id(&key), decode(&value)) {
            if facts.org_id == *org_id.as_bytes() && facts.org_name.is_empty() && !batch.known.contains_key(&id) {
                relying.push((id, facts));
            }
        }
        true
    })
    .await?;
    for (id, facts) in relying {
        let facts = Facts {
            org_name: old_name.clone(),
            ..facts
        };
        tx.put(ACTIVITIES, &id_key(&id), &encode(&facts))?;
    }
    // The batch's own carry the old name already (filled in when read): written again, they keep it.
    let named: Vec<[u8; 16]> = batch
        .named_by_record
        .iter()
        .filter(|id| batch.get(id).is_some_and(|facts| facts.org_id == *org_id.as_bytes()))
        .copied()
        .collect();
    batch.changed.extend(named);
    batch.org_names.insert(org_id, new_name.to_owned());
    Ok(())
}

//! What the phone holds of the server's data (the last pulled state) and of its own session. Pulled records
//! are stored one key each under `rec:<record key>`.

use guihai_core::certificate::{Review, Stop};
use guihai_core::checkin::CheckIn;
use guihai_core::domain::Me;
use guihai_core::profile::Profile;
use guihai_core::qr::TrustedKey;
use guihai_core::report::Report;
use guihai_core::sync::{Change, Record, SessionResponse};
use guihai_core::Id;
use serde::{Deserialize, Serialize};

use crate::store::{self, StoreError};

/// The device session: the token never leaves this phone except in the Authorization header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub client_id: Id,
}

const SESSION: &str = "session";
const CLIENT_ID: &str = "client_id";

pub fn session() -> Option<Session> {
    store::get(SESSION)
}

/// This installation's sync identity, made once and kept across sessions.
pub fn client_id() -> Id {
    store::get(CLIENT_ID).unwrap_or_else(|| {
        let id = crate::clock::new_id();
        let _ = store::set(CLIENT_ID, &id);
        id
    })
}

/// Keeps a new session with the member's record and the signing keys it came with.
pub fn save_session(response: SessionResponse, client_id: Id) -> Result<(), StoreError> {
    let records = std::iter::once(Record::Me(response.me)).chain(response.keys.into_iter().map(Record::Key));
    let mut entries: Vec<(String, serde_json::Value)> = records.map(|r| (record_key(&r.key()), json(&r))).collect();
    entries.push((
        SESSION.to_owned(),
        json(&Session {
            token: response.token,
            client_id,
        }),
    ));
    store::set_all(&entries)
}

/// Forgets the session (it was revoked or expired) but keeps every record and the outbox.
pub fn end_session() {
    store::remove(SESSION);
}

/// Forgets everything of the member on this phone: records, outbox, session, and the installation's client id
/// (the server binds it to one person, so the next person to sign in here gets a new one).
pub fn wipe() {
    store::clear_except(&[crate::i18n::LOCALE_KEY, store::SCHEMA_KEY]);
}

fn record_key(key: &str) -> String {
    format!("rec:{key}")
}

fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("records serialise")
}

fn records(prefix: &str) -> impl Iterator<Item = Record> {
    store::values_with_prefix::<Record>(&record_key(prefix)).into_iter()
}

pub fn me() -> Option<Me> {
    match store::get(&record_key("me")) {
        Some(Record::Me(me)) => Some(me),
        _ => None,
    }
}

/// The member's profile as last pulled (empty before the first pull).
pub fn profile() -> Profile {
    match store::get(&record_key("profile")) {
        Some(Record::Profile(profile)) => profile,
        _ => Profile::default(),
    }
}

/// A pulled record by its key (core's `Record::key`).
pub fn record(key: &str) -> Option<Record> {
    store::get(&record_key(key))
}

pub fn stops() -> Vec<Stop> {
    records("stop:")
        .filter_map(|r| if let Record::Stop(stop) = r { Some(stop) } else { None })
        .collect()
}

pub fn reviews() -> Vec<Review> {
    records("review:")
        .filter_map(|r| {
            if let Record::Review(review) = r {
                Some(review)
            } else {
                None
            }
        })
        .collect()
}

pub fn reports() -> Vec<Report> {
    records("report:")
        .filter_map(|r| {
            if let Record::Report(report) = r {
                Some(report)
            } else {
                None
            }
        })
        .collect()
}

/// Since when (Unix seconds) the organisation's codes are valid: earlier ones were withdrawn.
pub fn org_code_since(org_id: Id) -> u32 {
    match record(&format!("orgcode:{org_id}")) {
        Some(Record::OrgCode(since)) => since.valid_since,
        _ => 0,
    }
}

pub fn trusted_keys() -> Vec<TrustedKey> {
    records("key:")
        .filter_map(|r| if let Record::Key(key) = r { Some(key) } else { None })
        .collect()
}

pub fn synced_check_ins() -> Vec<CheckIn> {
    records("checkin:")
        .filter_map(|r| if let Record::CheckIn(c) = r { Some(c) } else { None })
        .collect()
}

/// Applies pulled changes. Stops at the first failed write so the caller does not advance its cursor past
/// changes it did not keep.
pub fn apply_changes(changes: &[Change]) -> Result<(), StoreError> {
    for change in changes {
        match change {
            Change::Upsert { record } => {
                store::set(&record_key(&record.key()), record)?;
                match record {
                    Record::CheckIn(check_in) => crate::checkin::forget_pending(check_in.id),
                    Record::Report(report) => crate::report::forget_pending(report.id),
                    _ => {}
                }
            }
            Change::Delete { key } => store::remove(&record_key(key)),
        }
    }
    Ok(())
}

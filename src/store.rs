//! The phone's local store: one localStorage key per record (so a write never rewrites a growing blob), with
//! the schema version of what is stored and the migrations between versions. Every write reports a full store
//! as its own error so the caller can say so plainly.

use gloo_storage::errors::StorageError;
use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Prefix of every key.
const PREFIX: &str = "gh1:";
/// The schema version of the local data this build reads and writes.
pub const SCHEMA: u32 = 1;
/// Where the stored data's version is kept.
pub const SCHEMA_KEY: &str = "schema";

/// One step of the local schema, from version `from` to `from + 1`, rewriting keys in place. A step may be
/// cut short (the tab closed) and then runs again, so it must be safe to run twice.
pub struct Migration {
    pub from: u32,
    pub run: fn() -> Result<(), StoreError>,
}

/// The steps from every earlier version to `SCHEMA`, oldest first.
const MIGRATIONS: &[Migration] = &[];

/// What opening the store found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// The data is in this build's schema (migrated if it had to be).
    Ready,
    /// A newer build of the app wrote it. This build must not touch it: a write it cannot read would look lost
    /// to it, and it could send the server a hole where that write was.
    Newer(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreError {
    /// The browser refused the write for lack of space (QuotaExceededError).
    Full,
    /// Storage is unavailable (private mode, disabled) or the value could not be encoded.
    Failed,
}

impl StoreError {
    /// Translation key of the message for the member.
    pub fn message_key(self) -> &'static str {
        match self {
            StoreError::Full => "store.full",
            StoreError::Failed => "store.failed",
        }
    }
}

fn full_key(key: &str) -> String {
    format!("{PREFIX}{key}")
}

pub fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    LocalStorage::get(full_key(key)).ok()
}

pub fn set<T: Serialize>(key: &str, value: &T) -> Result<(), StoreError> {
    LocalStorage::set(full_key(key), value).map_err(|error| match error {
        StorageError::JsError(js) if js.name == "QuotaExceededError" => StoreError::Full,
        _ => StoreError::Failed,
    })
}

pub fn remove(key: &str) {
    LocalStorage::delete(full_key(key));
}

/// Keys (without the prefix) that start with `prefix`, sorted.
pub fn keys_with_prefix(prefix: &str) -> Vec<String> {
    let wanted = full_key(prefix);
    // One `Object.keys` call: walking `key(i)` one index at a time costs Chromium a walk of its own each, which
    // made a store of a few thousand records slow to list.
    let all = js_sys::Object::keys(LocalStorage::raw().as_ref());
    let mut keys: Vec<String> = all
        .iter()
        .filter_map(|key| key.as_string())
        .filter(|key| key.starts_with(&wanted))
        .map(|key| key[PREFIX.len()..].to_owned())
        .collect();
    keys.sort();
    keys
}

/// Every value under `prefix`, in key order; unreadable entries are skipped rather than fatal.
pub fn values_with_prefix<T: DeserializeOwned>(prefix: &str) -> Vec<T> {
    keys_with_prefix(prefix).iter().filter_map(|key| get(key)).collect()
}

/// Removes every key of the app except `keep`.
pub fn clear_except(keep: &[&str]) {
    for key in keys_with_prefix("") {
        if !keep.contains(&key.as_str()) {
            remove(&key);
        }
    }
}

/// Brings the stored data to this build's schema; call before anything reads the store.
pub fn open() -> Result<Opened, StoreError> {
    open_with(SCHEMA, MIGRATIONS)
}

/// `open` with the target version and steps given (tests use their own).
pub fn open_with(target: u32, migrations: &[Migration]) -> Result<Opened, StoreError> {
    let version = match get::<u32>(SCHEMA_KEY) {
        Some(version) => version,
        // Data from before versions were recorded is version 1; an empty store is new.
        None if keys_with_prefix("").is_empty() => target,
        None => 1,
    };
    if version > target {
        return Ok(Opened::Newer(version));
    }
    for step in migrations.iter().filter(|m| (version..target).contains(&m.from)) {
        (step.run)()?;
        set(SCHEMA_KEY, &(step.from + 1))?;
    }
    set(SCHEMA_KEY, &target)?;
    Ok(Opened::Ready)
}

/// Writes several entries; if one fails, the ones this call wrote are taken back so the store never holds
/// half a record.
pub fn set_all(entries: &[(String, serde_json::Value)]) -> Result<(), StoreError> {
    for (done, (key, value)) in entries.iter().enumerate() {
        if let Err(error) = set(key, value) {
            entries[..done].iter().for_each(|(key, _)| remove(key));
            return Err(error);
        }
    }
    Ok(())
}

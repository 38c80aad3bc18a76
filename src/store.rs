//! The phone's local store: one localStorage key per record (so a write never rewrites a growing blob), under
//! a versioned prefix. Every write reports a full store as its own error so the caller can say so plainly.

use gloo_storage::errors::StorageError;
use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Prefix of every key; the number is the local data's schema version.
const PREFIX: &str = "gh1:";

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
    let storage = LocalStorage::raw();
    let wanted = full_key(prefix);
    let count = storage.length().unwrap_or(0);
    let mut keys: Vec<String> = (0..count)
        .filter_map(|i| storage.key(i).ok().flatten())
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

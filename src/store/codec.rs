//! How values are written into IndexedDB: the few kinds kept by the thousand (check-ins, activities, waiting
//! check-ins) as compact binary (postcard: the fields one after another, ids as their 16 bytes), everything else
//! as JSON text, which the server's records already are and which reads back across builds. Anything that does
//! not decode is `None`: the caller decides whether to set it aside as damaged, never to drop it silently.
//!
//! Binary is stored as a string of one-byte characters (each character one byte, U+0000 to U+00FF): Chromium
//! keeps such a string in about 6 bytes less than a `Uint8Array` of the same bytes (no buffer and view headers),
//! which counts by the ten thousand (docs/benchmarks.md). Values that earlier builds stored as `Uint8Array` read
//! back as they are.

use js_sys::Uint8Array;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

pub fn to_json<T: Serialize>(value: &T) -> JsValue {
    JsValue::from_str(&serde_json::to_string(value).expect("stored values serialise"))
}

/// Parsed from bytes, as every JSON the app reads is (core's `Reply::from_http` reads the server's answers so):
/// serde_json builds its readers once per input kind, and one kind keeps a second copy of every reader out of
/// the first load.
pub fn from_json<T: DeserializeOwned>(value: &JsValue) -> Option<T> {
    serde_json::from_slice(value.as_string()?.as_bytes()).ok()
}

pub fn to_binary<T: Serialize>(value: &T) -> JsValue {
    byte_string(&postcard::to_allocvec(value).expect("stored values serialise"))
}

pub fn from_binary<T: DeserializeOwned>(value: &JsValue) -> Option<T> {
    postcard::from_bytes(&bytes_of(value)?).ok()
}

/// `bytes` as they are stored: one character each.
pub fn byte_string(bytes: &[u8]) -> JsValue {
    let text: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    JsValue::from_str(&text)
}

/// The bytes of a stored binary value: a string of one-byte characters, or a `Uint8Array` as earlier builds
/// stored them; `None` for anything else.
pub fn bytes_of(value: &JsValue) -> Option<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Some(array.to_vec());
    }
    value
        .as_string()?
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// `value` in binary, followed by `tail` when there is one: how a binary value grows a field without making
/// the values stored before it unreadable (they simply end where the tail would start).
pub fn to_binary_with_tail<T: Serialize, U: Serialize>(value: &T, tail: Option<&U>) -> JsValue {
    let mut bytes = postcard::to_allocvec(value).expect("stored values serialise");
    if let Some(tail) = tail {
        bytes.extend(postcard::to_allocvec(tail).expect("stored values serialise"));
    }
    byte_string(&bytes)
}

/// A value written by `to_binary_with_tail` (or by `to_binary`, before it had a tail), with its tail if any.
pub fn from_binary_with_tail<T: DeserializeOwned, U: DeserializeOwned>(value: &JsValue) -> Option<(T, Option<U>)> {
    with_tail(&bytes_of(value)?)
}

/// `bytes` as `from_binary_with_tail` reads them.
pub fn with_tail<T: DeserializeOwned, U: DeserializeOwned>(bytes: &[u8]) -> Option<(T, Option<U>)> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).ok()?;
    let tail = match rest {
        [] => None,
        rest => Some(postcard::from_bytes(rest).ok()?),
    };
    Some((value, tail))
}

/// A stored value as it is, for an export: a `Uint8Array` as base64, anything else as JSON (a string of bytes
/// with its characters escaped).
pub fn raw(value: &JsValue) -> String {
    use base64::Engine as _;
    match value.dyn_ref::<Uint8Array>() {
        Some(bytes) => base64::engine::general_purpose::STANDARD.encode(bytes.to_vec()),
        None => js_sys::JSON::stringify(value)
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default(),
    }
}

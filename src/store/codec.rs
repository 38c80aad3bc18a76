//! How values are written into IndexedDB: the few kinds kept by the thousand (check-ins, activities, waiting
//! check-ins) as compact binary (postcard: the fields one after another, ids as their 16 bytes), everything else
//! as JSON text, which the server's records already are and which reads back across builds. Anything that does
//! not decode is `None`: the caller decides whether to set it aside as damaged, never to drop it silently.

use js_sys::Uint8Array;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

pub fn to_json<T: Serialize>(value: &T) -> JsValue {
    JsValue::from_str(&serde_json::to_string(value).expect("stored values serialise"))
}

pub fn from_json<T: DeserializeOwned>(value: &JsValue) -> Option<T> {
    serde_json::from_str(&value.as_string()?).ok()
}

pub fn to_binary<T: Serialize>(value: &T) -> JsValue {
    let bytes = postcard::to_allocvec(value).expect("stored values serialise");
    Uint8Array::from(&bytes[..]).into()
}

pub fn from_binary<T: DeserializeOwned>(value: &JsValue) -> Option<T> {
    let bytes = value.dyn_ref::<Uint8Array>()?.to_vec();
    postcard::from_bytes(&bytes).ok()
}

/// `value` in binary, followed by `tail` when there is one: how a binary value grows a field without making
/// the values stored before it unreadable (they simply end where the tail would start).
pub fn to_binary_with_tail<T: Serialize, U: Serialize>(value: &T, tail: Option<&U>) -> JsValue {
    let mut bytes = postcard::to_allocvec(value).expect("stored values serialise");
    if let Some(tail) = tail {
        bytes.extend(postcard::to_allocvec(tail).expect("stored values serialise"));
    }
    Uint8Array::from(&bytes[..]).into()
}

/// A value written by `to_binary_with_tail` (or by `to_binary`, before it had a tail), with its tail if any.
pub fn from_binary_with_tail<T: DeserializeOwned, U: DeserializeOwned>(value: &JsValue) -> Option<(T, Option<U>)> {
    let bytes = value.dyn_ref::<Uint8Array>()?.to_vec();
    let (value, rest) = postcard::take_from_bytes::<T>(&bytes).ok()?;
    let tail = match rest {
        [] => None,
        rest => Some(postcard::from_bytes(rest).ok()?),
    };
    Some((value, tail))
}

/// A stored value as it is, for an export: binary as base64, text as it is.
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

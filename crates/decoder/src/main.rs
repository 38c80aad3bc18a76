//! The scanner's Web Worker: Trunk builds this binary (`data-type="worker"` in index.html) with a loader
//! shim that runs `main`. Protocol with `src/pages/scan.js`: the worker says `{ready: true}` once it can take frames;
//! then each `{width, height, pixels}` (an RGBA ArrayBuffer, transferred) gets `{text, ms}` back: the decoded
//! text or `null`, and how long decoding took. The secretary's door code uses it the other way round: each
//! `{draw: text}` gets `{path, modules}` back (core's `qr::drawing`), or `{path: null}` for a text too long.

use guihai_decoder::decode_rgba;
use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply_to = scope.clone();
    let on_frame = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let _ = reply_to.post_message(&answer(&event.data()));
    });
    scope.set_onmessage(Some(on_frame.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    on_frame.forget();
    let _ = scope.post_message(&message(&[("ready", JsValue::TRUE)]));
}

/// Decodes one frame message (a malformed one reads as "no code", like a frame without one), or draws one text.
fn answer(data: &JsValue) -> JsValue {
    let started = now();
    let field = |name: &str| Reflect::get(data, &name.into()).ok();
    if let Some(text) = field("draw").and_then(|text| text.as_string()) {
        return match guihai_core::qr::drawing::draw(&text) {
            Some(drawing) => message(&[("path", drawing.path.into()), ("modules", drawing.modules.into())]),
            None => message(&[("path", JsValue::NULL)]),
        };
    }
    let size = |name: &str| field(name).and_then(|v| v.as_f64()).map(|n| n as usize);
    let text = match (size("width"), size("height"), field("pixels")) {
        (Some(width), Some(height), Some(pixels)) if pixels.is_instance_of::<js_sys::ArrayBuffer>() => {
            decode_rgba(&Uint8Array::new(&pixels).to_vec(), width, height)
        }
        _ => None,
    };
    let text = text.map_or(JsValue::NULL, |text| text.into());
    message(&[("text", text), ("ms", (now() - started).into())])
}

fn message(fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &(*name).into(), value);
    }
    object.into()
}

/// Milliseconds from the worker's clock, with sub-millisecond precision where the browser gives it.
fn now() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .map_or_else(js_sys::Date::now, |performance| performance.now())
}

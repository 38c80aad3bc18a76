//! The phone's clock and randomness, handed to the pure core (which takes them as arguments).

use guihai_core::Id;

pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// The server's time as this phone best knows it (its own clock corrected at the last sync), in Unix seconds:
/// what a code's validity window is judged by, so a phone whose clock is days off still accepts a valid code.
pub fn server_now_secs() -> u32 {
    let offset = crate::store::cache::with(|c| c.meta.clock_offset_ms);
    ((now_ms() + offset) / 1000) as u32
}

/// Runs `f` once the next frame is painted: work that may follow a confirmation, but must not hold it up.
pub fn after_paint(f: impl FnOnce() + 'static) {
    leptos::prelude::request_animation_frame(move || leptos::prelude::set_timeout(f, std::time::Duration::ZERO));
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .expect("Web Crypto is available");
    crypto
        .get_random_values_with_u8_array(&mut bytes)
        .expect("getRandomValues succeeds for small arrays");
    bytes
}

/// A fresh record id made on this phone.
pub fn new_id() -> Id {
    stamped_id().0
}

/// A fresh record id and the time it was made at, which the id holds (a waiting check-in keeps its time once,
/// in its id: `store::outbox`).
pub fn stamped_id() -> (Id, i64) {
    let now = now_ms();
    (Id::new_v7(now as u64, random_bytes()), now)
}

/// Random number in [0, 1) for backoff jitter.
pub fn jitter() -> f64 {
    js_sys::Math::random()
}

/// Local date for display.
pub fn format_date(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{}-{:02}-{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date()
    )
}

/// Local date and time as a `datetime-local` input takes it: `2026-11-30T14:00`.
#[cfg(feature = "staff")]
pub fn input_time(ms: i64) -> String {
    format_time(ms).replacen(' ', "T", 1)
}

/// A `datetime-local` input's value (local time) in Unix milliseconds, if it is one.
#[cfg(feature = "staff")]
pub fn parse_input_time(text: &str) -> Option<i64> {
    if text.len() != "2026-11-30T14:00".len() {
        return None;
    }
    let ms = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(text)).get_time();
    ms.is_finite().then_some(ms as i64)
}

/// Local date and time for display.
pub fn format_time(ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes()
    )
}

/// A span of the app's own work, written to the browser's performance timeline as a measure named `name`
/// (DevTools shows it; the benchmarks read it): cheap, and nothing if the browser has no timeline.
pub struct Timing {
    name: &'static str,
    started: f64,
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window().and_then(|w| w.performance())
}

impl Timing {
    pub fn start(name: &'static str) -> Timing {
        let started = performance().map_or(0.0, |performance| {
            let _ = performance.mark(&format!("{name}:start"));
            performance.now()
        });
        Timing { name, started }
    }

    /// Ends the measure; returns how long it took, in whole milliseconds.
    pub fn end(self) -> u64 {
        let Some(performance) = performance() else { return 0 };
        let start = format!("{}:start", self.name);
        let _ = performance.measure_with_start_mark(self.name, &start);
        performance.clear_marks_with_mark_name(&start);
        (performance.now() - self.started) as u64
    }
}

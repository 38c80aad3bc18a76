//! The server's clock and randomness: the only places it reads the time or draws random bytes.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use guihai_core::Id;
use rand::rngs::OsRng;
use rand::RngCore as _;

/// How far this process's clock runs ahead of the system's: 0, unless a test of the real binary set it
/// (`--test-clock-ahead-days`, see `run_ahead`).
static AHEAD_MS: AtomicI64 = AtomicI64::new(0);

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis())
        .unwrap_or(i64::MAX)
        .saturating_add(AHEAD_MS.load(Ordering::Relaxed))
}

/// Tests only: this process's clock runs `days` ahead from now on, so that a test can see what a long silence
/// does (a session's end) without waiting for it.
pub fn run_ahead(days: u32) {
    AHEAD_MS.store(i64::from(days) * 86_400_000, Ordering::Relaxed);
}

/// China Standard Time (UTC+8, no daylight saving): the time of every date staff see, month and year counted.
pub const CHINA: time::UtcOffset = time::macros::offset!(+8);

/// Unix milliseconds of the midnight, China time, that starts `date`.
pub fn china_midnight_ms(date: time::Date) -> i64 {
    date.midnight().assume_offset(CHINA).unix_timestamp() * 1000
}

/// Unix milliseconds to the Unix seconds of a code's validity window, clamped to what a code can hold.
pub fn unix_secs(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(1000).max(0)).unwrap_or(u32::MAX)
}

/// The calendar year (UTC) of a Unix millisecond time (Howard Hinnant's days-to-civil algorithm).
pub fn year_of(ms: i64) -> i64 {
    civil(ms).0
}

/// `YYYY-MM-DD` of a Unix ms time, in China's time zone (UTC+8), where the people and the paperwork are.
pub fn date_of(ms: i64) -> String {
    let (y, m, d) = civil(ms + 8 * 3_600_000);
    format!("{y:04}-{m:02}-{d:02}")
}

/// (year, month, day) of a Unix ms time in UTC (Howard Hinnant's days-to-civil).
fn civil(ms: i64) -> (i64, i64, i64) {
    let days = ms.div_euclid(86_400_000) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    (year_of_era + era * 400 + i64::from(month_index >= 10), month, day)
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A fresh UUIDv7 for a record made on the server.
pub fn new_id() -> Id {
    Id::new_v7(u64::try_from(now_ms()).unwrap_or_default(), random_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_seconds_are_clamped_not_wrapped() {
        assert_eq!(unix_secs(1_700_000_000_999), 1_700_000_000);
        assert_eq!(unix_secs(-1), 0);
        assert_eq!(unix_secs(i64::MAX), u32::MAX);
    }

    #[test]
    fn years_turn_at_midnight_utc_on_new_years_day() {
        assert_eq!(year_of(0), 1970);
        assert_eq!(year_of(1_798_761_599_999), 2026, "2026-12-31T23:59:59.999Z");
        assert_eq!(year_of(1_798_761_600_000), 2027);
        assert_eq!(year_of(951_782_400_000), 2000, "2000-02-29");
        assert_eq!(date_of(951_782_400_000), "2000-02-29");
        assert_eq!(
            date_of(1_798_761_599_999),
            "2027-01-01",
            "already the new year in China"
        );
    }
}

//! The server's clock and randomness: the only places it reads the time or draws random bytes.

use std::time::{SystemTime, UNIX_EPOCH};

use guihai_core::Id;
use rand::rngs::OsRng;
use rand::RngCore as _;

/// Now, in Unix milliseconds.
pub fn now_ms() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

/// Unix milliseconds to the Unix seconds of a code's validity window, clamped to what a code can hold.
pub fn unix_secs(ms: i64) -> u32 {
    u32::try_from(ms.div_euclid(1000).max(0)).unwrap_or(u32::MAX)
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
}

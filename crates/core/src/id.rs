//! Record ids born where the record is made (on a phone, offline): UUIDv7, so ids sort by creation time.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A UUID, written in its usual hyphenated lowercase text form on the wire and in storage.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Id([u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid id")]
pub struct BadId;

impl Id {
    /// A version-7 UUID from a Unix time in milliseconds and ten random bytes (the caller owns the clock and
    /// the randomness, which keeps this crate pure).
    pub fn new_v7(unix_ms: u64, random: [u8; 10]) -> Id {
        let mut b = [0u8; 16];
        b[..6].copy_from_slice(&unix_ms.to_be_bytes()[2..]);
        b[6..].copy_from_slice(&random);
        b[6] = 0x70 | (b[6] & 0x0f);
        b[8] = 0x80 | (b[8] & 0x3f);
        Id(b)
    }

    /// The Unix time in milliseconds a version-7 id was made at (`new_v7`); `None` for any other id.
    pub fn unix_ms(&self) -> Option<u64> {
        if self.0[6] >> 4 != 7 {
            return None;
        }
        let mut time = [0u8; 8];
        time[2..].copy_from_slice(&self.0[..6]);
        Some(u64::from_be_bytes(time))
    }

    pub const fn from_bytes(bytes: [u8; 16]) -> Id {
        Id(bytes)
    }

    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub fn parse(text: &str) -> Result<Id, BadId> {
        let hex: Vec<u8> = text.bytes().filter(|&c| c != b'-').collect();
        let dashes_ok = text.len() == 36 && [8, 13, 18, 23].iter().all(|&i| text.as_bytes()[i] == b'-');
        if hex.len() != 32 || !dashes_ok {
            return Err(BadId);
        }
        let mut b = [0u8; 16];
        for (i, pair) in hex.chunks(2).enumerate() {
            b[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(Id(b))
    }
}

fn nibble(c: u8) -> Result<u8, BadId> {
    match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(BadId),
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Into a buffer at once: the server writes ids into every statement of a push, and formatting them a
        // byte at a time was a tenth of its work.
        let mut text = uuid::Uuid::encode_buffer();
        f.write_str(uuid::Uuid::from_bytes(self.0).hyphenated().encode_lower(&mut text))
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl TryFrom<String> for Id {
    type Error = BadId;
    fn try_from(text: String) -> Result<Id, BadId> {
        Id::parse(&text)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.to_string()
    }
}

impl std::str::FromStr for Id {
    type Err = BadId;
    fn from_str(text: &str) -> Result<Id, BadId> {
        Id::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v7_round_trips_and_sorts_by_time() {
        let a = Id::new_v7(1_700_000_000_000, [0xff; 10]);
        let b = Id::new_v7(1_700_000_000_001, [0x00; 10]);
        assert!(a < b);
        let text = a.to_string();
        assert_eq!(&text[14..15], "7", "version nibble");
        assert_eq!(Id::parse(&text), Ok(a));
        assert_eq!(Id::parse(&text.to_uppercase()), Ok(a));
        let bytes = [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
        ];
        assert_eq!(
            Id::from_bytes(bytes).to_string(),
            "01234567-89ab-cdef-fedc-ba9876543210"
        );
    }

    #[test]
    fn a_v7_id_gives_back_its_time_and_no_other_id_claims_one() {
        for ms in [0, 1, 1_700_000_000_123, (1 << 48) - 1] {
            assert_eq!(Id::new_v7(ms, [0xab; 10]).unix_ms(), Some(ms));
        }
        assert_eq!(Id::from_bytes([0; 16]).unix_ms(), None);
        let mut v4 = Id::new_v7(5, [0; 10]).0;
        v4[6] = 0x40;
        assert_eq!(Id::from_bytes(v4).unix_ms(), None);
    }

    #[test]
    fn rejects_malformed_text() {
        for bad in [
            "",
            "0190",
            "0190163d-8694-739b-aea5-966c26f8ad9",
            "0190163d-8694-739b-aea5-966c26f8ad9g",
            "0190163d88694-739b-aea5-966c26f8ad91",
        ] {
            assert_eq!(Id::parse(bad), Err(BadId), "{bad}");
        }
    }
}

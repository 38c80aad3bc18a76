//! The signed codes behind every QR code (QR.md): organisation codes (报到码), activity codes (签到码) and
//! member cards. A code is a link `https://HOST/q/<payload>`; the payload is compact binary in base64url,
//! signed with Ed25519, so a phone that synced once can check it with no network.
//!
//! Payload layout, version 1 (all integers big-endian):
//! `version u8 | kind u8 | key_id u16 | subject ids (16 bytes each) | valid_from u32 | valid_until u32 |
//!  name (u8 length + UTF-8) | detail (u8 length + UTF-8) | Ed25519 signature (64)`.
//! The signature covers `SIGNING_CONTEXT` followed by every byte before it, so a signature made for another
//! purpose can never pass as a Guihai code.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::Id;

pub mod door;
pub mod drawing;

pub use door::{DoorCertificate, DoorSigner, RevokedDoorKey};

const VERSION: u8 = 1;
const SIGNING_CONTEXT: &[u8] = b"guihai/qr/1";
/// Path prefix of every code link.
pub const LINK_PATH: &str = "/q/";
/// Longest payload text we even try to decode: untrusted input is bounded before any work is done.
pub const MAX_PAYLOAD_CHARS: usize = 600;
/// Longest text field, in bytes, so a code stays small enough to scan on a cheap phone.
pub const MAX_TEXT_BYTES: usize = 120;

/// What a code is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    /// Report to this host organisation.
    Organisation { org_id: Id },
    /// Check in to this activity of this organisation.
    Activity { activity_id: Id, org_id: Id },
    /// This member is here.
    Member { member_id: Id },
}

impl Subject {
    fn tag(&self) -> u8 {
        match self {
            Subject::Organisation { .. } => 1,
            Subject::Activity { .. } => 2,
            Subject::Member { .. } => 3,
        }
    }

    fn ids(&self) -> Vec<Id> {
        match self {
            Subject::Organisation { org_id } => vec![*org_id],
            Subject::Activity { activity_id, org_id } => vec![*activity_id, *org_id],
            Subject::Member { member_id } => vec![*member_id],
        }
    }
}

/// The signed content of a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    pub subject: Subject,
    pub key_id: u16,
    /// Unix seconds; the code is valid from `valid_from` up to and excluding `valid_until`.
    pub valid_from: u32,
    pub valid_until: u32,
    /// What the phone shows without a network: organisation name, or activity title.
    pub name: String,
    /// A second line: the organisation's address, or the organisation holding the activity.
    pub detail: String,
    /// For a rotating door code (`door`), the secretary's phone that signed it; `None` for codes the server signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub door: Option<DoorSigner>,
}

/// A public key the phone trusts for checking codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub key_id: u16,
    /// Base64url of the 32-byte Ed25519 public key.
    pub public_key: String,
    pub revoked: bool,
}

/// Why a scanned text is not a code we can accept. Each has its own plain message on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum CodeError {
    #[error("this is not a Guihai code")]
    NotOurs,
    #[error("the code is damaged")]
    Damaged,
    #[error("the code was signed by a key this phone does not know")]
    UnknownKey,
    #[error("the code's signature is wrong")]
    Forged,
    #[error("the code was withdrawn")]
    Revoked,
    #[error("the code is not valid yet")]
    NotYetValid,
    #[error("the code has expired")]
    Expired,
}

impl CodeError {
    pub const ALL: [CodeError; 7] = [
        CodeError::NotOurs,
        CodeError::Damaged,
        CodeError::UnknownKey,
        CodeError::Forged,
        CodeError::Revoked,
        CodeError::NotYetValid,
        CodeError::Expired,
    ];

    /// Stable key for messages and for the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeError::NotOurs => "not_ours",
            CodeError::Damaged => "damaged",
            CodeError::UnknownKey => "unknown_key",
            CodeError::Forged => "forged",
            CodeError::Revoked => "revoked",
            CodeError::NotYetValid => "not_yet_valid",
            CodeError::Expired => "expired",
        }
    }
}

impl Code {
    fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(320);
        if let Some(door) = &self.door {
            door::body(self, door, &mut out);
            return out;
        }
        out.push(VERSION);
        out.push(self.subject.tag());
        out.extend_from_slice(&self.key_id.to_be_bytes());
        for id in self.subject.ids() {
            out.extend_from_slice(id.as_bytes());
        }
        out.extend_from_slice(&self.valid_from.to_be_bytes());
        out.extend_from_slice(&self.valid_until.to_be_bytes());
        for text in [&self.name, &self.detail] {
            let text = truncate_utf8(text, MAX_TEXT_BYTES);
            out.push(text.len() as u8);
            out.extend_from_slice(text.as_bytes());
        }
        out
    }

    /// Signs the code with a server key and returns its payload (the part after `/q/`); door codes are signed by
    /// the secretary's phone instead (`DoorCertificate::sign_code`).
    pub fn sign(&self, key: &SigningKey) -> String {
        let mut bytes = self.body();
        let signature = key.sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature.to_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

impl Code {
    /// The payload of this code with the signature it was scanned with, byte for byte as it was scanned: a phone
    /// keeps a scanned code as its fields (most of which it holds anyway) and the 64 bytes of its signature.
    pub fn with_signature(&self, signature: &[u8; 64]) -> String {
        let mut bytes = self.body();
        bytes.extend_from_slice(signature);
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

impl Code {
    /// `text` as this code carries it: cut at a character boundary to what its layout holds.
    pub fn carried<'a>(&self, text: &'a str) -> &'a str {
        let max = if self.door.is_some() {
            door::MAX_NAME_BYTES
        } else {
            MAX_TEXT_BYTES
        };
        truncate_utf8(text, max)
    }
}

/// A code's Ed25519 signature, written as base64url (86 characters): what names a code the server issued and
/// keeps, so a phone need not send it whole (`sync::Op::CheckInIssued`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CodeSignature(pub [u8; 64]);

impl fmt::Debug for CodeSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeSignature({})", URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl Serialize for CodeSignature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for CodeSignature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        // Bounded before decoding: 64 bytes are 86 characters, and nothing else is a signature.
        let bytes = (text.len() == 86)
            .then(|| URL_SAFE_NO_PAD.decode(text.as_bytes()).ok())
            .flatten()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok());
        bytes
            .map(CodeSignature)
            .ok_or_else(|| serde::de::Error::custom("a code signature is 64 bytes in base64url"))
    }
}

/// The signature of a code's payload: its last 64 bytes.
pub fn signature_of(payload: &str) -> Option<[u8; 64]> {
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let at = bytes.len().checked_sub(64)?;
    bytes[at..].try_into().ok()
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    [SIGNING_CONTEXT, body].concat()
}

fn truncate_utf8(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Base64url text of a public key, as kept in `TrustedKey`.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

/// Takes whatever a scanner or a link produced (a full URL, a `/q/...` path or the bare payload) and returns
/// the payload, or `NotOurs` for anything else.
pub fn payload_of(scanned: &str) -> Result<&str, CodeError> {
    let scanned = scanned.trim();
    let is_payload_char = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    let Some(at) = scanned.find(LINK_PATH) else {
        // Bare text: only a plausible payload is ours; a damaged one of ours then fails on its version byte.
        return match scanned.len() {
            1..=MAX_PAYLOAD_CHARS if scanned.bytes().all(is_payload_char) => Ok(scanned),
            _ => Err(CodeError::NotOurs),
        };
    };
    let payload = scanned[at + LINK_PATH.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    if payload.is_empty() || payload.len() > MAX_PAYLOAD_CHARS || !payload.bytes().all(is_payload_char) {
        return Err(CodeError::Damaged);
    }
    Ok(payload)
}

/// What the in-app scanner makes of a decoded text: the payload when the text is a code link, that is an
/// absolute URL (any origin: codes are trusted for their signature, not their host) or a path, whose path
/// starts with `/q/`; `None` for anything else (plain text, another site's link). The payload is not checked
/// here: the `/q/` page says whether it is damaged, forged or expired.
pub fn link_payload(text: &str) -> Option<&str> {
    let text = text.trim();
    let path = match text.split_once("://") {
        // The path starts after the host, at the first `/`, unless a query or fragment comes first.
        Some((scheme, rest)) if is_scheme(scheme) => rest.get(rest.find(['/', '?', '#'])?..)?,
        Some(_) => return None,
        None => text,
    };
    let payload = path.strip_prefix(LINK_PATH)?.split(['?', '#']).next()?;
    (!payload.is_empty() && payload.len() <= MAX_PAYLOAD_CHARS).then_some(payload)
}

/// The same for a code typed by hand: a link as `link_payload` takes it, or the bare payload.
pub fn typed_payload(text: &str) -> Option<&str> {
    let text = text.trim();
    let is_payload_char = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    link_payload(text).or_else(|| {
        (!text.is_empty() && text.len() <= MAX_PAYLOAD_CHARS && text.bytes().all(is_payload_char)).then_some(text)
    })
}

fn is_scheme(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Decodes and checks a code: format, signature with a trusted key, and validity at `now` (Unix seconds).
pub fn verify(scanned: &str, keys: &[TrustedKey], now: u32) -> Result<Code, CodeError> {
    let code = verify_signature(scanned, keys)?;
    code.check_time(now)?;
    Ok(code)
}

/// Decodes a code and checks its format and signature, but not its validity window: the server uses this to
/// keep (and flag) a check-in scanned while valid on a phone that then stayed offline.
pub fn verify_signature(scanned: &str, keys: &[TrustedKey]) -> Result<Code, CodeError> {
    Verifier::new(keys).verify(scanned)
}

/// The trusted keys, decoded once, for checking many codes (`verify_signature` decodes them for each).
#[derive(Debug, Clone)]
pub struct Verifier {
    /// Each key's id, its public half (`None` when it does not decode) and whether it was revoked.
    keys: Vec<(u16, Option<VerifyingKey>, bool)>,
    /// Revoked door keys and since when (Unix seconds).
    revoked_doors: Vec<([u8; 32], u32)>,
}

impl Verifier {
    pub fn new(keys: &[TrustedKey]) -> Verifier {
        let decoded = |key: &TrustedKey| {
            URL_SAFE_NO_PAD
                .decode(&key.public_key)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        };
        Verifier {
            keys: keys.iter().map(|key| (key.key_id, decoded(key), key.revoked)).collect(),
            revoked_doors: Vec::new(),
        }
    }

    /// These keys, with door codes made by `revoked` keys since their revocation refused.
    pub fn revoking(mut self, revoked: &[RevokedDoorKey]) -> Verifier {
        self.revoked_doors = revoked.iter().filter_map(door::revoked_key).collect();
        self
    }

    /// `verify_signature`, with these keys.
    pub fn verify(&self, scanned: &str) -> Result<Code, CodeError> {
        self.checked(scanned, |_, _, _, _| false)
    }

    /// `verify`, for the holder of `key` (listed as `key_id`): a code it signed is checked by signing it again.
    /// Ed25519 signs deterministically, so such a code is signed again byte for byte, and signing (one
    /// multiplication by the base point, from a table) costs a third of a check; a signature that differs is
    /// checked as any other. The server checks thousands of its own codes a push. (A phone never holds a key,
    /// and this way its build carries no signing.)
    pub fn verify_own(&self, scanned: &str, key_id: u16, key: &SigningKey) -> Result<Code, CodeError> {
        self.checked(scanned, |code_key, public, message, signature| {
            code_key == key_id && *public == key.verifying_key() && key.sign(message).to_bytes()[..] == *signature
        })
    }

    /// `verify`, for a code its holder knows it issued byte for byte (the server keeps a digest of each): the
    /// signature is not checked again; the key must still be known and in force.
    pub fn verify_issued(&self, scanned: &str) -> Result<Code, CodeError> {
        self.checked(scanned, |_, _, _, _| true)
    }

    /// `verify`, with `signed_again(key_id, public key, message, signature)` saying whether a code's signature
    /// is known good without a check.
    fn checked(
        &self,
        scanned: &str,
        signed_again: impl Fn(u16, &VerifyingKey, &[u8], &[u8]) -> bool,
    ) -> Result<Code, CodeError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(payload_of(scanned)?)
            .map_err(|_| CodeError::Damaged)?;
        let (code, signed_len) = match bytes.get(..2) {
            Some([VERSION, door::TAG]) => door::parse(&bytes)?,
            _ => parse(&bytes)?,
        };
        let (_, public_key, revoked) = self
            .keys
            .iter()
            .find(|(key_id, _, _)| *key_id == code.key_id)
            .ok_or(CodeError::UnknownKey)?;
        let public_key = public_key.as_ref().ok_or(CodeError::UnknownKey)?;
        if code.door.is_some() {
            door::check(&code, &bytes, signed_len, public_key, &self.revoked_doors)?;
        } else {
            let (signed, signature) = bytes.split_at(signed_len);
            let message = signed_message(signed);
            if !signed_again(code.key_id, public_key, &message, signature) {
                let signature = Signature::from_slice(signature).map_err(|_| CodeError::Damaged)?;
                public_key
                    .verify_strict(&message, &signature)
                    .map_err(|_| CodeError::Forged)?;
            }
        }
        if *revoked {
            return Err(CodeError::Revoked);
        }
        Ok(code)
    }
}

impl Code {
    /// Whether the code is valid at `now` (Unix seconds).
    pub fn check_time(&self, now: u32) -> Result<(), CodeError> {
        if now < self.valid_from {
            Err(CodeError::NotYetValid)
        } else if now >= self.valid_until {
            Err(CodeError::Expired)
        } else {
            Ok(())
        }
    }
}

/// Decodes a code without checking its signature or time: only to show what a code the server refused (say, a
/// forged one) claimed to be.
pub fn read_unverified(scanned: &str) -> Option<Code> {
    let bytes = URL_SAFE_NO_PAD.decode(payload_of(scanned).ok()?).ok()?;
    match bytes.get(..2) {
        Some([VERSION, door::TAG]) => door::parse(&bytes),
        _ => parse(&bytes),
    }
    .ok()
    .map(|(code, _)| code)
}

/// Strict parse of the unsigned part; returns the code and where the signature starts.
fn parse(bytes: &[u8]) -> Result<(Code, usize), CodeError> {
    let mut r = Reader { bytes, at: 0 };
    if r.u8()? != VERSION {
        return Err(CodeError::NotOurs);
    }
    let tag = r.u8()?;
    let key_id = u16::from_be_bytes(r.array()?);
    let subject = match tag {
        1 => Subject::Organisation { org_id: r.id()? },
        2 => Subject::Activity {
            activity_id: r.id()?,
            org_id: r.id()?,
        },
        3 => Subject::Member { member_id: r.id()? },
        _ => return Err(CodeError::Damaged),
    };
    let valid_from = u32::from_be_bytes(r.array()?);
    let valid_until = u32::from_be_bytes(r.array()?);
    r.finish(subject, key_id, (valid_from, valid_until), MAX_TEXT_BYTES)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    /// Reads the two texts that end a code's signed part (each at most `max_text` bytes), checks that only the
    /// 64-byte signature follows, and returns the code and where its signature starts.
    fn finish(
        &mut self,
        subject: Subject,
        key_id: u16,
        (valid_from, valid_until): (u32, u32),
        max_text: usize,
    ) -> Result<(Code, usize), CodeError> {
        let name = self.text()?;
        let detail = self.text()?;
        if self.bytes.len() != self.at + 64 || name.len() > max_text || detail.len() > max_text {
            return Err(CodeError::Damaged);
        }
        let code = Code {
            subject,
            key_id,
            valid_from,
            valid_until,
            name,
            detail,
            door: None,
        };
        Ok((code, self.at))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], CodeError> {
        let slice = self.bytes.get(self.at..self.at + n).ok_or(CodeError::Damaged)?;
        self.at += n;
        Ok(slice)
    }

    fn u8(&mut self) -> Result<u8, CodeError> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CodeError> {
        Ok(self.take(N)?.try_into().expect("take returns N bytes"))
    }

    fn id(&mut self) -> Result<Id, CodeError> {
        Ok(Id::from_bytes(self.array()?))
    }

    fn text(&mut self) -> Result<String, CodeError> {
        let len = usize::from(self.u8()?);
        if len > MAX_TEXT_BYTES {
            return Err(CodeError::Damaged);
        }
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| CodeError::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn trusted(seed: u8, key_id: u16) -> TrustedKey {
        TrustedKey {
            key_id,
            public_key: encode_public_key(&key(seed).verifying_key()),
            revoked: false,
        }
    }

    fn activity_code() -> Code {
        Code {
            subject: Subject::Activity {
                activity_id: Id::new_v7(1_700_000_000_000, [1; 10]),
                org_id: Id::new_v7(1_600_000_000_000, [2; 10]),
            },
            key_id: 7,
            valid_from: 1_000,
            valid_until: 2_000,
            name: "十一月组织生活会".into(),
            detail: "灌南县驻杭州流动党委".into(),
            door: None,
        }
    }

    #[test]
    fn signed_code_verifies_offline_from_link_path_or_payload() {
        let payload = activity_code().sign(&key(1));
        let keys = [trusted(9, 1), trusted(1, 7)];
        for scanned in [
            payload.clone(),
            format!("/q/{payload}"),
            format!("https://example.org/q/{payload}?x=1"),
        ] {
            assert_eq!(verify(&scanned, &keys, 1_500), Ok(activity_code()));
        }
        assert!(payload.len() < 260, "payload stays small: {}", payload.len());
    }

    #[test]
    fn a_code_kept_as_its_fields_and_signature_is_given_back_byte_for_byte() {
        let payload = activity_code().sign(&key(1));
        let code = verify(&payload, &[trusted(1, 7)], 1_500).unwrap();
        let signature = signature_of(&payload).unwrap();
        assert_eq!(code.with_signature(&signature), payload);
        let long = "长".repeat(60);
        assert_eq!(code.carried(&long).len(), 120, "cut at a character boundary");
        assert_eq!(signature_of("AAAA"), None);
    }

    #[test]
    fn each_failure_has_its_own_reason() {
        let payload = activity_code().sign(&key(1));
        let keys = [trusted(1, 7)];
        assert_eq!(verify(&payload, &keys, 999), Err(CodeError::NotYetValid));
        assert_eq!(verify(&payload, &keys, 2_000), Err(CodeError::Expired));
        assert_eq!(verify(&payload, &[trusted(1, 8)], 1_500), Err(CodeError::UnknownKey));
        assert_eq!(verify(&payload, &[trusted(2, 7)], 1_500), Err(CodeError::Forged));
        let revoked = [TrustedKey {
            revoked: true,
            ..trusted(1, 7)
        }];
        assert_eq!(verify(&payload, &revoked, 1_500), Err(CodeError::Revoked));
        assert_eq!(
            verify("https://weixin.qq.com/r/abc", &keys, 1_500),
            Err(CodeError::NotOurs)
        );
        assert_eq!(verify("hello world", &keys, 1_500), Err(CodeError::NotOurs));
        assert_eq!(
            verify(&format!("/q/{}", "A".repeat(MAX_PAYLOAD_CHARS + 1)), &keys, 1_500),
            Err(CodeError::Damaged)
        );
        assert_eq!(
            verify(&format!("/q/{}!", &payload[..20]), &keys, 1_500),
            Err(CodeError::Damaged)
        );
    }

    #[test]
    fn the_holder_of_a_key_signs_its_own_codes_again_and_answers_as_a_check_does() {
        let keys = [trusted(9, 1), trusted(1, 7)];
        let verifier = Verifier::new(&keys);
        let own = activity_code().sign(&key(1));
        let as_checked = |scanned: &str, holder: &SigningKey| {
            let answer = verifier.verify_own(scanned, 7, holder);
            assert_eq!(answer, verifier.verify(scanned), "{scanned}");
            answer
        };
        assert_eq!(as_checked(&own, &key(1)), Ok(activity_code()));
        // Signed by the other key in the list; held by a key that is not the one listed.
        let other = Code {
            key_id: 1,
            ..activity_code()
        };
        assert_eq!(as_checked(&other.sign(&key(9)), &key(1)), Ok(other));
        assert_eq!(as_checked(&own, &key(2)), Ok(activity_code()));
        // Forged under the held key's id, and every character changed in turn.
        assert_eq!(
            as_checked(&activity_code().sign(&key(3)), &key(1)),
            Err(CodeError::Forged)
        );
        for at in 0..own.len() {
            let mut damaged = own.clone().into_bytes();
            damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
            assert!(as_checked(&String::from_utf8(damaged).unwrap(), &key(1)).is_err());
        }
        // The same signature with its scalar not reduced (s + L) is valid to a lax check: a strict one refuses it.
        let mut bytes = URL_SAFE_NO_PAD.decode(&own).unwrap();
        let s = bytes.len() - 32;
        // The group's order L, little-endian.
        let order: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (byte, l) in bytes[s..].iter_mut().zip(order) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_ne!(
            as_checked(&URL_SAFE_NO_PAD.encode(&bytes), &key(1)),
            Ok(activity_code())
        );
        let revoked = Verifier::new(&[TrustedKey {
            revoked: true,
            ..trusted(1, 7)
        }]);
        assert_eq!(revoked.verify_own(&own, 7, &key(1)), Err(CodeError::Revoked));
    }

    #[test]
    fn any_changed_character_is_caught() {
        let payload = activity_code().sign(&key(1));
        let keys = [trusted(1, 7)];
        for at in 0..payload.len() {
            let mut damaged = payload.clone().into_bytes();
            damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
            let damaged = String::from_utf8(damaged).unwrap();
            assert!(verify(&damaged, &keys, 1_500).is_err(), "change at {at} accepted");
        }
        assert_eq!(
            verify(&payload[..payload.len() - 3], &keys, 1_500),
            Err(CodeError::Damaged)
        );
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let code = Code {
            name: "党".repeat(100),
            ..activity_code()
        };
        let verified = verify(&code.sign(&key(1)), &[trusted(1, 7)], 1_500).unwrap();
        assert_eq!(verified.name, "党".repeat(MAX_TEXT_BYTES / 3));
    }

    #[test]
    fn scanned_links_lead_to_their_payload_whatever_the_host() {
        for (text, payload) in [
            ("https://guihai.example/q/AbC-_9", Some("AbC-_9")),
            ("  http://127.0.0.1:8080/q/AbC?from=poster#top \n", Some("AbC")),
            ("/q/AbC", Some("AbC")),
            ("HTTPS://elsewhere.example/q/x!y", Some("x!y")),
            ("https://example.com/hello", None),
            ("https://example.com/a/q/AbC", None),
            ("https://example.com?next=/q/AbC", None),
            ("https://guihai.example/q/", None),
            ("javascript:alert(1)//x/q/AbC", None),
            ("AbC-_9", None),
            ("你好", None),
            ("", None),
        ] {
            assert_eq!(link_payload(text), payload, "{text:?}");
        }
        let too_long = format!("/q/{}", "A".repeat(MAX_PAYLOAD_CHARS + 1));
        assert_eq!(link_payload(&too_long), None);
    }

    #[test]
    fn a_typed_code_may_be_the_link_or_the_bare_payload() {
        assert_eq!(typed_payload("https://guihai.example/q/AbC"), Some("AbC"));
        assert_eq!(typed_payload(" AbC-_9 "), Some("AbC-_9"));
        assert_eq!(typed_payload("hello world"), None);
        assert_eq!(typed_payload("https://example.com/hello"), None);
        assert_eq!(typed_payload("   "), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,700}") {
            let _ = verify(&text, &[trusted(1, 7)], 1_500);
        }

        #[test]
        fn arbitrary_scanned_text_never_panics(text in ".{0,700}") {
            let _ = typed_payload(&text);
        }

        #[test]
        fn arbitrary_payload_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = verify(&URL_SAFE_NO_PAD.encode(bytes), &[trusted(1, 7)], 1_500);
        }
    }
}

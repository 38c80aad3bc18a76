//! Rotating activity codes (QR.md "against screenshots sent to absent friends"): the server certifies a key of
//! the secretary's phone for one organisation; that phone, offline, signs a new code for an activity every
//! `STEP_SECS`; a member's phone, offline, checks the chain (server key → door key certificate → code) and the
//! code's time against its own clock, corrected at its last sync.
//!
//! Payload layout (tag 4, all integers big-endian):
//! `version u8 | 4 | key_id u16 | activity_id | org_id | certified_until u32 | door key (32) |
//!  certificate signature (64) | at u32 | name (u8 length + UTF-8) | detail (u8 length + UTF-8) | code signature (64)`.
//! The certificate signature covers `CERTIFICATE_CONTEXT | key_id | org_id | door key | certified_until`; the
//! code signature covers `CODE_CONTEXT` and every byte before it.
//!
//! What it protects against: a photo of the code forwarded to someone elsewhere is refused a minute later. What it
//! does not: a live video call relaying the screen (no rotation can), or a phone whose clock was set back and that
//! never syncs the right time again (the server flags what it can tell: `checkin::CheckInFlag::StaleCode`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{truncate_utf8, Code, CodeError, Reader, Subject, VERSION};
use crate::Id;

/// The door code's tag in the payload (1–3 are `Subject`'s).
pub(super) const TAG: u8 = 4;
const CERTIFICATE_CONTEXT: &[u8] = b"guihai/door-key/1";
const CODE_CONTEXT: &[u8] = b"guihai/door/1";
/// A new code every 30 seconds.
pub const STEP_SECS: u32 = 30;
/// How far the clocks of the two phones (each corrected at its last sync) may disagree: a code is valid from
/// `TOLERANCE_SECS` before its time to `STEP_SECS + TOLERANCE_SECS` after it, so a photo is useless after a minute.
pub const TOLERANCE_SECS: u32 = 30;
/// How long a certificate lasts: the secretary's phone asks for a new one whenever it syncs, so a phone lost or
/// signed out stops being able to sign within days even if nobody revokes it.
pub const CERTIFICATE_SECS: u32 = 7 * 86_400;
/// Longest activity title a door code carries: the code is redrawn every 30 s and scanned from a screen, so it is
/// kept smaller than the printed one.
pub const MAX_NAME_BYTES: usize = 60;

/// The server's word that `public_key` (a secretary's phone) may sign door codes for `org_id`'s activities until
/// `valid_until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorCertificate {
    pub key_id: u16,
    pub org_id: Id,
    /// Base64url of the phone's 32-byte Ed25519 public key.
    pub public_key: String,
    pub valid_until: u32,
    /// Base64url of the server's 64-byte signature.
    pub signature: String,
}

/// Who signed a door code, as a verified `Code` carries it: the phone's certified key and the code's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorSigner {
    pub public_key: [u8; 32],
    pub certified_until: u32,
    /// The server's signature of the certificate (64 bytes).
    pub certificate_signature: Vec<u8>,
    /// Unix seconds at which the secretary's phone made the code.
    pub at: u32,
}

impl DoorSigner {
    /// The window in which a code made at `at` may be scanned.
    pub fn window(at: u32) -> (u32, u32) {
        (
            at.saturating_sub(TOLERANCE_SECS),
            at.saturating_add(STEP_SECS + TOLERANCE_SECS),
        )
    }
}

/// A door key the server revoked (its phone was signed out): codes it made from `revoked_at` on are refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedDoorKey {
    pub id: Id,
    pub public_key: String,
    pub revoked_at: u32,
}

fn certificate_message(key_id: u16, org_id: Id, public_key: &[u8; 32], valid_until: u32) -> Vec<u8> {
    [
        CERTIFICATE_CONTEXT,
        &key_id.to_be_bytes(),
        org_id.as_bytes(),
        public_key,
        &valid_until.to_be_bytes(),
    ]
    .concat()
}

impl DoorCertificate {
    /// The server certifies a phone's key.
    pub fn certify(server_key: &SigningKey, key_id: u16, org_id: Id, public_key: &[u8; 32], valid_until: u32) -> Self {
        let signature = server_key.sign(&certificate_message(key_id, org_id, public_key, valid_until));
        DoorCertificate {
            key_id,
            org_id,
            public_key: URL_SAFE_NO_PAD.encode(public_key),
            valid_until,
            signature: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
        }
    }

    /// The phone's door code for `activity_id` at `at` (Unix seconds), signed with its key; `None` when this
    /// certificate is not for that key or is malformed.
    pub fn sign_code(&self, key: &SigningKey, activity_id: Id, at: u32, name: &str, detail: &str) -> Option<String> {
        let public_key: [u8; 32] = decode_array(&self.public_key)?;
        let certificate_signature: [u8; 64] = decode_array(&self.signature)?;
        if key.verifying_key().as_bytes() != &public_key {
            return None;
        }
        let (valid_from, valid_until) = DoorSigner::window(at);
        let code = Code {
            subject: Subject::Activity {
                activity_id,
                org_id: self.org_id,
            },
            key_id: self.key_id,
            valid_from,
            valid_until,
            name: truncate_utf8(name, MAX_NAME_BYTES).to_owned(),
            detail: truncate_utf8(detail, MAX_NAME_BYTES).to_owned(),
            door: Some(DoorSigner {
                public_key,
                certified_until: self.valid_until,
                certificate_signature: certificate_signature.to_vec(),
                at,
            }),
        };
        let mut bytes = code.body();
        let signature = key.sign(&[CODE_CONTEXT, &bytes].concat());
        bytes.extend_from_slice(&signature.to_bytes());
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Whether the certificate is still good at `now` for at least `margin` seconds.
    pub fn lasts(&self, now: u32, margin: u32) -> bool {
        now.saturating_add(margin) < self.valid_until
    }
}

fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    URL_SAFE_NO_PAD.decode(text).ok()?.try_into().ok()
}

/// The public key of a revoked door key, decoded; `None` when malformed.
pub(super) fn revoked_key(revoked: &RevokedDoorKey) -> Option<([u8; 32], u32)> {
    Some((decode_array(&revoked.public_key)?, revoked.revoked_at))
}

/// The signed part of a door code (the layout above, without the code signature).
pub(super) fn body(code: &Code, door: &DoorSigner, out: &mut Vec<u8>) {
    let Subject::Activity { activity_id, org_id } = code.subject else {
        return;
    };
    out.extend_from_slice(&[VERSION, TAG]);
    out.extend_from_slice(&code.key_id.to_be_bytes());
    out.extend_from_slice(activity_id.as_bytes());
    out.extend_from_slice(org_id.as_bytes());
    out.extend_from_slice(&door.certified_until.to_be_bytes());
    out.extend_from_slice(&door.public_key);
    out.extend_from_slice(&door.certificate_signature);
    out.extend_from_slice(&door.at.to_be_bytes());
    for text in [&code.name, &code.detail] {
        let text = truncate_utf8(text, MAX_NAME_BYTES);
        out.push(text.len() as u8);
        out.extend_from_slice(text.as_bytes());
    }
}

/// Strict parse of a door code's signed part (`bytes` starts with version and tag); returns the code and where
/// the code signature starts.
pub(super) fn parse(bytes: &[u8]) -> Result<(Code, usize), CodeError> {
    let mut r = Reader { bytes, at: 2 };
    let key_id = u16::from_be_bytes(r.array()?);
    let subject = Subject::Activity {
        activity_id: r.id()?,
        org_id: r.id()?,
    };
    let certified_until = u32::from_be_bytes(r.array()?);
    let public_key = r.array()?;
    let certificate_signature = r.take(64)?.to_vec();
    let at = u32::from_be_bytes(r.array()?);
    let (code, signed_len) = r.finish(subject, key_id, DoorSigner::window(at), MAX_NAME_BYTES)?;
    let door = DoorSigner {
        public_key,
        certified_until,
        certificate_signature,
        at,
    };
    Ok((
        Code {
            door: Some(door),
            ..code
        },
        signed_len,
    ))
}

/// Checks both signatures of a parsed door code: the certificate with the server's key, the code with the
/// certified key; then that the code was made while the certificate held and before its key was revoked.
pub(super) fn check(
    code: &Code,
    bytes: &[u8],
    signed_len: usize,
    server_key: &VerifyingKey,
    revoked: &[([u8; 32], u32)],
) -> Result<(), CodeError> {
    let (Some(door), Subject::Activity { org_id, .. }) = (&code.door, &code.subject) else {
        return Err(CodeError::Damaged);
    };
    let certificate = certificate_message(code.key_id, *org_id, &door.public_key, door.certified_until);
    let certificate_signature = Signature::from_slice(&door.certificate_signature).map_err(|_| CodeError::Damaged)?;
    server_key
        .verify_strict(&certificate, &certificate_signature)
        .map_err(|_| CodeError::Forged)?;
    let door_key = VerifyingKey::from_bytes(&door.public_key).map_err(|_| CodeError::Forged)?;
    let signature = Signature::from_slice(&bytes[signed_len..]).map_err(|_| CodeError::Damaged)?;
    door_key
        .verify_strict(&[CODE_CONTEXT, &bytes[..signed_len]].concat(), &signature)
        .map_err(|_| CodeError::Forged)?;
    if door.at >= door.certified_until {
        return Err(CodeError::Expired);
    }
    if revoked
        .iter()
        .any(|(key, since)| *key == door.public_key && door.at >= *since)
    {
        return Err(CodeError::Revoked);
    }
    Ok(())
}

/// Throwaway keys made it: `REHEARSAL_SERVER_KEY` certified a phone key that signed it (`rehearsal`).
const REHEARSAL: &str = "AQQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAcqTrBcFGHBx1nuDx_8O_oEI6OxFMFdddyaHkzPb2r58Rkf4Lmo2GLiDtgDhbz_qCVHO_ymTRvP8WMwLRYkc5vB4__5QGBYcQvlekRcald9BUZvqoIG3Ac-NkxRsFaJzCQAAAAAAALhdxaDdiV0pctVQsc3pzMEhYOaPxVYLgG8TY2cucrP-TAus2Y7Bd0ie4jxIa8NNPB6qM_8ulw1AUSJGjz20CgI";
/// The public key `REHEARSAL`'s certificate was signed with, as the server's key 0 would be.
const REHEARSAL_SERVER_KEY: &str = "7UkoxijRwsbq6QM4kFmVYSlZJzpcY_k2NsFGFKyHN9E";

/// A door code of nobody's (activity and organisation all zeros, made at time 0) as a scanned payload, and the
/// verifier it passes: the browser compiles each wasm function the first time it runs, and on a slow phone the
/// first code opened pays tens of milliseconds of that (reading it, both signatures, the check-in's
/// transaction), which the scanner spends on this one while its camera starts rather than while a member waits
/// at the door (docs/benchmarks.md).
pub fn rehearsal() -> (&'static str, super::Verifier) {
    let keys = [super::TrustedKey {
        key_id: 0,
        public_key: REHEARSAL_SERVER_KEY.to_owned(),
        revoked: false,
    }];
    (REHEARSAL, super::Verifier::new(&keys))
}

#[cfg(test)]
mod tests {
    use super::super::{signature_of, verify, TrustedKey, Verifier};
    use super::*;

    const AT: u32 = 1_800_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn org() -> Id {
        Id::new_v7(1_600_000_000_000, [2; 10])
    }

    fn activity() -> Id {
        Id::new_v7(1_700_000_000_000, [1; 10])
    }

    fn server_keys() -> [TrustedKey; 1] {
        [TrustedKey {
            key_id: 7,
            public_key: super::super::encode_public_key(&key(1).verifying_key()),
            revoked: false,
        }]
    }

    /// The server (key 1) certifies the phone's key 5 for `org` until `until`.
    fn certificate(phone: u8, until: u32) -> DoorCertificate {
        DoorCertificate::certify(&key(1), 7, org(), key(phone).verifying_key().as_bytes(), until)
    }

    fn code_at(at: u32) -> String {
        certificate(5, AT + CERTIFICATE_SECS)
            .sign_code(&key(5), activity(), at, "十一月主题党日", "灌南县驻杭州流动党委")
            .unwrap()
    }

    #[test]
    fn the_rehearsal_code_is_a_door_code_that_passes_its_checks() {
        // Made as a secretary's phone makes one; should the format change, this says what to put in its place.
        let server = key(3);
        let made = DoorCertificate::certify(
            &server,
            0,
            Id::from_bytes([0; 16]),
            key(4).verifying_key().as_bytes(),
            1,
        )
        .sign_code(&key(4), Id::from_bytes([0; 16]), 0, "", "")
        .unwrap();
        assert_eq!(REHEARSAL, made);
        assert_eq!(
            REHEARSAL_SERVER_KEY,
            super::super::encode_public_key(&server.verifying_key())
        );
        let (payload, verifier) = rehearsal();
        let code = verifier
            .verify(&format!("{}{payload}", super::super::LINK_PATH))
            .unwrap();
        assert_eq!(
            code.subject,
            Subject::Activity {
                activity_id: Id::from_bytes([0; 16]),
                org_id: Id::from_bytes([0; 16])
            }
        );
        assert_eq!(
            super::super::read_unverified(payload).map(|c| c.subject),
            Some(code.subject)
        );
    }

    #[test]
    fn a_door_code_verifies_through_its_chain_and_reads_as_the_activity() {
        let payload = code_at(AT);
        let code = verify(&payload, &server_keys(), AT + 5).unwrap();
        assert_eq!(
            code.subject,
            Subject::Activity {
                activity_id: activity(),
                org_id: org()
            }
        );
        assert_eq!(code.name, "十一月主题党日");
        assert_eq!(code.door.as_ref().map(|d| d.at), Some(AT));
        assert_eq!(
            code.with_signature(&signature_of(&payload).unwrap()),
            payload,
            "kept and given back"
        );
        let link = format!("https://guihai.example.cn/q/{payload}");
        assert!(
            link.len() < 420,
            "small enough to redraw and scan from a screen: {}",
            link.len()
        );
    }

    #[test]
    fn the_clock_tolerance_has_exact_edges() {
        let payload = code_at(AT);
        let keys = server_keys();
        assert_eq!(
            verify(&payload, &keys, AT - TOLERANCE_SECS - 1),
            Err(CodeError::NotYetValid)
        );
        assert!(verify(&payload, &keys, AT - TOLERANCE_SECS).is_ok());
        assert!(verify(&payload, &keys, AT + STEP_SECS + TOLERANCE_SECS - 1).is_ok());
        assert_eq!(
            verify(&payload, &keys, AT + STEP_SECS + TOLERANCE_SECS),
            Err(CodeError::Expired)
        );
        assert_eq!(
            verify(&payload, &keys, AT + 120),
            Err(CodeError::Expired),
            "a photo two minutes on"
        );
    }

    #[test]
    fn a_broken_chain_is_refused() {
        let keys = server_keys();
        // A certificate the server did not sign.
        let forged_certificate =
            DoorCertificate::certify(&key(9), 7, org(), key(5).verifying_key().as_bytes(), AT + 60)
                .sign_code(&key(5), activity(), AT, "x", "y")
                .unwrap();
        assert_eq!(verify(&forged_certificate, &keys, AT), Err(CodeError::Forged));
        // A certified key's certificate carried by a code another key signed.
        let mut stolen = certificate(5, AT + 60);
        stolen.public_key = URL_SAFE_NO_PAD.encode(key(6).verifying_key().as_bytes());
        let other_signer = stolen.sign_code(&key(6), activity(), AT, "x", "y").unwrap();
        assert_eq!(verify(&other_signer, &keys, AT), Err(CodeError::Forged));
        // A certificate for one organisation used for another's activity.
        let mut moved = certificate(5, AT + 60);
        moved.org_id = Id::new_v7(1, [3; 10]);
        let moved = moved.sign_code(&key(5), activity(), AT, "x", "y").unwrap();
        assert_eq!(verify(&moved, &keys, AT), Err(CodeError::Forged));
        // The wrong key for the certificate signs nothing.
        assert_eq!(
            certificate(5, AT + 60).sign_code(&key(6), activity(), AT, "x", "y"),
            None
        );
    }

    #[test]
    fn a_code_made_after_the_certificate_ended_is_expired() {
        let certificate = certificate(5, AT + 100);
        let last = certificate.sign_code(&key(5), activity(), AT + 99, "x", "y").unwrap();
        assert!(verify(&last, &server_keys(), AT + 99).is_ok());
        let after = certificate.sign_code(&key(5), activity(), AT + 100, "x", "y").unwrap();
        assert_eq!(verify(&after, &server_keys(), AT + 100), Err(CodeError::Expired));
        assert!(certificate.lasts(AT, 99) && !certificate.lasts(AT, 100));
    }

    #[test]
    fn a_revoked_door_key_signs_nothing_from_its_revocation_on() {
        let revoked = [RevokedDoorKey {
            id: Id::new_v7(1, [4; 10]),
            public_key: URL_SAFE_NO_PAD.encode(key(5).verifying_key().as_bytes()),
            revoked_at: AT,
        }];
        let verifier = Verifier::new(&server_keys()).revoking(&revoked);
        assert!(
            verifier.verify(&code_at(AT - 1)).is_ok(),
            "made before: the event happened"
        );
        assert_eq!(verifier.verify(&code_at(AT)), Err(CodeError::Revoked));
        let revoked_server_key = [TrustedKey {
            revoked: true,
            ..server_keys()[0].clone()
        }];
        assert_eq!(verify(&code_at(AT), &revoked_server_key, AT), Err(CodeError::Revoked));
    }

    #[test]
    fn any_changed_character_is_caught() {
        let payload = code_at(AT);
        let keys = server_keys();
        for at in 0..payload.len() {
            let mut damaged = payload.clone().into_bytes();
            damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
            let damaged = String::from_utf8(damaged).unwrap();
            assert!(verify(&damaged, &keys, AT).is_err(), "change at {at} accepted");
        }
    }

    proptest::proptest! {
        #[test]
        fn a_code_is_accepted_exactly_within_its_window(offset in -200i64..200) {
            let now = (i64::from(AT) + offset) as u32;
            let accepted = verify(&code_at(AT), &server_keys(), now).is_ok();
            let within = (-i64::from(TOLERANCE_SECS)..i64::from(STEP_SECS + TOLERANCE_SECS)).contains(&offset);
            proptest::prop_assert_eq!(accepted, within);
        }

        #[test]
        fn arbitrary_door_payloads_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut payload = vec![VERSION, TAG];
            payload.extend(bytes);
            let _ = verify(&URL_SAFE_NO_PAD.encode(payload), &server_keys(), AT);
        }
    }
}

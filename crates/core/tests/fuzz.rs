//! Fuzzing, with proptest (cargo-fuzz needs a nightly compiler): what anyone can put in front of the code parser
//! (a camera, a typed link, a push) and the push body decoder never makes them panic, and a code changed in any
//! way never verifies as another.
//!
//! `cargo xtask test` runs each target on `GUIHAI_FUZZ_CASES` inputs (20,000 unless set); the long run in
//! docs/security.md sets it to 1,000,000:
//!
//!     GUIHAI_FUZZ_CASES=1000000 cargo test -p guihai-core --test fuzz

use ed25519_dalek::SigningKey;
use guihai_core::qr::{self, Code, DoorCertificate, RevokedDoorKey, Subject, TrustedKey, Verifier};
use guihai_core::sync::{classify, PushRequest};
use guihai_core::Id;
use proptest::prelude::*;

const AT: u32 = 1_800_000_000;

fn cases() -> u32 {
    std::env::var("GUIHAI_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(20_000)
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn keys() -> Vec<TrustedKey> {
    vec![TrustedKey {
        key_id: 7,
        public_key: qr::encode_public_key(&key(1).verifying_key()),
        revoked: false,
    }]
}

fn id(n: u8) -> Id {
    Id::new_v7(1_700_000_000_000 + u64::from(n), [n; 10])
}

/// One real code of each kind, as the server and a secretary's phone sign them (made once).
fn real_codes() -> &'static [String] {
    static CODES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CODES.get_or_init(make_codes)
}

fn make_codes() -> Vec<String> {
    let code = |subject| Code {
        subject,
        key_id: 7,
        valid_from: AT - 3_600,
        valid_until: AT + 3_600,
        name: "十一月主题党日".into(),
        detail: "灌南县驻杭州流动党委".into(),
        door: None,
    };
    let door = DoorCertificate::certify(&key(1), 7, id(2), key(5).verifying_key().as_bytes(), AT + 86_400)
        .sign_code(&key(5), id(3), AT, "十一月主题党日", "灌南县驻杭州流动党委")
        .expect("the phone's own key");
    vec![
        code(Subject::Organisation { org_id: id(2) }).sign(&key(1)),
        code(Subject::Activity {
            activity_id: id(3),
            org_id: id(2),
        })
        .sign(&key(1)),
        code(Subject::Member { member_id: id(4) }).sign(&key(1)),
        door,
    ]
}

/// Everything the phone and the server do with a scanned text.
fn read_every_way(verifier: &Verifier, text: &str) -> Option<Code> {
    let _ = qr::payload_of(text);
    let _ = qr::link_payload(text);
    let _ = qr::typed_payload(text);
    let _ = qr::signature_of(text);
    let _ = qr::read_unverified(text);
    let verified = verifier.verify(text).ok();
    if let Some(code) = &verified {
        let _ = code.check_time(AT);
        let _ = code.carried(&code.name);
    }
    verified
}

/// A change to a text: a byte set, one inserted, a run removed, or the end cut off.
#[derive(Debug, Clone)]
enum Change {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize, usize),
    Cut(usize),
}

fn changes() -> impl Strategy<Value = Vec<Change>> {
    let change = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Change::Set(at, byte)),
        (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Change::Insert(at, byte)),
        (any::<usize>(), 1..16usize).prop_map(|(at, len)| Change::Remove(at, len)),
        any::<usize>().prop_map(Change::Cut),
    ];
    prop::collection::vec(change, 1..6)
}

fn changed(text: &str, changes: &[Change]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for change in changes {
        let len = bytes.len().max(1);
        match *change {
            Change::Set(at, byte) if !bytes.is_empty() => bytes[at % len] = byte,
            Change::Insert(at, byte) => bytes.insert(at % (bytes.len() + 1), byte),
            Change::Remove(at, n) if !bytes.is_empty() => {
                let from = at % len;
                bytes.drain(from..(from + n).min(bytes.len()));
            }
            Change::Cut(at) => bytes.truncate(at % len),
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_read_as_a_code_is_refused_or_read_without_panic(text in ".{0,600}") {
        let verifier = Verifier::new(&keys());
        prop_assert!(read_every_way(&verifier, &text).is_none(), "a random text verified");
        let link = format!("https://guihai.example.cn/q/{text}");
        prop_assert!(read_every_way(&verifier, &link).is_none());
    }

    #[test]
    fn any_bytes_in_a_code_are_refused_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        prop_assert!(read_every_way(&Verifier::new(&keys()), &payload).is_none());
    }

    #[test]
    fn a_real_code_changed_in_any_way_never_verifies_as_another(which in 0..4usize, changes in changes()) {
        let real = &real_codes()[which];
        let revoked = [RevokedDoorKey { id: id(9), public_key: qr::encode_public_key(&key(9).verifying_key()), revoked_at: AT }];
        let verifier = Verifier::new(&keys()).revoking(&revoked);
        let original = verifier.verify(real).expect("the real code verifies");
        let text = changed(real, &changes);
        if let Some(code) = read_every_way(&verifier, &text) {
            // Only a change base64 does not see (the spare bits of the last character) may still verify.
            prop_assert_eq!(code, original);
        }
    }

    #[test]
    fn any_push_body_is_refused_or_read_without_panic(body in prop::collection::vec(any::<u8>(), 0..2_000)) {
        let _ = serde_json::from_slice::<PushRequest>(&body);
    }

    #[test]
    fn a_real_push_changed_in_any_way_is_refused_or_read_without_panic(changes in changes()) {
        let body = serde_json::json!({
            "client_id": id(1),
            "sent_at": 1_800_000_000_000_i64,
            "mutations": [
                { "seq": 1, "occurred_at": 1, "kind": "check_in", "args": { "id": id(5), "code": real_codes()[1] } },
                { "seq": 2, "occurred_at": 2, "kind": "report", "args": { "id": id(6), "code": real_codes()[0], "left_stop": null } },
                { "seq": 3, "occurred_at": 3, "kind": "leave", "args": { "stop_id": id(7) } },
                { "seq": 4, "occurred_at": 4, "kind": "record_attendance",
                  "args": { "id": id(8), "activity_id": id(3), "by": { "how": "hand", "member_id": id(4), "reason": "没带手机" } } },
            ],
        })
        .to_string();
        let text = changed(&body, &changes);
        if let Ok(push) = serde_json::from_str::<PushRequest>(&text) {
            // What the server does next with a push it could read: sort its numbers, check its codes.
            let _ = classify(0, push.mutations.iter().map(|m| m.seq));
            let verifier = Verifier::new(&keys());
            for mutation in &push.mutations {
                if let guihai_core::sync::Op::CheckIn { code, .. } | guihai_core::sync::Op::Report { code, .. } = &mutation.op {
                    let _ = read_every_way(&verifier, code);
                }
            }
        }
    }
}

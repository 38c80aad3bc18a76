//! Push: every mutation applied exactly once, in order; bad ones rejected with a reason without wedging the
//! queue; check-ins kept as facts, with doubtful device times flagged.

use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use guihai_core::checkin::CheckInFlag;
use guihai_core::engine::SEND_IN_FULL;
use guihai_core::qr::{signature_of, Code, CodeError, CodeSignature, Subject, MAX_TEXT_BYTES};
use guihai_core::sync::{Mutation, MutationResult, Op, Outcome, PushResponse, Record, Rejection, MAX_PUSH_BATCH};

use crate::{check_in, forged, fresh_id, now_ms, Server, Session, When};

/// `code` with one character of its signature changed.
fn altered(code: String) -> String {
    let mut altered = code.into_bytes();
    let at = altered.len() - 10;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(altered).unwrap()
}

fn outcomes(response: &PushResponse) -> Vec<(u64, Outcome)> {
    response
        .results
        .iter()
        .map(|MutationResult { seq, outcome }| (*seq, outcome.clone()))
        .collect()
}

#[tokio::test]
async fn pushing_the_same_batch_twice_keeps_one_check_in_and_answers_duplicate() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    let batch = vec![check_in(1, &code, now_ms())];

    let first: PushResponse = server.push(&member, batch.clone()).await.json();
    assert_eq!((first.last_seq, outcomes(&first)), (1, vec![(1, Outcome::Applied)]));
    // The answer was lost; the phone sends the same batch again.
    let second: PushResponse = server.push(&member, batch).await.json();
    assert_eq!((second.last_seq, outcomes(&second)), (1, vec![(1, Outcome::Duplicate)]));
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 1);
    assert_eq!(
        server.pull(&member, 0).await.last_seq,
        1,
        "pull reports what the server holds"
    );
}

#[tokio::test]
async fn pushes_that_arrive_together_are_each_settled_exactly_once() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let second_phone = fresh_id();
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    let batch = vec![check_in(1, &code, now_ms())];

    // The writer settles whatever waits together in one transaction: a batch sent twice at once (its answer
    // seemed lost), the same scan from the member's second phone, and that phone's push with a gap.
    let (first, again, other, gap) = tokio::join!(
        server.push(&member, batch.clone()),
        server.push(&member, batch),
        server.push_as(&member, second_phone, vec![check_in(1, &code, now_ms())]),
        server.push_as(&member, second_phone, vec![check_in(3, &code, now_ms())]),
    );
    let mut settled: Vec<Outcome> = [first, again, other]
        .iter()
        .flat_map(|reply| outcomes(&reply.json()))
        .map(|(_, outcome)| outcome)
        .collect();
    settled.sort_by_key(|outcome| format!("{outcome:?}"));
    assert_eq!(settled, [Outcome::Applied, Outcome::Duplicate, Outcome::Duplicate]);
    assert_eq!(gap.status, StatusCode::CONFLICT);
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 1);
    assert_eq!(server.pull(&member, 0).await.last_seq, 1);
}

#[tokio::test]
async fn a_code_that_checked_out_once_does_not_let_an_altered_copy_through() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    let first: PushResponse = server.push(&member, vec![check_in(1, &code, now_ms())]).await.json();
    assert_eq!(outcomes(&first), [(1, Outcome::Applied)]);

    // One character of the signature changed: the server remembers the code it checked, not this one.
    let altered = altered(code);
    let second: PushResponse = server.push(&member, vec![check_in(2, &altered, now_ms())]).await.json();
    assert_eq!(
        outcomes(&second),
        [(
            2,
            Outcome::Rejected {
                reason: Rejection::Code(CodeError::Forged)
            }
        )]
    );
}

/// How many codes the server keeps as `payload` under its signature (`issued_codes`).
async fn kept(server: &Server, payload: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM issued_codes WHERE signature = ? AND payload = ?")
        .bind(&signature_of(payload).unwrap()[..])
        .bind(payload)
        .fetch_one(&server.state.db)
        .await
        .unwrap()
}

/// Keeps `payload` as a code the server issued, as only the server does.
async fn keep(server: &Server, payload: &str) {
    sqlx::query("INSERT OR REPLACE INTO issued_codes (signature, payload) VALUES (?, ?)")
        .bind(&signature_of(payload).unwrap()[..])
        .bind(payload)
        .execute(&server.state.db)
        .await
        .unwrap();
}

/// A push big enough to look its codes up among the issued ones (more than `keys::CODES_A_THREAD`, 64): the
/// same code scanned again and again, so the first is applied and the rest are duplicates.
fn big_push(code: &str) -> Vec<Mutation> {
    (1..=65).map(|seq| check_in(seq, code, now_ms())).collect()
}

/// A check-in naming `code` by its signature (`Op::CheckInIssued`), as a phone's big push does.
fn named(seq: u64, code: &str) -> Mutation {
    Mutation {
        seq,
        occurred_at: now_ms(),
        op: Op::CheckInIssued {
            id: fresh_id(),
            signature: CodeSignature(signature_of(code).unwrap()),
        },
    }
}

#[tokio::test]
async fn a_code_the_server_issued_is_kept_whole_and_needs_no_signature_check() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    assert_eq!(kept(&server, &code).await, 1, "the code screen keeps what it hands out");

    // A copy with one character of its signature changed fails its check (as the test above shows) unless the
    // server keeps it: then it is taken as issued, unchecked. Only the server writes that table.
    let altered = altered(code);
    keep(&server, &altered).await;
    let reply: PushResponse = server.push(&member, big_push(&altered)).await.json();
    assert_eq!(outcomes(&reply)[0], (1, Outcome::Applied));
}

#[tokio::test]
async fn a_code_whose_signature_is_kept_with_other_bytes_is_checked_and_refused() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    // The kept code's signature, on a body with one byte changed: not the code the server issued.
    let mut bytes = URL_SAFE_NO_PAD.decode(&code).unwrap();
    bytes[10] ^= 1;
    let forged = URL_SAFE_NO_PAD.encode(bytes);
    let reply: PushResponse = server.push(&member, big_push(&forged)).await.json();
    assert!(matches!(
        outcomes(&reply)[0],
        (
            1,
            Outcome::Rejected {
                reason: Rejection::Code(_)
            }
        )
    ));
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 0);
}

/// A member and a running activity's code the server signed but does not keep, as one signed before codes were
/// kept.
async fn code_not_kept() -> (Server, Session, String) {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    sqlx::query("DELETE FROM issued_codes")
        .execute(&server.state.db)
        .await
        .unwrap();
    (server, member, code)
}

#[tokio::test]
async fn a_code_signed_before_it_was_kept_is_checked_by_its_signature() {
    let (server, member, code) = code_not_kept().await;
    let reply: PushResponse = server.push(&member, big_push(&code)).await.json();
    assert_eq!(outcomes(&reply)[0], (1, Outcome::Applied));
}

#[tokio::test]
async fn a_check_in_may_name_an_issued_code_by_its_signature_and_counts_as_if_sent_whole() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let secretary = server.sign_in("GH-S01").await;
    let (running, ended, _) = server.activities(&member).await;
    let (now, before) = (
        server.code(&secretary, &running).await,
        server.code(&secretary, &ended).await,
    );
    // A push of few names them too (the phone decides; the server takes either): named, then whole, then named.
    let mut mutations = vec![named(1, &now), check_in(2, &now, now_ms()), named(3, &before)];
    let reply: PushResponse = server.push(&member, mutations.clone()).await.json();
    assert_eq!(
        outcomes(&reply),
        [(1, Outcome::Applied), (2, Outcome::Duplicate), (3, Outcome::Applied)]
    );
    let activities: std::collections::BTreeSet<_> =
        sqlx::query_scalar::<_, String>("SELECT activity_id FROM check_ins")
            .fetch_all(&server.state.db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(activities, [running.id.to_string(), ended.id.to_string()].into());
    assert_eq!(server.pull(&member, 0).await.last_seq, 3);
    // Sent again (its answer lost): held already.
    mutations.truncate(1);
    let again: PushResponse = server.push(&member, mutations).await.json();
    assert_eq!(outcomes(&again), [(1, Outcome::Duplicate)]);
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 2, "once each");
}

#[tokio::test]
async fn a_push_naming_a_code_not_kept_applies_nothing_and_asks_for_the_codes_whole() {
    let (server, member, code) = code_not_kept().await;
    let mut unknown = named(2, &code);
    if let Op::CheckInIssued { signature, .. } = &mut unknown.op {
        signature.0 = [9; 64];
    }
    for mutations in [vec![named(1, &code)], vec![check_in(1, &code, now_ms()), unknown]] {
        let reply = server.push(&member, mutations).await;
        assert_eq!(reply.error(), (StatusCode::CONFLICT, SEND_IN_FULL.to_owned()));
        assert_eq!(
            server.count("SELECT count(*) FROM check_ins").await,
            0,
            "nothing applied"
        );
        assert_eq!(server.pull(&member, 0).await.last_seq, 0, "no number taken");
    }
    // The same numbers, the code whole: taken, checked by its signature.
    let reply: PushResponse = server.push(&member, vec![check_in(1, &code, now_ms())]).await.json();
    assert_eq!(outcomes(&reply), [(1, Outcome::Applied)]);
}

#[tokio::test]
async fn scanning_the_same_activity_twice_is_one_check_in() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;

    let reply: PushResponse = server
        .push(
            &member,
            vec![check_in(1, &code, now_ms()), check_in(2, &code, now_ms())],
        )
        .await
        .json();
    assert_eq!(outcomes(&reply), [(1, Outcome::Applied), (2, Outcome::Duplicate)]);
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 1);
}

#[tokio::test]
async fn a_gap_is_refused_with_the_servers_last_seq_and_the_batch_is_not_applied() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let secretary = server.sign_in("GH-S01").await;
    let (running, ended, upcoming) = server.activities(&member).await;
    let codes = [
        server.code(&secretary, &running).await,
        server.code(&secretary, &ended).await,
        server.code(&secretary, &upcoming).await,
    ];
    assert_eq!(
        server
            .push(&member, vec![check_in(1, &codes[0], now_ms())])
            .await
            .status,
        StatusCode::OK
    );

    // Seq 2 would apply, but 4 is out of order: nothing of this batch may stay.
    let reply = server
        .push(
            &member,
            vec![check_in(2, &codes[1], now_ms()), check_in(4, &codes[2], now_ms())],
        )
        .await;
    assert_eq!(reply.error(), (StatusCode::CONFLICT, "seq_gap".to_owned()));
    assert_eq!(reply.json::<guihai_core::sync::ErrorBody>().last_seq, Some(1));
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 1);
    assert_eq!(server.pull(&member, 0).await.last_seq, 1);

    // Resent from last_seq + 1, it lands.
    let reply: PushResponse = server
        .push(
            &member,
            vec![check_in(2, &codes[1], now_ms()), check_in(3, &codes[2], now_ms())],
        )
        .await
        .json();
    assert_eq!(reply.last_seq, 3);
}

#[tokio::test]
async fn a_forged_code_is_rejected_and_recorded_and_the_queue_moves_on() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let secretary = server.sign_in("GH-S01").await;
    let (running, _, _) = server.activities(&member).await;
    let genuine = server.code(&secretary, &running).await;
    let forged = forged(&running, server.state.keys().signing().key_id);

    let reply: PushResponse = server
        .push(
            &member,
            vec![check_in(1, &forged, now_ms()), check_in(2, &genuine, now_ms())],
        )
        .await
        .json();
    let forged_outcome = Outcome::Rejected {
        reason: Rejection::Code(CodeError::Forged),
    };
    assert_eq!(
        (reply.last_seq, outcomes(&reply)),
        (2, vec![(1, forged_outcome), (2, Outcome::Applied)])
    );
    assert_eq!(server.count("SELECT count(*) FROM check_ins").await, 1);
    let (kind, reason): (String, String) = sqlx::query_as("SELECT kind, reason FROM rejected_mutations WHERE seq = 1")
        .fetch_one(&server.state.db)
        .await
        .unwrap();
    assert_eq!(kind, "check_in");
    assert_eq!(
        serde_json::from_str::<Rejection>(&reason).unwrap(),
        Rejection::Code(CodeError::Forged)
    );
}

#[tokio::test]
async fn a_code_for_an_unknown_activity_is_rejected() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let code = server.server_signed(Code {
        subject: Subject::Activity {
            activity_id: fresh_id(),
            org_id: member.me.current_org.clone().unwrap().id,
        },
        key_id: 0,
        valid_from: 0,
        valid_until: u32::MAX,
        name: "不存在的活动".into(),
        detail: String::new(),
        door: None,
    });
    let reply: PushResponse = server.push(&member, vec![check_in(1, &code, now_ms())]).await.json();
    assert_eq!(
        outcomes(&reply),
        [(
            1,
            Outcome::Rejected {
                reason: Rejection::UnknownActivity
            }
        )]
    );
    assert_eq!(reply.last_seq, 1);
}

#[tokio::test]
async fn a_code_for_something_other_than_an_activity_is_invalid_for_check_in() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let code = server.server_signed(Code {
        subject: Subject::Organisation {
            org_id: member.me.current_org.clone().unwrap().id,
        },
        key_id: 0,
        valid_from: 0,
        valid_until: u32::MAX,
        name: "报到".into(),
        detail: String::new(),
        door: None,
    });
    let reply: PushResponse = server.push(&member, vec![check_in(1, &code, now_ms())]).await.json();
    assert_eq!(
        outcomes(&reply),
        [(
            1,
            Outcome::Rejected {
                reason: Rejection::Invalid
            }
        )]
    );
}

/// The flag the member's check-in to `activity_id` came back with.
async fn flag_of(server: &Server, session: &crate::Session, activity_id: guihai_core::Id) -> Option<CheckInFlag> {
    let records = server.pull_all(session).await;
    let check_in = records.iter().find_map(|record| match record {
        Record::CheckIn(check_in) if check_in.activity_id == activity_id => Some(check_in),
        _ => None,
    });
    check_in.expect("the check-in was kept").flag
}

#[tokio::test]
async fn an_expired_code_scanned_while_it_was_valid_is_kept_unflagged() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (ended, code) = server.hangzhou_code(&member, When::Ended).await;

    // Scanned during the activity; the phone was offline until now.
    let reply: PushResponse = server
        .push(&member, vec![check_in(1, &code, ended.starts_at + 60_000)])
        .await
        .json();
    assert_eq!(outcomes(&reply), [(1, Outcome::Applied)]);
    assert_eq!(flag_of(&server, &member, ended.id).await, None);
}

#[tokio::test]
async fn an_expired_code_scanned_after_its_window_is_kept_and_flagged() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M02").await;
    let (ended, code) = server.hangzhou_code(&member, When::Ended).await;

    let reply: PushResponse = server.push(&member, vec![check_in(1, &code, now_ms())]).await.json();
    assert_eq!(outcomes(&reply), [(1, Outcome::Applied)]);
    assert_eq!(
        flag_of(&server, &member, ended.id).await,
        Some(CheckInFlag::OutsideWindow)
    );
}

#[tokio::test]
async fn a_device_clock_far_ahead_is_flagged_as_skew() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (running, code) = server.hangzhou_code(&member, When::Running).await;

    let a_day_ahead = now_ms() + 24 * 3_600_000;
    assert_eq!(
        server.push(&member, vec![check_in(1, &code, a_day_ahead)]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        flag_of(&server, &member, running.id).await,
        Some(CheckInFlag::ClockSkew)
    );
}

#[tokio::test]
async fn a_push_larger_than_one_batch_is_invalid() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let mutations = (1..=MAX_PUSH_BATCH as u64 + 1)
        .map(|seq| check_in(seq, "x", now_ms()))
        .collect();
    let reply = server.push(&member, mutations).await;
    assert_eq!(reply.error(), (StatusCode::BAD_REQUEST, "invalid".to_owned()));
    assert_eq!(server.pull(&member, 0).await.last_seq, 0);
}

#[tokio::test]
async fn a_full_push_of_the_longest_codes_is_taken_and_every_code_checked() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, good) = server.hangzhou_code(&member, When::Running).await;
    // Codes carry at most MAX_TEXT_BYTES of each text; signed with a key the server does not know.
    let longest = Code {
        subject: Subject::Activity {
            activity_id: fresh_id(),
            org_id: fresh_id(),
        },
        key_id: 1,
        valid_from: 0,
        valid_until: u32::MAX,
        name: "党".repeat(MAX_TEXT_BYTES / 3),
        detail: "支".repeat(MAX_TEXT_BYTES / 3),
        door: None,
    }
    .sign(&ed25519_dalek::SigningKey::from_bytes(&[7; 32]));
    let mutations = (1..=MAX_PUSH_BATCH as u64)
        .map(|seq| check_in(seq, if seq == 1 { &good } else { &longest }, now_ms()))
        .collect();
    let response: PushResponse = server.push(&member, mutations).await.json();
    assert_eq!(response.last_seq, MAX_PUSH_BATCH as u64);
    let outcomes = outcomes(&response);
    assert_eq!(outcomes[0], (1, Outcome::Applied));
    assert!(
        outcomes[1..].iter().all(|(_, outcome)| *outcome
            == Outcome::Rejected {
                reason: Rejection::Code(CodeError::Forged)
            }),
        "each code checked, on whichever thread"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// The JSON of a push of `mutations` from `member`'s phone, to send as it is or changed.
fn push_body(member: &Session, mutations: Vec<Mutation>) -> serde_json::Value {
    let request = guihai_core::sync::PushRequest {
        client_id: member.client_id,
        mutations,
        sent_at: None,
    };
    serde_json::to_value(&request).unwrap()
}

async fn push_gzipped(server: &Server, token: &str, body: Vec<u8>) -> crate::Reply {
    let request = axum::http::Request::post("/api/v1/sync/push")
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header(axum::http::header::CONTENT_ENCODING, "gzip")
        .body(axum::body::Body::from(body))
        .unwrap();
    server.request(request).await
}

#[tokio::test]
async fn a_gzipped_push_lands_and_a_gzip_bomb_is_refused() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    let request = push_body(&member, vec![check_in(1, &code, now_ms())]);
    let reply = push_gzipped(&server, &member.token, gzip(&serde_json::to_vec(&request).unwrap())).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(outcomes(&reply.json())[0].1, Outcome::Applied);

    // Eight megabytes of spaces gzip to a few kilobytes; decompressed, they are over the push's body limit.
    let bomb = gzip(&vec![b' '; 4 * guihai_server::MAX_UPLOAD_BYTES]);
    assert!(bomb.len() < 10_000);
    let reply = push_gzipped(&server, &member.token, bomb).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

/// What a server older than `Op::CheckInIssued` made of a push naming codes (a deployment rolled back under
/// phones that name them): a kind it does not know. It refuses the push whole, and the phone, reading the answer
/// as every client does, sends the same mutations again with their codes whole (core's `Reply::SendInFull`).
#[tokio::test]
async fn a_push_with_a_kind_the_server_does_not_know_applies_nothing_and_the_phone_sends_codes_whole() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (_, code) = server.hangzhou_code(&member, When::Running).await;
    let mut body = push_body(&member, vec![check_in(1, &code, now_ms()), named(2, &code)]);
    body["mutations"][1]["kind"] = "check_in_of_a_newer_build".into();
    let reply = push_gzipped(&server, &member.token, gzip(&serde_json::to_vec(&body).unwrap())).await;
    assert_eq!(reply.error(), (StatusCode::BAD_REQUEST, "invalid".to_owned()));
    assert_eq!(
        guihai_core::engine::Reply::<PushResponse>::from_http(reply.status.as_u16(), &reply.body),
        guihai_core::engine::Reply::SendInFull
    );
    assert_eq!(server.pull(&member, 0).await.last_seq, 0, "nothing applied");
}

//! Rotating door codes (core's `qr::door`): the server certifies a secretary's phone key for their organisation
//! only, takes the codes that phone signs offline, flags one scanned after its minute whenever it can tell (the
//! member's clock against the server's at push), and refuses codes made after the phone was signed out.

use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use guihai_core::checkin::CheckInFlag;
use guihai_core::domain::Activity;
use guihai_core::qr::{self, CodeError, DoorCertificate};
use guihai_core::sync::{Mutation, Outcome, PushRequest, PushResponse, Record, Rejection};

use crate::{check_in, now_ms, Server, Session};

/// The body certifying `phone_key(9)`, for the access matrix.
pub const KEY_BODY: &str = r#"{"public_key":"_RckOFqgx1tk-3jNYC-h2ZH96_drE8WO1wLqyDXp9hg"}"#;

fn phone_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn body(key: &SigningKey) -> serde_json::Value {
    serde_json::json!({ "public_key": URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()) })
}

async fn certify(
    server: &Server,
    secretary: &Session,
    org: guihai_core::Id,
    key: &SigningKey,
) -> (StatusCode, Option<DoorCertificate>) {
    let reply = server
        .send(
            Method::POST,
            &format!("/api/v1/orgs/{org}/door-key"),
            Some(&secretary.token),
            Some(&body(key)),
        )
        .await;
    let certificate = (reply.status == StatusCode::OK).then(|| reply.json());
    (reply.status, certificate)
}

fn secs(ms: i64) -> u32 {
    (ms / 1000) as u32
}

fn door_code(certificate: &DoorCertificate, key: &SigningKey, activity: &Activity, at_ms: i64) -> String {
    certificate
        .sign_code(key, activity.id, secs(at_ms), &activity.title, "")
        .unwrap()
}

/// Pushes `mutations` with the phone's clock at `sent_at` (`None`: an older phone that does not say).
async fn push_at(server: &Server, member: &Session, mutations: Vec<Mutation>, sent_at: Option<i64>) -> Vec<Outcome> {
    let request = PushRequest {
        client_id: member.client_id,
        mutations,
        sent_at,
    };
    let reply = server
        .send(Method::POST, "/api/v1/sync/push", Some(&member.token), Some(&request))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
    reply
        .json::<PushResponse>()
        .results
        .into_iter()
        .map(|r| r.outcome)
        .collect()
}

async fn flag_of(server: &Server, member: &Session) -> Option<CheckInFlag> {
    let records = server.pull_all(member).await;
    let flags: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::CheckIn(c) => Some(c.flag),
            _ => None,
        })
        .collect();
    assert_eq!(flags.len(), 1, "one check-in");
    flags[0]
}

#[test]
fn the_access_matrix_key_is_a_real_key() {
    assert!(KEY_BODY.contains(&URL_SAFE_NO_PAD.encode(phone_key(9).verifying_key().as_bytes())));
}

#[tokio::test]
async fn a_phone_key_is_certified_for_its_secretarys_organisation_only() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let other = server.sign_in("GH-S02").await;
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    let theirs = other.me.current_org.as_ref().unwrap().id;
    let (running, _, _) = server.activities(&server.sign_in("GH-M01").await).await;

    let (status, certificate) = certify(&server, &secretary, hangzhou, &phone_key(1)).await;
    assert_eq!(status, StatusCode::OK);
    let certificate = certificate.unwrap();
    let code = door_code(&certificate, &phone_key(1), &running, now_ms());
    let verified = qr::verify(&code, server.state.keys().trusted(), secs(now_ms())).unwrap();
    assert_eq!(
        verified.subject,
        qr::Subject::Activity {
            activity_id: running.id,
            org_id: hangzhou
        }
    );
    // The same phone renews; its key is never certified for anyone else, nor for another organisation.
    let (status, renewed) = certify(&server, &secretary, hangzhou, &phone_key(1)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(renewed.unwrap().valid_until >= certificate.valid_until);
    assert_eq!(
        certify(&server, &other, hangzhou, &phone_key(2)).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        certify(&server, &other, theirs, &phone_key(1)).await.0,
        StatusCode::FORBIDDEN
    );
    let member = server.sign_in("GH-M01").await;
    assert_eq!(
        certify(&server, &member, hangzhou, &phone_key(3)).await.0,
        StatusCode::NOT_FOUND
    );
    let reply = server
        .send(
            Method::POST,
            &format!("/api/v1/orgs/{hangzhou}/door-key"),
            Some(&secretary.token),
            Some(&serde_json::json!({ "public_key": "AAAA" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_door_code_checks_in_and_one_used_after_its_minute_is_flagged_when_the_server_can_tell() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    let (_, certificate) = certify(&server, &secretary, hangzhou, &phone_key(1)).await;
    let certificate = certificate.unwrap();
    let (running, _, _) = server.activities(&server.sign_in("GH-M01").await).await;
    let now = now_ms();

    // At the door: scanned now, pushed now.
    let at_the_door = server.sign_in("GH-M01").await;
    let fresh = door_code(&certificate, &phone_key(1), &running, now);
    assert_eq!(
        push_at(&server, &at_the_door, vec![check_in(1, &fresh, now)], Some(now)).await,
        [Outcome::Applied]
    );
    assert_eq!(flag_of(&server, &at_the_door).await, None);

    // A photo used two minutes later by a phone whose clock is right (its own check would have refused it).
    let forwarded = door_code(&certificate, &phone_key(1), &running, now - 120_000);
    let clock_right = server.sign_in("GH-M02").await;
    push_at(&server, &clock_right, vec![check_in(1, &forwarded, now)], Some(now)).await;
    assert_eq!(flag_of(&server, &clock_right).await, Some(CheckInFlag::StaleCode));

    // The same photo on a phone set two minutes back, so that its own check passed: still wrong when it syncs.
    let set_back = server.sign_in("GH-M03").await;
    push_at(
        &server,
        &set_back,
        vec![check_in(1, &forwarded, now - 115_000)],
        Some(now - 120_000),
    )
    .await;
    assert_eq!(flag_of(&server, &set_back).await, Some(CheckInFlag::StaleCode));

    // A phone that does not say its clock: the server cannot tell, and says so by not flagging.
    let silent = server.sign_in("GH-M04").await;
    push_at(&server, &silent, vec![check_in(1, &forwarded, now - 115_000)], None).await;
    assert_eq!(flag_of(&server, &silent).await, None);
}

#[tokio::test]
async fn a_door_code_for_another_organisations_activity_or_a_cancelled_one_is_refused() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let other = server.sign_in("GH-S02").await;
    let theirs = other.me.current_org.as_ref().unwrap().id;
    let member = server.sign_in("GH-M01").await;
    let (running, _, upcoming) = server.activities(&member).await;
    let now = now_ms();

    // Another organisation's secretary signs a code naming Hangzhou's activity under their own certificate.
    let (_, certificate) = certify(&server, &other, theirs, &phone_key(2)).await;
    let borrowed = door_code(&certificate.unwrap(), &phone_key(2), &running, now);
    assert_eq!(
        push_at(&server, &member, vec![check_in(1, &borrowed, now)], Some(now)).await,
        [Outcome::Rejected {
            reason: Rejection::Code(CodeError::Forged)
        }]
    );

    // Hangzhou's own door code for an activity its secretary has cancelled.
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    let (_, certificate) = certify(&server, &secretary, hangzhou, &phone_key(1)).await;
    let reply = server
        .send(
            Method::DELETE,
            &format!("/api/v1/activities/{}", upcoming.id),
            Some(&secretary.token),
            None::<&()>,
        )
        .await;
    assert!(reply.status.is_success());
    let cancelled = door_code(&certificate.unwrap(), &phone_key(1), &upcoming, now);
    assert_eq!(
        push_at(&server, &member, vec![check_in(2, &cancelled, now)], Some(now)).await,
        [Outcome::Rejected {
            reason: Rejection::UnknownActivity
        }]
    );
}

#[tokio::test]
async fn signing_the_secretarys_phone_out_revokes_its_key_from_then_on() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    let (_, certificate) = certify(&server, &secretary, hangzhou, &phone_key(1)).await;
    let certificate = certificate.unwrap();
    let member = server.sign_in("GH-M01").await;
    let (running, _, _) = server.activities(&member).await;
    let before = door_code(&certificate, &phone_key(1), &running, now_ms() - 5_000);

    let reply = server
        .send(Method::DELETE, "/api/v1/session", Some(&secretary.token), None::<&()>)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let after = door_code(&certificate, &phone_key(1), &running, now_ms() + 1_000);
    let now = now_ms();
    assert_eq!(
        push_at(
            &server,
            &member,
            vec![check_in(1, &after, now), check_in(2, &before, now)],
            Some(now)
        )
        .await,
        [
            Outcome::Rejected {
                reason: Rejection::Code(CodeError::Revoked)
            },
            Outcome::Applied
        ],
        "the codes it made before still count: the event happened"
    );
    // Every phone learns of it, to refuse the key's new codes offline.
    let revoked: Vec<_> = server
        .pull_all(&server.sign_in("GH-M02").await)
        .await
        .into_iter()
        .filter_map(|r| match r {
            Record::DoorKey(key) => Some(key.public_key),
            _ => None,
        })
        .collect();
    assert_eq!(revoked, [certificate.public_key]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_phone_asking_for_many_keys_at_once_gets_at_most_its_share_and_one_stays_active() {
    let server = std::sync::Arc::new(Server::start().await);
    let secretary = std::sync::Arc::new(server.sign_in("GH-S01").await);
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    let mut asking = tokio::task::JoinSet::new();
    for seed in 10..50u8 {
        let (server, secretary) = (server.clone(), secretary.clone());
        asking.spawn(async move { certify(&server, &secretary, hangzhou, &phone_key(seed)).await.0 });
    }
    let mut certified = 0;
    while let Some(status) = asking.join_next().await {
        match status.unwrap() {
            StatusCode::OK => certified += 1,
            StatusCode::FORBIDDEN => {}
            other => panic!("a request answered {other}"),
        }
    }
    assert_eq!(
        certified, 20,
        "twenty keys a signed-in phone, however many it asks for at once"
    );
    let active = server
        .count("SELECT count(*) FROM door_keys WHERE revoked_at IS NULL")
        .await;
    assert_eq!(active, 1, "each new key replaced the one before");
}

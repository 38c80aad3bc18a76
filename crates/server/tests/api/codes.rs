//! Activity check-in codes: signed for the activity's window, and only for its organisation's secretary.

use axum::http::StatusCode;
use guihai_core::qr::{self, Subject};
use guihai_core::sync::CodeResponse;

use crate::{fresh_id, Server};

#[tokio::test]
async fn the_secretary_gets_a_code_that_phones_can_verify_offline() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let secretary = server.sign_in("GH-S01").await;
    let (running, _, _) = server.activities(&member).await;

    let reply = server
        .get(
            &format!("/api/v1/activities/{}/code", running.id),
            Some(&secretary.token),
        )
        .await;
    let CodeResponse { payload, link, .. } = reply.json();
    assert_eq!(link, format!("/q/{payload}"));
    let now = (crate::now_ms() / 1000) as u32;
    let code = qr::verify(&link, server.state.keys().trusted(), now).unwrap();
    assert_eq!(
        code.subject,
        Subject::Activity {
            activity_id: running.id,
            org_id: running.org_id
        }
    );
    assert_eq!(
        (code.name.as_str(), code.detail.as_str()),
        (running.title.as_str(), "灌南县驻杭州流动党委")
    );
    // Half an hour before the start; for a day from the hour it was asked in, as the demo's runs for weeks: a
    // photo of a printed code works for anyone while it is valid.
    assert_eq!(i64::from(code.valid_from), (running.starts_at - 30 * 60 * 1000) / 1000);
    let day = i64::from(code.valid_until) - i64::from(now);
    assert!(
        (82_790..=86_400).contains(&day),
        "valid for a day from this hour, not {day} s"
    );
    assert_eq!(code.valid_until % 3600, 0, "ends on the hour");
    assert!(running.ends_at / 1000 > i64::from(code.valid_until));
}

/// A code screen left open, or a secretary asking again and again, gets the same code within the hour: the server
/// keeps it once (`issued_codes`), not once a request.
#[tokio::test]
async fn a_code_asked_for_again_within_the_hour_is_the_same_and_kept_once() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let secretary = server.sign_in("GH-S01").await;
    let (running, _, _) = server.activities(&member).await;
    let issued = || sqlx::query_scalar::<_, i64>("SELECT count(*) FROM issued_codes").fetch_one(&server.state.db);
    let hour = || crate::now_ms() / (3600 * 1000);
    let (before, first_hour) = (issued().await.unwrap(), hour());
    let mut codes = std::collections::BTreeSet::new();
    // Seconds apart: a code whose end moved with the second would differ each time.
    for _ in 0..3 {
        codes.insert(server.code(&secretary, &running).await);
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    }
    let turns = hour() - first_hour;
    // One code, unless the requests straddled the turn of an hour.
    assert!(codes.len() as i64 <= 1 + turns, "{} codes", codes.len());
    let kept = issued().await.unwrap() - before;
    assert!(kept <= codes.len() as i64, "{kept} kept for {} codes", codes.len());
}

#[tokio::test]
async fn a_member_cannot_get_an_activity_code() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (running, _, _) = server.activities(&member).await;
    let reply = server
        .get(&format!("/api/v1/activities/{}/code", running.id), Some(&member.token))
        .await;
    assert_eq!(reply.error(), (StatusCode::FORBIDDEN, "forbidden".to_owned()));
}

#[tokio::test]
async fn a_secretary_of_another_organisation_cannot_get_an_activity_code() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await; // Hangzhou
    let suzhou = server.sign_in("GH-S02").await;
    let (running, _, _) = server.activities(&member).await;
    let reply = server
        .get(&format!("/api/v1/activities/{}/code", running.id), Some(&suzhou.token))
        .await;
    assert_eq!(reply.error(), (StatusCode::FORBIDDEN, "forbidden".to_owned()));
}

#[tokio::test]
async fn an_unknown_activity_has_no_code() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let reply = server
        .get(
            &format!("/api/v1/activities/{}/code", fresh_id()),
            Some(&secretary.token),
        )
        .await;
    assert_eq!(reply.error(), (StatusCode::NOT_FOUND, "not_found".to_owned()));
    let reply = server
        .get("/api/v1/activities/not-an-id/code", Some(&secretary.token))
        .await;
    assert_eq!(reply.error(), (StatusCode::BAD_REQUEST, "invalid".to_owned()));
}

#[tokio::test]
async fn the_public_keys_need_no_sign_in() {
    let server = Server::start().await;
    let reply = server.get("/api/v1/keys", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let keys: Vec<qr::TrustedKey> = serde_json::from_value(reply.json::<serde_json::Value>()["keys"].clone()).unwrap();
    assert_eq!(keys, server.state.keys().trusted());
}

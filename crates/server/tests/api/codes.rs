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
    // Half an hour before the start; for a day from now, as the demo's runs for weeks: a photo of a printed code
    // works for anyone while it is valid.
    assert_eq!(i64::from(code.valid_from), (running.starts_at - 30 * 60 * 1000) / 1000);
    let day = i64::from(code.valid_until) - i64::from(now);
    assert!(
        (86_390..=86_400).contains(&day),
        "valid for a day from now, not {day} s"
    );
    assert!(running.ends_at / 1000 > i64::from(code.valid_until));
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

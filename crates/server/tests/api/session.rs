//! Sign-in, sign-out, and the token check in front of every authenticated endpoint.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use guihai_core::domain::Role;
use guihai_core::sync::{PushRequest, SessionResponse};

use crate::{fresh_id, Server};

#[tokio::test]
async fn a_demo_code_signs_in_with_the_members_record_and_the_keys() {
    let server = Server::start().await;
    // Typed the way people type: lower case, stray spaces.
    let reply = server.sign_in_with("  gh-m01 ", fresh_id()).await;
    assert_eq!(reply.status, StatusCode::OK);
    let SessionResponse {
        token,
        me,
        keys,
        pin_set,
    } = reply.json();
    assert!(!pin_set, "no PIN until the member sets one");
    assert_eq!(token.len(), 43, "32 bytes in base64url");
    assert_eq!(me.name, "王建国");
    assert_eq!(me.home_org.name, "新安镇");
    assert_eq!(me.current_org.unwrap().city.as_deref(), Some("杭州"));
    assert_eq!(me.certificate_no.as_deref(), Some("GN-2026-0001"));
    assert_eq!(me.roles, [Role::Member]);
    assert_eq!(keys, server.state.keys().trusted());

    let me_again: guihai_core::domain::Me = server.get("/api/v1/me", Some(&token)).await.json();
    assert_eq!(me_again.name, "王建国");
}

#[tokio::test]
async fn a_secretary_signs_in_with_the_secretary_role_for_their_organisation() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let org = secretary.me.current_org.clone().unwrap();
    assert_eq!(org.name, "灌南县驻杭州流动党委");
    assert!(secretary.me.roles.contains(&Role::Secretary { org_id: org.id }));
}

#[tokio::test]
async fn an_unknown_activation_code_is_refused_as_bad_code() {
    let server = Server::start().await;
    let reply = server.sign_in_with("GH-M99", fresh_id()).await;
    assert_eq!(reply.error(), (StatusCode::UNAUTHORIZED, "bad_code".to_owned()));
}

#[tokio::test]
async fn every_authenticated_endpoint_refuses_a_missing_or_bad_token() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let (running, _, _) = server.activities(&member).await;
    let push = serde_json::to_vec(&PushRequest {
        client_id: member.client_id,
        mutations: Vec::new(),
        sent_at: None,
    })
    .unwrap();
    let endpoints = [
        (Method::GET, "/api/v1/me".to_owned()),
        (Method::POST, "/api/v1/sync/push".to_owned()),
        (Method::GET, "/api/v1/sync/pull?cursor=0".to_owned()),
        (Method::GET, format!("/api/v1/activities/{}/code", running.id)),
        (Method::DELETE, "/api/v1/session".to_owned()),
    ];
    // No header; a token the server never issued; another scheme; a real token without its scheme.
    let authorizations = [
        None,
        Some("Bearer not-a-token".to_owned()),
        Some("Basic R0gtTTAxOg==".to_owned()),
        Some(member.token.clone()),
    ];
    for (method, path) in endpoints {
        for authorization in &authorizations {
            let mut request = Request::builder().method(method.clone()).uri(&path);
            if let Some(value) = authorization {
                request = request.header(header::AUTHORIZATION, value);
            }
            let request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(push.clone()))
                .unwrap();
            let reply = server.request(request).await;
            assert_eq!(
                reply.error(),
                (StatusCode::UNAUTHORIZED, "unauthorized".to_owned()),
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn signing_out_revokes_the_token_and_only_that_token() {
    let server = Server::start().await;
    let phone = server.sign_in("GH-M01").await;
    let tablet = server.sign_in("GH-M01").await;
    let reply = server
        .send(Method::DELETE, "/api/v1/session", Some(&phone.token), None::<&()>)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        server.get("/api/v1/me", Some(&phone.token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        server.get("/api/v1/me", Some(&tablet.token)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_member_cannot_use_my_client_id() {
    let server = Server::start().await;
    let mine = server.sign_in("GH-M01").await;
    let other = server.sign_in("GH-M02").await;

    let reply = server.sign_in_with("GH-M02", mine.client_id).await;
    assert_eq!(
        reply.error(),
        (StatusCode::CONFLICT, "client_taken".to_owned()),
        "refused as taken, so the phone can tell the member whose writes wait on it"
    );
    let reply = server.push_as(&other, mine.client_id, Vec::new()).await;
    assert_eq!(reply.error(), (StatusCode::FORBIDDEN, "forbidden".to_owned()));
    let reply = server.pull_as(&other, mine.client_id, 0).await;
    assert_eq!(reply.error(), (StatusCode::FORBIDDEN, "forbidden".to_owned()));

    // I can sign in again on my own installation.
    assert_eq!(
        server.sign_in_with("GH-M01", mine.client_id).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_malformed_json_body_is_invalid() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    for (path, token, body) in [
        (
            "/api/v1/session",
            None,
            r#"{"activation_code": "GH-M01", "client_id": "#,
        ),
        (
            "/api/v1/session",
            None,
            r#"{"activation_code": "GH-M01", "client_id": "not-an-id"}"#,
        ),
        (
            "/api/v1/sync/push",
            Some(&member.token),
            r#"{"client_id": 7, "mutations": []}"#,
        ),
    ] {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let reply = server.request(request.body(Body::from(body)).unwrap()).await;
        assert_eq!(reply.error(), (StatusCode::BAD_REQUEST, "invalid".to_owned()), "{body}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_unread() {
    let server = Server::start().await;
    // Signing in takes a form's worth, whatever the push may carry.
    for size in [guihai_server::MAX_BODY_BYTES, guihai_server::MAX_UPLOAD_BYTES] {
        let huge = format!(r#"{{"activation_code": "{}", "client_id": "x"}}"#, "A".repeat(size));
        let request = Request::post("/api/v1/session").header(header::CONTENT_TYPE, "application/json");
        let reply = server.request(request.body(Body::from(huge)).unwrap()).await;
        assert_eq!(
            reply.error(),
            (StatusCode::PAYLOAD_TOO_LARGE, "invalid".to_owned()),
            "{size}"
        );
    }
}

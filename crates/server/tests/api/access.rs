//! The access matrix: every endpoint of the API, taken from the router's own route table, has a rule here, and
//! each rule holds for every kind of caller: no token, a revoked token, a member, the secretary of another
//! organisation, and ids that belong to someone else. A new endpoint without a rule fails the first test.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use guihai_core::domain::{ActivityKind, NewActivity};
use guihai_core::sync::Device;
use guihai_server::routes::Endpoint;

use crate::{fresh_id, now_ms, Server, Session};

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Anyone, signed in or not: the health check, the public keys, signing in.
    Public,
    /// Any signed-in person, about themselves only: nothing in the request names anyone else.
    Own,
    /// Any signed-in person, about one of their own records named by `{id}`; anyone else's is not found.
    OwnById,
    /// The secretary of the organisation that the activity (`{id}`, or the body's `org_id`) belongs to.
    Secretary,
    /// Whoever looks after what `{id}` names: the secretary of a host organisation (its code, poster and
    /// roster; a report to it; a stop at it), the administrator of a township (its members; a member's return).
    /// To anyone else it does not exist.
    Steward,
}

const RULES: &[(Method, &str, Rule)] = &[
    (Method::GET, "/health", Rule::Public),
    (Method::GET, "/keys", Rule::Public),
    (Method::POST, "/session", Rule::Public),
    (Method::POST, "/session/pin", Rule::Public),
    (Method::DELETE, "/session", Rule::Own),
    (Method::PUT, "/me/pin", Rule::Own),
    (Method::GET, "/me", Rule::Own),
    (Method::GET, "/me/card", Rule::Own),
    (Method::GET, "/devices", Rule::Own),
    (Method::DELETE, "/devices/{id}", Rule::OwnById),
    (Method::POST, "/sync/push", Rule::Own),
    (Method::GET, "/sync/pull", Rule::Own),
    (Method::POST, "/activities", Rule::Secretary),
    (Method::DELETE, "/activities/{id}", Rule::Secretary),
    (Method::GET, "/activities/{id}/code", Rule::Secretary),
    (Method::GET, "/activities/{id}/attendance", Rule::Secretary),
    (Method::GET, "/activities/{id}/attendance.csv", Rule::Secretary),
    (Method::GET, "/orgs/{id}/code", Rule::Steward),
    (Method::POST, "/orgs/{id}/door-key", Rule::Steward),
    (Method::GET, "/orgs/{id}/volunteer-hours", Rule::Steward),
    (Method::POST, "/orgs/{id}/code", Rule::Steward),
    (Method::GET, "/orgs/{id}/poster.svg", Rule::Steward),
    (Method::GET, "/orgs/{id}/overview", Rule::Steward),
    (Method::POST, "/reports/{id}/decision", Rule::Steward),
    (Method::POST, "/stops/{id}/evaluation", Rule::Steward),
    (Method::GET, "/orgs/{id}/members", Rule::Steward),
    (Method::POST, "/orgs/{id}/roster", Rule::Steward),
    (Method::GET, "/people/{id}", Rule::Steward),
    (Method::POST, "/people/{id}/return", Rule::Steward),
    (Method::GET, "/people/{id}/devices", Rule::Steward),
    (Method::POST, "/people/{id}/activation", Rule::Steward),
    (Method::GET, "/people/{id}/sign-in-phone", Rule::Steward),
    (Method::POST, "/people/{id}/sign-in-phone", Rule::Steward),
    (Method::GET, "/orgs/{id}/tree", Rule::Steward),
    (Method::GET, "/orgs/{id}/tree.csv", Rule::Steward),
    (Method::GET, "/orgs/{id}/members.csv", Rule::Steward),
    (Method::GET, "/orgs/{id}/flow", Rule::Steward),
    (Method::GET, "/orgs/{id}/flow.csv", Rule::Steward),
    (Method::GET, "/orgs/{id}/overview.csv", Rule::Steward),
    (Method::POST, "/people/{id}/contacts", Rule::Steward),
    (Method::GET, "/people/{id}/contacts", Rule::Steward),
    (Method::POST, "/orgs/{id}/notices", Rule::Steward),
    (Method::GET, "/orgs/{id}/notices", Rule::Steward),
    (Method::GET, "/notices/{id}/receipts", Rule::Steward),
    (Method::POST, "/orgs/{id}/tree", Rule::Steward),
    (Method::POST, "/orgs/{id}/details", Rule::Steward),
    (Method::POST, "/orgs/{id}/secretary", Rule::Steward),
    (Method::POST, "/orgs/{id}/close", Rule::Steward),
];

fn rule(endpoint: &Endpoint) -> Option<Rule> {
    RULES
        .iter()
        .find(|(method, path, _)| *method == endpoint.method && *path == endpoint.path)
        .map(|(_, _, rule)| *rule)
}

fn endpoints(wanted: Rule) -> Vec<Endpoint> {
    guihai_server::api_endpoints()
        .into_iter()
        .filter(|e| rule(e) == Some(wanted))
        .collect()
}

async fn call(server: &Server, endpoint: &Endpoint, id: &str, token: Option<&str>, body: &str) -> StatusCode {
    let mut request = Request::builder()
        .method(endpoint.method.clone())
        .uri(format!("/api/v1{}", endpoint.path.replace("{id}", id)))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    server
        .request(request.body(Body::from(body.to_owned())).unwrap())
        .await
        .status
}

#[test]
fn every_endpoint_has_a_rule_and_every_rule_an_endpoint() {
    let endpoints = guihai_server::api_endpoints();
    let unruled: Vec<_> = endpoints.iter().filter(|e| rule(e).is_none()).collect();
    assert!(unruled.is_empty(), "endpoints without an access rule: {unruled:?}");
    for (method, path, _) in RULES {
        assert!(
            endpoints.iter().any(|e| e.method == *method && e.path == *path),
            "a rule for {method} {path}, which the router does not have"
        );
    }
}

#[tokio::test]
async fn without_a_valid_token_only_public_endpoints_answer() {
    let server = Server::start().await;
    let revoked = server.sign_in("GH-M01").await;
    let path_revoked = Endpoint {
        method: Method::DELETE,
        path: "/session",
    };
    assert_eq!(
        call(&server, &path_revoked, "", Some(&revoked.token), "").await,
        StatusCode::NO_CONTENT
    );
    for rule in [Rule::Own, Rule::OwnById, Rule::Secretary, Rule::Steward] {
        for endpoint in endpoints(rule) {
            let id = fresh_id().to_string();
            for token in [None, Some("not-a-token"), Some(revoked.token.as_str())] {
                let status = call(&server, &endpoint, &id, token, "{}").await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{endpoint:?} with {token:?}");
            }
        }
    }
    for endpoint in endpoints(Rule::Public) {
        let status = call(&server, &endpoint, "", None, "{}").await;
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{endpoint:?} is public");
    }
}

/// A new activity at the organisation that `GH-S01` is secretary of, as JSON.
fn hangzhou_activity(secretary: &Session) -> String {
    serde_json::to_string(&NewActivity {
        org_id: secretary.me.current_org.as_ref().unwrap().id,
        title: "access".into(),
        kind: ActivityKind::Study,
        starts_at: now_ms(),
        ends_at: now_ms() + 3_600_000,
        place: None,
        team: None,
        notes: None,
        open_to_visitors: true,
        hours_tenths: None,
    })
    .unwrap()
}

#[tokio::test]
async fn secretary_endpoints_refuse_members_and_other_organisations_secretaries() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let member = server.sign_in("GH-M01").await;
    let other_secretary = server.sign_in("GH-S02").await;
    let (running, _, _) = server.activities(&member).await;
    let body = hangzhou_activity(&secretary);
    let mut allowed = Vec::new();
    for endpoint in endpoints(Rule::Secretary) {
        for caller in [&member, &other_secretary] {
            let status = call(&server, &endpoint, &running.id.to_string(), Some(&caller.token), &body).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{endpoint:?} as {}", caller.me.name);
        }
        allowed.push(endpoint);
    }
    // The secretary of the activity's own organisation may; cancelling goes last, as it ends the activity.
    allowed.sort_by_key(|e| e.method == Method::DELETE);
    for endpoint in allowed {
        let status = call(
            &server,
            &endpoint,
            &running.id.to_string(),
            Some(&secretary.token),
            &body,
        )
        .await;
        assert!(status.is_success(), "{endpoint:?} as the secretary: {status}");
    }
}

#[tokio::test]
async fn an_id_that_is_someone_elses_is_not_found() {
    let server = Server::start().await;
    let member = server.sign_in("GH-M01").await;
    let stranger = server.sign_in("GH-M02").await;
    let theirs: Vec<Device> = server.get("/api/v1/devices", Some(&stranger.token)).await.json();
    for endpoint in endpoints(Rule::OwnById) {
        let status = call(&server, &endpoint, &theirs[0].id.to_string(), Some(&member.token), "{}").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint:?} with another member's id");
        let status = call(&server, &endpoint, &fresh_id().to_string(), Some(&member.token), "{}").await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{endpoint:?} with an unknown id: the same answer"
        );
    }
    assert_eq!(
        server.get("/api/v1/me", Some(&stranger.token)).await.status,
        StatusCode::OK,
        "untouched"
    );
}

/// A contact point the county sets up.
const NEW_ORG: &str = r#"{"kind":"contact_point","name":"长安联络点","city":"东莞"}"#;

/// A one-member roster for 新安镇 (`GH-T01`'s township).
const ROSTER: &str = "姓名,手机号,性别,出生年份,家乡组织,入党日期,流动党员证编号\n周新,13911112222,男,1990,新安镇,2015-07-01,GN-2026-9001";

#[tokio::test]
async fn what_a_steward_looks_after_does_not_exist_for_anyone_else() {
    let server = Server::start().await;
    let secretary = server.sign_in("GH-S01").await;
    let township_admin = server.sign_in("GH-T01").await;
    let county_admin = server.sign_in("GH-C01").await;
    // Strangers: a member of the organisation, another organisation's secretary, another township's
    // administrator. (The county's administrator may act for its townships: see `rosters`.)
    let member = server.sign_in("GH-M01").await;
    let other_secretary = server.sign_in("GH-S02").await;
    let strangers = [&member, &other_secretary, &server.sign_in("GH-T02").await];
    let hangzhou = secretary.me.current_org.as_ref().unwrap().id;
    let township = township_admin.me.home_org.id;
    let county = county_admin.county();

    // A pending report to Hangzhou, and the member's open stop there.
    let newcomer = server.sign_in("GH-M21").await;
    let code: guihai_core::sync::CodeResponse = server
        .get(&format!("/api/v1/orgs/{hangzhou}/code"), Some(&secretary.token))
        .await
        .json();
    let report = guihai_core::sync::Mutation {
        seq: 1,
        occurred_at: now_ms(),
        op: guihai_core::sync::Op::Report {
            id: fresh_id(),
            code: code.payload,
            left_stop: None,
        },
    };
    server.push(&newcomer, vec![report]).await;
    let overview: guihai_core::report::OrgOverview = server
        .get(&format!("/api/v1/orgs/{hangzhou}/overview"), Some(&secretary.token))
        .await
        .json();
    let report_id = overview.pending[0].id;
    let stop_id = overview
        .members
        .iter()
        .find(|m| m.person_id == member.me.id)
        .unwrap()
        .stop_id
        .unwrap();

    // A phone call an hour ago.
    let contact = format!(
        r#"{{"way":"phone","note":"通了电话","contacted_at":{}}}"#,
        now_ms() - 3_600_000
    );
    let notice = r#"{"title":"十二月主题党日","body":"12 月 6 日晚 7 点线上学习。"}"#;
    let sent: guihai_core::notice::Notice = server
        .send(
            Method::POST,
            &format!("/api/v1/orgs/{hangzhou}/notices"),
            Some(&secretary.token),
            Some(&serde_json::from_str::<serde_json::Value>(notice).unwrap()),
        )
        .await
        .json();
    let close = format!(
        r#"{{"move_to":"{}"}}"#,
        other_secretary.me.current_org.as_ref().unwrap().id
    );
    let fixture = |path: &str| -> (String, &Session, &str) {
        match path {
            "/reports/{id}/decision" => (report_id.to_string(), &secretary, r#"{"decision":"accept"}"#),
            "/stops/{id}/evaluation" => (stop_id.to_string(), &secretary, r#"{"grade":"qualified","text":"好"}"#),
            "/orgs/{id}/members" | "/orgs/{id}/members.csv" | "/orgs/{id}/flow" | "/orgs/{id}/flow.csv" => {
                (township.to_string(), &township_admin, "{}")
            }
            "/orgs/{id}/roster" => (township.to_string(), &township_admin, ROSTER),
            "/orgs/{id}/tree" => (county.to_string(), &county_admin, NEW_ORG),
            "/orgs/{id}/tree.csv" => (county.to_string(), &county_admin, "{}"),
            "/orgs/{id}/details" => (
                hangzhou.to_string(),
                &county_admin,
                r#"{"name":"杭州流动党委","city":"杭州"}"#,
            ),
            "/orgs/{id}/secretary" => (hangzhou.to_string(), &county_admin, r#"{"phone":"13900000002"}"#),
            "/orgs/{id}/close" => (hangzhou.to_string(), &county_admin, &close),
            "/orgs/{id}/door-key" => (hangzhou.to_string(), &secretary, crate::door::KEY_BODY),
            "/people/{id}"
            | "/people/{id}/return"
            | "/people/{id}/devices"
            | "/people/{id}/activation"
            | "/people/{id}/sign-in-phone" => (member.me.id.to_string(), &township_admin, "{}"),
            "/people/{id}/contacts" => (member.me.id.to_string(), &township_admin, &contact),
            "/orgs/{id}/notices" => (hangzhou.to_string(), &secretary, notice),
            "/notices/{id}/receipts" => (sent.id.to_string(), &secretary, "{}"),
            _ => (hangzhou.to_string(), &secretary, "{}"),
        }
    };
    let mut stewarded = endpoints(Rule::Steward);
    // Closing Hangzhou goes last, as it ends every stay there; before it, appointing its new secretary ends
    // GH-S01's role, and before that the member's return ends their stay.
    stewarded.sort_by_key(|e| match e.path {
        "/orgs/{id}/close" => 3,
        "/orgs/{id}/secretary" => 2,
        "/people/{id}/return" => 1,
        _ => 0,
    });
    for endpoint in stewarded {
        let (id, steward, body) = fixture(endpoint.path);
        for stranger in strangers {
            let status = call(&server, &endpoint, &id, Some(&stranger.token), body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint:?} as {}", stranger.me.name);
        }
        let status = call(&server, &endpoint, &fresh_id().to_string(), Some(&steward.token), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{endpoint:?} with an unknown id");
        let status = call(&server, &endpoint, &id, Some(&steward.token), body).await;
        assert!(status.is_success(), "{endpoint:?} as its steward: {status}");
    }

    // A database that cannot say who holds which role is a failure of the server (500), never read as "not
    // yours" (404) or "not allowed" (403).
    server.execute("ALTER TABLE roles RENAME TO roles_unreadable").await;
    for endpoint in endpoints(Rule::Steward) {
        let (id, steward, body) = fixture(endpoint.path);
        let status = call(&server, &endpoint, &id, Some(&steward.token), body).await;
        assert_eq!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{endpoint:?} without its roles"
        );
    }
}

//! The server as an attacker meets it: the real binary over HTTP, with requests sent at once rather than one
//! after another. Behind a proxy (`--behind-proxy`) each request can come from an address of its own, as a
//! botnet's would, so that the per-address limits do not hide what the other defences do.

use std::time::Duration;

use futures::future::join_all;
use guihai_core::sync::{ErrorBody, Mutation, Op, PinSignIn, PushRequest, SessionRequest, SessionResponse, SetPin};
use guihai_core::Id;
use reqwest::StatusCode;

use crate::spawned::Spawned;
use crate::{config_in, fresh_id, now_ms};

const PHONE_OF_M07: &str = "13900000007";
const PIN: &str = "246810";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The `n`th address of a botnet.
fn address(n: usize) -> String {
    format!("10.{}.{}.{}", (n >> 16) & 255, (n >> 8) & 255, n & 255)
}

async fn sign_in(http: &reqwest::Client, server: &Spawned, code: &str) -> SessionResponse {
    sign_in_as(http, server, code, fresh_id()).await
}

/// Signs in on the installation `client_id`.
async fn sign_in_as(http: &reqwest::Client, server: &Spawned, code: &str, client_id: Id) -> SessionResponse {
    let reply = post_session(http, server, code, client_id).await;
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json().await.unwrap()
}

/// The answer to signing in with `code` on the installation `client_id`.
async fn post_session(http: &reqwest::Client, server: &Spawned, code: &str, client_id: Id) -> reqwest::Response {
    let request = SessionRequest {
        activation_code: code.to_owned(),
        client_id,
    };
    http.post(format!("http://{}/api/v1/session", server.addr))
        .json(&request)
        .send()
        .await
        .unwrap()
}

/// A PIN sign-in from `from` (an `X-Forwarded-For` address): its status and error key.
async fn try_pin(
    http: &reqwest::Client,
    server: &Spawned,
    from: String,
    phone: &str,
    pin: &str,
) -> (StatusCode, String) {
    let body = PinSignIn {
        phone: phone.to_owned(),
        pin: pin.to_owned(),
        client_id: fresh_id(),
    };
    let reply = http
        .post(format!("http://{}/api/v1/session/pin", server.addr))
        .header("x-forwarded-for", from)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = reply.status();
    let key = match status {
        StatusCode::OK => String::new(),
        _ => reply
            .json::<ErrorBody>()
            .await
            .map(|body| body.error)
            .unwrap_or_default(),
    };
    (status, key)
}

async fn set_pin(http: &reqwest::Client, server: &Spawned, token: &str, pin: &str) {
    let reply = http
        .put(format!("http://{}/api/v1/me/pin", server.addr))
        .bearer_auth(token)
        .json(&SetPin {
            pin: pin.to_owned(),
            current: None,
        })
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
}

/// A server behind a proxy (each request may say its own address) where GH-M07 (`PHONE_OF_M07`) has set `PIN`.
async fn member_with_pin() -> (Spawned, reqwest::Client) {
    let server = Spawned::start_with("", &["--behind-proxy"]);
    let http = client();
    let member = sign_in(&http, &server, "GH-M07").await;
    set_pin(&http, &server, &member.token, PIN).await;
    (server, http)
}

/// The most memory the process has held (`VmHWM`), in bytes.
fn peak_memory(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|line| line.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[tokio::test]
async fn pins_sent_at_once_are_counted_one_after_another_and_the_right_one_cannot_slip_in() {
    let (server, http) = member_with_pin().await;

    // Eight at once, each from its own address: however they interleave, no more than five PINs are checked
    // before PIN sign-in closes. (Counted after the check, as before, all eight were.)
    let burst = (0..8).map(|n| {
        let pin = if n == 7 { PIN } else { "111111" };
        try_pin(&http, &server, address(n), PHONE_OF_M07, pin)
    });
    let answers = join_all(burst).await;
    let checked = answers
        .iter()
        .filter(|(status, key)| *status == StatusCode::OK || key == "bad_pin")
        .count();
    assert!(checked <= 5, "{checked} PINs checked in a burst of 8: {answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, key)| *status == StatusCode::OK || ["bad_pin", "locked", "busy"].contains(&key.as_str())),
        "{answers:?}"
    );

    // Thirty wrong ones at once, then the right one: it does not get in, and neither does it alone afterwards.
    let wrong = join_all((100..130).map(|n| try_pin(&http, &server, address(n), PHONE_OF_M07, "222222")));
    let right = async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        try_pin(&http, &server, address(200), PHONE_OF_M07, PIN).await
    };
    let (_, right) = tokio::join!(wrong, right);
    if answers[7].0 != StatusCode::OK {
        assert_ne!(
            right.0,
            StatusCode::OK,
            "the right PIN got in while PIN sign-in was closed"
        );
        let (status, key) = try_pin(&http, &server, address(201), PHONE_OF_M07, PIN).await;
        assert_eq!((status, key.as_str()), (StatusCode::TOO_MANY_REQUESTS, "locked"));
    }
}

#[tokio::test]
async fn two_hundred_anonymous_pin_attempts_at_once_neither_exhaust_memory_nor_stop_the_server() {
    let server = Spawned::start_with("", &["--behind-proxy"]);
    let http = client();
    let before = peak_memory(server.pid());
    let attempts = (0..200).map(|n| {
        let phone = format!("1380000{n:04}");
        let http = &http;
        let server = &server;
        async move { try_pin(http, server, address(n), &phone, "123456").await }
    });
    let answers = join_all(attempts).await;
    let busy = answers.iter().filter(|(_, key)| key == "busy").count();
    let checked = answers.iter().filter(|(_, key)| key == "bad_pin").count();
    assert_eq!(busy + checked, 200, "{answers:?}");
    assert!(busy > 0, "a full line answers 503 at once");
    assert!(answers
        .iter()
        .all(|(status, key)| key != "busy" || *status == StatusCode::SERVICE_UNAVAILABLE));
    // Each PIN check holds ~19 MiB while it runs; only one a CPU runs at once.
    let peak = peak_memory(server.pid());
    let bound = 100 << 20;
    assert!(
        peak < bound,
        "the server grew from {before} to {peak} bytes (bound {bound})"
    );
    assert_eq!(health(&http, &server).await, StatusCode::OK);
}

#[tokio::test]
async fn signing_in_is_limited_per_address_and_the_limit_says_when_to_come_back() {
    let server = Spawned::start("");
    let http = client();
    // Forty at once: the limit holds however they arrive.
    let replies = join_all((0..40).map(|n| {
        let http = &http;
        let server = &server;
        async move { post_session(http, server, &format!("WRONG-{n}"), fresh_id()).await }
    }))
    .await;
    let mut statuses = Vec::new();
    for reply in replies {
        let retry_after = reply.headers().get("retry-after").cloned();
        let status = reply.status();
        let key = reply.json::<ErrorBody>().await.unwrap().error;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(key, "rate_limited");
            let secs: u64 = retry_after.unwrap().to_str().unwrap().parse().unwrap();
            assert!((1..=2).contains(&secs), "Retry-After: {secs}");
        } else {
            assert_eq!((status, key.as_str()), (StatusCode::UNAUTHORIZED, "bad_code"));
        }
        statuses.push(status);
    }
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(
        (9..=10).contains(&limited),
        "30 at once, then one every 2 s: {limited} of 40 limited"
    );
    // Only signing in is closed to this address; the rest goes on.
    assert_eq!(health(&http, &server).await, StatusCode::OK);
}

/// How the server answers its health check.
async fn health(http: &reqwest::Client, server: &Spawned) -> StatusCode {
    let reply = http.get(format!("http://{}/api/v1/health", server.addr)).send().await;
    reply.unwrap().status()
}

#[tokio::test]
async fn one_session_is_limited_and_others_are_not() {
    let server = Spawned::start("");
    let http = client();
    let member = sign_in(&http, &server, "GH-M01").await;
    let other = sign_in(&http, &server, "GH-M02").await;
    let me = |token: String| {
        let http = &http;
        let url = format!("http://{}/api/v1/me", server.addr);
        async move { http.get(url).bearer_auth(token).send().await.unwrap().status() }
    };
    // In fifties until the session's limit refuses some, never more than the address's limit lets through
    // (`guard::PER_ADDRESS`: 1,000, then one every 2 ms; less a margin for the requests before), so that only
    // the session's limit can refuse them, however slowly the machine sends them. (1,500 at once emptied the
    // address's too on a quick machine, and then the other session was refused as well; a fixed 950 would not
    // reach the session's limit on a machine slow enough for it to refill meanwhile.) The session's refills
    // more slowly than the address's, so it is reached first.
    let started = std::time::Instant::now();
    let mut burst = Vec::new();
    while !burst.contains(&StatusCode::TOO_MANY_REQUESTS) {
        assert!(burst.len() < 5_000, "the session was never limited");
        let address_allows = 1_000 - 50 + started.elapsed().as_millis() / 2;
        if burst.len() as u128 + 50 > address_allows {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        burst.extend(join_all((0..50).map(|_| me(member.token.clone()))).await);
    }
    // `guard::PER_CALLER`: a burst of 500, then one every 5 ms.
    let (burst_size, every_ms) = (500, 5);
    let refilled = started.elapsed().as_millis() / every_ms + 1;
    let limited = burst.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    let passed = burst.len() - limited;
    assert!(
        passed as u128 <= burst_size + refilled,
        "{} against a burst of {burst_size} and {refilled} refilled: {passed} passed",
        burst.len()
    );
    assert!(limited > 0);
    assert!(burst
        .iter()
        .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(me(other.token.clone()).await, StatusCode::OK);
}

#[tokio::test]
async fn a_refused_write_costs_a_few_bytes_however_large_it_was() {
    let server = Spawned::start("");
    let http = client();
    let client_id = fresh_id();
    let member = sign_in_as(&http, &server, "GH-M01", client_id).await;
    let database = rusqlite::Connection::open(server.database()).unwrap();
    let size = || -> i64 {
        database
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |row| row.get(0),
            )
            .unwrap()
    };
    let before = size();
    let junk = "x".repeat(1 << 20);
    for seq in 1..=10 {
        let push = PushRequest {
            client_id,
            mutations: vec![Mutation {
                seq,
                occurred_at: now_ms(),
                op: Op::CheckIn {
                    id: fresh_id(),
                    code: junk.clone(),
                },
            }],
            sent_at: None,
        };
        let reply = http
            .post(format!("http://{}/api/v1/sync/push", server.addr))
            .bearer_auth(&member.token)
            .json(&push)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
    }
    let refused: i64 = database
        .query_row("SELECT count(*) FROM rejected_mutations", [], |row| row.get(0))
        .unwrap();
    assert_eq!(refused, 10);
    let grown = size() - before;
    assert!(
        grown <= 64 << 10,
        "ten refused 1 MB writes grew the database by {grown} bytes"
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let server = Spawned::start("");
    let http = client();
    for path in ["/", "/q/anything", "/api/v1/health", "/api/v1/nothing-here", "/sw.js"] {
        let reply = http.get(format!("http://{}{path}", server.addr)).send().await.unwrap();
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
    }
}

#[tokio::test]
async fn codes_opened_from_a_camera_stay_out_of_the_log() {
    let server = Spawned::start("");
    let http = client();
    let payload = "M1.TOPSECRETCARDPAYLOAD.signature";
    let reply = http
        .get(format!("http://{}/q/{payload}", server.addr))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success() || reply.status() == StatusCode::NOT_FOUND);
    try_pin(&http, &server, address(1), PHONE_OF_M07, "123456").await;
    // The log line is written when the answer is sent; give it a moment to reach the file.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = server.log();
    assert!(log.contains("/q/…"), "the request is logged, without its code:\n{log}");
    assert!(!log.contains("TOPSECRET"), "{log}");
    assert!(!log.contains(PHONE_OF_M07), "{log}");
}

#[tokio::test]
async fn a_member_whose_pin_sign_in_someone_keeps_closing_gets_back_in_with_a_new_code_from_their_township() {
    let server = Spawned::start_with("", &["--behind-proxy"]);
    let http = client();
    let member = sign_in(&http, &server, "GH-M07").await; // 新安镇
    set_pin(&http, &server, &member.token, PIN).await;
    for n in 0..5 {
        try_pin(&http, &server, address(n), PHONE_OF_M07, "999999").await;
    }
    let (status, key) = try_pin(&http, &server, address(50), PHONE_OF_M07, PIN).await;
    assert_eq!((status, key.as_str()), (StatusCode::TOO_MANY_REQUESTS, "locked"));

    // The township administrator gives the member a new one-time code; another township's cannot.
    let path = format!("http://{}/api/v1/people/{}/activation", server.addr, member.me.id);
    let other = sign_in(&http, &server, "GH-T02").await;
    let refused = http.post(&path).bearer_auth(&other.token).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    let admin = sign_in(&http, &server, "GH-T01").await;
    let reply = http.post(&path).bearer_auth(&admin.token).send().await.unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    let activation: guihai_core::roster::Activation = reply.json().await.unwrap();
    assert!(activation.link.ends_with(&activation.code));

    // With it the member signs in, sets a new PIN without the old one, and signs in with that elsewhere.
    let back = sign_in(&http, &server, &activation.code).await;
    set_pin(&http, &server, &back.token, "135790").await;
    let (status, _) = try_pin(&http, &server, address(51), PHONE_OF_M07, "135790").await;
    assert_eq!(status, StatusCode::OK);
    // The code was for once.
    let reply = post_session(&http, &server, &activation.code, fresh_id()).await;
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn changing_the_pin_needs_the_current_one_unless_the_phone_just_signed_in_with_a_code() {
    let (server, http) = member_with_pin().await;
    // A phone signed in with the PIN (a thief's, say) cannot change it without knowing it.
    let body = PinSignIn {
        phone: PHONE_OF_M07.to_owned(),
        pin: PIN.to_owned(),
        client_id: fresh_id(),
    };
    let by_pin: SessionResponse = http
        .post(format!("http://{}/api/v1/session/pin", server.addr))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let change = |current: Option<&str>| {
        let http = &http;
        let url = format!("http://{}/api/v1/me/pin", server.addr);
        let body = SetPin {
            pin: "975310".to_owned(),
            current: current.map(str::to_owned),
        };
        let token = by_pin.token.clone();
        async move {
            http.put(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(change(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(change(Some("000000")).await, StatusCode::UNAUTHORIZED);
    assert_eq!(change(Some(PIN)).await, StatusCode::NO_CONTENT);
    let (status, _) = try_pin(&http, &server, address(1), PHONE_OF_M07, "975310").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn printed_links_point_at_the_configured_address_whatever_a_request_claims() {
    let http = client();
    let card_link = async |server: &Spawned| {
        let member = sign_in(&http, server, "GH-M01").await;
        let card: guihai_core::certificate::MemberCard = http
            .get(format!("http://{}/api/v1/me/card", server.addr))
            .bearer_auth(&member.token)
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "https")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        card.link
    };
    let configured = Spawned::start_with("", &["--public-url", "https://guihai.example.cn/"]);
    let link = card_link(&configured).await;
    assert!(link.starts_with("https://guihai.example.cn/q/"), "{link}");
    // Without it, and not behind a proxy, a forwarded host is the requester's word and is not read.
    let plain = Spawned::start("");
    let link = card_link(&plain).await;
    assert!(link.starts_with(&format!("http://{}/q/", plain.addr)), "{link}");
}

#[tokio::test]
async fn the_demo_is_refused_on_a_database_that_holds_real_data() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = |demo| config_in(dir.path(), demo);
    // A county set up for real: no demo.
    let state = guihai_server::AppState::open(&config(false)).await.unwrap();
    sqlx::query("INSERT INTO organisations (id, name, kind) VALUES (?, '灌南县', 'county')")
        .bind(fresh_id().to_string())
        .execute(&state.db)
        .await
        .unwrap();
    state.db.close().await;
    state.writes.close().await;
    let refused = guihai_server::AppState::open(&config(true)).await;
    assert!(
        matches!(&refused, Err(error) if error.to_string().contains("--demo")),
        "{:?}",
        refused.err()
    );
    // The demo's own database starts again with --demo as before.
    let demo = tempfile::TempDir::new().unwrap();
    let demo_config = config_in(demo.path(), true);
    guihai_server::AppState::open(&demo_config).await.unwrap();
    guihai_server::AppState::open(&demo_config).await.unwrap();
}

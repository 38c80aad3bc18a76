//! Seeds a data directory for `cargo xtask bench`: the demo county, then `MEMBERS` more members like `GH-M01`
//! (home in the same township, working in Hangzhou), each signed in once with a device of its own, and
//! `ACTIVITIES` activities of the Hangzhou committee running now, with their signed check-in codes. There is no
//! API to create people or activities in bulk, so this writes them through the server's own library; the real
//! `guihai-server` is then started on the directory.
//!
//! usage: `bench_seed DATA_DIR MEMBERS ACTIVITIES`; prints on stdout, as JSON,
//! `{"members": [{code, token, client_id}], "activities": [{id, title, payload}]}`.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use guihai_core::domain::{ActivityKind, NewActivity};
use guihai_core::sync::{SessionRequest, SessionResponse};
use guihai_core::Id;
use guihai_server::bench_support::{
    activation_code_hash, begin_write, insert_activity, issue_code, new_id, now_ms, touch, Audience, LogKey,
};
use guihai_server::{AppState, Config};
use serde_json::{json, Value};
use sqlx::SqliteConnection;
use tower::ServiceExt as _;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The seeded members are like this demo member: the same home township and host organisation.
const LIKE: &str = "GH-M01";
const DAY: i64 = 24 * 3_600_000;
/// Titles as long as the demo's, so a code and what the phone keeps of it are as big as real ones.
const TITLES: [&str; 3] = [
    "组织生活会：守纪守法做事，诚实诚信做人",
    "“三比一争”技能交流会",
    "“双亮双带”志愿服务：社区环境整治",
];

#[tokio::main]
async fn main() -> Result {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data_dir, members, activities] = args.as_slice() else {
        return Err("usage: bench_seed DATA_DIR MEMBERS ACTIVITIES".into());
    };
    // Behind a proxy, so that each member signs in from an address of their own (`sign_in`), as a thousand phones
    // would: from one address, the per-address sign-in limit would stop the seeding.
    let args = [
        "--data-dir".into(),
        data_dir.clone(),
        "--demo".into(),
        "--behind-proxy".into(),
    ];
    let config = Config::parse(args, |_| None)?;
    let state = AppState::open(&config).await?;
    let seeded = json!({
        "members": seed_members(&state, members.parse()?).await?,
        "activities": seed_activities(&state, activities.parse()?).await?,
    });
    state.writes.close().await;
    state.db.close().await;
    println!("{seeded}");
    Ok(())
}

/// `LIKE`'s home and current organisation.
async fn like(conn: &mut SqliteConnection) -> Result<(String, String)> {
    Ok(
        sqlx::query_as("SELECT home_org_id, current_org_id FROM people WHERE activation_code_hash = ?")
            .bind(&activation_code_hash(LIKE)[..])
            .fetch_one(conn)
            .await?,
    )
}

/// Members `GH-B0001`.., each signed in through the real sign-in handler with a fresh device (client id).
async fn seed_members(state: &AppState, count: usize) -> Result<Vec<Value>> {
    let mut tx = begin_write(&state.writes).await?;
    let (home, current) = like(&mut tx).await?;
    let mut codes = Vec::with_capacity(count);
    for n in 1..=count {
        let id = new_id();
        let code = format!("GH-B{n:04}");
        sqlx::query(
            "INSERT INTO people (id, name, home_org_id, current_org_id, certificate_no, activation_code_hash)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(format!("压测党员{n:04}"))
        .bind(&home)
        .bind(&current)
        .bind(format!("GN-B-{n:04}"))
        .bind(&activation_code_hash(&code)[..])
        .execute(&mut *tx)
        .await?;
        touch(&mut tx, LogKey::Person(id), &[Audience::Member(id)]).await?;
        codes.push(code);
    }
    tx.commit().await?;

    let router = guihai_server::router(state.clone());
    let mut members = Vec::with_capacity(count);
    for (n, code) in codes.into_iter().enumerate() {
        let client_id = new_id();
        let session = sign_in(&router, &code, client_id, n).await?;
        members.push(json!({ "code": code, "token": session.token, "client_id": client_id }));
    }
    Ok(members)
}

/// Signs in as the `n`-th phone, from an address of its own (10.x.y.z, as the proxy says).
async fn sign_in(router: &Router, code: &str, client_id: Id, n: usize) -> Result<SessionResponse> {
    let body = serde_json::to_vec(&SessionRequest {
        activation_code: code.to_owned(),
        client_id,
    })?;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            "x-forwarded-for",
            format!("10.{}.{}.{}", n >> 16 & 255, n >> 8 & 255, n & 255),
        )
        .body(Body::from(body))?;
    let response = router.clone().oneshot(request).await?;
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    if status != StatusCode::OK {
        return Err(format!("sign-in with {code}: {status} {}", String::from_utf8_lossy(&body)).into());
    }
    Ok(serde_json::from_slice(&body)?)
}

/// Activities of `LIKE`'s host organisation, running from yesterday for 60 days, with the code its secretary
/// would show.
async fn seed_activities(state: &AppState, count: usize) -> Result<Vec<Value>> {
    let mut tx = begin_write(&state.writes).await?;
    let (_, org_id) = like(&mut tx).await?;
    let (org_name, place): (String, Option<String>) =
        sqlx::query_as("SELECT name, address FROM organisations WHERE id = ?")
            .bind(&org_id)
            .fetch_one(&mut *tx)
            .await?;
    let org_id = Id::parse(&org_id).map_err(|_| "malformed organisation id")?;
    let starts_at = now_ms() - DAY;
    let mut activities = Vec::with_capacity(count);
    for n in 1..=count {
        let new = NewActivity {
            org_id,
            title: format!("{}（第{n}期）", TITLES[n % TITLES.len()]),
            kind: ActivityKind::OrganisationLife,
            starts_at,
            ends_at: starts_at + 60 * DAY,
            place: place.clone(),
            team: None,
            notes: None,
            open_to_visitors: true,
            hours_tenths: None,
        };
        let activity = insert_activity(&mut tx, new).await?;
        let code = issue_code(&mut tx, &state.keys(), &activity, &org_name, now_ms()).await?;
        activities.push(json!({ "id": activity.id, "title": activity.title, "payload": code.payload }));
    }
    tx.commit().await?;
    Ok(activities)
}

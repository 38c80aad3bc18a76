//! The server's behaviour through its real router and a real SQLite database in a temporary directory, seeded
//! with the demo data; and (`exactly_once`, `process`) through the real binary in a child process. One test
//! binary (modules below) keeps linking time down.

mod access;
mod activities;
mod attacks;
mod attendance;
mod certificate;
mod codes;
mod contacts;
mod devices;
mod door;
mod exactly_once;
mod keys;
mod notices;
mod phone;
mod process;
mod profile;
mod pull;
mod push;
mod reports;
mod roster;
mod session;
mod sheets;
mod spawned;
mod static_files;
mod tree;

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use ed25519_dalek::SigningKey;
use guihai_core::domain::{Activity, Me};
use guihai_core::qr::{Code, Subject};
use guihai_core::sync::{
    Change, ErrorBody, Mutation, Op, PullResponse, PushRequest, Record, SessionRequest, SessionResponse,
};
use guihai_core::Id;
use guihai_server::{AppState, Config};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tempfile::TempDir;
use tower::ServiceExt as _;

/// Which of an organisation's demo activities: the one running now, or the one that ended yesterday.
pub enum When {
    Running,
    Ended,
}

pub struct Server {
    pub dir: TempDir,
    pub state: AppState,
    router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", self.status, String::from_utf8_lossy(&self.body)))
    }

    /// The error key and status, for a failed answer.
    pub fn error(&self) -> (StatusCode, String) {
        (self.status, self.json::<ErrorBody>().error)
    }

    pub fn header(&self, name: header::HeaderName) -> &str {
        self.headers.get(&name).map_or("", |value| value.to_str().unwrap())
    }
}

/// A signed-in installation.
pub struct Session {
    pub token: String,
    pub client_id: Id,
    pub me: Me,
}

/// Ids that are unique within a test run.
pub fn fresh_id() -> Id {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    Id::new_v7(now_ms() as u64, [n as u8, (n >> 8) as u8, 0xaa, 0, 0, 0, 0, 0, 0, 1])
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The activities of `me`'s current organisation among `records`: (running now, ended yesterday, upcoming), as
/// the demo seeds them.
pub fn activities_of(me: &Me, records: impl IntoIterator<Item = Record>) -> (Activity, Activity, Activity) {
    let now = now_ms();
    let org_id = me.current_org.as_ref().unwrap().id;
    let activities: Vec<Activity> = records
        .into_iter()
        .filter_map(|record| match record {
            Record::Activity(activity) if activity.org_id == org_id => Some(activity),
            _ => None,
        })
        .collect();
    let find = |test: &dyn Fn(&Activity) -> bool| activities.iter().find(|a| test(a)).unwrap().clone();
    (
        find(&|a| a.starts_at <= now && now < a.ends_at),
        find(&|a| a.ends_at <= now),
        find(&|a| a.starts_at > now),
    )
}

/// A code for `activity` that names the server's key `key_id` but is signed with another key.
pub fn forged(activity: &Activity, key_id: u16) -> String {
    Code {
        subject: Subject::Activity {
            activity_id: activity.id,
            org_id: activity.org_id,
        },
        key_id,
        valid_from: 0,
        valid_until: u32::MAX,
        name: activity.title.clone(),
        detail: String::new(),
        door: None,
    }
    .sign(&SigningKey::from_bytes(&[7; 32]))
}

/// A check-in mutation with a fresh id.
pub fn check_in(seq: u64, code: &str, occurred_at: i64) -> Mutation {
    Mutation {
        seq,
        occurred_at,
        op: Op::CheckIn {
            id: fresh_id(),
            code: code.to_owned(),
        },
    }
}

/// The settings of a server in `dir` (its database in `data`, the app in `dist`), with or without the demo.
pub fn config_in(dir: &std::path::Path, demo: bool) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.join("data"),
        keys_dir: dir.join("data/keys"),
        dist: dir.join("dist"),
        demo,
        lost_after_days: guihai_core::report::DEFAULT_LOST_AFTER_DAYS,
        session_idle_days: guihai_server::config::DEFAULT_SESSION_IDLE_DAYS,
        faults: Vec::new(),
        test_clock_ahead_days: 0,
        behind_proxy: false,
        public_url: None,
    }
}

impl Session {
    /// The county this session administers (the county administrator's).
    pub fn county(&self) -> Id {
        self.me
            .roles
            .iter()
            .find_map(|role| match role {
                guihai_core::domain::Role::CountyAdmin { org_id } => Some(*org_id),
                _ => None,
            })
            .expect("a county administrator")
    }
}

impl Server {
    pub async fn start() -> Server {
        let dir = TempDir::new().unwrap();
        let state = AppState::open(&config_in(dir.path(), true)).await.unwrap();
        let router = guihai_server::router(state.clone());
        Server { dir, state, router }
    }

    pub async fn request(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Reply { status, headers, body }
    }

    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Option<&impl Serialize>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(body).unwrap())
            }
            None => Body::empty(),
        };
        self.request(request.body(body).unwrap()).await
    }

    /// Posts `body` to `path` and reads back what the server created (201), failing with its answer otherwise.
    pub async fn create<T: DeserializeOwned>(&self, path: &str, token: &str, body: &impl Serialize) -> T {
        let reply = self.send(Method::POST, path, Some(token), Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        reply.json()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, None::<&()>).await
    }

    pub async fn sign_in_with(&self, activation_code: &str, client_id: Id) -> Reply {
        let request = SessionRequest {
            activation_code: activation_code.to_owned(),
            client_id,
        };
        self.send(Method::POST, "/api/v1/session", None, Some(&request)).await
    }

    pub async fn sign_in(&self, activation_code: &str) -> Session {
        let client_id = fresh_id();
        let reply = self.sign_in_with(activation_code, client_id).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        let SessionResponse { token, me, .. } = reply.json();
        Session { token, client_id, me }
    }

    pub async fn push_as(&self, session: &Session, client_id: Id, mutations: Vec<Mutation>) -> Reply {
        let request = PushRequest {
            client_id,
            mutations,
            sent_at: None,
        };
        self.send(Method::POST, "/api/v1/sync/push", Some(&session.token), Some(&request))
            .await
    }

    pub async fn push(&self, session: &Session, mutations: Vec<Mutation>) -> Reply {
        self.push_as(session, session.client_id, mutations).await
    }

    pub async fn pull_as(&self, session: &Session, client_id: Id, cursor: u64) -> Reply {
        let request = Request::get(format!("/api/v1/sync/pull?cursor={cursor}"))
            .header(header::AUTHORIZATION, format!("Bearer {}", session.token))
            .header("x-client-id", client_id.to_string())
            .body(Body::empty())
            .unwrap();
        self.request(request).await
    }

    pub async fn pull(&self, session: &Session, cursor: u64) -> PullResponse {
        let reply = self.pull_as(session, session.client_id, cursor).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        reply.json()
    }

    /// Every record this session can see, pulling every page.
    pub async fn pull_all(&self, session: &Session) -> Vec<Record> {
        let mut cursor = 0;
        let mut records = Vec::new();
        loop {
            let page = self.pull(session, cursor).await;
            records.extend(page.changes.into_iter().filter_map(|change| match change {
                Change::Upsert { record } => Some(record),
                Change::Delete { .. } => None,
            }));
            cursor = page.cursor;
            if !page.has_more {
                return records;
            }
        }
    }

    /// The activities of this session's current organisation: (running now, ended yesterday, upcoming).
    pub async fn activities(&self, session: &Session) -> (Activity, Activity, Activity) {
        activities_of(&session.me, self.pull_all(session).await)
    }

    /// The activity's check-in code, as its organisation's secretary gets it.
    pub async fn code(&self, secretary: &Session, activity: &Activity) -> String {
        let reply = self
            .get(
                &format!("/api/v1/activities/{}/code", activity.id),
                Some(&secretary.token),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply.body));
        reply.json::<guihai_core::sync::CodeResponse>().payload
    }

    /// A check-in code for one of the activities of `member`'s organisation (Hangzhou), as its secretary
    /// (`GH-S01`) shows it, with the activity.
    pub async fn hangzhou_code(&self, member: &Session, when: When) -> (Activity, String) {
        let secretary = self.sign_in("GH-S01").await;
        let (running, ended, _) = self.activities(member).await;
        let activity = match when {
            When::Running => running,
            When::Ended => ended,
        };
        let code = self.code(&secretary, &activity).await;
        (activity, code)
    }

    /// A code signed with the server's own key, for any subject.
    pub fn server_signed(&self, code: Code) -> String {
        let keys = self.state.keys();
        let signing = keys.signing();
        Code {
            key_id: signing.key_id,
            ..code
        }
        .sign(&signing.key)
    }

    /// Changes the database behind the server's back, as an administrator's tool would.
    pub async fn execute(&self, sql: &str) {
        sqlx::query(sql).execute(&self.state.writes).await.unwrap();
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&self.state.db).await.unwrap();
        n
    }
}

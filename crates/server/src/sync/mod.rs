//! The sync protocol (SYNC.md): `POST /api/v1/sync/push` applies a phone's outbox exactly once, in order;
//! `GET /api/v1/sync/pull?cursor=N` answers what changed for this user above a server-issued cursor. `push`
//! settles pushes in group-committed transactions; `changes` is the log pull reads.

pub mod changes;
pub mod push;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, Method};
use axum::Json;
use guihai_core::sync::{Change, Op, PullResponse, PushRequest, PushResponse, Record, MAX_PUSH_BATCH, PULL_PAGE};
use guihai_core::Id;
use serde::Deserialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::activities::checkins;
use crate::error::{ApiJson, AppError};
use crate::faults::Fault;
use crate::identity::auth::AuthUser;
use crate::keys::codes;
use crate::routes::Routes;
use crate::{
    activities, activities::door_keys, clock, db, identity::me, identity::profile, keys, organisations,
    organisations::certificate, organisations::notices, organisations::reports, AppState,
};
use changes::{Audience, Entry, LogKey};

/// Header naming the installation that pulls, so the answer can carry its `last_seq`.
const CLIENT_ID_HEADER: &str = "x-client-id";

pub fn routes() -> Routes {
    Routes::new()
        .route(
            Method::POST,
            "/sync/push",
            push.layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        )
        .route(Method::GET, "/sync/pull", pull)
}

/// Binds client `?1` to person `?2` on first use (at `?3`) and answers its owner and `last_seq`. One statement:
/// the update that does nothing makes `RETURNING` answer for a row that was there already.
pub const BIND_CLIENT: &str = "INSERT INTO clients (client_id, person_id, created_at) VALUES (?1, ?2, ?3)
     ON CONFLICT (client_id) DO UPDATE SET last_seq = last_seq
     RETURNING person_id, last_seq";

/// Binds `client_id` to `person_id` on first use and returns its `last_seq` (`BIND_CLIENT`, `owned_by`).
pub async fn bind_client(conn: &mut SqliteConnection, client_id: Id, person_id: Id, now: i64) -> Result<u64, AppError> {
    let (owner, last_seq): (String, i64) = sqlx::query_as(BIND_CLIENT)
        .bind(client_id.to_string())
        .bind(person_id.to_string())
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    owned_by(&owner, last_seq, person_id)
}

/// A client's `last_seq`, if `person_id` is its `owner`: a client id that belongs to someone else is refused,
/// so one person can never advance or read another's queue.
pub fn owned_by(owner: &str, last_seq: i64, person_id: Id) -> Result<u64, AppError> {
    if db::id(owner)? != person_id {
        return Err(AppError::Forbidden);
    }
    Ok(u64::try_from(last_seq).unwrap_or_default())
}

/// The client's `last_seq` if it is known; `Forbidden` if it belongs to someone else.
async fn owned_last_seq(conn: &mut SqliteConnection, client_id: Id, person_id: Id) -> Result<Option<u64>, AppError> {
    let row: Option<(String, i64)> = sqlx::query_as("SELECT person_id, last_seq FROM clients WHERE client_id = ?")
        .bind(client_id.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(|(owner, last_seq)| owned_by(&owner, last_seq, person_id))
        .transpose()
}

/// Checks the request, verifies its codes' signatures (the costliest step, needing no database) and hands it
/// to the writer (`push.rs`), which settles it with the pushes that came at the same time.
async fn push(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(request): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, AppError> {
    if request.mutations.len() > MAX_PUSH_BATCH {
        return Err(AppError::Invalid(format!(
            "more than {MAX_PUSH_BATCH} mutations in one push"
        )));
    }
    let fault = state.faults.on_push();
    // Before the writer's transaction: the costliest step, and it needs no writing. A small push's few codes are
    // remembered or signed again sooner than a look-up of the issued ones answers (with it, 1,000 phones pushing
    // three check-ins each had a p99 of 82 ms instead of 32). A big push's codes are looked up on the request
    // thread (direct calls into SQLite, a few milliseconds for 2,000) and checked off it, which checking would
    // hold for a while.
    // A push that names codes by their signature (`Op::CheckInIssued`) is looked up whatever its size: they are
    // taken whole from what the server keeps, or the phone is asked to send them whole.
    let names = request
        .mutations
        .iter()
        .any(|m| matches!(m.op, Op::CheckInIssued { .. }));
    let (request, verified) = if request.mutations.len() <= keys::CODES_A_THREAD && !names {
        let codes = codes(&request);
        let verified = state.keys().verify_many(&codes, &vec![false; codes.len()]);
        (request, verified)
    } else {
        let issued = match fault {
            Some(Fault::ForgetCodes) => keys::Issued::default(),
            _ => keys::Issued::look_up(&state.db, &request).await?,
        };
        let (request, issued) = issued.resolve(request)?;
        let keys = state.keys();
        tokio::task::spawn_blocking(move || {
            let verified = keys.verify_many(&codes(&request), &issued);
            (request, verified)
        })
        .await
        .map_err(|error| AppError::Internal(error.to_string()))?
    };
    let job = crate::sync::push::Job {
        person_id: user.person_id,
        request,
        verified,
        received_at: clock::now_ms(),
        fault,
    };
    Ok(Json(state.pushes.settle(job).await?))
}

#[derive(Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: u64,
}

async fn pull(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    query: Result<Query<PullQuery>, QueryRejection>,
) -> Result<Json<PullResponse>, AppError> {
    let Query(PullQuery { cursor }) = query?;
    let last_seq = match client_id_header(&headers)? {
        Some(client_id) => {
            let mut conn = state.db.acquire().await?;
            owned_last_seq(&mut conn, client_id, user.person_id).await?.unwrap_or(0)
        }
        None => 0,
    };

    // One read transaction, so who sees what and what changed come from the same moment: a move committed in
    // between could otherwise deliver a record after its tombstone, or skip one the member just gained.
    let mut snapshot = state.db.begin().await?;
    let audiences = audiences(&mut snapshot, user.person_id).await?;
    let mut entries = changes::after(&mut snapshot, &audiences, cursor, PULL_PAGE + 1).await?;
    drop(snapshot);
    let has_more = entries.len() > PULL_PAGE;
    entries.truncate(PULL_PAGE);
    let next_cursor = entries.last().map_or(cursor, |entry| entry.seq);
    let mut changes = Vec::with_capacity(entries.len());
    for entry in &entries {
        changes.push(resolve(&state.db, entry).await?);
    }
    Ok(Json(PullResponse {
        cursor: next_cursor,
        has_more,
        last_seq,
        changes,
        server_time: clock::now_ms(),
    }))
}

fn client_id_header(headers: &HeaderMap) -> Result<Option<Id>, AppError> {
    headers
        .get(CLIENT_ID_HEADER)
        .map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| Id::parse(text.trim()).ok())
                .ok_or_else(|| AppError::Invalid("X-Client-Id is not a client id".into()))
        })
        .transpose()
}

/// What this person sees: their own records, what their home and current organisations publish, what the
/// organisations they are secretary of publish (a secretary runs them from their phone, member or not), and what
/// everyone sees.
async fn audiences(db: &mut SqliteConnection, person_id: Id) -> Result<Vec<Audience>, AppError> {
    let orgs: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT home_org_id, current_org_id FROM people WHERE id = ?")
            .bind(person_id.to_string())
            .fetch_optional(&mut *db)
            .await?;
    let (home, current) = orgs.ok_or(AppError::Unauthorized)?;
    let mut audiences = vec![
        Audience::Member(person_id),
        Audience::All,
        Audience::Org(db::id(&home)?),
    ];
    if let Some(current) = current.filter(|current| *current != home) {
        audiences.push(Audience::Org(db::id(&current)?));
    }
    let run: Vec<(String,)> = sqlx::query_as("SELECT org_id FROM roles WHERE person_id = ? AND role = 'secretary'")
        .bind(person_id.to_string())
        .fetch_all(&mut *db)
        .await?;
    for (org_id,) in run {
        let org = Audience::Org(db::id(&org_id)?);
        if !audiences.contains(&org) {
            audiences.push(org);
        }
    }
    Ok(audiences)
}

/// The current state of a logged record; a tombstone, or a record that is gone, is a deletion on the phone.
async fn resolve(db: &SqlitePool, entry: &Entry) -> Result<Change, AppError> {
    let record = if entry.deleted {
        None
    } else {
        match entry.key {
            LogKey::Person(id) => me::load(db, id).await?.map(Record::Me),
            LogKey::Profile(id) => profile::load(db, id).await?.map(Record::Profile),
            LogKey::Org(id) => organisations::load(db, id).await?.map(Record::Organisation),
            LogKey::Stop(id) => certificate::load_stop(db, id).await?.map(Record::Stop),
            LogKey::Review(id) => certificate::load_review(db, id).await?.map(Record::Review),
            LogKey::Report(id) => reports::load_report(db, id).await?.map(Record::Report),
            LogKey::OrgCode(id) => organisations::load_code_since(db, id).await?.map(Record::OrgCode),
            LogKey::Activity(id) => activities::load(db, id)
                .await?
                .map(|(activity, _)| Record::Activity(activity)),
            LogKey::CheckIn(id) => checkins::load(db, id).await?.map(Record::CheckIn),
            LogKey::Key(key_id) => keys::load(db, key_id).await?.map(Record::Key),
            LogKey::DoorKey(id) => door_keys::load_revoked(db, id).await?.map(Record::DoorKey),
            LogKey::Notice(id) => notices::load(db, id).await?.map(Record::Notice),
            LogKey::NoticeRead(notice, person) => notices::load_read(db, notice, person).await?.map(Record::NoticeRead),
        }
    };
    Ok(match record {
        Some(record) => Change::Upsert { record },
        None => Change::Delete {
            key: entry.key.phone_key(),
        },
    })
}

//! The sync protocol (SYNC.md): `POST /api/v1/sync/push` applies a phone's outbox exactly once, in order;
//! `GET /api/v1/sync/pull?cursor=N` answers what changed for this user above a server-issued cursor.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use guihai_core::qr::{Code, CodeError};
use guihai_core::sync::{
    Change, Mutation, MutationResult, Op, Outcome, PullResponse, PushRequest, PushResponse, Record, Rejection,
    MAX_PUSH_BATCH, PULL_PAGE,
};
use guihai_core::Id;
use serde::Deserialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::auth::AuthUser;
use crate::changes::{self, Audience, Entry, LogKey};
use crate::checkins::{self, Origin};
use crate::error::{ApiJson, AppError};
use crate::faults::{self, Fault};
use crate::routes::Routes;
use crate::{activities, certificate, clock, db, keys, me, orgs, profile, reports, AppState};

/// Header naming the installation that pulls, so the answer can carry its `last_seq`.
const CLIENT_ID_HEADER: &str = "x-client-id";

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/sync/push", push)
        .route(Method::GET, "/sync/pull", pull)
}

/// Binds `client_id` to `person_id` on first use and returns its `last_seq`; a client id that belongs to
/// someone else is refused, so one person can never advance or read another's queue.
pub async fn bind_client(conn: &mut SqliteConnection, client_id: Id, person_id: Id, now: i64) -> Result<u64, AppError> {
    sqlx::query(
        "INSERT INTO clients (client_id, person_id, created_at) VALUES (?, ?, ?) ON CONFLICT (client_id) DO NOTHING",
    )
    .bind(client_id.to_string())
    .bind(person_id.to_string())
    .bind(now)
    .execute(&mut *conn)
    .await?;
    owned_last_seq(conn, client_id, person_id)
        .await?
        .ok_or(AppError::Internal("client row vanished".into()))
}

/// The client's `last_seq` if it is known; `Forbidden` if it belongs to someone else.
async fn owned_last_seq(conn: &mut SqliteConnection, client_id: Id, person_id: Id) -> Result<Option<u64>, AppError> {
    let row: Option<(String, i64)> = sqlx::query_as("SELECT person_id, last_seq FROM clients WHERE client_id = ?")
        .bind(client_id.to_string())
        .fetch_optional(conn)
        .await?;
    match row {
        Some((owner, _)) if db::id(&owner)? != person_id => Err(AppError::Forbidden),
        Some((_, last_seq)) => Ok(Some(u64::try_from(last_seq).unwrap_or_default())),
        None => Ok(None),
    }
}

/// One transaction: every mutation of the batch is settled (applied, duplicate or rejected) and `last_seq`
/// moves with them, or, on a gap or a database error, nothing is.
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
    let mut verified: Vec<_> = request
        .mutations
        .iter()
        .map(|m| match &m.op {
            Op::CheckIn { code, .. } | Op::Report { code, .. } => Some(checkins::verify(code, state.keys().trusted())),
            _ => None,
        })
        .collect();
    let received_at = clock::now_ms();
    let mut tx = db::begin_write(&state.writes).await?;
    let committed = bind_client(&mut tx, request.client_id, user.person_id, received_at).await?;
    let mut last_seq = committed;
    let mut results = Vec::with_capacity(request.mutations.len());
    for (mutation, verified) in request.mutations.iter().zip(verified.iter_mut()) {
        let outcome = if mutation.seq <= last_seq {
            // Settled by an earlier push whose answer was lost: a refusal is told again, or the phone would
            // never learn why its write did not count.
            match earlier_rejection(&mut tx, request.client_id, mutation.seq).await? {
                Some(reason) => Outcome::Rejected { reason },
                None => Outcome::Duplicate,
            }
        } else if mutation.seq == last_seq + 1 {
            let origin = Origin {
                person_id: user.person_id,
                client_id: request.client_id,
                seq: mutation.seq,
                occurred_at: mutation.occurred_at,
                received_at,
            };
            let outcome = apply(&mut tx, &origin, &mutation.op, verified.take()).await?;
            if let Outcome::Rejected { reason } = outcome {
                record_rejection(&mut tx, &origin, mutation, reason).await?;
            }
            last_seq = mutation.seq;
            outcome
        } else {
            // Dropping `tx` rolls this batch back, so the phone resends from what is committed.
            return Err(AppError::SeqGap { last_seq: committed });
        };
        results.push(MutationResult {
            seq: mutation.seq,
            outcome,
        });
    }
    sqlx::query("UPDATE clients SET last_seq = ? WHERE client_id = ?")
        .bind(db::seq(last_seq)?)
        .bind(request.client_id.to_string())
        .execute(&mut *tx)
        .await?;
    if fault == Some(Fault::FailBeforeCommit) {
        return Err(AppError::Internal("test fault: fail-before-commit".into()));
    }
    tx.commit().await?;
    if fault == Some(Fault::ExitAfterCommit) {
        tracing::warn!(last_seq, "test fault: exiting after the commit, before the answer");
        std::process::exit(faults::EXIT_AFTER_COMMIT_STATUS);
    }
    Ok(Json(PushResponse { last_seq, results }))
}

/// Applies one mutation; `verified` is its code's signature check, made before the transaction.
async fn apply(
    conn: &mut SqliteConnection,
    origin: &Origin,
    op: &Op,
    verified: Option<Result<Code, CodeError>>,
) -> Result<Outcome, AppError> {
    match (op, verified) {
        (Op::CheckIn { id, .. }, Some(verified)) => checkins::check_in(conn, origin, *id, verified).await,
        (Op::CheckIn { .. }, None) => Err(AppError::Internal("a check-in without its signature check".into())),
        (Op::Report { id, left_stop, .. }, Some(verified)) => {
            reports::report_from_phone(conn, origin, *id, verified, *left_stop).await
        }
        (Op::Report { .. }, None) => Err(AppError::Internal("a report without its signature check".into())),
        (Op::Leave { stop_id }, _) => reports::leave_from_phone(conn, origin, *stop_id).await,
        (Op::EditProfile(edit), _) => profile::edit_from_phone(conn, origin, edit).await,
        // Only takes up its number (see `engine::contiguous_batch`).
        (Op::Skip, _) => Ok(Outcome::Applied),
    }
}

async fn earlier_rejection(
    conn: &mut SqliteConnection,
    client_id: Id,
    seq: u64,
) -> Result<Option<Rejection>, AppError> {
    let reason: Option<String> =
        sqlx::query_scalar("SELECT reason FROM rejected_mutations WHERE client_id = ? AND seq = ?")
            .bind(client_id.to_string())
            .bind(db::seq(seq)?)
            .fetch_optional(conn)
            .await?;
    reason
        .map(|reason| serde_json::from_str(&reason).map_err(|error| AppError::Internal(error.to_string())))
        .transpose()
}

async fn record_rejection(
    conn: &mut SqliteConnection,
    origin: &Origin,
    mutation: &Mutation,
    reason: Rejection,
) -> Result<(), AppError> {
    // The op as it came over the wire: `{"kind": ..., "args": ...}`.
    let op = serde_json::to_value(&mutation.op).map_err(|error| AppError::Internal(error.to_string()))?;
    let reason = serde_json::to_string(&reason).map_err(|error| AppError::Internal(error.to_string()))?;
    sqlx::query(
        "INSERT INTO rejected_mutations (client_id, seq, kind, args, occurred_at, reason, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(origin.client_id.to_string())
    .bind(db::seq(origin.seq)?)
    .bind(op["kind"].as_str().unwrap_or_default())
    .bind(op["args"].to_string())
    .bind(origin.occurred_at)
    .bind(reason)
    .bind(origin.received_at)
    .execute(conn)
    .await?;
    Ok(())
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

/// What this person sees: their own records, what their home and current organisations publish, and what
/// everyone sees.
async fn audiences(db: &mut SqliteConnection, person_id: Id) -> Result<Vec<Audience>, AppError> {
    let orgs: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT home_org_id, current_org_id FROM people WHERE id = ?")
            .bind(person_id.to_string())
            .fetch_optional(db)
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
            LogKey::Org(id) => orgs::load(db, id).await?.map(Record::Organisation),
            LogKey::Stop(id) => certificate::load_stop(db, id).await?.map(Record::Stop),
            LogKey::Review(id) => certificate::load_review(db, id).await?.map(Record::Review),
            LogKey::Report(id) => reports::load_report(db, id).await?.map(Record::Report),
            LogKey::OrgCode(id) => orgs::load_code_since(db, id).await?.map(Record::OrgCode),
            LogKey::Activity(id) => activities::load(db, id)
                .await?
                .map(|(activity, _)| Record::Activity(activity)),
            LogKey::CheckIn(id) => checkins::load(db, id).await?.map(Record::CheckIn),
            LogKey::Key(key_id) => keys::load(db, key_id).await?.map(Record::Key),
        }
    };
    Ok(match record {
        Some(record) => Change::Upsert { record },
        None => Change::Delete {
            key: entry.key.phone_key(),
        },
    })
}

//! Reporting to a host organisation (报到) and moving on: reports and leaving notices arrive through push; the
//! secretary decides reports (`POST /api/v1/reports/{id}/decision`) and writes the evaluation that closes a stop
//! (`POST /api/v1/stops/{id}/evaluation`). Core's `report` module says which step may follow which.
//!
//! Whenever a member's current organisation changes, `moved` keeps their phones' view right: what the old
//! organisation published leaves their phones, what the new one published arrives.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::qr::{Code, CodeError, Subject};
use guihai_core::report::{Decision, JourneyError, NewEvaluation, Report, ReportState, StopState};
use guihai_core::sync::{Outcome, Rejection};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::activities::checkins::Origin;
use crate::error::{ApiJson, AppError};
use crate::identity::auth::AuthUser;
use crate::identity::roles::{self, Seen};
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, organisations, organisations::certificate, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/reports/{id}/decision", decide)
        .route(Method::POST, "/stops/{id}/evaluation", evaluate)
}

/// A member's report from their phone (its code's signature already verified), inside the push's transaction.
pub async fn report_from_phone(
    conn: &mut SqliteConnection,
    origin: &Origin,
    id: Id,
    verified: Result<Code, CodeError>,
    left_stop: Option<Id>,
) -> Result<Outcome, AppError> {
    let rejected = |reason| Ok(Outcome::Rejected { reason });
    let code = match verified {
        Ok(code) => code,
        Err(error) => return rejected(Rejection::Code(error)),
    };
    let Subject::Organisation { org_id } = code.subject else {
        return rejected(Rejection::Invalid);
    };
    let org: Option<(i64,)> =
        sqlx::query_as("SELECT code_since FROM organisations WHERE id = ? AND kind NOT IN ('county', 'township')")
            .bind(org_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some((code_since,)) = org else {
        return rejected(Rejection::Code(CodeError::NotOurs));
    };
    if i64::from(code.valid_from) < code_since {
        return rejected(Rejection::Code(CodeError::Revoked));
    }
    // Retried through another phone of the member: the same report.
    let known: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM reports WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_some() {
        return Ok(Outcome::Duplicate);
    }
    let already: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM people WHERE id = ?1 AND current_org_id = ?2
         UNION ALL SELECT 1 FROM reports WHERE person_id = ?1 AND org_id = ?2 AND state = 'pending'",
    )
    .bind(origin.person_id.to_string())
    .bind(org_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    if already.is_some() {
        return rejected(Rejection::AlreadyReported);
    }
    // The stop may have closed meanwhile (evaluated while this report waited on the phone): the report stands.
    let left_stop = match left_stop {
        Some(stop) if own_open_stop(conn, origin.person_id, stop).await? => Some(stop),
        _ => None,
    };
    sqlx::query("INSERT INTO reports (id, person_id, org_id, left_stop_id, received_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id.to_string())
        .bind(origin.person_id.to_string())
        .bind(org_id.to_string())
        .bind(left_stop.map(|s| s.to_string()))
        .bind(origin.received_at)
        .execute(&mut *conn)
        .await?;
    changes::touch(conn, LogKey::Report(id), &[Audience::Member(origin.person_id)]).await?;
    Ok(Outcome::Applied)
}

async fn own_open_stop(conn: &mut SqliteConnection, person_id: Id, stop_id: Id) -> Result<bool, AppError> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM stops WHERE id = ? AND person_id = ? AND left_at IS NULL")
            .bind(stop_id.to_string())
            .bind(person_id.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// The member tells the organisation they are leaving this stop.
pub async fn leave_from_phone(conn: &mut SqliteConnection, origin: &Origin, stop_id: Id) -> Result<Outcome, AppError> {
    let Some((person_id, _, state)) = stop_state(conn, stop_id).await? else {
        return Ok(Outcome::Rejected {
            reason: Rejection::Forbidden,
        });
    };
    if person_id != origin.person_id {
        return Ok(Outcome::Rejected {
            reason: Rejection::Forbidden,
        });
    }
    let Ok(next) = state.member_leaving(origin.received_at) else {
        return Ok(Outcome::Rejected {
            reason: Rejection::StopClosed,
        });
    };
    save_stop(conn, person_id, stop_id, &next).await?;
    Ok(Outcome::Applied)
}

#[derive(sqlx::FromRow)]
struct StopStateRow {
    person_id: String,
    org_id: String,
    left_at: Option<i64>,
    leaving_at: Option<i64>,
    grade: Option<String>,
}

/// A stop's owner, organisation and state.
async fn stop_state(conn: &mut SqliteConnection, stop_id: Id) -> Result<Option<(Id, Id, StopState)>, AppError> {
    let row: Option<StopStateRow> =
        sqlx::query_as("SELECT person_id, org_id, left_at, leaving_at, grade FROM stops WHERE id = ?")
            .bind(stop_id.to_string())
            .fetch_optional(conn)
            .await?;
    row.map(|row| {
        let state = StopState {
            left_at: row.left_at,
            leaving_at: row.leaving_at,
            evaluated: row.grade.is_some(),
        };
        Ok((db::id(&row.person_id)?, db::id(&row.org_id)?, state))
    })
    .transpose()
}

async fn save_stop(conn: &mut SqliteConnection, person_id: Id, stop_id: Id, state: &StopState) -> Result<(), AppError> {
    sqlx::query("UPDATE stops SET left_at = ?, leaving_at = ? WHERE id = ?")
        .bind(state.left_at)
        .bind(state.leaving_at)
        .bind(stop_id.to_string())
        .execute(&mut *conn)
        .await?;
    changes::touch(conn, LogKey::Stop(stop_id), &[Audience::Member(person_id)]).await?;
    Ok(())
}

/// Closes every open stop of the member (reported elsewhere having left, or gone home), keeping the day the
/// member said they were leaving.
pub async fn close_open_stops(conn: &mut SqliteConnection, person_id: Id, at: i64) -> Result<(), AppError> {
    let open: Vec<(String,)> = sqlx::query_as("SELECT id FROM stops WHERE person_id = ? AND left_at IS NULL")
        .bind(person_id.to_string())
        .fetch_all(&mut *conn)
        .await?;
    for (stop_id,) in open {
        close_stop(conn, person_id, db::id(&stop_id)?, at).await?;
    }
    Ok(())
}

async fn close_stop(conn: &mut SqliteConnection, person_id: Id, stop_id: Id, at: i64) -> Result<(), AppError> {
    if let Some((_, _, state)) = stop_state(conn, stop_id).await? {
        save_stop(conn, person_id, stop_id, &state.close(at)).await?;
    }
    Ok(())
}

async fn decide(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
    ApiJson(decision): ApiJson<Decision>,
) -> Result<Json<Report>, AppError> {
    let Path(id) = id?;
    let row: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT person_id, org_id, left_stop_id FROM reports WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&state.db)
            .await?;
    let (person_id, org_id, left_stop) = row.ok_or(AppError::NotFound)?;
    let (person_id, org_id) = (db::id(&person_id)?, db::id(&org_id)?);
    // Someone else's report is as unknown as one that does not exist.
    roles::require_secretary(&state.db, &user, org_id, Seen::Unknown).await?;

    let now = clock::now_ms();
    let mut tx = db::begin_write(&state.writes).await?;
    let current = load(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    let stop_id = clock::new_id();
    let next = decision.apply(&current.state, stop_id, now).map_err(journey_error)?;
    match &next {
        ReportState::Accepted { .. } => {
            if let Some(left) = left_stop {
                close_stop(&mut tx, person_id, db::id(&left)?, now).await?;
            }
            certificate::insert_stop(&mut tx, stop_id, person_id, org_id, now).await?;
            sqlx::query(
                "UPDATE reports SET state = 'accepted', decided_at = ?, decided_by = ?, stop_id = ? WHERE id = ?",
            )
            .bind(now)
            .bind(user.person_id.to_string())
            .bind(stop_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            moved(&mut tx, person_id, Some(org_id)).await?;
        }
        ReportState::Refused { reason, .. } => {
            sqlx::query(
                "UPDATE reports SET state = 'refused', decided_at = ?, decided_by = ?, reason = ? WHERE id = ?",
            )
            .bind(now)
            .bind(user.person_id.to_string())
            .bind(reason)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        ReportState::Pending => {}
    }
    changes::touch(&mut tx, LogKey::Report(id), &[Audience::Member(person_id)]).await?;
    let report = load(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Json(report))
}

async fn evaluate(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
    ApiJson(new): ApiJson<NewEvaluation>,
) -> Result<StatusCode, AppError> {
    let Path(stop_id) = id?;
    let mut conn = state.db.acquire().await?;
    let (person_id, org_id, _) = stop_state(&mut conn, stop_id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    roles::require_secretary(&state.db, &user, org_id, Seen::Unknown).await?;
    let now = clock::now_ms();
    let evaluation = new.checked(now).map_err(journey_error)?;

    let mut tx = db::begin_write(&state.writes).await?;
    let (_, _, stop) = stop_state(&mut tx, stop_id).await?.ok_or(AppError::NotFound)?;
    let next = stop.evaluate(now).map_err(journey_error)?;
    let left_at = next.left_at.unwrap_or(now);
    certificate::close_stop(&mut tx, person_id, stop_id, left_at, Some(&evaluation)).await?;
    // Leaving only if this closed their stay: an old stop evaluated late leaves a member who came back where
    // they are.
    let still_here: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM people WHERE id = ?1 AND current_org_id = ?2
           AND NOT EXISTS (SELECT 1 FROM stops WHERE person_id = ?1 AND org_id = ?2 AND left_at IS NULL)",
    )
    .bind(person_id.to_string())
    .bind(org_id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    if still_here.is_some() {
        moved(&mut tx, person_id, None).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A bad text is the request's fault; a step that no longer fits is a conflict with what happened meanwhile.
fn journey_error(error: JourneyError) -> AppError {
    match error {
        JourneyError::Text => AppError::Invalid(error.to_string()),
        _ => AppError::Conflict(error.to_string()),
    }
}

/// Makes `to` the member's current organisation (or none) and keeps their phones' view right: the old
/// organisation's activities and record leave them (unless it is their home), the new one's arrive.
pub async fn moved(conn: &mut SqliteConnection, person_id: Id, to: Option<Id>) -> Result<(), AppError> {
    let (home, from): (String, Option<String>) =
        sqlx::query_as("SELECT home_org_id, current_org_id FROM people WHERE id = ?")
            .bind(person_id.to_string())
            .fetch_one(&mut *conn)
            .await?;
    let (home, from) = (db::id(&home)?, from.as_deref().map(db::id).transpose()?);
    // Accepted somewhere again: no longer "returned home".
    sqlx::query(
        "UPDATE people SET current_org_id = ?1,
                           returned_home_at = CASE WHEN ?1 IS NULL THEN returned_home_at END WHERE id = ?2",
    )
    .bind(to.map(|id| id.to_string()))
    .bind(person_id.to_string())
    .execute(&mut *conn)
    .await?;
    changes::touch(conn, LogKey::Person(person_id), &[Audience::Member(person_id)]).await?;
    if from == to {
        return Ok(());
    }
    if let Some(from) = from.filter(|from| *from != home) {
        // Cancelled ones too: the phone may hold one whose cancellation it had not pulled yet.
        for key in published_by(conn, from, true).await? {
            changes::forget_for(conn, key, person_id).await?;
        }
    }
    if let Some(to) = to.filter(|to| *to != home) {
        for key in published_by(conn, to, false).await? {
            changes::share_with(conn, key, person_id).await?;
        }
    }
    Ok(())
}

/// What an organisation publishes to its members: its own record and its activities (in force, or all).
async fn published_by(conn: &mut SqliteConnection, org_id: Id, cancelled_too: bool) -> Result<Vec<LogKey>, AppError> {
    let activities: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM activities WHERE org_id = ? AND (? OR cancelled_at IS NULL)")
            .bind(org_id.to_string())
            .bind(cancelled_too)
            .fetch_all(&mut *conn)
            .await?;
    let mut keys = vec![LogKey::Org(org_id)];
    for (id,) in activities {
        keys.push(LogKey::Activity(db::id(&id)?));
    }
    Ok(keys)
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    org_id: String,
    received_at: i64,
    state: String,
    reason: Option<String>,
    decided_at: Option<i64>,
    stop_id: Option<String>,
}

async fn load(conn: &mut SqliteConnection, id: Id) -> Result<Option<Report>, AppError> {
    let row: Option<ReportRow> =
        sqlx::query_as("SELECT org_id, received_at, state, reason, decided_at, stop_id FROM reports WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let org = organisations::get(&mut *conn, &row.org_id).await?;
    let at = row.decided_at.unwrap_or(row.received_at);
    let state = match (row.state.as_str(), row.stop_id, row.reason) {
        ("accepted", Some(stop_id), _) => ReportState::Accepted {
            stop_id: db::id(&stop_id)?,
            at,
        },
        ("refused", _, Some(reason)) => ReportState::Refused { reason, at },
        ("pending", _, _) => ReportState::Pending,
        (other, _, _) => return Err(AppError::Internal(format!("report {id} in state {other:?}"))),
    };
    Ok(Some(Report {
        id,
        org,
        received_at: row.received_at,
        state,
    }))
}

/// A report as its member's phones see it.
pub async fn load_report(db: &SqlitePool, id: Id) -> Result<Option<Report>, AppError> {
    let mut conn = db.acquire().await?;
    load(&mut conn, id).await
}

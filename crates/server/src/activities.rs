//! Activities published by host organisations, and their check-in codes (签到码), all for the secretary of the
//! activity's organisation: `POST /api/v1/activities` publishes one to the organisation's members,
//! `DELETE /api/v1/activities/{id}` cancels it (it leaves their phones), and `GET /api/v1/activities/{id}/code`
//! gives a signed code to show.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::domain::{Activity, NewActivity};
use guihai_core::qr::{Code, Subject};
use guihai_core::sync::CodeResponse;
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::auth::AuthUser;
use crate::changes::{self, Audience, LogKey};
use crate::error::{ApiJson, AppError};
use crate::keys::Keyring;
use crate::routes::Routes;
use crate::{clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/activities", create)
        .route(Method::DELETE, "/activities/{id}", cancel)
        .route(Method::GET, "/activities/{id}/code", code)
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(new): ApiJson<NewActivity>,
) -> Result<(StatusCode, Json<Activity>), AppError> {
    user.require_secretary(&state.db, new.org_id).await?;
    let new = new.checked().map_err(|error| AppError::Invalid(error.to_string()))?;
    let mut tx = db::begin_write(&state.writes).await?;
    let activity = insert(&mut tx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(activity)))
}

/// Stores a checked activity and publishes it to its organisation's members.
pub async fn insert(conn: &mut SqliteConnection, new: NewActivity) -> Result<Activity, AppError> {
    let activity = Activity {
        id: clock::new_id(),
        org_id: new.org_id,
        title: new.title,
        kind: new.kind,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        place: new.place,
    };
    sqlx::query(
        "INSERT INTO activities (id, org_id, title, kind, starts_at, ends_at, place) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(activity.id.to_string())
    .bind(activity.org_id.to_string())
    .bind(&activity.title)
    .bind(db::wire_name(&activity.kind))
    .bind(activity.starts_at)
    .bind(activity.ends_at)
    .bind(&activity.place)
    .execute(&mut *conn)
    .await?;
    changes::touch(conn, LogKey::Activity(activity.id), &[Audience::Org(activity.org_id)]).await?;
    Ok(activity)
}

/// Cancels an activity: its code is refused from now on and it leaves the members' phones. Check-ins already
/// made stay, as facts.
async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let Path(id) = id?;
    let (activity, _) = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    user.require_secretary(&state.db, activity.org_id).await?;
    let mut tx = db::begin_write(&state.writes).await?;
    sqlx::query("UPDATE activities SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL")
        .bind(clock::now_ms())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    changes::tombstone(&mut tx, LogKey::Activity(id), &[Audience::Org(activity.org_id)]).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn code(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
) -> Result<Json<CodeResponse>, AppError> {
    let Path(id) = id?;
    let (activity, org_name) = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    user.require_secretary(&state.db, activity.org_id).await?;
    Ok(Json(sign_code(state.keys(), &activity, &org_name)))
}

/// The activity's check-in code, valid for the activity's whole window. (Codes that change every 30 seconds,
/// signed on the secretary's phone, come with QR.md's screenshot defence.)
pub fn sign_code(keys: &Keyring, activity: &Activity, org_name: &str) -> CodeResponse {
    keys.sign(Code {
        subject: Subject::Activity {
            activity_id: activity.id,
            org_id: activity.org_id,
        },
        key_id: 0,
        valid_from: clock::unix_secs(activity.starts_at),
        valid_until: clock::unix_secs(activity.ends_at),
        name: activity.title.clone(),
        detail: org_name.to_owned(),
    })
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    org_id: String,
    title: String,
    kind: String,
    starts_at: i64,
    ends_at: i64,
    place: Option<String>,
    org_name: String,
}

/// The activity and the name of the organisation holding it, unless it was cancelled.
pub async fn load(db: &SqlitePool, id: Id) -> Result<Option<(Activity, String)>, AppError> {
    let row: Option<ActivityRow> = sqlx::query_as(
        "SELECT a.org_id, a.title, a.kind, a.starts_at, a.ends_at, a.place, o.name AS org_name
         FROM activities a JOIN organisations o ON o.id = a.org_id WHERE a.id = ? AND a.cancelled_at IS NULL",
    )
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(|row| {
        let activity = Activity {
            id,
            org_id: db::id(&row.org_id)?,
            title: row.title,
            kind: db::from_wire_name(&row.kind)?,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            place: row.place,
        };
        Ok((activity, row.org_name))
    })
    .transpose()
}

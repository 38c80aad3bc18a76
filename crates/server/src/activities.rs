//! Activities published by host organisations, and their check-in codes (签到码):
//! `GET /api/v1/activities/{id}/code` gives the secretary of the activity's organisation a signed code to show.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use guihai_core::domain::Activity;
use guihai_core::qr::{Code, Subject, LINK_PATH};
use guihai_core::sync::CodeResponse;
use guihai_core::Id;
use sqlx::SqlitePool;

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::keys::Keyring;
use crate::{clock, db, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/activities/{id}/code", get(code))
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
    let signing = keys.signing();
    let code = Code {
        subject: Subject::Activity {
            activity_id: activity.id,
            org_id: activity.org_id,
        },
        key_id: signing.key_id,
        valid_from: clock::unix_secs(activity.starts_at),
        valid_until: clock::unix_secs(activity.ends_at),
        name: activity.title.clone(),
        detail: org_name.to_owned(),
    };
    let payload = code.sign(&signing.key);
    CodeResponse {
        link: format!("{LINK_PATH}{payload}"),
        payload,
    }
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

/// The activity and the name of the organisation holding it.
pub async fn load(db: &SqlitePool, id: Id) -> Result<Option<(Activity, String)>, AppError> {
    let row: Option<ActivityRow> = sqlx::query_as(
        "SELECT a.org_id, a.title, a.kind, a.starts_at, a.ends_at, a.place, o.name AS org_name
         FROM activities a JOIN organisations o ON o.id = a.org_id WHERE a.id = ?",
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

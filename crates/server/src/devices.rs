//! The member's signed-in phones: `GET /api/v1/devices` lists them, `DELETE /api/v1/devices/{id}` revokes one
//! (a lost phone, say); on its next sync that phone learns it was revoked and wipes the member's data.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::sync::Device;
use guihai_core::Id;

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::routes::Routes;
use crate::{clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::GET, "/devices", list)
        .route(Method::DELETE, "/devices/{id}", revoke)
}

async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<Device>>, AppError> {
    let rows: Vec<(String, Option<String>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, user_agent, created_at, last_seen_at FROM sessions
         WHERE person_id = ? AND revoked_at IS NULL ORDER BY created_at",
    )
    .bind(user.person_id.to_string())
    .fetch_all(&state.db)
    .await?;
    let devices = rows
        .into_iter()
        .map(|(id, user_agent, signed_in_at, last_seen_at)| {
            let id = db::id(&id)?;
            Ok(Device {
                id,
                user_agent,
                signed_in_at,
                last_seen_at,
                current: id == user.session_id,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(devices))
}

/// Revokes one of the member's own phones; someone else's is not found (its existence is not theirs to learn).
async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let Path(id) = id?;
    let revoked =
        sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND person_id = ? AND revoked_at IS NULL")
            .bind(clock::now_ms())
            .bind(id.to_string())
            .bind(user.person_id.to_string())
            .execute(&state.db)
            .await?;
    if revoked.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

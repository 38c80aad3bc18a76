//! The member's signed-in phones: `GET /api/v1/devices` lists them, `DELETE /api/v1/devices/{id}` revokes one
//! (a lost phone, say); on its next sync that phone learns it was revoked and wipes the member's data. The
//! member's township administrator may do the same for them (`GET /api/v1/people/{id}/devices`), for a member
//! who lost their only phone.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::sync::Device;
use guihai_core::Id;
use serde::Deserialize;

use crate::error::AppError;
use crate::identity::auth::AuthUser;
use crate::identity::roles::{self, AdminOfMember};
use crate::routes::Routes;
use crate::{activities::door_keys, clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::GET, "/devices", list)
        .route(Method::DELETE, "/devices/{id}", revoke)
        .route(Method::GET, "/people/{id}/devices", list_for_admin)
}

async fn list(State(state): State<AppState>, user: AuthUser) -> Result<Json<Vec<Device>>, AppError> {
    Ok(Json(devices_of(&state, user.person_id, Some(user.session_id)).await?))
}

async fn list_for_admin(
    State(state): State<AppState>,
    AdminOfMember { person_id }: AdminOfMember,
) -> Result<Json<Vec<Device>>, AppError> {
    Ok(Json(devices_of(&state, person_id, None).await?))
}

async fn devices_of(state: &AppState, person_id: Id, current: Option<Id>) -> Result<Vec<Device>, AppError> {
    let rows: Vec<(String, Option<String>, i64, Option<i64>)> = sqlx::query_as(
        "SELECT id, user_agent, created_at, last_seen_at FROM sessions
         WHERE person_id = ? AND revoked_at IS NULL AND last_seen_at > ? ORDER BY created_at",
    )
    .bind(person_id.to_string())
    // A phone silent past the limit is signed out already (`AuthUser`).
    .bind(clock::now_ms() - state.session_idle_ms)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(|(id, user_agent, signed_in_at, last_seen_at)| {
            let id = db::id(&id)?;
            Ok(Device {
                id,
                user_agent,
                signed_in_at,
                last_seen_at,
                current: Some(id) == current,
            })
        })
        .collect()
}

/// Revokes one of the member's own phones, or, for their township administrator, one of the member's; anyone
/// else's is not found (its existence is not theirs to learn).
async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
    query: Result<Query<RevokeQuery>, QueryRejection>,
) -> Result<StatusCode, AppError> {
    let Path(id) = id?;
    let Query(query) = query?;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT person_id FROM sessions WHERE id = ? AND revoked_at IS NULL")
            .bind(id.to_string())
            .fetch_optional(&state.db)
            .await?;
    let owner = db::id(&owner.ok_or(AppError::NotFound)?)?;
    if owner != user.person_id {
        roles::require_admin_of_member(&state.db, &user, owner).await?;
    }
    let mut tx = db::begin_write(&state.writes).await?;
    let revoked = sqlx::query("UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(clock::now_ms())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    if revoked.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    door_keys::revoke_session(&mut tx, id).await?;
    if query.forget_pin {
        sqlx::query("UPDATE people SET pin_hash = NULL, pin_failures = 0, pin_locked_until = NULL WHERE id = ?")
            .bind(owner.to_string())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct RevokeQuery {
    /// Forget the member's PIN too: whoever holds the lost phone may have seen it typed. The member sets a new
    /// one from a phone still signed in (with no PIN set, the current one is not asked for).
    #[serde(default)]
    forget_pin: bool,
}

//! Sign-in and who is asking: `POST /api/v1/session` trades an activation code for a device token,
//! `DELETE /api/v1/session` signs that device out, and the `AuthUser` extractor turns `Authorization: Bearer
//! <token>` into a person, so a handler that takes it cannot forget to check.
//!
//! Tokens are 32 random bytes in base64url; the server keeps only their sha256, so a copy of the database does
//! not sign anyone in. Activation codes are kept the same way (hashed after trimming and uppercasing).

use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use guihai_core::sync::{SessionRequest, SessionResponse};
use guihai_core::Id;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use crate::error::{ApiJson, AppError};
use crate::{clock, db, me, sync, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/session", post(sign_in).delete(sign_out))
}

/// The person behind a valid, unrevoked session token.
#[derive(Debug)]
pub struct AuthUser {
    pub person_id: Id,
    token_hash: [u8; 32],
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuthUser, AppError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthorized)?;
        let token_hash = sha256(token.trim().as_bytes());
        let person: Option<(String,)> =
            sqlx::query_as("SELECT person_id FROM sessions WHERE token_hash = ? AND revoked_at IS NULL")
                .bind(&token_hash[..])
                .fetch_optional(&state.db)
                .await?;
        let (person_id,) = person.ok_or(AppError::Unauthorized)?;
        Ok(AuthUser {
            person_id: db::id(&person_id)?,
            token_hash,
        })
    }
}

impl AuthUser {
    /// Passes only if this person is a secretary of `org_id`.
    pub async fn require_secretary(&self, db: &SqlitePool, org_id: Id) -> Result<(), AppError> {
        let found: Option<(i64,)> =
            sqlx::query_as("SELECT 1 FROM roles WHERE person_id = ? AND role = 'secretary' AND org_id = ?")
                .bind(self.person_id.to_string())
                .bind(org_id.to_string())
                .fetch_optional(db)
                .await?;
        found.map(|_| ()).ok_or(AppError::Forbidden)
    }
}

/// The stored form of an activation code: what a person types may have stray spaces or lower case.
pub fn activation_code_hash(code: &str) -> [u8; 32] {
    sha256(code.trim().to_uppercase().as_bytes())
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

async fn sign_in(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<SessionRequest>,
) -> Result<Json<SessionResponse>, AppError> {
    let person: Option<(String,)> = sqlx::query_as("SELECT id FROM people WHERE activation_code_hash = ?")
        .bind(&activation_code_hash(&request.activation_code)[..])
        .fetch_optional(&state.db)
        .await?;
    let person_id = db::id(&person.ok_or(AppError::BadCode)?.0)?;

    let token = URL_SAFE_NO_PAD.encode(clock::random_bytes::<32>());
    let now = clock::now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    sync::bind_client(&mut tx, request.client_id, person_id, now).await?;
    sqlx::query("INSERT INTO sessions (token_hash, person_id, client_id, created_at) VALUES (?, ?, ?, ?)")
        .bind(&sha256(token.as_bytes())[..])
        .bind(person_id.to_string())
        .bind(request.client_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;

    let me = me::load(&state.db, person_id).await?.ok_or(AppError::BadCode)?;
    Ok(Json(SessionResponse {
        token,
        me,
        keys: state.keys().trusted().to_vec(),
    }))
}

/// Revokes the token this request came with; the device's unsynced writes stay on the device.
async fn sign_out(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, AppError> {
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?")
        .bind(clock::now_ms())
        .bind(&user.token_hash[..])
        .execute(&state.db)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_codes_match_however_they_are_typed() {
        assert_eq!(activation_code_hash(" gh-m01\n"), activation_code_hash("GH-M01"));
        assert_ne!(activation_code_hash("GH-M01"), activation_code_hash("GH-M02"));
    }
}

//! The keys of secretaries' phones that sign rotating door codes offline (core's `qr::door`): certified here
//! for one organisation, revoked with the phone's session, and looked up again when a door code's check-in
//! arrives.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use guihai_core::qr::door::CERTIFICATE_SECS;
use guihai_core::qr::{DoorCertificate, RevokedDoorKey};
use guihai_core::Id;
use rusqlite::OptionalExtension;
use serde::Deserialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::{ApiJson, AppError};
use crate::identity::auth::AuthUser;
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, identity::roles, AppState};

/// How many door keys one signed-in phone may have certified over its life: a phone keeps its key with its
/// session, so more means something is wrong, and each replaced key is a revocation sent to every phone.
const KEYS_A_SESSION: i64 = 20;

pub fn routes() -> Routes {
    Routes::new().route(Method::POST, "/orgs/{id}/door-key", certify)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertifyRequest {
    /// Base64url of the phone's 32-byte Ed25519 public key.
    public_key: String,
}

/// Certifies the asking phone's key for organisation `id`, whose secretary they are (`POST /orgs/{id}/door-key`): a key seen before (the
/// same phone renewing) gets a new expiry, a new one replaces the phone's earlier key for the organisation.
async fn certify(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
    ApiJson(request): ApiJson<CertifyRequest>,
) -> Result<Json<DoorCertificate>, AppError> {
    let Path(org_id) = id?;
    let public_key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&request.public_key)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .filter(|bytes| VerifyingKey::from_bytes(bytes).is_ok())
        .ok_or_else(|| AppError::Invalid("public_key is not an Ed25519 public key".into()))?;
    let encoded = URL_SAFE_NO_PAD.encode(public_key);
    let now = clock::now_ms();
    let certified_until = clock::unix_secs(now).saturating_add(CERTIFICATE_SECS);
    let mut tx = db::begin_write(&state.writes).await?;
    // As for the organisation's other codes: to anyone but its secretary, it does not exist.
    if !roles::is_secretary(&mut tx, user.person_id, org_id).await? {
        return Err(AppError::NotFound);
    }
    let known: Option<(String, String, Option<i64>)> =
        sqlx::query_as("SELECT session_id, org_id, revoked_at FROM door_keys WHERE public_key = ?")
            .bind(&encoded)
            .fetch_optional(&mut *tx)
            .await?;
    match known {
        Some((session, org, None)) if session == user.session_id.to_string() && org == org_id.to_string() => {
            sqlx::query("UPDATE door_keys SET certified_until = ? WHERE public_key = ?")
                .bind(i64::from(certified_until))
                .bind(&encoded)
                .execute(&mut *tx)
                .await?;
        }
        // Another phone's key, another organisation's, or one revoked: never certified again.
        Some(_) => return Err(AppError::Forbidden),
        None => {
            let (made,): (i64,) = sqlx::query_as("SELECT count(*) FROM door_keys WHERE session_id = ?")
                .bind(user.session_id.to_string())
                .fetch_one(&mut *tx)
                .await?;
            if made >= KEYS_A_SESSION {
                return Err(AppError::Forbidden);
            }
            let replaced: Vec<(String,)> = sqlx::query_as(
                "UPDATE door_keys SET revoked_at = ? WHERE session_id = ? AND org_id = ? AND revoked_at IS NULL
                 RETURNING id",
            )
            .bind(i64::from(clock::unix_secs(now)))
            .bind(user.session_id.to_string())
            .bind(org_id.to_string())
            .fetch_all(&mut *tx)
            .await?;
            announce(&mut tx, &replaced).await?;
            sqlx::query(
                "INSERT INTO door_keys (id, org_id, person_id, session_id, public_key, certified_until, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(clock::new_id().to_string())
            .bind(org_id.to_string())
            .bind(user.person_id.to_string())
            .bind(user.session_id.to_string())
            .bind(&encoded)
            .bind(i64::from(certified_until))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    let keys = state.keys();
    let server = keys.signing();
    Ok(Json(DoorCertificate::certify(
        &server.key,
        server.key_id,
        org_id,
        &public_key,
        certified_until,
    )))
}

/// Revokes the door keys of a session that ends (signed out, or revoked from another phone).
pub async fn revoke_session(conn: &mut SqliteConnection, session_id: Id) -> Result<(), AppError> {
    let revoked: Vec<(String,)> =
        sqlx::query_as("UPDATE door_keys SET revoked_at = ? WHERE session_id = ? AND revoked_at IS NULL RETURNING id")
            .bind(i64::from(clock::unix_secs(clock::now_ms())))
            .bind(session_id.to_string())
            .fetch_all(&mut *conn)
            .await?;
    announce(conn, &revoked).await
}

/// Revokes the door keys of an organisation's secretaries but `keep` (all of them when it closes).
pub async fn revoke_org(conn: &mut SqliteConnection, org_id: Id, keep: Option<Id>) -> Result<(), AppError> {
    let revoked: Vec<(String,)> = sqlx::query_as(
        "UPDATE door_keys SET revoked_at = ? WHERE org_id = ? AND person_id IS NOT ? AND revoked_at IS NULL
         RETURNING id",
    )
    .bind(i64::from(clock::unix_secs(clock::now_ms())))
    .bind(org_id.to_string())
    .bind(keep.map(|id| id.to_string()))
    .fetch_all(&mut *conn)
    .await?;
    announce(conn, &revoked).await
}

/// Every phone hears of a revoked key, as any member may scan its codes.
async fn announce(conn: &mut SqliteConnection, revoked: &[(String,)]) -> Result<(), AppError> {
    for (id,) in revoked {
        changes::touch(conn, LogKey::DoorKey(db::id(id)?), &[Audience::All]).await?;
    }
    Ok(())
}

/// A revoked key as phones hold it; `None` for a key that is not revoked (or not there).
pub async fn load_revoked(db: &SqlitePool, id: Id) -> Result<Option<RevokedDoorKey>, AppError> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT public_key, revoked_at FROM door_keys WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(db)
            .await?;
    Ok(row.and_then(|(public_key, revoked_at)| {
        Some(RevokedDoorKey {
            id,
            public_key,
            revoked_at: u32::try_from(revoked_at?).ok()?,
        })
    }))
}

/// What the push writer needs of a door key: its organisation and since when it is revoked (Unix seconds).
pub fn lookup(conn: &rusqlite::Connection, public_key: &[u8; 32]) -> Result<Option<(String, Option<u32>)>, AppError> {
    let mut find = conn.prepare_cached("SELECT org_id, revoked_at FROM door_keys WHERE public_key = ?")?;
    Ok(find
        .query_row([URL_SAFE_NO_PAD.encode(public_key)], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?))
        })
        .optional()?
        .map(|(org, revoked)| (org, revoked.and_then(|at| u32::try_from(at).ok()))))
}

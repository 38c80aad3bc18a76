//! Sign-in and who is asking: `POST /api/v1/session` trades a one-time activation code for a device token,
//! `POST /api/v1/session/pin` does the same with the member's phone number and PIN (on another phone),
//! `PUT /api/v1/me/pin` sets the PIN, `DELETE /api/v1/session` signs this device out, and the `AuthUser`
//! extractor turns `Authorization: Bearer <token>` into a person, so a handler that takes it cannot forget to
//! check.
//!
//! Tokens are 32 random bytes in base64url; the server keeps only their sha256, so a copy of the database does
//! not sign anyone in. Activation codes are kept the same way (hashed after trimming and uppercasing) and
//! cleared once used. PINs are hashed with argon2id; five wrong ones in a row close PIN sign-in for 15 minutes.

use std::cell::RefCell;

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use axum::extract::{FromRequestParts, State};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::http::Method;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use guihai_core::profile::phone_digits;
use guihai_core::sync::{valid_pin, PinSignIn, SessionRequest, SessionResponse, SetPin};
use guihai_core::Id;
use sha2::{Digest, Sha256};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::error::{ApiJson, AppError};
use crate::routes::Routes;
use crate::{activities::door_keys, clock, db, identity::me, sync, AppState};

/// Wrong PINs in a row before PIN sign-in closes; for how long at first, and at most (`count_failure`).
pub const MAX_PIN_FAILURES: i64 = 5;
pub const PIN_BACKOFF_MS: i64 = 30 * 1000;
pub const PIN_LOCKOUT_MS: i64 = 15 * 60 * 1000;
/// How long after signing in with an activation code the PIN can be set without the current one.
const FRESH_CODE_MS: i64 = 30 * 60 * 1000;
/// `last_seen_at` is refreshed at most this often.
const SEEN_EVERY_MS: i64 = 60 * 60 * 1000;

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::DELETE, "/session", sign_out)
        .route(Method::PUT, "/me/pin", set_pin)
}

/// The two anonymous ways in, which `lib.rs` puts under the sign-in rate limit (`guard::SIGN_IN`).
pub fn sign_in_routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/session", sign_in)
        .route(Method::POST, "/session/pin", sign_in_with_pin)
}

/// The person behind a valid, unrevoked session token.
#[derive(Debug)]
pub struct AuthUser {
    pub person_id: Id,
    /// The session's public id (one signed-in phone).
    pub session_id: Id,
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
        let session: Option<(String, String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT person_id, id, revoked_at, last_seen_at FROM sessions WHERE token_hash = ?")
                .bind(&token_hash[..])
                .fetch_optional(&state.db)
                .await?;
        let (person_id, session_id, revoked_at, last_seen_at) = session.ok_or(AppError::Unauthorized)?;
        if revoked_at.is_some() {
            return Err(AppError::SessionRevoked);
        }
        let now = clock::now_ms();
        // Silent too long: signed out, not revoked. The phone asks for the PIN again and keeps what it holds.
        if last_seen_at.is_some_and(|seen| now - seen > state.session_idle_ms) {
            return Err(AppError::Unauthorized);
        }
        if last_seen_at.is_none_or(|seen| now - seen > SEEN_EVERY_MS) {
            // On the write connection, in turn: a write on a read connection would poll SQLite's busy handler
            // while the push writer holds the lock, and wait far longer.
            sqlx::query("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?")
                .bind(now)
                .bind(&token_hash[..])
                .execute(&state.writes)
                .await?;
        }
        Ok(AuthUser {
            person_id: db::id(&person_id)?,
            session_id: db::id(&session_id)?,
            token_hash,
        })
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
    headers: HeaderMap,
    ApiJson(request): ApiJson<SessionRequest>,
) -> Result<Json<SessionResponse>, AppError> {
    let now = clock::now_ms();
    let code_hash = activation_code_hash(&request.activation_code);
    let mut tx = db::begin_write(&state.writes).await?;
    let person: Option<(String, Option<i64>, bool)> = sqlx::query_as(
        "SELECT id, activation_expires_at, activation_reusable FROM people WHERE activation_code_hash = ?",
    )
    .bind(&code_hash[..])
    .fetch_optional(&mut *tx)
    .await?;
    let Some((person_id, expires_at, reusable)) = person else {
        return Err(AppError::BadCode);
    };
    if expires_at.is_some_and(|expires_at| expires_at <= now) {
        return Err(AppError::BadCode);
    }
    let person_id = db::id(&person_id)?;
    let with = SignedInWith::Code { reusable };
    finish_sign_in(tx, &state, person_id, request.client_id, &headers, with).await
}

/// Signs in on another phone with the member's sign-in phone number (set by their township) and their PIN. The
/// attempt is counted before the PIN is checked, in one write with the lock's check: attempts
/// sent at once are counted one after another, and those beyond the limit are never checked. Unknown, locked
/// and wrong all take one PIN check's time, so the time of the answer does not tell which.
async fn sign_in_with_pin(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<PinSignIn>,
) -> Result<Json<SessionResponse>, AppError> {
    let now = clock::now_ms();
    // A place in the hashing line first: an attempt refused there is not counted against the member.
    let admitted = state.hashing.admit()?;
    let people = people_with_pin(&state.db, &phone_digits(&request.phone)).await?;
    let locked = count_attempt(&state, &people, now).await?;
    let hashes: Vec<String> = match locked {
        Some(_) => Vec::new(),
        None => people.iter().map(|(_, hash)| hash.clone()).collect(),
    };
    let pin = request.pin.clone();
    let matched = admitted
        .run(move || {
            if hashes.is_empty() {
                // As slow as a wrong PIN, so the answer's timing does not tell whether a number has a PIN.
                pin_matches(&pin, unmatchable_hash());
            }
            hashes.iter().position(|hash| pin_matches(&pin, hash))
        })
        .await?;
    if let Some(until) = locked {
        return Err(AppError::Locked { until });
    }
    let Some((person_id, _)) = matched.map(|index| &people[index]) else {
        return Err(AppError::BadPin);
    };
    let person_id = db::id(person_id)?;
    let tx = db::begin_write(&state.writes).await?;
    finish_sign_in(tx, &state, person_id, request.client_id, &headers, SignedInWith::Pin).await
}

/// The person who signs in with the phone number `digits` (their township set it; one person's each), if
/// they have a PIN: id and PIN hash. At most one, found by its index.
async fn people_with_pin(db: &SqlitePool, digits: &str) -> Result<Vec<(String, String)>, AppError> {
    if digits.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_as("SELECT id, pin_hash FROM people WHERE sign_in_phone = ? AND pin_hash IS NOT NULL")
            .bind(digits)
            .fetch_all(db)
            .await?,
    )
}

/// Sets the number `person` signs in with (`number` as typed; empty clears it). `PhoneTaken` when someone
/// else signs in with it: one number is one person's.
pub async fn set_sign_in_phone(conn: &mut SqliteConnection, person: Id, number: &str) -> Result<(), AppError> {
    let digits = Some(phone_digits(number)).filter(|digits| !digits.is_empty());
    let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM people WHERE sign_in_phone = ? AND id <> ?")
        .bind(&digits)
        .bind(person.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_some() {
        return Err(AppError::PhoneTaken);
    }
    sqlx::query("UPDATE people SET sign_in_phone = ? WHERE id = ?")
        .bind(&digits)
        .bind(person.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Counts a PIN attempt against each of `people`, unless PIN sign-in is closed for one of them: then says
/// until when, and counts nothing.
async fn count_attempt(state: &AppState, people: &[(String, String)], now: i64) -> Result<Option<i64>, AppError> {
    if people.is_empty() {
        return Ok(None);
    }
    let mut tx = db::begin_write(&state.writes).await?;
    let mut locked = None;
    for (person_id, _) in people {
        let until: Option<i64> = sqlx::query_scalar("SELECT pin_locked_until FROM people WHERE id = ?")
            .bind(person_id)
            .fetch_one(&mut *tx)
            .await?;
        locked = locked.max(until.filter(|until| *until > now));
    }
    if locked.is_none() {
        for (person_id, _) in people {
            count_failure(&mut tx, person_id, now).await?;
        }
        tx.commit().await?;
    }
    Ok(locked)
}

/// `sessions.signed_in_with` of a session opened with an activation code.
const BY_CODE: &str = "code";

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignedInWith {
    /// An activation code; one that is not `reusable` (the demo's are) is used up by it.
    Code {
        reusable: bool,
    },
    Pin,
}

impl SignedInWith {
    /// As `sessions.signed_in_with` keeps it.
    fn as_str(self) -> &'static str {
        match self {
            SignedInWith::Code { .. } => BY_CODE,
            SignedInWith::Pin => "pin",
        }
    }

    /// What signing in this way does to the person's row (a statement bound to their id): a one-time code is
    /// used up; a right PIN resets the count of wrong ones.
    fn update(self) -> Option<&'static str> {
        match self {
            SignedInWith::Code { reusable: true } => None,
            SignedInWith::Code { reusable: false } => {
                Some("UPDATE people SET activation_code_hash = NULL WHERE id = ?")
            }
            SignedInWith::Pin => Some("UPDATE people SET pin_failures = 0, pin_locked_until = NULL WHERE id = ?"),
        }
    }
}

/// Ends both ways of signing in: `with`'s update runs in the same transaction as the new session, so a used
/// activation code or a reset count never outlives a failed commit.
async fn finish_sign_in(
    mut tx: Transaction<'static, Sqlite>,
    state: &AppState,
    person_id: Id,
    client_id: Id,
    headers: &HeaderMap,
    with: SignedInWith,
) -> Result<Json<SessionResponse>, AppError> {
    if let Some(update) = with.update() {
        sqlx::query(update)
            .bind(person_id.to_string())
            .execute(&mut *tx)
            .await?;
    }
    let token = open_session(
        &mut tx,
        person_id,
        client_id,
        user_agent(headers),
        with,
        clock::now_ms(),
    )
    .await?;
    tx.commit().await?;
    session_response(state, person_id, token).await
}

/// One more wrong PIN in a row (counted before the check; a right one resets it). From the fifth, PIN sign-in
/// closes for `PIN_BACKOFF_MS`, doubling with each further one up to `PIN_LOCKOUT_MS`: a member who mistypes
/// waits seconds, a guesser waits longer and longer, and someone who only wants the owner locked out must keep
/// at it, while the owner has another way in (a new activation code from their township).
async fn count_failure(conn: &mut SqliteConnection, person_id: &str, now: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE people SET
             pin_locked_until = CASE WHEN pin_failures + 1 >= ?1
                 THEN ?2 + min(?3, ?4 << min(pin_failures + 1 - ?1, 16)) ELSE pin_locked_until END,
             pin_failures = pin_failures + 1
         WHERE id = ?5",
    )
    .bind(MAX_PIN_FAILURES)
    .bind(now)
    .bind(PIN_LOCKOUT_MS)
    .bind(PIN_BACKOFF_MS)
    .bind(person_id)
    .execute(conn)
    .await?;
    Ok(())
}

thread_local! {
    /// Argon2's working memory (~19 MiB), kept by each hashing thread (`guard::HashPool`) and used again.
    /// Allocated afresh for every check, most of each allocation stayed held by the allocator: the process
    /// grew by ~15 MiB a check, to hundreds of MiB under a burst of anonymous attempts.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// `argon` of `pin` and `salt` into `out`, in this thread's kept memory.
fn argon2_into(argon: &Argon2, pin: &[u8], salt: &[u8], out: &mut [u8]) -> password_hash::Result<()> {
    let blocks = argon.params().block_count();
    MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        argon
            .hash_password_into_with_memory(pin, salt, out, &mut memory[..blocks])
            .map_err(|_| password_hash::Error::Password)
    })
}

/// The PIN hashed with argon2id and a fresh salt, in PHC form.
fn hash_pin(pin: &str) -> Result<String, AppError> {
    let internal = |error: password_hash::Error| AppError::Internal(error.to_string());
    let salt = SaltString::encode_b64(&clock::random_bytes::<16>()).map_err(internal)?;
    let argon = Argon2::default();
    let mut salt_bytes = [0; 64];
    let raw_salt = salt.as_salt().decode_b64(&mut salt_bytes).map_err(internal)?;
    let length = argon.params().output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output =
        Output::init_with(length, |out| argon2_into(&argon, pin.as_bytes(), raw_salt, out)).map_err(internal)?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(internal)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// A hash no PIN matches (of random bytes, made once), to spend a verification's time on.
fn unmatchable_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_pin(&URL_SAFE_NO_PAD.encode(clock::random_bytes::<16>())).unwrap_or_default())
}

/// Whether `pin` is the one `stored` (PHC form) was made from; the outputs are compared in constant time.
fn pin_matches(pin: &str, stored: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(hash.algorithm), Params::try_from(&hash)) else {
        return false;
    };
    let Ok(version) = hash.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let mut salt_bytes = [0; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| argon2_into(&argon, pin.as_bytes(), salt, out))
        .is_ok_and(|output| output == expected)
}

/// Sets or changes the member's PIN. Changing one needs the current PIN (a wrong one counts as a failed
/// sign-in), unless this phone signed in with an activation code in the last `FRESH_CODE_MS`: so a stolen,
/// unlocked phone cannot make the PIN its own and sign in again after the owner revokes it.
async fn set_pin(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(request): ApiJson<SetPin>,
) -> Result<StatusCode, AppError> {
    if !valid_pin(&request.pin) {
        return Err(AppError::Invalid("a PIN is six digits".into()));
    }
    let now = clock::now_ms();
    let admitted = state.hashing.admit()?;
    let (current_hash, with, created_at): (Option<String>, String, i64) = sqlx::query_as(
        "SELECT p.pin_hash, s.signed_in_with, s.created_at FROM sessions s JOIN people p ON p.id = s.person_id
         WHERE s.token_hash = ?",
    )
    .bind(&user.token_hash[..])
    .fetch_one(&state.db)
    .await?;
    let fresh = with == BY_CODE && now - created_at < FRESH_CODE_MS;
    let current_hash = current_hash.filter(|_| !fresh);
    if let Some(hash) = &current_hash {
        let person = [(user.person_id.to_string(), hash.clone())];
        if let Some(until) = count_attempt(&state, &person, now).await? {
            return Err(AppError::Locked { until });
        }
    }
    let (pin, current) = (request.pin, request.current.unwrap_or_default());
    let hash = admitted
        .run(move || match current_hash {
            Some(hash) if !pin_matches(&current, &hash) => None,
            _ => Some(hash_pin(&pin)),
        })
        .await?
        .ok_or(AppError::BadPin)??;
    sqlx::query("UPDATE people SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL WHERE id = ?")
        .bind(hash)
        .bind(user.person_id.to_string())
        .execute(&state.writes)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new session for `person_id` on the installation `client_id`; returns its token.
async fn open_session(
    conn: &mut SqliteConnection,
    person_id: Id,
    client_id: Id,
    user_agent: Option<String>,
    with: SignedInWith,
    now: i64,
) -> Result<String, AppError> {
    // A phone used in turn: the member before still has writes waiting under this client id, and only they may
    // send them. The phone says so; it takes a new client id once they are sent (or given up).
    sync::bind_client(conn, client_id, person_id, now)
        .await
        .map_err(|error| match error {
            AppError::Forbidden => AppError::ClientTaken,
            other => other,
        })?;
    let token = URL_SAFE_NO_PAD.encode(clock::random_bytes::<32>());
    // Seen now, as signing in is: otherwise every phone's first request after signing in would also write.
    sqlx::query(
        "INSERT INTO sessions (token_hash, id, person_id, client_id, created_at, last_seen_at, user_agent,
                               signed_in_with)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)",
    )
    .bind(&sha256(token.as_bytes())[..])
    .bind(clock::new_id().to_string())
    .bind(person_id.to_string())
    .bind(client_id.to_string())
    .bind(now)
    .bind(user_agent)
    .bind(with.as_str())
    .execute(conn)
    .await?;
    Ok(token)
}

fn user_agent(headers: &HeaderMap) -> Option<String> {
    let agent = headers.get(USER_AGENT)?.to_str().ok()?;
    Some(agent.chars().take(200).collect())
}

async fn session_response(state: &AppState, person_id: Id, token: String) -> Result<Json<SessionResponse>, AppError> {
    let me = me::load(&state.db, person_id).await?.ok_or(AppError::BadCode)?;
    let pin_set: Option<String> = sqlx::query_scalar("SELECT pin_hash FROM people WHERE id = ?")
        .bind(person_id.to_string())
        .fetch_one(&state.db)
        .await?;
    Ok(Json(SessionResponse {
        token,
        me,
        keys: state.keys().trusted().to_vec(),
        pin_set: pin_set.is_some(),
    }))
}

/// Revokes the token this request came with (the phone wipes itself as it signs out).
async fn sign_out(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, AppError> {
    let mut tx = db::begin_write(&state.writes).await?;
    sqlx::query("UPDATE sessions SET revoked_at = ? WHERE token_hash = ?")
        .bind(clock::now_ms())
        .bind(&user.token_hash[..])
        .execute(&mut *tx)
        .await?;
    door_keys::revoke_session(&mut tx, user.session_id).await?;
    tx.commit().await?;
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

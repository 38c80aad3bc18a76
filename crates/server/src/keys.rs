//! The server's Ed25519 keys for signing codes: made with the OS's randomness on first start, kept in the
//! database under a key id, and published (public halves only) at `GET /api/v1/keys` and through pull.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use ed25519_dalek::SigningKey;
use guihai_core::qr::{encode_public_key, Code, CodeError, TrustedKey, Verifier, LINK_PATH};
use guihai_core::sync::CodeResponse;
use rand::rngs::OsRng;
use serde::Serialize;
use sqlx::SqlitePool;

use crate::changes::{self, Audience, LogKey};
use crate::error::AppError;
use crate::routes::Routes;
use crate::{clock, db, AppState};

/// The key that signs new codes, and every key a code may have been signed with.
pub struct Keyring {
    signing: ServerKey,
    trusted: Vec<TrustedKey>,
    /// The same keys, decoded.
    verifier: Verifier,
    /// Codes whose signature checked out, by payload (see `verify`).
    verified: Mutex<HashMap<String, Code>>,
}

/// How many checked codes `verify` remembers before it starts again.
const REMEMBERED_CODES: usize = 4_096;
/// `verify_many` checks fewer codes than this on the calling thread: a thread of its own would cost more.
pub const CODES_A_THREAD: usize = 64;

pub struct ServerKey {
    pub key_id: u16,
    pub key: SigningKey,
}

impl Keyring {
    pub fn signing(&self) -> &ServerKey {
        &self.signing
    }

    pub fn trusted(&self) -> &[TrustedKey] {
        &self.trusted
    }

    /// Checks a scanned code's signature, not its time: a code scanned while valid may arrive long after, from a
    /// phone that was offline. A code that checked out is remembered: the members at one event all scan the
    /// same code, and the signature check is the costliest step of a push. The keys do not change while the
    /// server runs, so the same payload always checks out the same.
    pub fn verify(&self, scanned: &str) -> Result<Code, CodeError> {
        let remembered = self
            .verified
            .lock()
            .expect("no panic while holding it")
            .get(scanned)
            .cloned();
        if let Some(code) = remembered {
            return Ok(code);
        }
        let code = self.verifier.verify(scanned)?;
        let mut verified = self.verified.lock().expect("no panic while holding it");
        if verified.len() >= REMEMBERED_CODES {
            verified.clear();
        }
        verified.insert(scanned.to_owned(), code.clone());
        Ok(code)
    }

    /// `verify` for each code, the many codes of a big push spread over the CPUs: a phone back online after
    /// weeks, or a secretary's after a day of events, sends thousands of codes of as many activities at once.
    pub fn verify_many(&self, codes: &[Option<&str>]) -> Vec<Option<Result<Code, CodeError>>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let each = codes.len().div_ceil(threads).max(CODES_A_THREAD);
        let verify =
            |part: &[Option<&str>]| -> Vec<_> { part.iter().map(|code| code.map(|c| self.verify(c))).collect() };
        if codes.len() <= each {
            return verify(codes);
        }
        std::thread::scope(|scope| {
            let parts: Vec<_> = codes
                .chunks(each)
                .map(|part| scope.spawn(move || verify(part)))
                .collect();
            parts
                .into_iter()
                .flat_map(|part| part.join().expect("checking a code does not panic"))
                .collect()
        })
    }

    /// Signs `code` with the key in force (its `key_id` is set here) and gives its payload and `/q/` link.
    pub fn sign(&self, code: Code) -> CodeResponse {
        let code = Code {
            key_id: self.signing.key_id,
            ..code
        };
        let payload = code.sign(&self.signing.key);
        CodeResponse {
            link: format!("{LINK_PATH}{payload}"),
            payload,
            qr: None,
        }
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    key_id: u16,
    secret_key: Vec<u8>,
    public_key: String,
    revoked: bool,
}

impl From<&KeyRow> for TrustedKey {
    fn from(row: &KeyRow) -> TrustedKey {
        TrustedKey {
            key_id: row.key_id,
            public_key: row.public_key.clone(),
            revoked: row.revoked,
        }
    }
}

/// Loads the keys; makes the first one (and logs it for every phone) when there is none in force.
pub async fn load_or_create(db: &SqlitePool) -> Result<Keyring, AppError> {
    let mut tx = db::begin_write(db).await?;
    let mut rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT key_id, secret_key, public_key, revoked_at IS NOT NULL AS revoked FROM signing_keys ORDER BY key_id",
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.iter().all(|row| row.revoked) {
        let key = SigningKey::generate(&mut OsRng);
        let key_id = rows.last().map_or(Some(1), |row| row.key_id.checked_add(1));
        let key_id = key_id.ok_or_else(|| AppError::Internal("every signing key id is used".into()))?;
        let row = KeyRow {
            key_id,
            secret_key: key.to_bytes().to_vec(),
            public_key: encode_public_key(&key.verifying_key()),
            revoked: false,
        };
        sqlx::query("INSERT INTO signing_keys (key_id, secret_key, public_key, created_at) VALUES (?, ?, ?, ?)")
            .bind(row.key_id)
            .bind(&row.secret_key)
            .bind(&row.public_key)
            .bind(clock::now_ms())
            .execute(&mut *tx)
            .await?;
        changes::touch(&mut tx, LogKey::Key(key_id), &[Audience::All]).await?;
        tracing::info!(key_id, "made a new signing key");
        rows.push(row);
    }
    tx.commit().await?;

    // The newest key in force signs; all of them (revoked ones marked) are for checking.
    let trusted: Vec<TrustedKey> = rows.iter().map(TrustedKey::from).collect();
    let newest = rows
        .iter()
        .rev()
        .find(|row| !row.revoked)
        .expect("a key in force was made above");
    let secret: [u8; 32] = newest
        .secret_key
        .as_slice()
        .try_into()
        .map_err(|_| AppError::Internal(format!("signing key {} is damaged", newest.key_id)))?;
    Ok(Keyring {
        signing: ServerKey {
            key_id: newest.key_id,
            key: SigningKey::from_bytes(&secret),
        },
        verifier: Verifier::new(&trusted),
        trusted,
        verified: Mutex::default(),
    })
}

/// One key's public half, for pull.
pub async fn load(db: &SqlitePool, key_id: u16) -> Result<Option<TrustedKey>, AppError> {
    let row: Option<(String, bool)> =
        sqlx::query_as("SELECT public_key, revoked_at IS NOT NULL FROM signing_keys WHERE key_id = ?")
            .bind(key_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(public_key, revoked)| TrustedKey {
        key_id,
        public_key,
        revoked,
    }))
}

pub fn routes() -> Routes {
    Routes::new().route(Method::GET, "/keys", list)
}

#[derive(Serialize)]
struct KeysResponse {
    keys: Vec<TrustedKey>,
}

/// Public: a phone may check codes before anyone signs in on it.
async fn list(State(state): State<AppState>) -> Json<KeysResponse> {
    Json(KeysResponse {
        keys: state.keys().trusted().to_vec(),
    })
}

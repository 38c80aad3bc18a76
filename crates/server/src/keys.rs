//! The server's Ed25519 keys for signing codes: made with the OS's randomness on first start, each under a key
//! id, its secret in a file of the key directory and its public half in the database, published at
//! `GET /api/v1/keys` and through pull. `guihai-server keys` rotates and revokes them (`command`).

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::State;
use axum::http::Method;
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use guihai_core::qr::{encode_public_key, payload_of, signature_of, Code, CodeError, TrustedKey, Verifier, LINK_PATH};
use guihai_core::sync::{CodeResponse, Op, PushRequest, RecordedBy};
use rand::rngs::OsRng;
use rusqlite::OptionalExtension as _;
use serde::Serialize;
use sqlx::{SqliteConnection, SqlitePool};

use crate::config::KeysCommand;
use crate::error::AppError;
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
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
    /// phone that was offline. A code this server `issued` (its digest is kept) is only read, not checked
    /// again. A code that checked out is remembered: the members at one event all scan the same code, and the
    /// signature check is the costliest step of a push. The keys do not change while the server runs, so the
    /// same payload always checks out the same. A code of the key that signs now is checked by signing it again
    /// (`Verifier::verify_own`), at a third of the cost: a phone back after weeks sends thousands of codes, each
    /// of its own activity.
    pub fn verify(&self, scanned: &str, issued: bool) -> Result<Code, CodeError> {
        if issued {
            return self.verifier.verify_issued(scanned);
        }
        let remembered = self
            .verified
            .lock()
            .expect("no panic while holding it")
            .get(scanned)
            .cloned();
        if let Some(code) = remembered {
            return Ok(code);
        }
        let code = self
            .verifier
            .verify_own(scanned, self.signing.key_id, &self.signing.key)?;
        let mut verified = self.verified.lock().expect("no panic while holding it");
        if verified.len() >= REMEMBERED_CODES {
            verified.clear();
        }
        verified.insert(scanned.to_owned(), code.clone());
        Ok(code)
    }

    /// `verify` for each code (`issued` says which this server issued), the many codes of a big push spread over
    /// the CPUs: a phone back online after weeks, or a secretary's after a day of events, sends thousands of codes
    /// of as many activities at once.
    pub fn verify_many(&self, codes: &[Option<&str>], issued: &[bool]) -> Vec<Option<Result<Code, CodeError>>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let each = codes.len().div_ceil(threads).max(CODES_A_THREAD);
        let verify = |(codes, issued): (&[Option<&str>], &[bool])| -> Vec<_> {
            codes
                .iter()
                .zip(issued)
                .map(|(code, issued)| code.map(|c| self.verify(c, *issued)))
                .collect()
        };
        if codes.len() <= each {
            return verify((codes, issued));
        }
        std::thread::scope(|scope| {
            let parts: Vec<_> = codes
                .chunks(each)
                .zip(issued.chunks(each))
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
            url: None,
            qr: None,
        }
    }
}

/// A key as the database holds it: its public half and whether it is revoked. The secret is in the key
/// directory (`KeyDir`).
#[derive(sqlx::FromRow)]
struct KeyRow {
    key_id: u16,
    public_key: String,
    created_at: i64,
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

/// Why the keys cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    #[error("the secret of signing key {key_id} is not in {path} (restore it from a backup of the key directory, or revoke the key: `guihai-server keys revoke {key_id}`)")]
    Missing { key_id: u16, path: PathBuf },
    #[error("{0} can be read by other users of this machine: `chmod 600` it")]
    Exposed(PathBuf),
    #[error("{0} is not a signing key's secret, or not the one the database knows under its key id")]
    Wrong(PathBuf),
    #[error("{0} cannot be written: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("there is no signing key {0}")]
    NoSuchKey(u16),
    #[error("every signing key id is used")]
    IdsUsedUp,
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<sqlx::Error> for KeyError {
    fn from(error: sqlx::Error) -> KeyError {
        KeyError::App(error.into())
    }
}

/// The directory of the signing keys' secrets: a file `<key id>.key` each (its 32 bytes in base64url), the
/// directory and the files readable by the server's user only. It is backed up apart from the database.
pub struct KeyDir {
    dir: PathBuf,
}

impl KeyDir {
    /// Opens the directory, making it (owner only) if it is not there.
    pub fn open(dir: &Path) -> Result<KeyDir, KeyError> {
        let failed = |error| KeyError::Dir(dir.to_owned(), error);
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(failed)?;
        Ok(KeyDir { dir: dir.to_owned() })
    }

    fn path(&self, key_id: u16) -> PathBuf {
        self.dir.join(format!("{key_id}.key"))
    }

    /// The secret of `key_id`, checked against the public half the database holds.
    fn read(&self, row: &KeyRow) -> Result<SigningKey, KeyError> {
        let path = self.path(row.key_id);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing {
                    key_id: row.key_id,
                    path,
                })
            }
            Err(error) => return Err(KeyError::Dir(path, error)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map_err(|e| KeyError::Dir(path.clone(), e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::Exposed(path));
            }
        }
        let secret: [u8; 32] = URL_SAFE_NO_PAD
            .decode(text.trim())
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(|| KeyError::Wrong(path.clone()))?;
        let key = SigningKey::from_bytes(&secret);
        if encode_public_key(&key.verifying_key()) != row.public_key {
            return Err(KeyError::Wrong(path));
        }
        Ok(key)
    }

    /// Writes a secret to its file (owner only) and to disk before the database names the key: a key the
    /// database knows always has its secret. A file left by a start that failed before that is replaced.
    fn write(&self, key_id: u16, key: &SigningKey) -> Result<(), KeyError> {
        let path = self.path(key_id);
        let failed = |error| KeyError::Write(path.clone(), error);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(failed)?;
        file.write_all(format!("{}\n", URL_SAFE_NO_PAD.encode(key.to_bytes())).as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(failed)?;
        #[cfg(unix)]
        std::fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(failed)?;
        Ok(())
    }
}

/// Keeps a code this server signed (`Issued`) under its signature, in the caller's transaction or connection.
pub async fn record_issued(conn: &mut SqliteConnection, payload: &str) -> Result<(), AppError> {
    let Some((payload, signature)) = payload_of(payload)
        .ok()
        .and_then(|payload| Some((payload, signature_of(payload)?)))
    else {
        return Ok(());
    };
    sqlx::query("INSERT INTO issued_codes (signature, payload) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(&signature[..])
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// The codes this server issued (`record_issued`) among those a push carries or names, read with one look-up.
#[derive(Default)]
pub struct Issued(HashMap<[u8; 64], String>);

impl Issued {
    /// Looks up, by their signatures, the codes `request` carries whole and those it names (`Op::CheckInIssued`),
    /// by direct calls into SQLite on a lent read connection: through sqlx, a push of 2,000 took tens of
    /// milliseconds of the connection's thread handing each row over.
    pub async fn look_up(db: &SqlitePool, request: &PushRequest) -> Result<Issued, AppError> {
        let mut wanted: Vec<[u8; 64]> = codes(request)
            .into_iter()
            .flatten()
            .filter_map(|code| signature_of(payload_of(code).ok()?))
            .collect();
        wanted.extend(request.mutations.iter().filter_map(|m| match &m.op {
            Op::CheckInIssued { signature, .. } => Some(signature.0),
            _ => None,
        }));
        if wanted.is_empty() {
            return Ok(Issued::default());
        }
        let mut conn = db.acquire().await?;
        let (found, ended) = db::lent(&mut conn, |db| {
            let found = Issued::find(db, wanted);
            Ok((found, db.is_autocommit()))
        })
        .await?;
        // A read transaction left open would hold its snapshot of the database for every later use of this
        // pooled connection: it is closed instead.
        if !ended {
            tracing::error!("a read connection could not end its transaction; closing it");
            conn.close_on_drop();
        }
        found
    }

    /// The codes kept under `wanted`, in one read transaction (a statement alone is a transaction of its own,
    /// and 2,000 of them took half the time); it ends, rolled back, when dropped.
    fn find(db: &rusqlite::Connection, wanted: Vec<[u8; 64]>) -> Result<Issued, AppError> {
        let read = db.unchecked_transaction()?;
        let mut find = read.prepare("SELECT payload FROM issued_codes WHERE signature = ?")?;
        let mut issued = HashMap::with_capacity(wanted.len());
        for signature in wanted {
            if let Some(payload) = find.query_row([&signature[..]], |row| row.get(0)).optional()? {
                issued.insert(signature, payload);
            }
        }
        Ok(Issued(issued))
    }

    /// `request` with each code it names taken whole from what the server keeps, and for each mutation whether
    /// its code is one this server issued, byte for byte (its signature then needs no check). `SendInFull` when
    /// a named code is not kept (signed before codes were kept whole, or by another server): nothing of it is
    /// applied.
    pub fn resolve(&self, mut request: PushRequest) -> Result<(PushRequest, Vec<bool>), AppError> {
        let mut named = vec![false; request.mutations.len()];
        for (mutation, named) in request.mutations.iter_mut().zip(&mut named) {
            if let Op::CheckInIssued { id, signature } = mutation.op {
                let code = self.0.get(&signature.0).ok_or(AppError::SendInFull)?;
                mutation.op = Op::CheckIn { id, code: code.clone() };
                *named = true;
            }
        }
        let issued = codes(&request)
            .into_iter()
            .zip(named)
            .map(|(code, named)| named || code.is_some_and(|code| self.kept(code)))
            .collect();
        Ok((request, issued))
    }

    /// Whether `code` is the one kept under its signature.
    fn kept(&self, code: &str) -> bool {
        payload_of(code)
            .ok()
            .and_then(|payload| Some(self.0.get(&signature_of(payload)?)? == payload))
            .unwrap_or(false)
    }
}

/// The code each mutation carries whole, if it carries one.
pub fn codes(request: &PushRequest) -> Vec<Option<&str>> {
    request
        .mutations
        .iter()
        .map(|m| match &m.op {
            Op::CheckIn { code, .. }
            | Op::Report { code, .. }
            | Op::RecordAttendance {
                by: RecordedBy::Card { code },
                ..
            } => Some(code.as_str()),
            _ => None,
        })
        .collect()
}

/// Loads the keys; makes the first one when there is none in force.
pub async fn load_or_create(db: &SqlitePool, dir: &KeyDir) -> Result<Keyring, KeyError> {
    move_secrets(db, dir).await?;
    make(db, dir, Make::IfNoneInForce).await?;
    let rows = rows(db).await?;
    // The newest key in force signs; all of them (revoked ones marked) are for checking.
    let trusted: Vec<TrustedKey> = rows.iter().map(TrustedKey::from).collect();
    let newest = rows
        .iter()
        .rev()
        .find(|row| !row.revoked)
        .expect("a key in force was made above");
    Ok(Keyring {
        signing: ServerKey {
            key_id: newest.key_id,
            key: dir.read(newest)?,
        },
        verifier: Verifier::new(&trusted),
        trusted,
        verified: Mutex::default(),
    })
}

async fn rows(db: &SqlitePool) -> Result<Vec<KeyRow>, KeyError> {
    Ok(sqlx::query_as(
        "SELECT key_id, public_key, created_at, revoked_at IS NOT NULL AS revoked FROM signing_keys ORDER BY key_id",
    )
    .fetch_all(db)
    .await?)
}

/// What the keys are, in a few characters: a running server loads them again when this changes (`watch`).
async fn fingerprint(db: &SqlitePool) -> Result<String, sqlx::Error> {
    let (fingerprint,): (Option<String>,) = sqlx::query_as(
        "SELECT group_concat(key_id || (CASE WHEN revoked_at IS NULL THEN '+' ELSE '-' END), ' ')
         FROM (SELECT key_id, revoked_at FROM signing_keys ORDER BY key_id)",
    )
    .fetch_one(db)
    .await?;
    Ok(fingerprint.unwrap_or_default())
}

/// When `make` makes a key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Make {
    /// Only if no key is in force (at start, or after the last one in force was revoked).
    IfNoneInForce,
    /// A new one that signs from now on (`keys rotate`).
    Always,
}

/// Makes a new key after the newest, and tells every phone of it (through pull) so they check its codes. In
/// one write transaction with the read of the keys: instances starting together make one key, not two.
async fn make(db: &SqlitePool, dir: &KeyDir, when: Make) -> Result<Option<u16>, KeyError> {
    let mut tx = db::begin_write(db).await?;
    let rows: Vec<(u16, bool)> =
        sqlx::query_as("SELECT key_id, revoked_at IS NOT NULL FROM signing_keys ORDER BY key_id")
            .fetch_all(&mut *tx)
            .await?;
    if when == Make::IfNoneInForce && rows.iter().any(|(_, revoked)| !revoked) {
        return Ok(None);
    }
    let key_id = rows.last().map_or(Some(1), |(key_id, _)| key_id.checked_add(1));
    let key_id = key_id.ok_or(KeyError::IdsUsedUp)?;
    let key = SigningKey::generate(&mut OsRng);
    dir.write(key_id, &key)?;
    sqlx::query("INSERT INTO signing_keys (key_id, public_key, created_at) VALUES (?, ?, ?)")
        .bind(key_id)
        .bind(encode_public_key(&key.verifying_key()))
        .bind(clock::now_ms())
        .execute(&mut *tx)
        .await?;
    changes::touch(&mut tx, LogKey::Key(key_id), &[Audience::All]).await?;
    tx.commit().await?;
    tracing::info!(key_id, "made a new signing key");
    Ok(Some(key_id))
}

/// Writes the secrets a database from before key files still holds (migration 0011) to their files, then
/// deletes them from the database with its pages zeroed.
async fn move_secrets(db: &SqlitePool, dir: &KeyDir) -> Result<(), KeyError> {
    let secrets: Vec<(u16, Vec<u8>)> = sqlx::query_as("SELECT key_id, secret_key FROM signing_key_secrets_to_move")
        .fetch_all(db)
        .await?;
    if secrets.is_empty() {
        return Ok(());
    }
    for (key_id, secret) in &secrets {
        let secret: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| AppError::Internal(format!("signing key {key_id} is damaged")))?;
        dir.write(*key_id, &SigningKey::from_bytes(&secret))?;
    }
    let mut conn = db.acquire().await?;
    sqlx::query("PRAGMA secure_delete = ON").execute(&mut *conn).await?;
    sqlx::query("DELETE FROM signing_key_secrets_to_move")
        .execute(&mut *conn)
        .await?;
    sqlx::query("PRAGMA secure_delete = OFF").execute(&mut *conn).await?;
    tracing::info!(keys = secrets.len(), dir = %dir.dir.display(), "moved the signing keys' secrets out of the database");
    Ok(())
}

/// Keeps a running server's keys as the database has them: `guihai-server keys rotate` or `revoke`, run
/// beside it (or by another instance), take effect within `RELOAD_EVERY`.
pub async fn watch(state: AppState, dir: KeyDir) {
    let mut every = tokio::time::interval(RELOAD_EVERY);
    let mut known = None;
    loop {
        every.tick().await;
        let now = match fingerprint(&state.db).await {
            Ok(now) => now,
            Err(error) => {
                tracing::warn!(%error, "cannot read the signing keys");
                continue;
            }
        };
        if known.as_ref().is_some_and(|known| *known != now) {
            match load_or_create(&state.writes, &dir).await {
                Ok(keys) => {
                    tracing::info!(signing = keys.signing.key_id, "loaded the signing keys again");
                    state.replace_keys(keys);
                }
                Err(error) => tracing::error!(%error, "cannot load the changed signing keys; signing as before"),
            }
        }
        known = Some(now);
    }
}

/// How soon a running server sees keys rotated or revoked beside it.
pub const RELOAD_EVERY: Duration = Duration::from_secs(5);

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

/// `guihai-server keys list|rotate|revoke ID`: what it did, for the operator. Run beside a server or with none
/// running; a running server takes the change within `RELOAD_EVERY`.
pub async fn command(db: &SqlitePool, dir: &KeyDir, action: KeysCommand) -> Result<String, KeyError> {
    // An older database's secrets are moved by the `load_or_create` below, as at the server's start.
    let done = match action {
        KeysCommand::List => String::new(),
        KeysCommand::Rotate => {
            let key_id = make(db, dir, Make::Always).await?.expect("made always");
            format!("made signing key {key_id}: it signs every code from now on; codes signed before stay valid until they expire.\n\n")
        }
        KeysCommand::Revoke(key_id) => {
            let mut tx = db::begin_write(db).await?;
            // Revoking a key twice keeps its first time.
            let found: Option<(i64,)> = sqlx::query_as(
                "UPDATE signing_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_id = ? RETURNING key_id",
            )
            .bind(clock::now_ms())
            .bind(key_id)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(KeyError::NoSuchKey(key_id));
            }
            changes::touch(&mut tx, LogKey::Key(key_id), &[Audience::All]).await?;
            tx.commit().await?;
            let made = make(db, dir, Make::IfNoneInForce).await?;
            let mut done = format!(
                "revoked signing key {key_id}: codes signed by it are refused, by the server now and by each phone from its next sync. Print the organisations' posters again.\n"
            );
            if let Some(made) = made {
                done.push_str(&format!("made signing key {made}: it signs from now on.\n"));
            }
            done.push('\n');
            done
        }
    };
    let keyring = load_or_create(db, dir).await?;
    let mut list = done + "key  made        state\n";
    for row in rows(db).await? {
        let state = if row.revoked {
            "revoked"
        } else if row.key_id == keyring.signing.key_id {
            "signs"
        } else {
            "trusted (its codes stay valid until they expire)"
        };
        list.push_str(&format!(
            "{:<4} {:<11} {state}\n",
            row.key_id,
            clock::date_of(row.created_at)
        ));
    }
    Ok(list)
}

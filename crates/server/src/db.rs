//! The SQLite database: one file `guihai.db` in the data directory, write-ahead log, migrations embedded in the
//! binary, and the small conversions between its text columns and core's types.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use guihai_core::Id;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::error::AppError;
use crate::StartError;

/// The database's two pools: `read` for everything, and `write`, one connection, for write transactions.
///
/// SQLite has one writer at a time. With writers spread over the read pool, each waiting writer polls
/// SQLite's busy handler (sleeping longer and longer), so under load pushes waited far longer than the work
/// ahead of them and some ran past the busy timeout (the ingest benchmark saw 500s). One write connection
/// makes them queue in the pool instead: in order, each starting the moment the one before commits.
pub struct Db {
    pub read: SqlitePool,
    pub write: SqlitePool,
    pub checkpoints: Checkpoints,
}

/// How often the checkpointer folds the write-ahead log into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);
/// Pages (4 KiB) of write-ahead log that are far more than a second of writes.
const LONG_LOG_PAGES: i64 = 25_000;

pub async fn open(data_dir: &Path) -> Result<Db, StartError> {
    std::fs::create_dir_all(data_dir)?;
    let file = data_dir.join("guihai.db");
    let options = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true)
        // Readers never wait for the writer, and a commit is one append to the log.
        .journal_mode(SqliteJournalMode::Wal)
        // A commit is on disk before anyone is told so: a phone deletes what the server acknowledged, so an
        // acknowledged write lost to a power cut would be lost for good. With WAL, FULL syncs the log once per
        // commit, and the push writer commits many pushes at a time.
        .synchronous(SqliteSynchronous::Full)
        // SQLite has one writer: a second one waits its turn instead of failing at once.
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    // An SQLite connection is a file handle in this process, never dropped by a network: testing it before
    // each use would only add a round trip to every query.
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!().run(&read).await?;
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        // The checkpointer folds the log into the database instead: a commit that did it itself kept every
        // push behind it waiting (tens of milliseconds, each second under load).
        .connect_with(options.pragma("wal_autocheckpoint", "0"))
        .await?;
    Ok(Db {
        read,
        write,
        checkpoints: Checkpoints::start(file)?,
    })
}

/// A thread that folds the write-ahead log into the database file every `CHECKPOINT_EVERY`, on a connection
/// of its own. A passive checkpoint never blocks the writer or a reader; once it has caught up, the next
/// commit starts the log from its beginning again, so the log stays about as small as a second of writes.
#[derive(Clone)]
pub struct Checkpoints {
    running: Arc<Mutex<Option<Running>>>,
}

/// The thread, and what stops it: dropping the sender.
struct Running {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpoints {
    fn start(file: PathBuf) -> Result<Checkpoints, StartError> {
        let conn = rusqlite::Connection::open(file)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new().name("checkpoints".into()).spawn(move || {
            let mut growing = false;
            // Ends when told to, or when every handle is gone.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| row.get::<_, i64>(1)) {
                    // A log this long is not starting over (a read that never ends holds it): said once.
                    Ok(pages) if pages > LONG_LOG_PAGES && !growing => {
                        growing = true;
                        tracing::warn!(pages, "the write-ahead log keeps growing");
                    }
                    Ok(pages) => growing &= pages > LONG_LOG_PAGES,
                    Err(error) => tracing::warn!(%error, "cannot checkpoint the write-ahead log"),
                }
            }
        })?;
        Ok(Checkpoints {
            running: Arc::new(Mutex::new(Some(Running { stop, thread }))),
        })
    }

    /// Stops the thread and waits for a checkpoint under way to finish.
    fn stop(&self) {
        let running = self.running.lock().expect("no panic while holding it").take();
        if let Some(Running { stop, thread }) = running {
            drop(stop);
            let _ = thread.join();
        }
    }
}

/// Closes the pool at shutdown. The write-ahead log is first folded into the database file and emptied, so the
/// file is complete on its own (a copy of it is a backup) even if a connection is still closing when the
/// process ends: closing the pool alone now and then left a full log behind (the restore test caught it).
pub async fn close(db: Db) {
    db.write.close().await;
    db.checkpoints.stop();
    match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&db.read)
        .await
    {
        Ok((0, _, _)) => {}
        Ok(_) => tracing::warn!("the write-ahead log was busy and is not empty"),
        Err(error) => tracing::warn!(%error, "cannot checkpoint the write-ahead log"),
    }
    db.read.close().await;
}

/// Starts a transaction that writes, on the one write connection (see `Db`). `BEGIN IMMEDIATE` takes SQLite's
/// write lock at once, so a lone write outside this path waits on the busy timeout rather than failing when it
/// upgrades a read snapshot that the transaction has overtaken.
pub async fn begin_write(write: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    write.begin_with("BEGIN IMMEDIATE").await
}

/// Runs `work` on `conn` as sqlx lends it: direct calls into SQLite on this thread, microseconds each, where
/// each of sqlx's queries is a round trip to the connection's own thread.
pub async fn lent<T>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&rusqlite::Connection) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let mut handle = conn.lock_handle().await?;
    // SAFETY: sqlx's thread for this connection waits until `handle` is dropped, and `db` is dropped first
    // (declared after it) without closing the connection (`from_handle` does not own it).
    let db = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr())? };
    work(&db)
}

/// An id read back from the database. A malformed one means the database is damaged, not the request.
pub fn id(text: &str) -> Result<Id, AppError> {
    Id::parse(text).map_err(|_| AppError::Internal(format!("malformed id {text:?} in the database")))
}

/// A push sequence number as SQLite stores it (a signed 64-bit integer).
pub fn seq(seq: u64) -> Result<i64, AppError> {
    i64::try_from(seq).map_err(|_| AppError::Invalid(format!("seq {seq} is out of range")))
}

/// The wire name of a unit enum variant (`ActivityKind::OrganisationLife` -> `organisation_life`): the database
/// stores the same text the API sends, so core's serde names are the one definition of both.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => unreachable!("wire_name is only used with unit enum variants, got {other:?}"),
    }
}

/// The reverse of `wire_name`.
pub fn from_wire_name<T: DeserializeOwned>(name: &str) -> Result<T, AppError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| AppError::Internal(format!("unknown name {name:?} in the database")))
}

#[cfg(test)]
mod tests {
    use guihai_core::checkin::CheckInFlag;
    use guihai_core::domain::ActivityKind;
    use sqlx::Row;

    use super::*;

    #[test]
    fn enums_are_stored_under_their_wire_names() {
        assert_eq!(wire_name(&ActivityKind::OrganisationLife), "organisation_life");
        assert_eq!(wire_name(&CheckInFlag::OutsideWindow), "outside_window");
        assert_eq!(
            from_wire_name::<CheckInFlag>("clock_skew").unwrap(),
            CheckInFlag::ClockSkew
        );
        assert!(from_wire_name::<ActivityKind>("party").is_err());
    }

    /// A check-in insert builds no temporary table for its CHECKs (migration 0019), and they still refuse what
    /// they did.
    #[tokio::test]
    async fn check_ins_are_checked_without_temporary_tables() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path()).await.unwrap();
        let insert = "INSERT INTO check_ins (id, person_id, activity_id, org_id, scanned_at, received_at, client_id,
                seq, flag, how) VALUES ('c', 'p', 'a', 'o', 0, 0, 'x', 1, ?, ?)";
        let program: Vec<String> = sqlx::query(&format!("EXPLAIN {insert}"))
            .bind("clock_skew")
            .bind("card")
            .fetch_all(&db.read)
            .await
            .unwrap()
            .iter()
            .map(|row| row.get("opcode"))
            .collect();
        assert!(program.iter().any(|op| op == "Insert"), "{program:?}");
        assert!(!program.iter().any(|op| op == "OpenEphemeral"), "{program:?}");
        for (flag, how) in [(Some("late"), "own_scan"), (None, "scanned")] {
            let refused = sqlx::query(insert).bind(flag).bind(how).execute(&db.write).await;
            let message = refused.unwrap_err().to_string();
            assert!(message.contains("CHECK constraint failed"), "{message}");
        }
        close(db).await;
    }
}

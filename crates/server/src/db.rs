//! The SQLite database: one file `guihai.db` in the data directory, write-ahead log, migrations embedded in the
//! binary, and the small conversions between its text columns and core's types.

use std::path::Path;
use std::time::Duration;

use guihai_core::Id;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

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
}

pub async fn open(data_dir: &Path) -> Result<Db, StartError> {
    std::fs::create_dir_all(data_dir)?;
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join("guihai.db"))
        .create_if_missing(true)
        // Readers never wait for the writer, and a commit is one append to the log.
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL loses at most the last commits on power loss, never consistency.
        .synchronous(SqliteSynchronous::Normal)
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
        .connect_with(options)
        .await?;
    Ok(Db { read, write })
}

/// Closes the pool at shutdown. The write-ahead log is first folded into the database file and emptied, so the
/// file is complete on its own (a copy of it is a backup) even if a connection is still closing when the
/// process ends: closing the pool alone now and then left a full log behind (the restore test caught it).
pub async fn close(db: Db) {
    db.write.close().await;
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

/// The placeholders of a multi-row `VALUES`: `rows` groups of `width`, `(?, ?), (?, ?)`.
pub fn values(rows: usize, width: usize) -> String {
    vec![format!("({})", vec!["?"; width].join(", ")); rows].join(", ")
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
}

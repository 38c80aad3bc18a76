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

pub async fn open(data_dir: &Path) -> Result<SqlitePool, StartError> {
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
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    Ok(pool)
}

/// Closes the pool at shutdown. The write-ahead log is first folded into the database file and emptied, so the
/// file is complete on its own (a copy of it is a backup) even if a connection is still closing when the
/// process ends: closing the pool alone now and then left a full log behind (the restore test caught it).
pub async fn close(db: &SqlitePool) {
    match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(db)
        .await
    {
        Ok((0, _, _)) => {}
        Ok(_) => tracing::warn!("the write-ahead log was busy and is not empty"),
        Err(error) => tracing::warn!(%error, "cannot checkpoint the write-ahead log"),
    }
    db.close().await;
}

/// Starts a transaction that writes. `BEGIN IMMEDIATE` takes the write lock at once, so two writers queue on
/// the busy timeout instead of one failing when it upgrades a read snapshot that the other has overtaken.
pub async fn begin_write(db: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    db.begin_with("BEGIN IMMEDIATE").await
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

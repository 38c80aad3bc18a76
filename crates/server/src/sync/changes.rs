//! The change log behind pull: which record changed, for whom, in which order.
//!
//! Every write that a phone should learn about `touch`es the record's key in the same transaction: its old rows
//! go and new ones come, one per audience, so each record appears once, at its newest sequence number.
//!
//! Why a pull cursor can never skip a row: SQLite has one writer, so transactions that write here run one after
//! another, and AUTOINCREMENT hands out numbers above every number ever handed out (even for rows deleted since).
//! A transaction that commits later therefore only adds rows above every committed one, and a reader that has
//! seen everything up to N will find anything new above N. On PostgreSQL, concurrent writers would commit out of
//! order; there the numbers must come from one counter row updated inside each transaction (or readers must stop
//! below the oldest open transaction).

use std::fmt;
use std::str::FromStr;

use guihai_core::Id;
use sqlx::SqliteConnection;

use crate::error::AppError;

/// A server record, as named in the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKey {
    /// A person's own record; it reaches its owner, and only them, as `Record::Me` (phone key `me`).
    Person(Id),
    /// A person's own profile; it reaches their phones only, as `Record::Profile` (phone key `profile`).
    Profile(Id),
    Org(Id),
    /// A stop or a yearly review on a member's certificate; for the member only.
    Stop(Id),
    Review(Id),
    /// A member's report to a host organisation; for the member only.
    Report(Id),
    /// An organisation code's revocation (core's `OrgCodeSince`); for everyone.
    OrgCode(Id),
    Activity(Id),
    CheckIn(Id),
    Key(u16),
    /// A revoked door key (`door_keys`); for everyone.
    DoorKey(Id),
    /// A notice (`notices`); for the members it is for.
    Notice(Id),
    /// That a member read a notice; for that member only, so it is named by both.
    NoticeRead(Id, Id),
}

impl LogKey {
    /// The key the phone keeps the record under (core's `Record::key`).
    pub fn phone_key(&self) -> String {
        match self {
            LogKey::Person(_) => "me".to_owned(),
            LogKey::Profile(_) => "profile".to_owned(),
            LogKey::NoticeRead(notice, _) => format!("noticeread:{notice}"),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogKey::Person(id) => write!(f, "person:{id}"),
            LogKey::Profile(id) => write!(f, "profile:{id}"),
            LogKey::Org(id) => write!(f, "org:{id}"),
            LogKey::Stop(id) => write!(f, "stop:{id}"),
            LogKey::Review(id) => write!(f, "review:{id}"),
            LogKey::Report(id) => write!(f, "report:{id}"),
            LogKey::OrgCode(id) => write!(f, "orgcode:{id}"),
            LogKey::Activity(id) => write!(f, "activity:{id}"),
            LogKey::CheckIn(id) => write!(f, "checkin:{id}"),
            LogKey::Key(key_id) => write!(f, "key:{key_id}"),
            LogKey::DoorKey(id) => write!(f, "doorkey:{id}"),
            LogKey::Notice(id) => write!(f, "notice:{id}"),
            LogKey::NoticeRead(notice, person) => write!(f, "noticeread:{notice}:{person}"),
        }
    }
}

impl FromStr for LogKey {
    type Err = AppError;

    fn from_str(text: &str) -> Result<LogKey, AppError> {
        let bad = || AppError::Internal(format!("malformed change log key {text:?}"));
        let (kind, rest) = text.split_once(':').ok_or_else(bad)?;
        let id = || Id::parse(rest).map_err(|_| bad());
        Ok(match kind {
            "person" => LogKey::Person(id()?),
            "profile" => LogKey::Profile(id()?),
            "org" => LogKey::Org(id()?),
            "stop" => LogKey::Stop(id()?),
            "review" => LogKey::Review(id()?),
            "report" => LogKey::Report(id()?),
            "orgcode" => LogKey::OrgCode(id()?),
            "activity" => LogKey::Activity(id()?),
            "checkin" => LogKey::CheckIn(id()?),
            "doorkey" => LogKey::DoorKey(id()?),
            "notice" => LogKey::Notice(id()?),
            "noticeread" => {
                let (notice, person) = rest.split_once(':').ok_or_else(bad)?;
                let parse = |text: &str| Id::parse(text).map_err(|_| bad());
                LogKey::NoticeRead(parse(notice)?, parse(person)?)
            }
            "key" => LogKey::Key(rest.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        })
    }
}

/// Who may see a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// One person: their own record and check-ins.
    Member(Id),
    /// Everyone whose home or current organisation this is: what the organisation publishes to its members.
    /// Not for anything private to one member (their check-ins), which would reach every other member too.
    Org(Id),
    /// Every signed-in user: the signing keys.
    All,
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::Member(id) => write!(f, "member:{id}"),
            Audience::Org(id) => write!(f, "org:{id}"),
            Audience::All => f.write_str("all"),
        }
    }
}

/// Records that `key` changed, for `audiences`.
pub async fn touch(conn: &mut SqliteConnection, key: LogKey, audiences: &[Audience]) -> Result<(), sqlx::Error> {
    log(conn, &rows(key, audiences), false).await
}

/// Records that `key` was deleted, for `audiences`: their phones forget it on their next pull.
pub async fn tombstone(conn: &mut SqliteConnection, key: LogKey, audiences: &[Audience]) -> Result<(), sqlx::Error> {
    log(conn, &rows(key, audiences), true).await
}

fn rows(key: LogKey, audiences: &[Audience]) -> Vec<(String, Audience)> {
    let key = key.to_string();
    audiences.iter().map(|audience| (key.clone(), *audience)).collect()
}

/// Drops the rows of the keys in `?1` (a JSON array). A member's own tombstone (`forget_for`) outlives later
/// touches: a phone that left the audience before pulling must still learn to forget the record, and it sees
/// nothing of the audience it left.
const DROP_ROWS: &str = "DELETE FROM changes WHERE key IN (SELECT value FROM json_each(?1))
     AND NOT (deleted = 1 AND audience LIKE 'member:%')";
/// Adds a row for each `[key, audience]` in `?1` (a JSON array), `deleted` or not (`?2`). `OR REPLACE` drops a
/// row left for the same key and audience (a member's tombstone) and numbers the new one above everything: as
/// cheap as a plain insert when there is none. The rows come as one JSON text so that a statement has one
/// shape for any number of rows, prepared once.
const ADD_ROWS: &str = "INSERT OR REPLACE INTO changes (key, audience, deleted)
     SELECT value ->> 0, value ->> 1, ?2 FROM json_each(?1)";

/// `DROP_ROWS`'s argument.
fn keys_json(rows: &[(String, Audience)]) -> String {
    serde_json::Value::from_iter(rows.iter().map(|(key, _)| key.as_str())).to_string()
}

/// `ADD_ROWS`'s argument.
fn rows_json(rows: &[(String, Audience)]) -> String {
    serde_json::Value::from_iter(
        rows.iter()
            .map(|(key, audience)| serde_json::json!([key, audience.to_string()])),
    )
    .to_string()
}

/// Each row's key is now seen by its audience (and only the audiences its rows name), `deleted` or not.
async fn log(conn: &mut SqliteConnection, rows: &[(String, Audience)], deleted: bool) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(DROP_ROWS).bind(keys_json(rows)).execute(&mut *conn).await?;
    replace(conn, rows, deleted).await
}

async fn replace(conn: &mut SqliteConnection, rows: &[(String, Audience)], deleted: bool) -> Result<(), sqlx::Error> {
    sqlx::query(ADD_ROWS)
        .bind(rows_json(rows))
        .bind(deleted)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `touch` for many keys, each with its one audience, on the write connection as lent to the push writer
/// (`push.rs`): the same two statements as any touch.
pub fn touch_each_lent(conn: &rusqlite::Connection, touched: &[(LogKey, Audience)]) -> rusqlite::Result<()> {
    let rows = each(touched);
    if rows.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(DROP_ROWS)?.execute([keys_json(&rows)])?;
    conn.prepare_cached(ADD_ROWS)?
        .execute(rusqlite::params![rows_json(&rows), false])?;
    Ok(())
}

/// Rows for many keys, each with its one audience.
fn each(touched: &[(LogKey, Audience)]) -> Vec<(String, Audience)> {
    touched
        .iter()
        .map(|(key, audience)| (key.to_string(), *audience))
        .collect()
}

/// Lost access: `person` no longer belongs to an audience that showed them `key`, so their phones forget it.
/// Everyone else's view of the record is untouched.
pub async fn forget_for(conn: &mut SqliteConnection, key: LogKey, person: Id) -> Result<(), sqlx::Error> {
    replace(conn, &rows(key, &[Audience::Member(person)]), true).await
}

/// New access: `person` joined an audience whose older records they never pulled; this sends `key` to them
/// alone, instead of re-sending it to everyone in the audience.
pub async fn share_with(conn: &mut SqliteConnection, key: LogKey, person: Id) -> Result<(), sqlx::Error> {
    replace(conn, &rows(key, &[Audience::Member(person)]), false).await
}

/// One row of the log, as pull reads it.
#[derive(Debug)]
pub struct Entry {
    pub seq: u64,
    pub key: LogKey,
    pub deleted: bool,
}

/// Up to `limit` entries for `audiences` above `cursor`, in order.
pub async fn after(
    db: &mut SqliteConnection,
    audiences: &[Audience],
    cursor: u64,
    limit: usize,
) -> Result<Vec<Entry>, AppError> {
    let placeholders = vec!["?"; audiences.len()].join(", ");
    let sql = format!(
        "SELECT seq, key, deleted FROM changes WHERE seq > ? AND audience IN ({placeholders}) ORDER BY seq LIMIT ?"
    );
    // A cursor beyond what SQLite can number simply has nothing after it.
    let mut query = sqlx::query_as::<_, (i64, String, bool)>(&sql).bind(i64::try_from(cursor).unwrap_or(i64::MAX));
    for audience in audiences {
        query = query.bind(audience.to_string());
    }
    let rows = query
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|(seq, key, deleted)| {
            Ok(Entry {
                seq: u64::try_from(seq).unwrap_or_default(),
                key: key.parse()?,
                deleted,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_a_person_is_me_on_the_phone() {
        let id = Id::new_v7(1_700_000_000_000, [3; 10]);
        for key in [
            LogKey::Person(id),
            LogKey::Profile(id),
            LogKey::Org(id),
            LogKey::Stop(id),
            LogKey::Review(id),
            LogKey::Report(id),
            LogKey::OrgCode(id),
            LogKey::Activity(id),
            LogKey::CheckIn(id),
            LogKey::Key(7),
        ] {
            assert_eq!(key.to_string().parse::<LogKey>().unwrap(), key);
        }
        assert_eq!(LogKey::Person(id).phone_key(), "me");
        assert_eq!(LogKey::Profile(id).phone_key(), "profile");
        assert_eq!(LogKey::CheckIn(id).phone_key(), format!("checkin:{id}"));
        assert!("widget:1".parse::<LogKey>().is_err());
    }
}

//! Check-ins arriving from phones (SYNC.md "check-ins are facts"): the code is verified again with the server's
//! keys, the device time is judged but never trusted, and a doubtful one is kept and flagged, not dropped.

use guihai_core::checkin::{flag_for, CheckIn, CheckInFlag};
use guihai_core::qr::{self, Code, CodeError, Subject, TrustedKey};
use guihai_core::sync::{Outcome, Rejection};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::changes::{self, Audience, LogKey};
use crate::error::AppError;
use crate::{clock, db};

/// Who sent a mutation, and when, as the push that carries it knows.
pub struct Origin {
    pub person_id: Id,
    pub client_id: Id,
    pub seq: u64,
    /// Device time, for display and judgement only.
    pub occurred_at: i64,
    /// Server time.
    pub received_at: i64,
}

/// Checks a scanned code's signature, not its time: a code scanned while valid may arrive long after, from a
/// phone that was offline. Done before the push's transaction: it is the costliest step and needs no database.
pub fn verify(scanned: &str, keys: &[TrustedKey]) -> Result<Code, CodeError> {
    qr::verify_signature(scanned, keys)
}

/// Applies one scanned activity code (its signature already `verify`'d), inside the push's transaction.
pub async fn check_in(
    conn: &mut SqliteConnection,
    origin: &Origin,
    id: Id,
    verified: Result<Code, CodeError>,
) -> Result<Outcome, AppError> {
    let rejected = |reason| Ok(Outcome::Rejected { reason });
    let code = match verified {
        Ok(code) => code,
        Err(error) => return rejected(Rejection::Code(error)),
    };
    let Subject::Activity { activity_id, .. } = code.subject else {
        return rejected(Rejection::Invalid);
    };
    let activity: Option<(String, i64, i64)> =
        sqlx::query_as("SELECT org_id, starts_at, ends_at FROM activities WHERE id = ? AND cancelled_at IS NULL")
            .bind(activity_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some((org_id, starts_at, ends_at)) = activity else {
        return rejected(Rejection::UnknownActivity);
    };
    let scanned_while_valid = code.check_time(clock::unix_secs(origin.occurred_at)).is_ok();
    let flag = flag_for(origin.occurred_at, origin.received_at, (starts_at, ends_at))
        .or((!scanned_while_valid).then_some(CheckInFlag::OutsideWindow));
    // The same check-in through another client (its id), or the same member scanning again (person and
    // activity), is one check-in: the insert is ignored and the mutation is a duplicate.
    let inserted = sqlx::query(
        "INSERT INTO check_ins (id, person_id, activity_id, org_id, scanned_at, received_at, client_id, seq, flag)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(id.to_string())
    .bind(origin.person_id.to_string())
    .bind(activity_id.to_string())
    .bind(&org_id)
    .bind(origin.occurred_at)
    .bind(origin.received_at)
    .bind(origin.client_id.to_string())
    .bind(db::seq(origin.seq)?)
    .bind(flag.as_ref().map(db::wire_name))
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Outcome::Duplicate);
    }
    // Only the member's own audience: the organisation's audience reaches every member, and a check-in is private.
    changes::touch(conn, LogKey::CheckIn(id), &[Audience::Member(origin.person_id)]).await?;
    Ok(Outcome::Applied)
}

#[derive(sqlx::FromRow)]
struct CheckInRow {
    person_id: String,
    activity_id: String,
    org_id: String,
    title: String,
    kind: String,
    org_name: String,
    scanned_at: i64,
    received_at: i64,
    flag: Option<String>,
}

pub async fn load(db: &SqlitePool, id: Id) -> Result<Option<CheckIn>, AppError> {
    let row: Option<CheckInRow> = sqlx::query_as(
        "SELECT c.person_id, c.activity_id, c.org_id, a.title, a.kind, o.name AS org_name, c.scanned_at, c.received_at,
                c.flag
         FROM check_ins c
         JOIN activities a ON a.id = c.activity_id
         JOIN organisations o ON o.id = c.org_id
         WHERE c.id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(|row| {
        Ok(CheckIn {
            id,
            member_id: db::id(&row.person_id)?,
            activity_id: db::id(&row.activity_id)?,
            org_id: db::id(&row.org_id)?,
            title: row.title,
            kind: db::from_wire_name(&row.kind)?,
            org_name: row.org_name,
            scanned_at: row.scanned_at,
            received_at: row.received_at,
            flag: row.flag.as_deref().map(db::from_wire_name).transpose()?,
        })
    })
    .transpose()
}

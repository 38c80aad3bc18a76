//! Check-ins arriving from phones (SYNC.md "check-ins are facts"): the code is verified again with the server's
//! keys, the device time is judged but never trusted, and a doubtful one is kept and flagged, not dropped.

use std::collections::{HashMap, HashSet};

use guihai_core::checkin::{flag_for, CheckIn, CheckInFlag};
use guihai_core::qr::{Code, CodeError, Subject};
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

/// One scanned activity code to apply: who sent it, the check-in's id, and its signature check.
pub struct Scan {
    pub origin: Origin,
    pub id: Id,
    pub verified: Result<Code, CodeError>,
}

/// Applies scanned activity codes (signatures already `verify`'d) inside the push's transaction and returns
/// each one's outcome, in order. A fixed number of statements however many there are (one lookup of their
/// activities, one insert, one log entry): ingest is bound by round trips to SQLite, not by its work.
pub async fn check_in_all(conn: &mut SqliteConnection, scans: Vec<Scan>) -> Result<Vec<Outcome>, AppError> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(scans.len());
    let mut wanted = Vec::new();
    for scan in &scans {
        let rejected = |reason| Some(Outcome::Rejected { reason });
        outcomes.push(match &scan.verified {
            Err(error) => rejected(Rejection::Code(*error)),
            Ok(Code {
                subject: Subject::Activity { activity_id, .. },
                ..
            }) => {
                wanted.push(activity_id.to_string());
                None
            }
            Ok(_) => rejected(Rejection::Invalid),
        });
    }
    let activities = open_activities(conn, &wanted).await?;
    // Rows to insert: (index into `scans`, org, flag).
    let mut rows = Vec::new();
    for (index, scan) in scans.iter().enumerate() {
        let (Ok(code), None) = (&scan.verified, &outcomes[index]) else {
            continue;
        };
        let Subject::Activity { activity_id, .. } = code.subject else {
            continue;
        };
        let Some((org_id, starts_at, ends_at)) = activities.get(&activity_id.to_string()) else {
            outcomes[index] = Some(Outcome::Rejected {
                reason: Rejection::UnknownActivity,
            });
            continue;
        };
        let origin = &scan.origin;
        let scanned_while_valid = code.check_time(clock::unix_secs(origin.occurred_at)).is_ok();
        let flag = flag_for(origin.occurred_at, origin.received_at, (*starts_at, *ends_at))
            .or((!scanned_while_valid).then_some(CheckInFlag::OutsideWindow));
        rows.push((index, activity_id, org_id.clone(), flag));
    }
    let inserted = insert(conn, &scans, &rows).await?;
    let mut applied = Vec::new();
    for (index, ..) in &rows {
        let scan = &scans[*index];
        outcomes[*index] = Some(if inserted.contains(&scan.id.to_string()) {
            applied.push((LogKey::CheckIn(scan.id), Audience::Member(scan.origin.person_id)));
            Outcome::Applied
        } else {
            Outcome::Duplicate
        });
    }
    // Only the member's own audience: the organisation's audience reaches every member, and a check-in is private.
    changes::touch_each(conn, &applied).await?;
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every scan has its outcome"))
        .collect())
}

/// The activities among `ids` that are not cancelled: id to (org, starts, ends).
async fn open_activities(
    conn: &mut SqliteConnection,
    ids: &[String],
) -> Result<HashMap<String, (String, i64, i64)>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, org_id, starts_at, ends_at FROM activities WHERE cancelled_at IS NULL AND id IN ({})",
        vec!["?"; ids.len()].join(", ")
    );
    let mut query = sqlx::query_as::<_, (String, String, i64, i64)>(&sql);
    for id in ids {
        query = query.bind(id);
    }
    let found = query.fetch_all(&mut *conn).await?;
    Ok(found
        .into_iter()
        .map(|(id, org, starts, ends)| (id, (org, starts, ends)))
        .collect())
}

/// Inserts the check-ins `rows` names and returns the ids that were new. The same check-in through another
/// client (its id), or the same member scanning again (person and activity), is one check-in: that row is
/// ignored, also against an earlier row of the same statement.
async fn insert(
    conn: &mut SqliteConnection,
    scans: &[Scan],
    rows: &[(usize, Id, String, Option<CheckInFlag>)],
) -> Result<HashSet<String>, AppError> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "INSERT INTO check_ins (id, person_id, activity_id, org_id, scanned_at, received_at, client_id, seq, flag)
         VALUES {} ON CONFLICT DO NOTHING RETURNING id",
        crate::db::values(rows.len(), 9)
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for (index, activity_id, org_id, flag) in rows {
        let Scan { origin, id, .. } = &scans[*index];
        query = query
            .bind(id.to_string())
            .bind(origin.person_id.to_string())
            .bind(activity_id.to_string())
            .bind(org_id.clone())
            .bind(origin.occurred_at)
            .bind(origin.received_at)
            .bind(origin.client_id.to_string())
            .bind(db::seq(origin.seq)?)
            .bind(flag.as_ref().map(db::wire_name));
    }
    Ok(query.fetch_all(&mut *conn).await?.into_iter().collect())
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

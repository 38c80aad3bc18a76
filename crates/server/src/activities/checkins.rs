//! Check-ins arriving from phones (SYNC.md "check-ins are facts"): the code is verified again with the server's
//! keys, the device time is judged but never trusted, and a doubtful one is kept and flagged, not dropped.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use guihai_core::attendance::{check_reason, How};
use guihai_core::checkin::{flag_for, judge, CheckIn};
use guihai_core::qr::{Code, CodeError, Subject};
use guihai_core::sync::{Outcome, RecordedBy, Rejection};
use guihai_core::Id;
use rusqlite::OptionalExtension;
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::AppError;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{activities::door_keys, clock, db, identity::roles};

/// Who sent a mutation, and when, as the push that carries it knows.
pub struct Origin {
    pub person_id: Id,
    pub client_id: Id,
    pub seq: u64,
    /// Device time, for display and judgement only.
    pub occurred_at: i64,
    /// Server time.
    pub received_at: i64,
    /// How far the phone's clock was ahead of the server's when it pushed (0 when it did not say).
    pub skew_ms: i64,
}

/// One scanned activity code to apply: who sent it, the check-in's id, and its signature check.
pub struct Scan {
    pub origin: Origin,
    pub id: Id,
    pub verified: Result<Code, CodeError>,
}

/// Applies scanned activity codes (signatures already `verify`'d) inside the push writer's transaction and
/// returns each one's outcome, in order. `conn` is the write connection lent to the writer (`push.rs`): each
/// statement is a call into SQLite on this thread, so one per check-in costs microseconds, not a round trip.
pub fn check_in_all(conn: &rusqlite::Connection, scans: &[Scan]) -> Result<Vec<Outcome>, AppError> {
    let mut find = conn.prepare_cached(
        "SELECT org_id, starts_at, ends_at, open_to_visitors FROM activities WHERE id = ? AND cancelled_at IS NULL",
    )?;
    let mut orgs_of = conn.prepare_cached("SELECT home_org_id, current_org_id FROM people WHERE id = ?")?;
    // The same check-in through another client (its id), or the same member scanning again (person and
    // activity), is one check-in: the row is ignored, also against an earlier row of the same batch.
    let mut insert = conn.prepare_cached(
        "INSERT INTO check_ins (id, person_id, activity_id, org_id, scanned_at, received_at, client_id, seq, flag)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )?;
    // The members at one event scan the same code: each activity is looked up once.
    let mut activities: HashMap<Id, Option<(String, i64, i64, bool)>> = HashMap::new();
    let mut people: HashMap<Id, (String, Option<String>)> = HashMap::new();
    let mut applied = Vec::new();
    let mut outcomes = Vec::with_capacity(scans.len());
    for scan in scans {
        let rejected = |reason| Outcome::Rejected { reason };
        let code = match &scan.verified {
            Ok(code) => code,
            Err(error) => {
                outcomes.push(rejected(Rejection::Code(*error)));
                continue;
            }
        };
        let Subject::Activity { activity_id, .. } = code.subject else {
            outcomes.push(rejected(Rejection::Invalid));
            continue;
        };
        let activity = match activities.entry(activity_id) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(unknown) => unknown.insert(
                find.query_row([activity_id.to_string()], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })
                .optional()?,
            ),
        };
        let Some((org_id, starts_at, ends_at, open_to_visitors)) = &*activity else {
            outcomes.push(rejected(Rejection::UnknownActivity));
            continue;
        };
        if !open_to_visitors {
            let person = scan.origin.person_id;
            let (home, current) = match people.entry(person) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(unknown) => {
                    unknown.insert(orgs_of.query_row([person.to_string()], |row| Ok((row.get(0)?, row.get(1)?)))?)
                }
            };
            if !is_member_of(org_id, home, current.as_deref()) {
                outcomes.push(rejected(Rejection::MembersOnly));
                continue;
            }
        }
        if let Some(refused) = door_refusal(conn, code, org_id)? {
            outcomes.push(rejected(Rejection::Code(refused)));
            continue;
        }
        let origin = &scan.origin;
        let flag = judge(
            code,
            origin.occurred_at,
            origin.received_at,
            origin.skew_ms,
            (*starts_at, *ends_at),
        );
        let inserted = insert.execute(rusqlite::params![
            scan.id.to_string(),
            origin.person_id.to_string(),
            activity_id.to_string(),
            org_id,
            origin.occurred_at,
            origin.received_at,
            origin.client_id.to_string(),
            db::seq(origin.seq)?,
            flag.as_ref().map(db::wire_name),
        ])?;
        outcomes.push(if inserted == 1 {
            applied.push((LogKey::CheckIn(scan.id), Audience::Member(origin.person_id)));
            Outcome::Applied
        } else {
            Outcome::Duplicate
        });
    }
    // Only the member's own audience: the organisation's audience reaches every member, and a check-in is private.
    changes::touch_each_lent(conn, &applied)?;
    Ok(outcomes)
}

/// Whether a person whose home and current organisations are these belongs to `org_id` (is no visitor there).
pub fn is_member_of(org_id: &str, home: &str, current: Option<&str>) -> bool {
    home == org_id || current == Some(org_id)
}

/// Why a door code's check-in is refused beyond its signatures: its key is unknown here, certified for
/// another organisation than the activity's, or revoked before the code was made.
fn door_refusal(conn: &rusqlite::Connection, code: &Code, activity_org: &str) -> Result<Option<CodeError>, AppError> {
    let (Some(door), Subject::Activity { org_id, .. }) = (&code.door, &code.subject) else {
        return Ok(None);
    };
    Ok(match door_keys::lookup(conn, &door.public_key)? {
        None => Some(CodeError::UnknownKey),
        Some((key_org, _)) if key_org != activity_org || *activity_org != org_id.to_string() => Some(CodeError::Forged),
        Some((_, Some(revoked_at))) if door.at >= revoked_at => Some(CodeError::Revoked),
        Some(_) => None,
    })
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
    hours_tenths: Option<u16>,
}

pub async fn load(db: &SqlitePool, id: Id) -> Result<Option<CheckIn>, AppError> {
    let row: Option<CheckInRow> = sqlx::query_as(
        "SELECT c.person_id, c.activity_id, c.org_id, a.title, a.kind, o.name AS org_name, c.scanned_at, c.received_at,
                c.flag, CASE WHEN a.kind = 'volunteer' THEN coalesce(c.hours_tenths, a.hours_tenths, 0) END AS hours_tenths
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
            hours_tenths: row.hours_tenths,
        })
    })
    .transpose()
}

/// A member recorded at an activity by a secretary's phone (`Op::RecordAttendance`), with its card's signature
/// check when it came by card.
pub struct Attended<'a> {
    pub id: Id,
    pub activity_id: Id,
    pub by: &'a RecordedBy,
    pub verified: Option<Result<Code, CodeError>>,
}

/// Applies an attendance a secretary recorded: only at their own organisation's activity, for a card valid when
/// it was scanned (in server time, as far as the server can tell) or a reason given by hand. The member who
/// also scanned the activity's code counts once.
pub async fn record_from_phone(
    conn: &mut SqliteConnection,
    origin: &Origin,
    attended: Attended<'_>,
) -> Result<Outcome, AppError> {
    let rejected = |reason| Ok(Outcome::Rejected { reason });
    let activity: Option<(String, i64, i64, bool)> = sqlx::query_as(
        "SELECT org_id, starts_at, ends_at, open_to_visitors FROM activities WHERE id = ? AND cancelled_at IS NULL",
    )
    .bind(attended.activity_id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((org_id, starts_at, ends_at, open_to_visitors)) = activity else {
        return rejected(Rejection::UnknownActivity);
    };
    if !roles::is_secretary(conn, origin.person_id, db::id(&org_id)?).await? {
        return rejected(Rejection::Forbidden);
    }
    let scanned_at = origin.occurred_at.saturating_sub(origin.skew_ms);
    let (member_id, how, reason) = match (attended.by, attended.verified) {
        (RecordedBy::Card { .. }, Some(Ok(code))) => {
            let Subject::Member { member_id } = code.subject else {
                return rejected(Rejection::Invalid);
            };
            if let Err(error) = code.check_time(clock::unix_secs(scanned_at)) {
                return rejected(Rejection::Code(error));
            }
            (member_id, How::Card, None)
        }
        (RecordedBy::Card { .. }, Some(Err(error))) => return rejected(Rejection::Code(error)),
        (RecordedBy::Hand { member_id, reason }, None) => match check_reason(reason) {
            Some(reason) => (*member_id, How::ByHand, Some(reason)),
            None => return rejected(Rejection::Invalid),
        },
        _ => return rejected(Rejection::Invalid),
    };
    let member: Option<(String, Option<String>)> =
        sqlx::query_as("SELECT home_org_id, current_org_id FROM people WHERE id = ? AND certificate_no IS NOT NULL")
            .bind(member_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some((home, current)) = member else {
        return rejected(Rejection::Invalid);
    };
    if !open_to_visitors && !is_member_of(&org_id, &home, current.as_deref()) {
        return rejected(Rejection::MembersOnly);
    }
    let flag = flag_for(origin.occurred_at, origin.received_at, (starts_at, ends_at));
    let inserted = sqlx::query(
        "INSERT INTO check_ins (id, person_id, activity_id, org_id, scanned_at, received_at, client_id, seq, flag, how,
                                recorded_by, reason)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(attended.id.to_string())
    .bind(member_id.to_string())
    .bind(attended.activity_id.to_string())
    .bind(&org_id)
    .bind(origin.occurred_at)
    .bind(origin.received_at)
    .bind(origin.client_id.to_string())
    .bind(db::seq(origin.seq)?)
    .bind(flag.as_ref().map(db::wire_name))
    .bind(how.as_str())
    .bind(origin.person_id.to_string())
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(Outcome::Duplicate);
    }
    changes::touch(conn, LogKey::CheckIn(attended.id), &[Audience::Member(member_id)]).await?;
    Ok(Outcome::Applied)
}

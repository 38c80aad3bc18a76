//! Activities published by host organisations, and their check-in codes (签到码), all for the secretary of the
//! activity's organisation: `POST /api/v1/activities` publishes one to the organisation's members,
//! `DELETE /api/v1/activities/{id}` cancels it (it leaves their phones), and `GET /api/v1/activities/{id}/code`
//! gives a signed code to show. The secretary's phone publishes, changes and cancels through its outbox
//! (`publish_from_phone`, `cancel_from_phone`), offline if need be.
//!
//! The area's other modules: `checkins` (what arrives from phones and cards), `door_keys` (the rotating door
//! codes' keys) and `volunteer` (hours by year); `routes` serves them all.

pub mod checkins;
pub mod door_keys;
pub mod volunteer;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Json;
use guihai_core::attendance::{check_minutes, hours_text, Attendance, Attendee, How, Missing};
use guihai_core::checkin::CheckInFlag;
use guihai_core::domain::{Activity, ActivityKind, NewActivity, MAX_HOURS_TENTHS};
use guihai_core::qr::{Code, Subject};
use guihai_core::sync::{CodeResponse, Outcome, Rejection};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::activities::checkins::Origin;
use crate::error::{ApiJson, AppError};
use crate::identity::auth::AuthUser;
use crate::identity::roles::{self, Seen};
use crate::keys::Keyring;
use crate::routes::Routes;
use crate::sheets::{china_time, Sheet};
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, keys, organisations, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/activities", create)
        .route(Method::DELETE, "/activities/{id}", cancel)
        .route(Method::GET, "/activities/{id}/code", code)
        .route(Method::GET, "/activities/{id}/attendance", attendance)
        .route(Method::GET, "/activities/{id}/attendance.csv", attendance_csv)
        .merge(door_keys::routes())
        .merge(volunteer::routes())
}

async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(new): ApiJson<NewActivity>,
) -> Result<(StatusCode, Json<Activity>), AppError> {
    // Every member's phone pulls their organisation's activities: they know it, and are told no.
    roles::require_secretary(&state.db, &user, new.org_id, Seen::Known).await?;
    let new = new.checked().map_err(|error| AppError::Invalid(error.to_string()))?;
    let mut tx = db::begin_write(&state.writes).await?;
    let activity = insert(&mut tx, new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(activity)))
}

/// Stores a checked activity and publishes it to its organisation's members.
pub async fn insert(conn: &mut SqliteConnection, new: NewActivity) -> Result<Activity, AppError> {
    let activity = new.with_id(clock::new_id());
    store(conn, &activity).await?;
    Ok(activity)
}

/// Writes a checked activity, new or changed, and publishes it to its organisation's members.
async fn store(conn: &mut SqliteConnection, activity: &Activity) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO activities (id, org_id, title, kind, starts_at, ends_at, place, team, notes, open_to_visitors,
                                 hours_tenths)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, kind = excluded.kind,
             starts_at = excluded.starts_at, ends_at = excluded.ends_at, place = excluded.place,
             team = excluded.team, notes = excluded.notes, open_to_visitors = excluded.open_to_visitors,
             hours_tenths = excluded.hours_tenths",
    )
    .bind(activity.id.to_string())
    .bind(activity.org_id.to_string())
    .bind(&activity.title)
    .bind(db::wire_name(&activity.kind))
    .bind(activity.starts_at)
    .bind(activity.ends_at)
    .bind(&activity.place)
    .bind(activity.team.as_ref().map(db::wire_name))
    .bind(&activity.notes)
    .bind(activity.open_to_visitors)
    .bind(activity.hours_tenths)
    .execute(&mut *conn)
    .await?;
    changes::touch(conn, LogKey::Activity(activity.id), &[Audience::Org(activity.org_id)]).await?;
    // Each attendee's check-in carries the hours it credits: theirs change with the activity's.
    if activity.kind == ActivityKind::Volunteer {
        let attendees: Vec<(String, String)> =
            sqlx::query_as("SELECT id, person_id FROM check_ins WHERE activity_id = ? AND hours_tenths IS NULL")
                .bind(activity.id.to_string())
                .fetch_all(&mut *conn)
                .await?;
        for (id, person) in attendees {
            changes::touch(
                conn,
                LogKey::CheckIn(db::id(&id)?),
                &[Audience::Member(db::id(&person)?)],
            )
            .await?;
        }
    }
    Ok(())
}

/// A secretary's phone writes an activity's minutes, from its outbox.
pub async fn write_minutes(
    conn: &mut SqliteConnection,
    origin: &Origin,
    id: Id,
    text: &str,
) -> Result<Outcome, AppError> {
    let rejected = |reason| Ok(Outcome::Rejected { reason });
    let Some((org_id, _)) = owner(conn, id).await? else {
        return rejected(Rejection::UnknownActivity);
    };
    if !roles::is_secretary(conn, origin.person_id, org_id).await? {
        return rejected(Rejection::Forbidden);
    }
    let Some(text) = check_minutes(text) else {
        return rejected(Rejection::Invalid);
    };
    sqlx::query("UPDATE activities SET minutes = ? WHERE id = ?")
        .bind((!text.is_empty()).then_some(text))
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(Outcome::Applied)
}

/// A secretary's phone credits one attendee of a volunteer activity of their organisation other hours.
pub async fn credit_hours(
    conn: &mut SqliteConnection,
    origin: &Origin,
    id: Id,
    member_id: Id,
    hours_tenths: u16,
) -> Result<Outcome, AppError> {
    let rejected = |reason| Ok(Outcome::Rejected { reason });
    let activity: Option<(String, String)> =
        sqlx::query_as("SELECT org_id, kind FROM activities WHERE id = ? AND cancelled_at IS NULL")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    let Some((org_id, kind)) = activity else {
        return rejected(Rejection::UnknownActivity);
    };
    if !roles::is_secretary(conn, origin.person_id, db::id(&org_id)?).await? {
        return rejected(Rejection::Forbidden);
    }
    if kind != db::wire_name(&ActivityKind::Volunteer) || hours_tenths > MAX_HOURS_TENTHS {
        return rejected(Rejection::Invalid);
    }
    let check_in: Option<(String,)> =
        sqlx::query_as("UPDATE check_ins SET hours_tenths = ? WHERE activity_id = ? AND person_id = ? RETURNING id")
            .bind(hours_tenths)
            .bind(id.to_string())
            .bind(member_id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    // Only someone who came is credited.
    let Some((check_in,)) = check_in else {
        return rejected(Rejection::Invalid);
    };
    changes::touch(
        conn,
        LogKey::CheckIn(db::id(&check_in)?),
        &[Audience::Member(member_id)],
    )
    .await?;
    Ok(Outcome::Applied)
}

/// The organisation of activity `id` and whether it was cancelled, if the server has it.
async fn owner(conn: &mut SqliteConnection, id: Id) -> Result<Option<(Id, bool)>, AppError> {
    let row: Option<(String, Option<i64>)> = sqlx::query_as("SELECT org_id, cancelled_at FROM activities WHERE id = ?")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|(org_id, cancelled)| Ok((db::id(&org_id)?, cancelled.is_some())))
        .transpose()
}

/// A secretary's phone publishes an activity, or changes one it published (the same id), from its outbox.
/// Only a secretary of the activity's organisation may, an activity never moves to another organisation, and a
/// cancelled one stays cancelled.
pub async fn publish_from_phone(
    conn: &mut SqliteConnection,
    origin: &Origin,
    activity: &Activity,
) -> Result<Outcome, AppError> {
    let rejected = |reason| Ok(Outcome::Rejected { reason });
    if !roles::is_secretary(conn, origin.person_id, activity.org_id).await? {
        return rejected(Rejection::Forbidden);
    }
    let Ok(activity) = activity.clone().checked() else {
        return rejected(Rejection::Invalid);
    };
    match owner(conn, activity.id).await? {
        Some((org_id, _)) if org_id != activity.org_id => return rejected(Rejection::Forbidden),
        Some((_, true)) => return rejected(Rejection::UnknownActivity),
        _ => {}
    }
    store(conn, &activity).await?;
    Ok(Outcome::Applied)
}

/// A secretary's phone cancels an activity of their organisation, from its outbox (one cancelled already stays
/// so).
pub async fn cancel_from_phone(conn: &mut SqliteConnection, origin: &Origin, id: Id) -> Result<Outcome, AppError> {
    let Some((org_id, cancelled)) = owner(conn, id).await? else {
        return Ok(Outcome::Rejected {
            reason: Rejection::UnknownActivity,
        });
    };
    if !roles::is_secretary(conn, origin.person_id, org_id).await? {
        return Ok(Outcome::Rejected {
            reason: Rejection::Forbidden,
        });
    }
    if !cancelled {
        withdraw(conn, id, org_id).await?;
    }
    Ok(Outcome::Applied)
}

/// Cancels every activity of the organisation that is not over at `now` (it closes); how many.
pub async fn cancel_all_of(conn: &mut SqliteConnection, org_id: Id, now: i64) -> Result<u32, AppError> {
    let running: Vec<String> =
        sqlx::query_scalar("SELECT id FROM activities WHERE org_id = ? AND ends_at > ? AND cancelled_at IS NULL")
            .bind(org_id.to_string())
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
    for id in &running {
        withdraw(conn, db::id(id)?, org_id).await?;
    }
    Ok(u32::try_from(running.len()).unwrap_or(u32::MAX))
}

/// Cancels activity `id`: its code is refused from now on and it leaves the members' phones.
async fn withdraw(conn: &mut SqliteConnection, id: Id, org_id: Id) -> Result<(), AppError> {
    sqlx::query("UPDATE activities SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL")
        .bind(clock::now_ms())
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    changes::tombstone(conn, LogKey::Activity(id), &[Audience::Org(org_id)]).await?;
    Ok(())
}

/// Cancels an activity: its code is refused from now on and it leaves the members' phones. Check-ins already
/// made stay, as facts.
async fn cancel(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
) -> Result<StatusCode, AppError> {
    let Path(id) = id?;
    let (activity, _) = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    roles::require_secretary(&state.db, &user, activity.org_id, Seen::Known).await?;
    let mut tx = db::begin_write(&state.writes).await?;
    withdraw(&mut tx, id, activity.org_id).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The code to show at the door, drawn with the server's origin for any phone's camera.
async fn code(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    id: Result<Path<Id>, PathRejection>,
) -> Result<Json<CodeResponse>, AppError> {
    let Path(id) = id?;
    let (activity, org_name) = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    roles::require_secretary(&state.db, &user, activity.org_id, Seen::Known).await?;
    let mut conn = state.db.acquire().await?;
    let signed = issue_code(&mut conn, &state.keys(), &activity, &org_name, clock::now_ms()).await?;
    Ok(Json(organisations::for_screen(&state, &headers, signed)?))
}

/// How long before an activity starts its printed code is valid: members arrive early.
const PRINTED_EARLY_MS: i64 = 30 * 60 * 1000;
/// The longest a printed code is valid from when it is asked for (or from the activity's start): a photo of it
/// forwarded over WeChat works for anyone while it is valid, so a multi-day activity gets a new one each day.
const PRINTED_FOR_MS: i64 = 24 * 60 * 60 * 1000;
/// A printed code's end moves on by the hour it is asked in, not by the second: a screen left open or a
/// secretary tapping again gets the same code within the hour, so the server keeps at most one new digest an
/// hour for an activity (`issued_codes`), not one a request.
const PRINTED_STEP_MS: i64 = 60 * 60 * 1000;

/// The activity's printed check-in code (`sign_code`), its digest kept (`keys::record_issued`): its check-ins
/// then need no signature check when they are pushed.
pub async fn issue_code(
    conn: &mut SqliteConnection,
    keys: &Keyring,
    activity: &Activity,
    org_name: &str,
    now: i64,
) -> Result<CodeResponse, AppError> {
    let code = sign_code(keys, activity, org_name, now);
    keys::record_issued(conn, &code.payload).await?;
    Ok(code)
}

/// The activity's printed check-in code, asked for at `now`: valid from half an hour before the activity starts
/// until it ends, and at most a day from the hour it is asked in or from its start. (The code at the door changes
/// every 30 seconds, signed on the secretary's phone: `qr::door`.)
fn sign_code(keys: &Keyring, activity: &Activity, org_name: &str, now: i64) -> CodeResponse {
    let hour = now - now.rem_euclid(PRINTED_STEP_MS);
    let until = activity.ends_at.min(hour.max(activity.starts_at) + PRINTED_FOR_MS);
    keys.sign(Code {
        subject: Subject::Activity {
            activity_id: activity.id,
            org_id: activity.org_id,
        },
        key_id: 0,
        valid_from: clock::unix_secs(activity.starts_at - PRINTED_EARLY_MS),
        valid_until: clock::unix_secs(until),
        name: activity.title.clone(),
        detail: org_name.to_owned(),
        door: None,
    })
}

/// Who came to the activity, for its organisation's secretary.
async fn attendance(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
) -> Result<Json<Attendance>, AppError> {
    let Path(id) = id?;
    Ok(Json(load_attendance(&state, &user, id).await?))
}

/// The same as a spreadsheet: CSV that Excel in Chinese opens as it is (UTF-8 with a byte order mark), times in
/// China Standard Time, where the organisations and their members are.
async fn attendance_csv(
    State(state): State<AppState>,
    user: AuthUser,
    id: Result<Path<Id>, PathRejection>,
) -> Result<Response, AppError> {
    let Path(id) = id?;
    let attendance = load_attendance(&state, &user, id).await?;
    let mut sheet = Sheet::new(&[
        "姓名",
        "家乡组织",
        "身份",
        "签到方式",
        "签到时间",
        "服务器收到时间",
        "标记",
        "说明",
        "志愿服务时长（小时）",
    ])?;
    for attendee in &attendance.came {
        let flag = match attendee.flag {
            None => "",
            Some(CheckInFlag::OutsideWindow) => "活动时间以外签到",
            Some(CheckInFlag::ClockSkew) => "手机时间不准",
            Some(CheckInFlag::StaleCode) => "签到码已过时（可能是转发的照片）",
        };
        sheet.row([
            attendee.name.as_str(),
            &attendee.home_org,
            if attendee.visitor {
                "来访党员"
            } else {
                "本组织党员"
            },
            match attendee.how {
                How::OwnScan => "本人扫码",
                How::Card => "书记扫党员证",
                How::ByHand => "手工登记",
            },
            &china_time(attendee.scanned_at),
            &china_time(attendee.received_at),
            flag,
            attendee.reason.as_deref().unwrap_or_default(),
            &attendee
                .hours_tenths
                .map(|tenths| hours_text(u32::from(tenths)))
                .unwrap_or_default(),
        ])?;
    }
    sheet.download("attendance.csv")
}

#[derive(sqlx::FromRow)]
struct AttendeeRow {
    person_id: String,
    name: String,
    home_org: String,
    home_org_id: String,
    current_org_id: Option<String>,
    scanned_at: i64,
    received_at: i64,
    flag: Option<String>,
    how: String,
    reason: Option<String>,
    hours_tenths: Option<u16>,
}

async fn load_attendance(state: &AppState, user: &AuthUser, id: Id) -> Result<Attendance, AppError> {
    let (activity, _) = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    roles::require_secretary(&state.db, user, activity.org_id, Seen::Known).await?;
    let org = activity.org_id.to_string();
    let rows: Vec<AttendeeRow> = sqlx::query_as(
        "SELECT c.person_id, p.name, h.name AS home_org, p.home_org_id, p.current_org_id, c.scanned_at,
                c.received_at, c.flag, c.how, c.reason,
                CASE WHEN a.kind = 'volunteer' THEN coalesce(c.hours_tenths, a.hours_tenths, 0) END AS hours_tenths
         FROM check_ins c JOIN activities a ON a.id = c.activity_id JOIN people p ON p.id = c.person_id
              JOIN organisations h ON h.id = p.home_org_id
         WHERE c.activity_id = ? ORDER BY c.scanned_at, c.id",
    )
    .bind(id.to_string())
    .fetch_all(&state.db)
    .await?;
    let (expected,): (i64,) = sqlx::query_as("SELECT count(*) FROM people WHERE current_org_id = ?")
        .bind(&org)
        .fetch_one(&state.db)
        .await?;
    let missing: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.id, p.name FROM people p WHERE p.current_org_id = ?1
           AND NOT EXISTS (SELECT 1 FROM check_ins c WHERE c.person_id = p.id AND c.activity_id = ?2)
         ORDER BY p.name, p.id",
    )
    .bind(&org)
    .bind(id.to_string())
    .fetch_all(&state.db)
    .await?;
    let came = rows
        .into_iter()
        .map(|row| {
            Ok(Attendee {
                member_id: db::id(&row.person_id)?,
                visitor: !checkins::is_member_of(&org, &row.home_org_id, row.current_org_id.as_deref()),
                name: row.name,
                home_org: row.home_org,
                scanned_at: row.scanned_at,
                received_at: row.received_at,
                flag: row.flag.as_deref().map(db::from_wire_name).transpose()?,
                how: db::from_wire_name(&row.how)?,
                reason: row.reason,
                hours_tenths: row.hours_tenths,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let missing: Vec<Missing> = missing
        .into_iter()
        .map(|(member_id, name)| {
            Ok(Missing {
                member_id: db::id(&member_id)?,
                name,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let (minutes,): (Option<String>,) = sqlx::query_as("SELECT minutes FROM activities WHERE id = ?")
        .bind(id.to_string())
        .fetch_one(&state.db)
        .await?;
    Ok(Attendance {
        activity,
        expected: u32::try_from(expected).unwrap_or_default(),
        came,
        missing,
        minutes,
    })
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    org_id: String,
    title: String,
    kind: String,
    starts_at: i64,
    ends_at: i64,
    place: Option<String>,
    team: Option<String>,
    notes: Option<String>,
    open_to_visitors: bool,
    hours_tenths: Option<u16>,
    org_name: String,
}

/// The activity and the name of the organisation holding it, unless it was cancelled.
pub async fn load(db: &SqlitePool, id: Id) -> Result<Option<(Activity, String)>, AppError> {
    let row: Option<ActivityRow> = sqlx::query_as(
        "SELECT a.org_id, a.title, a.kind, a.starts_at, a.ends_at, a.place, a.team, a.notes, a.open_to_visitors,
                a.hours_tenths, o.name AS org_name
         FROM activities a JOIN organisations o ON o.id = a.org_id WHERE a.id = ? AND a.cancelled_at IS NULL",
    )
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(|row| {
        let activity = Activity {
            id,
            org_id: db::id(&row.org_id)?,
            title: row.title,
            kind: db::from_wire_name(&row.kind)?,
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            place: row.place,
            team: row.team.as_deref().map(db::from_wire_name).transpose()?,
            notes: row.notes,
            open_to_visitors: row.open_to_visitors,
            hours_tenths: row.hours_tenths,
        };
        Ok((activity, row.org_name))
    })
    .transpose()
}

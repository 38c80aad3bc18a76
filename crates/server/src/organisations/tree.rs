//! The county's administrator manages its tree of organisations (core's `tree`): sets up a host organisation
//! (`POST /api/v1/orgs/{county}/tree`) with its secretary, changes an organisation's name and details
//! (`POST /api/v1/orgs/{id}/details`), appoints a host organisation's secretary in place of those before
//! (`POST /api/v1/orgs/{id}/secretary`), and closes a host organisation with its members moved to another
//! (`POST /api/v1/orgs/{id}/close`). Phones learn each change on their next pull, as for every other record.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::domain::{OrgKind, OrgRef};
use guihai_core::profile::phone_digits;
use guihai_core::tree::{Appoint, CloseOrg, ClosedOrg, NewOrg, OrgDetails};
use guihai_core::Id;
use sqlx::SqliteConnection;

use crate::activities;
use crate::error::{ApiJson, AppError};
use crate::identity::roles::{CountyAdminOf, CountyAdminOver};
use crate::organisations::{self, certificate, reports};
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/orgs/{id}/tree", add)
        .route(Method::POST, "/orgs/{id}/details", change)
        .route(Method::POST, "/orgs/{id}/secretary", appoint)
        .route(Method::POST, "/orgs/{id}/close", close)
}

fn invalid(error: impl ToString) -> AppError {
    AppError::Invalid(error.to_string())
}

/// Sets up a host organisation in the county; its secretary (a member of the county, by the number they sign in
/// with) runs it from their phone after their next sync.
async fn add(
    State(state): State<AppState>,
    CountyAdminOf { county }: CountyAdminOf,
    ApiJson(new): ApiJson<NewOrg>,
) -> Result<(StatusCode, Json<OrgRef>), AppError> {
    let new = new.checked().map_err(invalid)?;
    let mut tx = db::begin_write(&state.writes).await?;
    if let Some(parent) = new.parent_id {
        if open_host_org(&mut tx, county, parent).await?.is_none() {
            return Err(invalid("the parent is not an open host organisation of the county"));
        }
    }
    let secretary = match &new.secretary_phone {
        Some(phone) => Some(member_of_county(&mut tx, county, phone).await?),
        None => None,
    };
    let id = clock::new_id();
    let details = &new.details;
    sqlx::query(
        "INSERT INTO organisations (id, name, kind, parent_id, city, address, contact, home_county_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(&details.name)
    .bind(new.kind.as_str())
    .bind(new.parent_id.map(|id| id.to_string()))
    .bind(&details.city)
    .bind(&details.address)
    .bind(&details.contact)
    .bind(county.to_string())
    .execute(&mut *tx)
    .await?;
    changes::touch(&mut tx, LogKey::Org(id), &[Audience::Org(id)]).await?;
    if let Some(secretary) = secretary {
        make_secretary(&mut tx, id, secretary).await?;
    }
    tx.commit().await?;
    let org = organisations::load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(org)))
}

/// The kind of `org_id` if it is a host organisation of `county` that is not closed.
async fn open_host_org(conn: &mut SqliteConnection, county: Id, org_id: Id) -> Result<Option<OrgKind>, AppError> {
    let kind: Option<String> =
        sqlx::query_scalar("SELECT kind FROM organisations WHERE id = ? AND home_county_id = ? AND closed_at IS NULL")
            .bind(org_id.to_string())
            .bind(county.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(kind
        .as_deref()
        .and_then(OrgKind::parse)
        .filter(|kind| kind.is_host_side()))
}

/// The county of host organisation `org_id`, which must not be closed: a township is the request's mistake, a
/// closed organisation a conflict with what happened first.
async fn county_of_open_host(conn: &mut SqliteConnection, org_id: Id) -> Result<Id, AppError> {
    let (county, closed_at): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT home_county_id, closed_at FROM organisations WHERE id = ?")
            .bind(org_id.to_string())
            .fetch_one(conn)
            .await?;
    let county = db::id(&county.ok_or_else(|| invalid("a township is not a host organisation"))?)?;
    match closed_at {
        Some(_) => Err(AppError::Conflict("the organisation is closed".into())),
        None => Ok(county),
    }
}

/// The person of the county (their home is one of its townships) who signs in with `phone`.
async fn member_of_county(conn: &mut SqliteConnection, county: Id, phone: &str) -> Result<Id, AppError> {
    let person: Option<String> = sqlx::query_scalar(
        "SELECT p.id FROM people p JOIN organisations home ON home.id = p.home_org_id
         WHERE p.sign_in_phone = ? AND (home.parent_id = ?2 OR home.id = ?2)",
    )
    .bind(phone_digits(phone))
    .bind(county.to_string())
    .fetch_optional(conn)
    .await?;
    db::id(&person.ok_or_else(|| invalid("nobody of the county signs in with this phone number"))?)
}

/// Makes `person` the secretary of `org_id` (their phone runs it after its next sync).
async fn make_secretary(conn: &mut SqliteConnection, org_id: Id, person: Id) -> Result<(), AppError> {
    sqlx::query("INSERT OR IGNORE INTO roles (person_id, role, org_id) VALUES (?, 'secretary', ?)")
        .bind(person.to_string())
        .bind(org_id.to_string())
        .execute(&mut *conn)
        .await?;
    changes::touch(conn, LogKey::Person(person), &[Audience::Member(person)]).await?;
    Ok(())
}

/// Ends the role of every secretary of `org_id` but `keep`, with their door keys for it; their phones drop the
/// organisation's screens after their next sync.
async fn end_secretaries(conn: &mut SqliteConnection, org_id: Id, keep: Option<Id>) -> Result<(), AppError> {
    activities::door_keys::revoke_org(conn, org_id, keep).await?;
    let ended: Vec<String> = sqlx::query_scalar(
        "DELETE FROM roles WHERE org_id = ? AND role = 'secretary' AND person_id IS NOT ? RETURNING person_id",
    )
    .bind(org_id.to_string())
    .bind(keep.map(|id| id.to_string()))
    .fetch_all(&mut *conn)
    .await?;
    for person in ended {
        let person = db::id(&person)?;
        changes::touch(conn, LogKey::Person(person), &[Audience::Member(person)]).await?;
    }
    Ok(())
}

/// Appoints the secretary of a host organisation (a member of the county, by the number they sign in with),
/// in place of those before.
async fn appoint(
    State(state): State<AppState>,
    CountyAdminOver { org_id }: CountyAdminOver,
    ApiJson(Appoint { phone }): ApiJson<Appoint>,
) -> Result<StatusCode, AppError> {
    let mut tx = db::begin_write(&state.writes).await?;
    let county = county_of_open_host(&mut tx, org_id).await?;
    let person = member_of_county(&mut tx, county, &phone).await?;
    make_secretary(&mut tx, org_id, person).await?;
    end_secretaries(&mut tx, org_id, Some(person)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes what people read of an organisation; phones that hold it get the new name on their next pull.
async fn change(
    State(state): State<AppState>,
    CountyAdminOver { org_id }: CountyAdminOver,
    ApiJson(details): ApiJson<OrgDetails>,
) -> Result<Json<OrgRef>, AppError> {
    let mut tx = db::begin_write(&state.writes).await?;
    let (kind, closed): (String, Option<i64>) =
        sqlx::query_as("SELECT kind, closed_at FROM organisations WHERE id = ?")
            .bind(org_id.to_string())
            .fetch_one(&mut *tx)
            .await?;
    if closed.is_some() {
        return Err(AppError::Conflict("the organisation is closed".into()));
    }
    let kind =
        OrgKind::parse(&kind).ok_or_else(|| AppError::Internal(format!("unknown organisation kind {kind:?}")))?;
    let details = details.checked(kind).map_err(invalid)?;
    sqlx::query("UPDATE organisations SET name = ?, city = ?, address = ?, contact = ? WHERE id = ?")
        .bind(&details.name)
        .bind(&details.city)
        .bind(&details.address)
        .bind(&details.contact)
        .bind(org_id.to_string())
        .execute(&mut *tx)
        .await?;
    changes::touch(&mut tx, LogKey::Org(org_id), &[Audience::Org(org_id)]).await?;
    tx.commit().await?;
    let org = organisations::load(&state.db, org_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(org))
}

/// Closes a host organisation, all in one transaction: each member there ends their stay and begins one at
/// `move_to` (their phones follow, as after an accepted report); reports waiting for it wait for `move_to`;
/// its activities not yet over are cancelled; its codes and door keys are withdrawn; its secretaries' roles end.
async fn close(
    State(state): State<AppState>,
    CountyAdminOver { org_id }: CountyAdminOver,
    ApiJson(CloseOrg { move_to }): ApiJson<CloseOrg>,
) -> Result<Json<ClosedOrg>, AppError> {
    let now = clock::now_ms();
    let mut tx = db::begin_write(&state.writes).await?;
    let county = county_of_open_host(&mut tx, org_id).await?;
    if move_to == org_id || open_host_org(&mut tx, county, move_to).await?.is_none() {
        return Err(invalid(
            "the members must move to another open host organisation of the county",
        ));
    }
    let closed = ClosedOrg {
        moved: move_members(&mut tx, org_id, move_to, now).await?,
        reports_moved: move_reports(&mut tx, org_id, move_to, now).await?,
        activities_cancelled: activities::cancel_all_of(&mut tx, org_id, now).await?,
    };
    end_secretaries(&mut tx, org_id, None).await?;
    // Every code of it ever signed is withdrawn, on phones too (core's `OrgCodeSince`).
    sqlx::query("UPDATE organisations SET closed_at = ?, code_since = ? WHERE id = ?")
        .bind(now)
        .bind(i64::from(u32::MAX))
        .bind(org_id.to_string())
        .execute(&mut *tx)
        .await?;
    changes::touch(&mut tx, LogKey::OrgCode(org_id), &[Audience::All]).await?;
    // Its children hang from the county from now on.
    sqlx::query("UPDATE organisations SET parent_id = NULL WHERE parent_id = ?")
        .bind(org_id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(closed))
}

/// Ends every open stay at `from` and begins one at `to` (unless the member is there already), making `to`
/// their current organisation; the stay keeps no evaluation, as the organisation did not end it.
async fn move_members(conn: &mut SqliteConnection, from: Id, to: Id, now: i64) -> Result<u32, AppError> {
    let open: Vec<(String, String)> = sqlx::query_as(
        "UPDATE stops SET left_at = max(?, arrived_at + 1) WHERE org_id = ? AND left_at IS NULL
         RETURNING id, person_id",
    )
    .bind(now)
    .bind(from.to_string())
    .fetch_all(&mut *conn)
    .await?;
    for (stop, person) in &open {
        let person = db::id(person)?;
        changes::touch(conn, LogKey::Stop(db::id(stop)?), &[Audience::Member(person)]).await?;
        let there: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM stops WHERE person_id = ? AND org_id = ? AND left_at IS NULL")
                .bind(person.to_string())
                .bind(to.to_string())
                .fetch_optional(&mut *conn)
                .await?;
        if there.is_none() {
            certificate::open_stop(conn, person, to, now).await?;
        }
    }
    // Whoever had it as their current organisation (members, and secretaries who are not) now has `to`.
    let current: Vec<String> = sqlx::query_scalar("SELECT id FROM people WHERE current_org_id = ?")
        .bind(from.to_string())
        .fetch_all(&mut *conn)
        .await?;
    for person in current {
        reports::moved(conn, db::id(&person)?, Some(to)).await?;
    }
    Ok(u32::try_from(open.len()).unwrap_or(u32::MAX))
}

/// Reports waiting at `from` wait at `to`; one from a member who is at `to` already, or waits there, is refused
/// with that reason.
async fn move_reports(conn: &mut SqliteConnection, from: Id, to: Id, now: i64) -> Result<u32, AppError> {
    let settled: Vec<(String, String)> = sqlx::query_as(
        "UPDATE reports SET state = 'refused', decided_at = ?1, reason = '所报到的组织已撤销，你已在其党员转入的组织'
         WHERE org_id = ?2 AND state = 'pending' AND person_id IN (
             SELECT person_id FROM stops WHERE org_id = ?3 AND left_at IS NULL
             UNION SELECT person_id FROM reports WHERE org_id = ?3 AND state = 'pending')
         RETURNING id, person_id",
    )
    .bind(now)
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let moved: Vec<(String, String)> =
        sqlx::query_as("UPDATE reports SET org_id = ? WHERE org_id = ? AND state = 'pending' RETURNING id, person_id")
            .bind(to.to_string())
            .bind(from.to_string())
            .fetch_all(&mut *conn)
            .await?;
    for (report, person) in settled.iter().chain(&moved) {
        let person = db::id(person)?;
        changes::touch(conn, LogKey::Report(db::id(report)?), &[Audience::Member(person)]).await?;
    }
    Ok(u32::try_from(moved.len()).unwrap_or(u32::MAX))
}

//! The signed-in person's own record (core's `Me`): `GET /api/v1/me`, and the same record for sign-in and pull;
//! and their member card (`GET /api/v1/me/card`), a short-lived signed code that a secretary's phone checks
//! offline.

use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::Json;
use guihai_core::certificate::MemberCard;
use guihai_core::domain::{Me, Role};
use guihai_core::qr::{Code, Subject};
use guihai_core::Id;
use sqlx::SqlitePool;

use crate::error::AppError;
use crate::identity::auth::AuthUser;
use crate::routes::Routes;
use crate::{clock, db, organisations, qr_image, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::GET, "/me", me)
        .route(Method::GET, "/me/card", card)
}

async fn card(State(state): State<AppState>, user: AuthUser, headers: HeaderMap) -> Result<Json<MemberCard>, AppError> {
    let me = load(&state.db, user.person_id).await?.ok_or(AppError::NotFound)?;
    let now = clock::now_ms();
    let valid_until = now + MemberCard::VALID_MS;
    let signed = state.keys().sign(Code {
        subject: Subject::Member { member_id: me.id },
        key_id: 0,
        // A minute's grace for a secretary's phone whose clock runs a little behind.
        valid_from: clock::unix_secs(now - 60_000),
        valid_until: clock::unix_secs(valid_until),
        name: me.name,
        detail: match me.certificate_no {
            Some(no) => format!("{} · {no}", me.home_org.name),
            None => me.home_org.name,
        },
        door: None,
    });
    let link = format!("{}{}", organisations::public_origin(&state, &headers), signed.link);
    let qr = qr_image::draw(&link)?;
    Ok(Json(MemberCard {
        link,
        qr_path: qr.path,
        modules: qr.modules,
        valid_until,
    }))
}

async fn me(State(state): State<AppState>, user: AuthUser) -> Result<Json<Me>, AppError> {
    Ok(Json(load(&state.db, user.person_id).await?.ok_or(AppError::NotFound)?))
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    name: String,
    home_org_id: String,
    current_org_id: Option<String>,
    certificate_no: Option<String>,
    returned_home_at: Option<i64>,
}

pub async fn load(db: &SqlitePool, person_id: Id) -> Result<Option<Me>, AppError> {
    let row: Option<PersonRow> = sqlx::query_as(
        "SELECT name, home_org_id, current_org_id, certificate_no, returned_home_at FROM people WHERE id = ?",
    )
    .bind(person_id.to_string())
    .fetch_optional(db)
    .await?;
    let Some(PersonRow {
        name,
        home_org_id,
        current_org_id,
        certificate_no,
        returned_home_at,
    }) = row
    else {
        return Ok(None);
    };
    let home_org = organisations::get(db, &home_org_id).await?;
    let current_org = match current_org_id {
        Some(id) => Some(organisations::get(db, &id).await?),
        None => None,
    };
    Ok(Some(Me {
        id: person_id,
        name,
        home_org,
        current_org,
        certificate_no,
        roles: roles(db, person_id).await?,
        returned_home_at,
    }))
}

/// Every person has a home organisation, so every person is a member; other roles are granted per organisation.
async fn roles(db: &SqlitePool, person_id: Id) -> Result<Vec<Role>, AppError> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT role, org_id FROM roles WHERE person_id = ? ORDER BY role, org_id")
            .bind(person_id.to_string())
            .fetch_all(db)
            .await?;
    let mut roles = vec![Role::Member];
    for (role, org_id) in rows {
        let org_id = db::id(&org_id)?;
        roles.push(match role.as_str() {
            "secretary" => Role::Secretary { org_id },
            "township_admin" => Role::TownshipAdmin { org_id },
            "county_admin" => Role::CountyAdmin { org_id },
            other => return Err(AppError::Internal(format!("unknown role {other:?} in the database"))),
        });
    }
    Ok(roles)
}

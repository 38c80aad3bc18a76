//! Host organisations' codes (报到码): the secretary shows or prints one (`GET /api/v1/orgs/{id}/code`, an A4
//! poster at `GET /api/v1/orgs/{id}/poster.svg`) and rotates it (`POST /api/v1/orgs/{id}/code`), which withdraws
//! every earlier code: phones learn the withdrawal (core's `OrgCodeSince`) on their next pull. Also how
//! organisations look on a phone (core's `OrgRef`).
//!
//! The area's other modules: `reports` (报到 and leaving), `rosters` (who is where, for each kind of staff), `flow` (流向 month by month),
//! `roster` (a township's import), `contacts` (made outside the app), `notices`, `tree` (the county's
//! organisations, set up, changed and closed) and `certificate` (a member's stops and evaluations); `routes` serves them all.

pub mod certificate;
pub mod contacts;
pub mod flow;
pub mod notices;
pub mod reports;
pub mod roster;
pub mod rosters;
pub mod tree;

use axum::extract::State;
use axum::http::{header, HeaderMap, Method};
use axum::response::IntoResponse;
use axum::Json;
use guihai_core::domain::{OrgKind, OrgRef};
use guihai_core::qr::{Code, Subject};
use guihai_core::report::OrgCodeSince;
use guihai_core::sync::CodeResponse;
use guihai_core::Id;
use sqlx::SqliteExecutor;

use crate::error::AppError;
use crate::identity::auth::AuthUser;
use crate::identity::roles::SecretaryOf;
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, qr_image, AppState};

/// The printed poster; `{{…}}` are filled in, XML-escaped. Its words are Chinese, as the posters hang in China.
const POSTER: &str = include_str!("poster.svg");

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::GET, "/orgs/{id}/code", code)
        .route(Method::POST, "/orgs/{id}/code", rotate)
        .route(Method::GET, "/orgs/{id}/poster.svg", poster)
        .merge(reports::routes())
        .merge(rosters::routes())
        .merge(flow::routes())
        .merge(contacts::routes())
        .merge(notices::routes())
        .merge(roster::routes())
        .merge(tree::routes())
}

pub async fn load<'e>(db: impl SqliteExecutor<'e>, id: Id) -> Result<Option<OrgRef>, AppError> {
    let row: Option<(String, String, Option<String>)> =
        sqlx::query_as("SELECT name, kind, city FROM organisations WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(db)
            .await?;
    row.map(|(name, kind, city)| {
        let kind = OrgKind::parse(&kind)
            .ok_or_else(|| AppError::Internal(format!("unknown organisation kind {kind:?} in the database")))?;
        Ok(OrgRef { id, name, kind, city })
    })
    .transpose()
}

/// Like `load`, for an organisation that must exist (a reference held by another row).
pub async fn get<'e>(db: impl SqliteExecutor<'e>, id: &str) -> Result<OrgRef, AppError> {
    load(db, db::id(id)?)
        .await?
        .ok_or_else(|| AppError::Internal(format!("organisation {id} is missing")))
}

/// The organisation's code withdrawal, for every phone.
pub async fn load_code_since<'e>(db: impl SqliteExecutor<'e>, org_id: Id) -> Result<Option<OrgCodeSince>, AppError> {
    let since: Option<i64> = sqlx::query_scalar("SELECT code_since FROM organisations WHERE id = ?")
        .bind(org_id.to_string())
        .fetch_optional(db)
        .await?;
    Ok(since.map(|since| OrgCodeSince {
        org_id,
        valid_since: u32::try_from(since).unwrap_or(u32::MAX),
    }))
}

/// What a poster shows of its organisation.
struct Poster {
    name: String,
    address: String,
    contact: String,
    secretary: String,
    code_since: i64,
}

/// What the poster shows of organisation `id`, whose secretary `user` is.
async fn poster_facts(state: &AppState, user: &AuthUser, id: Id) -> Result<Poster, AppError> {
    let row: (String, Option<String>, Option<String>, i64, String) = sqlx::query_as(
        "SELECT name, address, contact, code_since, (SELECT name FROM people WHERE id = ?) FROM organisations WHERE id = ?",
    )
    .bind(user.person_id.to_string())
    .bind(id.to_string())
    .fetch_one(&state.db)
    .await?;
    Ok(Poster {
        name: row.0,
        address: row.1.unwrap_or_default(),
        contact: row.2.unwrap_or_default(),
        code_since: row.3,
        secretary: row.4,
    })
}

fn sign(state: &AppState, id: Id, poster: &Poster) -> CodeResponse {
    state.keys().sign(Code {
        subject: Subject::Organisation { org_id: id },
        key_id: 0,
        valid_from: u32::try_from(poster.code_since).unwrap_or(u32::MAX),
        // A poster hangs until the secretary rotates its code; rotation, not expiry, withdraws it.
        valid_until: u32::MAX,
        name: poster.name.clone(),
        detail: poster.address.clone(),
        door: None,
    })
}

/// A signed code as a screen shows it: its full link, to copy, and that link drawn, to scan.
pub fn for_screen(state: &AppState, headers: &HeaderMap, signed: CodeResponse) -> Result<CodeResponse, AppError> {
    let url = format!("{}{}", public_origin(state, headers), signed.link);
    let qr = qr_image::draw(&url)?;
    Ok(CodeResponse {
        url: Some(url),
        qr: Some(qr),
        ..signed
    })
}

async fn code(
    State(state): State<AppState>,
    SecretaryOf { user, org_id: id }: SecretaryOf,
    headers: HeaderMap,
) -> Result<Json<CodeResponse>, AppError> {
    let poster = poster_facts(&state, &user, id).await?;
    Ok(Json(for_screen(&state, &headers, sign(&state, id, &poster))?))
}

/// Withdraws every earlier code of the organisation and answers the new one.
async fn rotate(
    State(state): State<AppState>,
    SecretaryOf { user, org_id: id }: SecretaryOf,
    headers: HeaderMap,
) -> Result<Json<CodeResponse>, AppError> {
    let mut tx = db::begin_write(&state.writes).await?;
    // Strictly later than the code in force, even when rotated twice within a second.
    sqlx::query("UPDATE organisations SET code_since = max(code_since + 1, ?) WHERE id = ?")
        .bind(i64::from(clock::unix_secs(clock::now_ms())))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    changes::touch(&mut tx, LogKey::OrgCode(id), &[Audience::All]).await?;
    tx.commit().await?;
    let poster = poster_facts(&state, &user, id).await?;
    Ok(Json(for_screen(&state, &headers, sign(&state, id, &poster))?))
}

/// An A4 poster to print and hang: the organisation, its secretary, the code and how to use it.
async fn poster(
    State(state): State<AppState>,
    SecretaryOf { user, org_id: id }: SecretaryOf,
    headers: HeaderMap,
) -> Result<impl IntoResponse, AppError> {
    let facts = poster_facts(&state, &user, id).await?;
    let link = format!("{}{}", public_origin(&state, &headers), sign(&state, id, &facts).link);
    let qr = qr_image::draw(&link)?;
    let svg = POSTER
        .replace("{{size}}", &(qr.modules + 8).to_string())
        .replace("{{qr}}", &qr.path)
        .replace("{{name}}", &xml_escape(&facts.name))
        .replace("{{address}}", &xml_escape(&facts.address))
        .replace("{{contact}}", &xml_escape(&facts.contact))
        .replace("{{secretary}}", &xml_escape(&facts.secretary));
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"guihai-poster.svg\"",
            ),
        ],
        svg,
    ))
}

/// Where phones reach this server, for a printed link: `--public-url`; without it, as the asking phone did
/// (behind a proxy, as the proxy says; anyone else's `X-Forwarded-*` is their word and not read).
pub fn public_origin(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.public_url {
        return url.to_string();
    }
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let forwarded = |name| value(name).filter(|_| state.behind_proxy);
    let host = forwarded("x-forwarded-host").or(value("host")).unwrap_or("localhost");
    let scheme = forwarded("x-forwarded-proto").unwrap_or("http");
    format!("{scheme}://{host}")
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

//! A township's roster import (`POST /api/v1/orgs/{id}/roster?days=N`, the file as the body: CSV in UTF-8 or in
//! the GBK that Excel in Chinese saves, or an Excel workbook): core's
//! `roster::parse` checks every row, the server adds what only it knows (certificate numbers already taken), and
//! a file with any problem imports nothing. Each new member gets a one-time activation code valid for `days`,
//! as text and as a QR code of a sign-in link, for the administrator to print and hand out. Importing the same
//! file again gives fresh codes to whoever has not signed in yet (codes lost, or run out); a member who has signed
//! in before gets a new one from their township administrator (`POST /api/v1/people/{id}/activation`).

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use calamine::{Data, Reader};
use chrono::Datelike;
use guihai_core::profile::{self as profile_rules, phone_digits, Edit, Field};
use guihai_core::roster::{self, Activation, Problem, RosterImport, RosterRow, RowProblem, SignInPhone};
use guihai_core::Id;
use serde::Deserialize;
use sqlx::SqliteConnection;

use crate::error::{ApiJson, AppError};
use crate::identity::auth::{self, activation_code_hash};
use crate::identity::roles::{AdminOfMember, TownshipAdminOf};
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, identity::profile, organisations, qr_image, AppState};

/// A roster file's text: UTF-8 (with or without Excel's mark), or GBK as Excel in Chinese saves a CSV file (read
/// as GB18030, which contains it); `None` for anything else.
fn roster_text(bytes: &[u8]) -> Option<Cow<'_, str>> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(Cow::Borrowed(text)),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(bytes),
    }
}

/// How a zip file, and so an Excel workbook (`.xlsx`), begins.
const ZIP: &[u8] = b"PK\x03\x04";

/// A roster saved as an Excel workbook: its first sheet's rows that hold anything, each with its row number and its
/// cells as text (core's `roster::check_rows`); `None` for a workbook that cannot be read.
fn workbook_rows(bytes: &[u8]) -> Option<Vec<(usize, Option<Vec<String>>)>> {
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).ok()?;
    let range = workbook.worksheet_range_at(0)?.ok()?;
    let first = range.start().map_or(0, |(row, _)| row as usize);
    let rows = range.rows().enumerate().filter_map(|(index, cells)| {
        let fields: Vec<String> = cells.iter().map(cell_text).collect();
        fields
            .iter()
            .any(|field| !field.is_empty())
            .then_some((first + index + 1, Some(fields)))
    });
    Some(rows.collect())
}

/// A cell as the administrator sees it in Excel: a number with no decimals as a whole number (a phone number or a
/// year typed as a number), a date as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::String(text) => text.trim().to_owned(),
        Data::Int(n) => n.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(at) => at
            .as_datetime()
            .map(|at| format!("{:04}-{:02}-{:02}", at.year(), at.month(), at.day()))
            .unwrap_or_default(),
        Data::DateTimeIso(text) => text.get(..10).unwrap_or(text).to_owned(),
        Data::DurationIso(text) => text.clone(),
        Data::Error(_) | Data::Empty => String::new(),
    }
}

/// Activation codes are valid this long unless the administrator says otherwise.
const DEFAULT_DAYS: u32 = 14;
const MAX_DAYS: u32 = 90;
/// A code given again to one member is for them to use soon.
const REISSUED_DAYS: u32 = 3;
/// Unambiguous on paper and when read out: no 0/O, 1/I/L.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

pub fn routes() -> Routes {
    Routes::new()
        .route(
            Method::POST,
            "/orgs/{id}/roster",
            import.layer(DefaultBodyLimit::max(crate::MAX_UPLOAD_BYTES)),
        )
        .route(Method::POST, "/people/{id}/activation", reissue)
        .route(Method::GET, "/people/{id}/sign-in-phone", sign_in_phone)
        .route(Method::POST, "/people/{id}/sign-in-phone", set_sign_in_phone)
}

#[derive(Deserialize)]
struct ImportQuery {
    days: Option<u32>,
}

fn new_code() -> String {
    let bytes: [u8; 10] = clock::random_bytes();
    let letters: String = bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect();
    format!("{}-{}", &letters[..5], &letters[5..])
}

async fn import(
    State(state): State<AppState>,
    TownshipAdminOf { township }: TownshipAdminOf,
    headers: HeaderMap,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Bytes,
) -> Result<(StatusCode, Json<RosterImport>), AppError> {
    let Query(query) = query?;
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AppError::Invalid(format!("days must be 1 to {MAX_DAYS}")));
    }
    let org = organisations::load(&state.db, township)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = clock::now_ms();
    let rejected = |problems| {
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(RosterImport {
                imported: Vec::new(),
                problems,
            }),
        ))
    };
    let today = clock::date_of(now);
    let read = match body.starts_with(ZIP) {
        true => workbook_rows(&body).map(|rows| roster::check_rows(rows, &org.name, &today)),
        false => roster_text(&body).map(|text| roster::parse(&text, &org.name, &today)),
    };
    let Some(read) = read else {
        let unreadable = RowProblem {
            line: 0,
            column: None,
            problem: Problem::File,
        };
        return rejected(vec![unreadable]);
    };
    let rows = match read {
        Ok(rows) => rows,
        Err(problems) => return rejected(problems),
    };

    let mut tx = db::begin_write(&state.writes).await?;
    let mut taken = Vec::new();
    let mut plan = Vec::with_capacity(rows.len());
    for row in rows {
        let held: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT id, home_org_id, (SELECT count(*) FROM sessions s WHERE s.person_id = p.id)
             FROM people p WHERE certificate_no = ?",
        )
        .bind(&row.certificate_no)
        .fetch_optional(&mut *tx)
        .await?;
        let known = match held {
            None => None,
            // Imported here before and never signed in (the codes were lost, or ran out): a fresh code.
            Some((person, home, 0)) if db::id(&home)? == township => Some(person),
            Some(_) => {
                taken.push(RowProblem {
                    line: row.line,
                    column: Some(roster::Column::CertificateNo.as_str().to_owned()),
                    problem: Problem::CertificateTaken,
                });
                continue;
            }
        };
        let phone_of: Option<(String,)> = sqlx::query_as("SELECT id FROM people WHERE sign_in_phone = ?")
            .bind(phone_digits(&row.phone))
            .fetch_optional(&mut *tx)
            .await?;
        if phone_of.is_some_and(|(owner,)| Some(owner) != known) {
            taken.push(RowProblem {
                line: row.line,
                column: Some(roster::Column::Phone.as_str().to_owned()),
                problem: Problem::PhoneTaken,
            });
            continue;
        }
        plan.push((row, known.as_deref().map(db::id).transpose()?));
    }
    if !taken.is_empty() {
        return rejected(taken);
    }
    let expires_at = now + i64::from(days) * 24 * 3_600_000;
    let mut issued = Vec::with_capacity(plan.len());
    for (row, known) in plan {
        let code = new_code();
        match known {
            Some(person) => {
                sqlx::query("UPDATE people SET activation_code_hash = ?, activation_expires_at = ? WHERE id = ?")
                    .bind(&activation_code_hash(&code)[..])
                    .bind(expires_at)
                    .bind(person.to_string())
                    .execute(&mut *tx)
                    .await?;
                auth::set_sign_in_phone(&mut tx, person, &row.phone).await?;
            }
            None => add_member(&mut tx, township, &row, &code, expires_at).await?,
        }
        issued.push((row, code));
    }
    tx.commit().await?;
    // Drawn after the commit: thousands of QR codes must not hold the one write connection.
    let origin = organisations::public_origin(&state, &headers);
    let imported = issued
        .into_iter()
        .map(|(row, code)| activation(&origin, row.name, row.certificate_no, code, expires_at))
        .collect::<Result<_, AppError>>()?;
    Ok((
        StatusCode::CREATED,
        Json(RosterImport {
            imported,
            problems: Vec::new(),
        }),
    ))
}

/// The printable activation of `code`: the code, its sign-in link and that link's QR code.
fn activation(
    origin: &str,
    name: String,
    certificate_no: String,
    code: String,
    expires_at: i64,
) -> Result<Activation, AppError> {
    let link = format!("{origin}/signin#code={code}");
    let qr = qr_image::draw(&link)?;
    Ok(Activation {
        name,
        certificate_no,
        code,
        link,
        qr_path: qr.path,
        modules: qr.modules,
        expires_at,
    })
}

/// A new one-time activation code for a member of the administrator's township, valid `REISSUED_DAYS`: the way
/// back in for a member who lost their phones, forgot their PIN, or whose PIN sign-in someone keeps closing.
/// It replaces any code they had, and opens PIN sign-in again.
async fn reissue(
    State(state): State<AppState>,
    AdminOfMember { person_id: person }: AdminOfMember,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Activation>), AppError> {
    let code = new_code();
    let expires_at = clock::now_ms() + i64::from(REISSUED_DAYS) * 24 * 3_600_000;
    let mut tx = db::begin_write(&state.writes).await?;
    let (name, certificate_no): (String, Option<String>) = sqlx::query_as(
        "UPDATE people SET activation_code_hash = ?, activation_expires_at = ?, activation_reusable = 0,
                           pin_failures = 0, pin_locked_until = NULL
         WHERE id = ? RETURNING name, certificate_no",
    )
    .bind(&activation_code_hash(&code)[..])
    .bind(expires_at)
    .bind(person.to_string())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let origin = organisations::public_origin(&state, &headers);
    let activation = activation(&origin, name, certificate_no.unwrap_or_default(), code, expires_at)?;
    Ok((StatusCode::CREATED, Json(activation)))
}

async fn add_member(
    conn: &mut SqliteConnection,
    township: Id,
    row: &RosterRow,
    code: &str,
    expires_at: i64,
) -> Result<(), AppError> {
    let person = clock::new_id();
    sqlx::query(
        "INSERT INTO people (id, name, home_org_id, certificate_no, activation_code_hash, activation_expires_at,
                             gender, birth_year, joined_on)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(person.to_string())
    .bind(&row.name)
    .bind(township.to_string())
    .bind(&row.certificate_no)
    .bind(&activation_code_hash(code)[..])
    .bind(expires_at)
    .bind(db::wire_name(&row.gender))
    .bind(row.birth_year)
    .bind(&row.joined)
    .execute(&mut *conn)
    .await?;
    changes::touch(conn, LogKey::Person(person), &[Audience::Member(person)]).await?;
    let phone = Edit {
        base_version: 0,
        fields: [(Field::Phone, row.phone.clone())].into(),
    };
    profile::apply(conn, person, &phone, None).await?;
    auth::set_sign_in_phone(conn, person, &row.phone).await
}

async fn sign_in_phone(
    State(state): State<AppState>,
    AdminOfMember { person_id: person }: AdminOfMember,
) -> Result<Json<SignInPhone>, AppError> {
    let phone = sqlx::query_scalar("SELECT sign_in_phone FROM people WHERE id = ?")
        .bind(person.to_string())
        .fetch_one(&state.db)
        .await?;
    Ok(Json(SignInPhone { phone }))
}

/// The township changes the number a member signs in with (the member asks them: a new number, a number
/// shared with another member before). Only the township: a stolen, unlocked phone must not move the sign-in to
/// the thief's number.
async fn set_sign_in_phone(
    State(state): State<AppState>,
    AdminOfMember { person_id: person }: AdminOfMember,
    ApiJson(request): ApiJson<SignInPhone>,
) -> Result<Json<SignInPhone>, AppError> {
    let typed = request.phone.unwrap_or_default();
    let number =
        profile_rules::sign_in_number(&typed).map_err(|problem| AppError::Invalid(format!("phone: {problem}")))?;
    let mut tx = db::begin_write(&state.writes).await?;
    auth::set_sign_in_phone(&mut tx, person, &number).await?;
    tx.commit().await?;
    let phone = Some(phone_digits(&number)).filter(|digits| !digits.is_empty());
    Ok(Json(SignInPhone { phone }))
}

//! The certificate's records on the server: a member's stops at host organisations (with the evaluation written
//! when they left) and the home township's yearly reviews. Each reaches the member's phones only.

use guihai_core::certificate::{Evaluation, Grade, Review, Stop};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::AppError;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, organisations};

/// Opens a stop: the member is at `org_id` from `arrived_at`.
pub async fn open_stop(
    conn: &mut SqliteConnection,
    person_id: Id,
    org_id: Id,
    arrived_at: i64,
) -> Result<Id, AppError> {
    let id = clock::new_id();
    insert_stop(conn, id, person_id, org_id, arrived_at).await?;
    Ok(id)
}

/// Opens the stop `id` (chosen by the caller, who names it elsewhere in the same transaction).
pub async fn insert_stop(
    conn: &mut SqliteConnection,
    id: Id,
    person_id: Id,
    org_id: Id,
    arrived_at: i64,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO stops (id, person_id, org_id, arrived_at) VALUES (?, ?, ?, ?)")
        .bind(id.to_string())
        .bind(person_id.to_string())
        .bind(org_id.to_string())
        .bind(arrived_at)
        .execute(&mut *conn)
        .await?;
    changes::touch(conn, LogKey::Stop(id), &[Audience::Member(person_id)]).await?;
    Ok(())
}

/// Closes a stop, with the host organisation's evaluation when it wrote one.
pub async fn close_stop(
    conn: &mut SqliteConnection,
    person_id: Id,
    id: Id,
    left_at: i64,
    evaluation: Option<&Evaluation>,
) -> Result<(), AppError> {
    sqlx::query("UPDATE stops SET left_at = ?, grade = ?, evaluation = ?, evaluated_at = ? WHERE id = ?")
        .bind(left_at)
        .bind(evaluation.map(|e| e.grade.as_str()))
        .bind(evaluation.map(|e| e.text.as_str()))
        .bind(evaluation.map(|e| e.written_at))
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    changes::touch(conn, LogKey::Stop(id), &[Audience::Member(person_id)]).await?;
    Ok(())
}

/// The home township's review of the member for `year`.
pub async fn add_review(
    conn: &mut SqliteConnection,
    person_id: Id,
    org_id: Id,
    year: u16,
    grade: Grade,
    text: &str,
) -> Result<(), AppError> {
    let id = clock::new_id();
    sqlx::query("INSERT INTO reviews (id, person_id, org_id, year, grade, text) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(id.to_string())
        .bind(person_id.to_string())
        .bind(org_id.to_string())
        .bind(year)
        .bind(grade.as_str())
        .bind(text)
        .execute(&mut *conn)
        .await?;
    changes::touch(conn, LogKey::Review(id), &[Audience::Member(person_id)]).await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct StopRow {
    org_id: String,
    arrived_at: i64,
    left_at: Option<i64>,
    leaving_at: Option<i64>,
    grade: Option<String>,
    evaluation: Option<String>,
    evaluated_at: Option<i64>,
}

/// A stop's evaluation from its three columns (all set, or none).
pub fn evaluation_of(
    grade: Option<String>,
    text: Option<String>,
    written_at: Option<i64>,
) -> Result<Option<Evaluation>, AppError> {
    Ok(match (grade, text, written_at) {
        (Some(grade), Some(text), Some(written_at)) => Some(Evaluation {
            grade: db::from_wire_name(&grade)?,
            text,
            written_at,
        }),
        _ => None,
    })
}

pub async fn load_stop(db: &SqlitePool, id: Id) -> Result<Option<Stop>, AppError> {
    let row: Option<StopRow> = sqlx::query_as(
        "SELECT org_id, arrived_at, left_at, leaving_at, grade, evaluation, evaluated_at FROM stops WHERE id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let evaluation = evaluation_of(row.grade, row.evaluation, row.evaluated_at)?;
    Ok(Some(Stop {
        id,
        org: organisations::get(db, &row.org_id).await?,
        arrived_at: row.arrived_at,
        left_at: row.left_at,
        leaving_at: row.leaving_at,
        evaluation,
    }))
}

pub async fn load_review(db: &SqlitePool, id: Id) -> Result<Option<Review>, AppError> {
    let row: Option<(i64, String, String, String)> = sqlx::query_as(
        "SELECT r.year, o.name, r.grade, r.text FROM reviews r JOIN organisations o ON o.id = r.org_id WHERE r.id = ?",
    )
    .bind(id.to_string())
    .fetch_optional(db)
    .await?;
    row.map(|(year, org_name, grade, text)| {
        Ok(Review {
            id,
            year: u16::try_from(year).map_err(|_| AppError::Internal(format!("review year {year}")))?,
            org_name,
            grade: db::from_wire_name(&grade)?,
            text,
        })
    })
    .transpose()
}

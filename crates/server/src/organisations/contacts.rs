//! Contacts made outside the app: the member's township or host secretary records a phone call, a visit or word
//! through the family (`POST /api/v1/people/{id}/contacts`), and sees those recorded before (`GET`). A contact
//! counts as hearing from the member (`rosters::LAST_CONTACT` reads `people.contacted_at`), so an out-of-contact
//! flag (失联) clears until the next period of silence; the member's own sync or check-in clears it as well.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::report::{ContactWay, NewContact, RecordedContact};

use crate::error::{ApiJson, AppError};
use crate::identity::roles::CaretakerOf;
use crate::routes::Routes;
use crate::{clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/people/{id}/contacts", record)
        .route(Method::GET, "/people/{id}/contacts", list)
}

/// At most this many contacts are listed, newest first.
const LISTED: i64 = 100;

async fn record(
    State(state): State<AppState>,
    CaretakerOf { user, person_id }: CaretakerOf,
    ApiJson(new): ApiJson<NewContact>,
) -> Result<(StatusCode, Json<RecordedContact>), AppError> {
    let now = clock::now_ms();
    let contact = new.checked(now).map_err(|error| AppError::Invalid(error.to_string()))?;
    let mut tx = db::begin_write(&state.writes).await?;
    sqlx::query(
        "INSERT INTO contacts (id, person_id, way, note, contacted_at, recorded_by, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(clock::new_id().to_string())
    .bind(person_id.to_string())
    .bind(contact.way.as_str())
    .bind(&contact.note)
    .bind(contact.contacted_at)
    .bind(user.person_id.to_string())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    // A contact recorded late never moves the last contact back.
    sqlx::query("UPDATE people SET contacted_at = max(coalesce(contacted_at, 0), ?) WHERE id = ?")
        .bind(contact.contacted_at)
        .bind(person_id.to_string())
        .execute(&mut *tx)
        .await?;
    let recorded_by: String = sqlx::query_scalar("SELECT name FROM people WHERE id = ?")
        .bind(user.person_id.to_string())
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    let recorded = RecordedContact {
        way: contact.way,
        note: contact.note,
        contacted_at: contact.contacted_at,
        recorded_by,
    };
    Ok((StatusCode::CREATED, Json(recorded)))
}

async fn list(
    State(state): State<AppState>,
    CaretakerOf { person_id, .. }: CaretakerOf,
) -> Result<Json<Vec<RecordedContact>>, AppError> {
    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
        "SELECT c.way, c.note, c.contacted_at, r.name FROM contacts c JOIN people r ON r.id = c.recorded_by
         WHERE c.person_id = ? ORDER BY c.contacted_at DESC, c.recorded_at DESC LIMIT ?",
    )
    .bind(person_id.to_string())
    .bind(LISTED)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(|(way, note, contacted_at, recorded_by)| {
            Ok(RecordedContact {
                way: stored_way(&way)?,
                note,
                contacted_at,
                recorded_by,
            })
        })
        .collect::<Result<_, AppError>>()
        .map(Json)
}

/// A way as the database keeps it; anything else is a damaged row.
pub fn stored_way(text: &str) -> Result<ContactWay, AppError> {
    ContactWay::parse(text).ok_or_else(|| AppError::Internal(format!("unknown contact way {text:?}")))
}

//! 流向 for a township's administrator (or the county's): where the township's members are, by city and by
//! organisation, and how that changed at the end of each of the last 12 months (`GET /api/v1/orgs/{id}/flow`,
//! and as a spreadsheet, `flow.csv`). Counted by core's `flow` from the members' stops.

use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use axum::Json;
use guihai_core::flow::{self, Flow, Stay};
use guihai_core::Id;
use time::{Date, Month, OffsetDateTime};

use crate::error::AppError;
use crate::identity::roles::TownshipAdminOf;
use crate::routes::Routes;
use crate::sheets::Sheet;
use crate::{clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::GET, "/orgs/{id}/flow", township_flow)
        .route(Method::GET, "/orgs/{id}/flow.csv", township_flow_csv)
}

/// How many months the flow looks back, this one included.
const MONTHS: usize = 12;

async fn township_flow(
    State(state): State<AppState>,
    TownshipAdminOf { township }: TownshipAdminOf,
) -> Result<Json<Flow>, AppError> {
    Ok(Json(load(&state, township).await?))
}

/// Month by month and city by city, one row each: what a quarterly report copies from.
async fn township_flow_csv(
    State(state): State<AppState>,
    TownshipAdminOf { township }: TownshipAdminOf,
) -> Result<Response, AppError> {
    let flow = load(&state, township).await?;
    let mut sheet = Sheet::new(&["月份", "在外党员", "城市", "党员"])?;
    for month in &flow.months {
        let away = month.away.to_string();
        for city in &month.cities {
            sheet.row([month.month.as_str(), &away, &city.name, &city.members.to_string()])?;
        }
        if month.cities.is_empty() {
            sheet.row([month.month.as_str(), &away, "", ""])?;
        }
    }
    sheet.download("township-flow.csv")
}

#[derive(sqlx::FromRow)]
struct StayRow {
    person_id: String,
    city: Option<String>,
    org: String,
    arrived_at: i64,
    left_at: Option<i64>,
}

async fn load(state: &AppState, township: Id) -> Result<Flow, AppError> {
    // Members only, as in the township's list: administrators and secretaries live there too.
    let members = "p.home_org_id = ?1 AND p.certificate_no IS NOT NULL";
    let (count,): (i64,) = sqlx::query_as(&format!("SELECT count(*) FROM people p WHERE {members}"))
        .bind(township.to_string())
        .fetch_one(&state.db)
        .await?;
    let rows: Vec<StayRow> = sqlx::query_as(&format!(
        "SELECT s.person_id, o.city, o.name AS org, s.arrived_at, s.left_at
         FROM stops s JOIN people p ON p.id = s.person_id JOIN organisations o ON o.id = s.org_id
         WHERE {members}"
    ))
    .bind(township.to_string())
    .fetch_all(&state.db)
    .await?;
    let stays = rows
        .into_iter()
        .map(|row| {
            Ok(Stay {
                member: db::id(&row.person_id)?,
                city: row.city.unwrap_or_default(),
                org: row.org,
                arrived_at: row.arrived_at,
                left_at: row.left_at,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let now = clock::now_ms();
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    Ok(flow::flow(count, &stays, now, &month_ends(now)))
}

/// The last `MONTHS` months in China time, oldest first, each with the moment it ended (this month: now).
fn month_ends(now: i64) -> Vec<(String, i64)> {
    let today = OffsetDateTime::from_unix_timestamp(now / 1000)
        .map(|at| at.to_offset(clock::CHINA).date())
        .unwrap_or(Date::MIN);
    let mut ends = Vec::with_capacity(MONTHS);
    let (mut year, mut month) = (today.year(), today.month());
    for back in 0..MONTHS {
        let end = match back {
            0 => now,
            _ => start_of_next(year, month),
        };
        ends.push((format!("{year}-{:02}", u8::from(month)), end));
        if month == Month::January {
            year -= 1;
        }
        month = month.previous();
    }
    ends.reverse();
    ends
}

/// Midnight China time of the first day after `month` of `year`, in Unix milliseconds.
fn start_of_next(year: i32, month: Month) -> i64 {
    let year = if month == Month::December { year + 1 } else { year };
    Date::from_calendar_date(year, month.next(), 1)
        .map(clock::china_midnight_ms)
        .unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_to_end_in_china_time() {
        // 2026-01-15 12:00 China time.
        let now = 1_768_449_600_000;
        let ends = month_ends(now);
        assert_eq!(ends.len(), MONTHS);
        assert_eq!(ends.first().map(|(m, _)| m.as_str()), Some("2025-02"));
        // February 2025 ended at 2025-03-01 00:00 China time, 2025-02-28 16:00 UTC.
        assert_eq!(ends[0].1, 1_740_758_400_000);
        assert_eq!(ends[10], ("2025-12".to_owned(), 1_767_196_800_000));
        assert_eq!(ends[11], ("2026-01".to_owned(), now));
    }
}

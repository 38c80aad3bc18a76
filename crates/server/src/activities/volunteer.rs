//! Volunteer service (志愿服务) by year, for an organisation's secretary: each team's hours and each member's,
//! counted from the attendance of the organisation's volunteer activities (the hours an activity credits, or
//! those its secretary credited one attendee). The year is China's, where the organisations are.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::Json;
use guihai_core::attendance::{MemberHours, TeamHours, VolunteerHours};
use serde::Deserialize;

use crate::error::AppError;
use crate::identity::roles::SecretaryOf;
use crate::routes::Routes;
use crate::{clock, db, AppState};

pub fn routes() -> Routes {
    Routes::new().route(Method::GET, "/orgs/{id}/volunteer-hours", hours)
}

#[derive(Debug, Deserialize)]
struct HoursQuery {
    year: Option<i32>,
}

/// Unix milliseconds of the start of `year` in China.
fn year_start(year: i32) -> Result<i64, AppError> {
    let date = time::Date::from_calendar_date(year, time::Month::January, 1)
        .map_err(|_| AppError::Invalid(format!("no year {year}")))?;
    Ok(clock::china_midnight_ms(date))
}

/// The hours an attendance credits: the secretary's for this member, or the activity's.
const CREDITED: &str = "sum(coalesce(c.hours_tenths, a.hours_tenths, 0))";
/// The organisation's volunteer activities that started in the year (`?2` to `?3`).
const OF_YEAR: &str = "WHERE a.org_id = ?1 AND a.kind = 'volunteer' AND a.cancelled_at IS NULL
    AND a.starts_at >= ?2 AND a.starts_at < ?3";

async fn hours(
    State(state): State<AppState>,
    SecretaryOf { org_id, .. }: SecretaryOf,
    query: Result<Query<HoursQuery>, QueryRejection>,
) -> Result<Json<VolunteerHours>, AppError> {
    let Query(query) = query?;
    let this_year = time::OffsetDateTime::from_unix_timestamp(clock::now_ms() / 1000)
        .map(|now| now.to_offset(clock::CHINA).year())
        .unwrap_or(2026);
    let year = query.year.unwrap_or(this_year);
    if !(2000..=9999).contains(&year) {
        return Err(AppError::Invalid(format!("no year {year}")));
    }
    let (from, until) = (year_start(year)?, year_start(year + 1)?);
    let teams: Vec<(Option<String>, i64)> = sqlx::query_as(&format!(
        "SELECT a.team, {CREDITED} AS tenths FROM check_ins c JOIN activities a ON a.id = c.activity_id {OF_YEAR}
         GROUP BY a.team ORDER BY tenths DESC, a.team"
    ))
    .bind(org_id.to_string())
    .bind(from)
    .bind(until)
    .fetch_all(&state.db)
    .await?;
    let members: Vec<(String, String, i64)> = sqlx::query_as(&format!(
        "SELECT c.person_id, p.name, {CREDITED} AS tenths
         FROM check_ins c JOIN activities a ON a.id = c.activity_id JOIN people p ON p.id = c.person_id {OF_YEAR}
         GROUP BY c.person_id, p.name ORDER BY tenths DESC, p.name"
    ))
    .bind(org_id.to_string())
    .bind(from)
    .bind(until)
    .fetch_all(&state.db)
    .await?;
    let tenths = |sum: i64| u32::try_from(sum).unwrap_or(u32::MAX);
    Ok(Json(VolunteerHours {
        year,
        teams: teams
            .into_iter()
            .map(|(team, sum)| {
                Ok(TeamHours {
                    team: team.as_deref().map(db::from_wire_name).transpose()?,
                    hours_tenths: tenths(sum),
                })
            })
            .collect::<Result<_, AppError>>()?,
        members: members
            .into_iter()
            .map(|(member_id, name, sum)| {
                Ok(MemberHours {
                    member_id: db::id(&member_id)?,
                    name,
                    hours_tenths: tenths(sum),
                })
            })
            .collect::<Result<_, AppError>>()?,
    }))
}

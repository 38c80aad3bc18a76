//! Who is where: a host organisation's secretary sees the reports waiting, the members there now and those who
//! left (`GET /api/v1/orgs/{id}/overview`); a township's administrator sees where its members went (流向) and
//! registers a member's return home (`GET /api/v1/orgs/{id}/members`, `POST /api/v1/people/{id}/return`).
//! Both see who is out of contact (失联): nothing heard for `Config::lost_after_days`.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::Json;
use guihai_core::certificate::{Attended, Stop};
use guihai_core::domain::{ActivityKind, OrgKind, OrgRef};
use guihai_core::report::{
    is_lost, ContactWay, MemberDetail, OrgOverview, OrgSummary, OrgTree, PendingReport, RecordedContact, RosterEntry,
    ATTENDED_LISTED_FOR_MS,
};
use guihai_core::situation::{situation, Facts};
use guihai_core::Id;
use sqlx::SqlitePool;

use crate::error::AppError;
use crate::identity::roles::{AdminOfMember, CountyAdminOf, SecretaryOf, TownshipAdminOf};
use crate::routes::Routes;
use crate::sheets::{china_date, Sheet};
use crate::{
    clock, db, organisations, organisations::certificate, organisations::contacts, organisations::reports, AppState,
};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::GET, "/orgs/{id}/overview", overview)
        .route(Method::GET, "/orgs/{id}/overview.csv", overview_csv)
        .route(Method::GET, "/orgs/{id}/members", township_members)
        .route(Method::GET, "/orgs/{id}/members.csv", township_members_csv)
        .route(Method::GET, "/people/{id}", member_detail)
        .route(Method::POST, "/people/{id}/return", register_return)
        .route(Method::GET, "/orgs/{id}/tree", tree)
        .route(Method::GET, "/orgs/{id}/tree.csv", tree_csv)
}

/// The last time the member was heard from: a sync, a check-in, a report, or contact noted outside the app.
/// 0 stands for never (SQLite's `max` of several values is NULL if any is).
const LAST_CONTACT: &str = "max(
    coalesce(p.contacted_at, 0),
    coalesce((SELECT max(coalesce(x.last_seen_at, x.created_at)) FROM sessions x WHERE x.person_id = p.id), 0),
    coalesce((SELECT max(c.received_at) FROM check_ins c WHERE c.person_id = p.id), 0),
    coalesce((SELECT max(r.received_at) FROM reports r WHERE r.person_id = p.id), 0))";

/// A list holds at most this many members: a whole county's mobile members (about 2,200 in the seed's county),
/// with room to grow; the screens find and page through them.
const LISTED_AT_MOST: u32 = 20_000;

#[derive(sqlx::FromRow)]
struct Row {
    person_id: String,
    name: String,
    phone: Option<String>,
    home_org: String,
    current_org_id: Option<String>,
    stop_id: Option<String>,
    stop_org_id: Option<String>,
    arrived_at: Option<i64>,
    leaving_at: Option<i64>,
    left_at: Option<i64>,
    grade: Option<String>,
    evaluation: Option<String>,
    evaluated_at: Option<i64>,
    last_contact: i64,
    returned_home_at: Option<i64>,
    last_left_org: Option<String>,
    last_left_at: Option<i64>,
    reported_to: Option<String>,
    contact_way: Option<String>,
    contact_note: Option<String>,
    contacted_at: Option<i64>,
    contact_by: Option<String>,
}

/// Members with a stop chosen by `stops`, a SQL condition on `s` (the stop) and `p` (the person) binding one
/// organisation id; `LEFT JOIN`ed, so a township's member with no open stop is listed too.
async fn roster(
    state: &AppState,
    join: &str,
    filter: &str,
    org_id: Id,
    order: &str,
) -> Result<Vec<RosterEntry>, AppError> {
    let sql = format!(
        "SELECT p.id AS person_id, p.name, f.value AS phone, h.name AS home_org, p.current_org_id,
                s.id AS stop_id, s.org_id AS stop_org_id, s.arrived_at, s.leaving_at, s.left_at, s.grade,
                s.evaluation, s.evaluated_at, {LAST_CONTACT} AS last_contact, p.returned_home_at,
                (SELECT o.name FROM stops x JOIN organisations o ON o.id = x.org_id
                 WHERE x.person_id = p.id AND x.left_at IS NOT NULL ORDER BY x.left_at DESC LIMIT 1) AS last_left_org,
                (SELECT max(x.left_at) FROM stops x WHERE x.person_id = p.id) AS last_left_at,
                (SELECT o.name FROM reports r JOIN organisations o ON o.id = r.org_id
                 WHERE r.person_id = p.id AND r.state = 'pending' ORDER BY r.received_at DESC LIMIT 1) AS reported_to,
                c.way AS contact_way, c.note AS contact_note, c.contacted_at, cr.name AS contact_by
         FROM people p {join}
         LEFT JOIN contacts c ON c.id = (SELECT id FROM contacts WHERE person_id = p.id
                                         ORDER BY contacted_at DESC, recorded_at DESC LIMIT 1)
         LEFT JOIN people cr ON cr.id = c.recorded_by
         JOIN organisations h ON h.id = p.home_org_id
         LEFT JOIN profile_fields f ON f.person_id = p.id AND f.field = 'phone'
         WHERE {filter} ORDER BY {order} LIMIT {LISTED_AT_MOST}"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(org_id.to_string())
        .fetch_all(&state.db)
        .await?;
    let now = clock::now_ms();
    let mut entries = Vec::with_capacity(rows.len());
    // Hundreds of members live in a handful of organisations: each is read once per list.
    let mut known: HashMap<String, OrgRef> = HashMap::new();
    for row in rows {
        let last_contact = (row.last_contact > 0).then_some(row.last_contact);
        let evaluation = certificate::evaluation_of(row.grade, row.evaluation, row.evaluated_at)?;
        let person_id = db::id(&row.person_id)?;
        let attended = match (&row.stop_org_id, row.arrived_at) {
            (Some(org), Some(arrived)) => attended(&state.db, person_id, org, arrived, row.left_at).await?,
            _ => Vec::new(),
        };
        let open_stop = match (&row.stop_id, &row.stop_org_id, row.arrived_at, row.left_at) {
            (Some(id), Some(org), Some(arrived_at), None) => Some(Stop {
                id: db::id(id)?,
                org: org_once(&state.db, &mut known, org).await?,
                arrived_at,
                left_at: None,
                leaving_at: row.leaving_at,
                evaluation: None,
            }),
            _ => None,
        };
        let situation = situation(Facts {
            open_stop: open_stop.as_ref(),
            leaving: false,
            reported_to: row.reported_to.as_deref(),
            last_left: row.last_left_org.as_deref().zip(row.last_left_at),
            returned_home_at: row.returned_home_at,
        });
        let recorded_contact = match (row.contact_way, row.contact_note, row.contacted_at, row.contact_by) {
            (Some(way), Some(note), Some(contacted_at), Some(recorded_by)) => Some(RecordedContact {
                way: contacts::stored_way(&way)?,
                note,
                contacted_at,
                recorded_by,
            }),
            _ => None,
        };
        entries.push(RosterEntry {
            person_id,
            name: row.name,
            phone: row.phone,
            home_org: row.home_org,
            current_org: match row.current_org_id {
                Some(id) => Some(org_once(&state.db, &mut known, &id).await?),
                None => None,
            },
            stop_id: row.stop_id.as_deref().map(db::id).transpose()?,
            arrived_at: row.arrived_at,
            leaving_at: row.leaving_at,
            left_at: row.left_at,
            evaluation,
            attended,
            last_contact,
            lost: is_lost(last_contact, now, state.lost_after_days),
            situation,
            recorded_contact,
        });
    }
    Ok(entries)
}

/// Organisation `id`, read from the database the first time a list meets it.
async fn org_once(db: &SqlitePool, known: &mut HashMap<String, OrgRef>, id: &str) -> Result<OrgRef, AppError> {
    if let Some(org) = known.get(id) {
        return Ok(org.clone());
    }
    let org = organisations::get(db, id).await?;
    known.insert(id.to_owned(), org.clone());
    Ok(org)
}

/// What the member attended at `org_id` during a stop, by kind, from the server's check-in log.
async fn attended(
    db: &SqlitePool,
    person_id: Id,
    org_id: &str,
    arrived_at: i64,
    left_at: Option<i64>,
) -> Result<Vec<(ActivityKind, u32)>, AppError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT a.kind, count(*) FROM check_ins c JOIN activities a ON a.id = c.activity_id
         WHERE c.person_id = ? AND c.org_id = ? AND c.scanned_at >= ? AND c.scanned_at < ?
         GROUP BY a.kind ORDER BY a.kind",
    )
    .bind(person_id.to_string())
    .bind(org_id)
    .bind(arrived_at)
    .bind(left_at.unwrap_or(i64::MAX))
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(kind, count)| Ok((db::from_wire_name(&kind)?, u32::try_from(count).unwrap_or(u32::MAX))))
        .collect()
}

async fn overview(
    State(state): State<AppState>,
    SecretaryOf { org_id: id, .. }: SecretaryOf,
) -> Result<Json<OrgOverview>, AppError> {
    Ok(Json(load_overview(&state, id).await?))
}

/// The organisation's members, here now and gone, as a spreadsheet.
async fn overview_csv(
    State(state): State<AppState>,
    SecretaryOf { org_id: id, .. }: SecretaryOf,
) -> Result<Response, AppError> {
    let overview = load_overview(&state, id).await?;
    members_sheet(overview.members.iter().chain(&overview.departed))?.download("organisation-members.csv")
}

async fn load_overview(state: &AppState, id: Id) -> Result<OrgOverview, AppError> {
    let org = organisations::load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let join = "JOIN stops s ON s.person_id = p.id";
    let members = roster(state, join, "s.org_id = ? AND s.left_at IS NULL", id, "p.name").await?;
    let departed = roster(
        state,
        join,
        "s.org_id = ? AND s.left_at IS NOT NULL",
        id,
        "s.left_at DESC",
    )
    .await?;
    Ok(OrgOverview {
        org,
        pending: pending_reports(&state.db, id).await?,
        members,
        departed,
    })
}

/// Members as a spreadsheet: one row each, with where they are, their stay, what they attended and their last
/// contact.
fn members_sheet<'a>(entries: impl IntoIterator<Item = &'a RosterEntry>) -> Result<Sheet, AppError> {
    let mut sheet = Sheet::new(&[
        "姓名",
        "手机号",
        "家乡组织",
        "现在所在城市",
        "现在所在组织",
        "到达日期",
        "离开日期",
        "参加活动次数",
        "最近联系",
        "失联",
        "最近一次线下联系",
    ])?;
    for entry in entries {
        let date = |ms: Option<i64>| ms.map(china_date).unwrap_or_default();
        let contact = entry.recorded_contact.as_ref().map(|c| {
            let way = match c.way {
                ContactWay::Phone => "电话联系",
                ContactWay::Visit => "上门走访",
                ContactWay::Family => "通过家属",
                ContactWay::Other => "其他方式",
            };
            format!("{way} {} {}：{}", china_date(c.contacted_at), c.recorded_by, c.note)
        });
        let attended: u32 = entry.attended.iter().map(|(_, n)| n).sum();
        sheet.row([
            entry.name.as_str(),
            entry.phone.as_deref().unwrap_or_default(),
            &entry.home_org,
            entry
                .current_org
                .as_ref()
                .and_then(|o| o.city.as_deref())
                .unwrap_or_default(),
            entry.current_org.as_ref().map_or("", |o| o.name.as_str()),
            &date(entry.arrived_at),
            &date(entry.left_at),
            &attended.to_string(),
            &date(entry.last_contact),
            if entry.lost { "是" } else { "" },
            &contact.unwrap_or_default(),
        ])?;
    }
    Ok(sheet)
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: String,
    person_id: String,
    name: String,
    phone: Option<String>,
    home_org: String,
    previous_org: Option<String>,
    received_at: i64,
}

async fn pending_reports(db: &SqlitePool, org_id: Id) -> Result<Vec<PendingReport>, AppError> {
    let rows: Vec<PendingRow> = sqlx::query_as(
        "SELECT r.id, p.id AS person_id, p.name, f.value AS phone, h.name AS home_org, c.name AS previous_org,
                r.received_at
         FROM reports r JOIN people p ON p.id = r.person_id JOIN organisations h ON h.id = p.home_org_id
         LEFT JOIN organisations c ON c.id = p.current_org_id
         LEFT JOIN profile_fields f ON f.person_id = p.id AND f.field = 'phone'
         WHERE r.org_id = ? AND r.state = 'pending' ORDER BY r.received_at",
    )
    .bind(org_id.to_string())
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(PendingReport {
                id: db::id(&row.id)?,
                person_id: db::id(&row.person_id)?,
                name: row.name,
                phone: row.phone,
                home_org: row.home_org,
                previous_org: row.previous_org,
                received_at: row.received_at,
            })
        })
        .collect()
}

async fn township_members(
    State(state): State<AppState>,
    TownshipAdminOf { township: id }: TownshipAdminOf,
) -> Result<Json<Vec<RosterEntry>>, AppError> {
    Ok(Json(township_roster(&state, id).await?))
}

async fn township_members_csv(
    State(state): State<AppState>,
    TownshipAdminOf { township: id }: TownshipAdminOf,
) -> Result<Response, AppError> {
    members_sheet(&township_roster(&state, id).await?)?.download("township-members.csv")
}

/// The latest open stop: a member who reported on without leaving has two, and is listed once.
const LATEST_OPEN_STOP: &str =
    "LEFT JOIN stops s ON s.id = (SELECT id FROM stops WHERE person_id = p.id AND left_at IS NULL
                                                            ORDER BY arrived_at DESC LIMIT 1)";

async fn township_roster(state: &AppState, id: Id) -> Result<Vec<RosterEntry>, AppError> {
    // Members only: the township's and the county's administrators, and secretaries, live there too.
    let members = "p.home_org_id = ? AND p.certificate_no IS NOT NULL";
    roster(state, LATEST_OPEN_STOP, members, id, "p.name").await
}

/// One member on a page of their own, for their township or county: the list's entry, every stop, the reviews,
/// and the last 12 months' activities.
async fn member_detail(
    State(state): State<AppState>,
    AdminOfMember { person_id }: AdminOfMember,
) -> Result<Json<MemberDetail>, AppError> {
    let entry = roster(&state, LATEST_OPEN_STOP, "p.id = ?", person_id, "p.name")
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let person = person_id.to_string();
    let stop_ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM stops WHERE person_id = ? ORDER BY arrived_at DESC")
        .bind(&person)
        .fetch_all(&state.db)
        .await?;
    let mut stops = Vec::with_capacity(stop_ids.len());
    for (id,) in stop_ids {
        stops.extend(certificate::load_stop(&state.db, db::id(&id)?).await?);
    }
    let review_ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM reviews WHERE person_id = ? ORDER BY year DESC")
        .bind(&person)
        .fetch_all(&state.db)
        .await?;
    let mut reviews = Vec::with_capacity(review_ids.len());
    for (id,) in review_ids {
        reviews.extend(certificate::load_review(&state.db, db::id(&id)?).await?);
    }
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT a.title, a.kind, c.org_id, c.scanned_at FROM check_ins c JOIN activities a ON a.id = c.activity_id
         WHERE c.person_id = ? AND c.scanned_at >= ? ORDER BY c.scanned_at DESC",
    )
    .bind(&person)
    .bind(clock::now_ms() - ATTENDED_LISTED_FOR_MS)
    .fetch_all(&state.db)
    .await?;
    let attended = rows
        .into_iter()
        .map(|(title, kind, org_id, at)| {
            Ok(Attended {
                org_id: db::id(&org_id)?,
                at,
                kind: db::from_wire_name(&kind)?,
                title,
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(MemberDetail {
        entry,
        stops,
        reviews,
        attended,
    }))
}

/// The member is back home: their open stops close and they have no current host organisation.
async fn register_return(
    State(state): State<AppState>,
    AdminOfMember { person_id }: AdminOfMember,
) -> Result<StatusCode, AppError> {
    let now = clock::now_ms();
    let mut tx = db::begin_write(&state.writes).await?;
    reports::close_open_stops(&mut tx, person_id, now).await?;
    sqlx::query("UPDATE people SET returned_home_at = ? WHERE id = ?")
        .bind(now)
        .bind(person_id.to_string())
        .execute(&mut *tx)
        .await?;
    reports::moved(&mut tx, person_id, None).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    name: String,
    kind: String,
    city: Option<String>,
    parent_id: Option<String>,
    address: Option<String>,
    contact: Option<String>,
    members: i64,
    lost: i64,
    pending: i64,
    reported: i64,
}

/// How an organisation's members took part over the last 12 months (`OrgSummary`'s fields of the same names).
#[derive(Debug, Clone, Copy, Default)]
struct TakingPart {
    activities: i64,
    attended: i64,
    expected: i64,
    hours_tenths: i64,
}

/// Activities counted in the totals: held in the last 12 months (`?2` to `?3`), ended, not cancelled.
const HELD: &str = "a.cancelled_at IS NULL AND a.starts_at >= ?2 AND a.ends_at <= ?3";

#[derive(sqlx::FromRow)]
struct PartRow {
    home_org_id: String,
    current_org_id: Option<String>,
    attended: i64,
    hours_tenths: i64,
}

/// `TakingPart` of each organisation of the county, by id: activities held, each member's attendance at their
/// organisation's (expected at each it held), and volunteer hours, added up by home township and by host.
async fn taking_part(state: &AppState, county: Id) -> Result<HashMap<String, TakingPart>, AppError> {
    let now = clock::now_ms();
    let since = now - ATTENDED_LISTED_FOR_MS;
    let held: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "SELECT a.org_id, count(*),
                coalesce((SELECT sum(coalesce(c.hours_tenths, x.hours_tenths, 0)) FROM check_ins c
                          JOIN activities x ON x.id = c.activity_id
                          WHERE x.org_id = a.org_id AND x.kind = 'volunteer'
                            AND x.cancelled_at IS NULL AND x.starts_at >= ?2 AND x.ends_at <= ?3), 0)
         FROM activities a JOIN organisations o ON o.id = a.org_id
         WHERE o.home_county_id = ?1 AND {HELD} GROUP BY a.org_id"
    ))
    .bind(county.to_string())
    .bind(since)
    .bind(now)
    .fetch_all(&state.db)
    .await?;
    let mut parts: HashMap<String, TakingPart> = HashMap::new();
    for (org, activities, hours_tenths) in held {
        let part = parts.entry(org).or_default();
        part.activities = activities;
        part.hours_tenths = hours_tenths;
    }
    let people: Vec<PartRow> = sqlx::query_as(&format!(
        "SELECT p.home_org_id, p.current_org_id,
                (SELECT count(*) FROM check_ins c JOIN activities a ON a.id = c.activity_id
                 WHERE c.person_id = p.id AND a.org_id = p.current_org_id AND {HELD}) AS attended,
                coalesce((SELECT sum(coalesce(c.hours_tenths, a.hours_tenths, 0)) FROM check_ins c
                          JOIN activities a ON a.id = c.activity_id
                          WHERE c.person_id = p.id AND a.kind = 'volunteer' AND {HELD}), 0) AS hours_tenths
         FROM people p JOIN organisations h ON h.id = p.home_org_id
         WHERE h.parent_id = ?1 AND h.kind = 'township' AND p.certificate_no IS NOT NULL"
    ))
    .bind(county.to_string())
    .bind(since)
    .bind(now)
    .fetch_all(&state.db)
    .await?;
    for person in people {
        let expected = person
            .current_org_id
            .as_ref()
            .and_then(|org| parts.get(org))
            .map_or(0, |host| host.activities);
        if let Some(org) = person.current_org_id {
            let host = parts.entry(org).or_default();
            host.attended += person.attended;
            host.expected += expected;
        }
        let home = parts.entry(person.home_org_id).or_default();
        home.attended += person.attended;
        home.expected += expected;
        home.hours_tenths += person.hours_tenths;
    }
    Ok(parts)
}

/// The county's tree, for its administrator: every township under it and every host organisation it set up,
/// with members, lost contact and waiting reports counted.
async fn tree(
    State(state): State<AppState>,
    CountyAdminOf { county }: CountyAdminOf,
) -> Result<Json<OrgTree>, AppError> {
    Ok(Json(load_tree(&state, county).await?))
}

/// The county's organisations with their counts, as a spreadsheet.
async fn tree_csv(
    State(state): State<AppState>,
    CountyAdminOf { county }: CountyAdminOf,
) -> Result<Response, AppError> {
    let tree = load_tree(&state, county).await?;
    let mut sheet = Sheet::new(&[
        "组织",
        "类别",
        "城市",
        "党员",
        "已报到",
        "失联",
        "待确认的报到",
        "近12个月活动",
        "参加率",
        "志愿服务小时",
    ])?;
    for summary in &tree.orgs {
        let kind = match summary.org.kind {
            OrgKind::County => "县委",
            OrgKind::Township => "乡镇党委",
            OrgKind::MobileCommittee => "流动党委",
            OrgKind::GeneralBranch => "流动党总支",
            OrgKind::Branch => "流动党支部",
            OrgKind::ContactPoint => "流动党员联系点",
        };
        let rate = summary.attendance_percent().map(|p| format!("{p}%"));
        sheet.row([
            summary.org.name.as_str(),
            kind,
            summary.org.city.as_deref().unwrap_or_default(),
            &summary.members.to_string(),
            &summary.reported.to_string(),
            &summary.lost.to_string(),
            &summary.pending.to_string(),
            &summary.activities.to_string(),
            rate.as_deref().unwrap_or_default(),
            &guihai_core::attendance::hours_text(summary.hours_tenths),
        ])?;
    }
    sheet.download("county-organisations.csv")
}

async fn load_tree(state: &AppState, county: Id) -> Result<OrgTree, AppError> {
    let lost_before = clock::now_ms() - i64::from(state.lost_after_days) * 24 * 3_600_000;
    // Members of an organisation: home side, whose home it is (with a certificate: administrators are not
    // counted); host side, with an open stop there. Each side read through its own index, once, rather than
    // every person tried against every organisation.
    let sql = format!(
        "WITH county_orgs AS (
             SELECT * FROM organisations WHERE (parent_id = ?1 OR home_county_id = ?1) AND closed_at IS NULL
         ), members(org_id, person_id) AS (
             SELECT p.home_org_id, p.id FROM people p
             WHERE p.certificate_no IS NOT NULL
               AND p.home_org_id IN (SELECT id FROM county_orgs WHERE kind = 'township')
             UNION
             SELECT s.org_id, s.person_id FROM stops s JOIN people p ON p.id = s.person_id AND p.certificate_no IS NOT NULL
             WHERE s.left_at IS NULL AND s.org_id IN (SELECT id FROM county_orgs WHERE kind NOT IN ('county', 'township'))
         ), counted AS (
             SELECT m.org_id, count(*) AS members,
                    sum(CASE WHEN {LAST_CONTACT} < ?2 THEN 1 ELSE 0 END) AS lost,
                    count(p.current_org_id) AS reported
             FROM members m JOIN people p ON p.id = m.person_id GROUP BY m.org_id
         )
         SELECT o.id, o.name, o.kind, o.city, o.parent_id, o.address, o.contact,
                coalesce(c.members, 0) AS members, coalesce(c.lost, 0) AS lost,
                (SELECT count(*) FROM reports r WHERE r.org_id = o.id AND r.state = 'pending') AS pending,
                coalesce(c.reported, 0) AS reported
         FROM county_orgs o LEFT JOIN counted c ON c.org_id = o.id
         ORDER BY o.kind, o.name"
    );
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(county.to_string())
        .bind(lost_before)
        .fetch_all(&state.db)
        .await?;
    let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
    let taking_part = taking_part(state, county).await?;
    let mut orgs = Vec::with_capacity(rows.len());
    for row in rows {
        let part = taking_part.get(&row.id).copied().unwrap_or_default();
        orgs.push(OrgSummary {
            org: OrgRef {
                id: db::id(&row.id)?,
                kind: OrgKind::parse(&row.kind)
                    .ok_or_else(|| AppError::Internal(format!("unknown organisation kind {:?}", row.kind)))?,
                name: row.name,
                city: row.city,
            },
            parent_id: row.parent_id.as_deref().map(db::id).transpose()?,
            address: row.address,
            contact: row.contact,
            members: count(row.members),
            lost: count(row.lost),
            pending: count(row.pending),
            reported: count(row.reported),
            activities: count(part.activities),
            attended: count(part.attended),
            expected: count(part.expected),
            hours_tenths: count(part.hours_tenths),
        });
    }
    Ok(OrgTree {
        county: organisations::load(&state.db, county)
            .await?
            .ok_or(AppError::NotFound)?,
        orgs,
    })
}

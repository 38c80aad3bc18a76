//! Notices (core's `notice`): the county, a township or a host organisation writes one to its members
//! (`POST /api/v1/orgs/{id}/notices`); it reaches their phones through pull, is read offline, and the phone
//! reports it read in a push (`Op::ReadNotice`); the author's organisation sees its notices with how many have
//! read each (`GET /api/v1/orgs/{id}/notices`) and who has and has not (`GET /api/v1/notices/{id}/receipts`).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::Json;
use guihai_core::notice::{NewNotice, Notice, NoticeRead, Reader, Receipts, SentNotice};
use guihai_core::sync::{Outcome, Rejection};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::activities::checkins::Origin;
use crate::error::{ApiJson, AppError};
use crate::identity::auth::AuthUser;
use crate::identity::roles::StewardOf;
use crate::routes::Routes;
use crate::sync::changes::{self, Audience, LogKey};
use crate::{clock, db, identity::roles, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route(Method::POST, "/orgs/{id}/notices", send)
        .route(Method::GET, "/orgs/{id}/notices", sent)
        .route(Method::GET, "/notices/{id}/receipts", receipts)
}

/// The members a notice of the organisation `?1` is for (core's `notice`): a county's, those whose home township
/// is in it; a township's, those whose home it is; a host organisation's, those there now.
const MEMBERS_OF: &str = "SELECT p.id, p.name FROM people p JOIN organisations h ON h.id = p.home_org_id
     WHERE p.certificate_no IS NOT NULL AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.person_id = p.id)
       AND (p.home_org_id = ?1 OR h.parent_id = ?1 OR p.current_org_id = ?1)";

/// Notices listed at most, newest first.
const LISTED: i64 = 200;

async fn send(
    State(state): State<AppState>,
    StewardOf { user, org_id }: StewardOf,
    ApiJson(new): ApiJson<NewNotice>,
) -> Result<(StatusCode, Json<Notice>), AppError> {
    let new = new.checked().map_err(|error| AppError::Invalid(error.to_string()))?;
    let notice = Notice {
        id: clock::new_id(),
        org_id,
        org_name: String::new(),
        title: new.title,
        body: new.body,
        published_at: clock::now_ms(),
    };
    let mut tx = db::begin_write(&state.writes).await?;
    sqlx::query("INSERT INTO notices (id, org_id, author_id, title, body, published_at) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(notice.id.to_string())
        .bind(org_id.to_string())
        .bind(user.person_id.to_string())
        .bind(&notice.title)
        .bind(&notice.body)
        .bind(notice.published_at)
        .execute(&mut *tx)
        .await?;
    let audiences = audiences(&mut tx, org_id).await?;
    changes::touch(&mut tx, LogKey::Notice(notice.id), &audiences).await?;
    tx.commit().await?;
    let notice = load(&state.db, notice.id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(notice)))
}

/// Whose phones a notice of `org_id` reaches: the organisation's own audience (its home members, or those there
/// now), and for a county, each of its townships'.
async fn audiences(conn: &mut SqliteConnection, org_id: Id) -> Result<Vec<Audience>, AppError> {
    let townships: Vec<(String,)> =
        sqlx::query_as("SELECT id FROM organisations WHERE parent_id = ? AND kind = 'township'")
            .bind(org_id.to_string())
            .fetch_all(&mut *conn)
            .await?;
    let mut audiences = vec![Audience::Org(org_id)];
    for (township,) in townships {
        audiences.push(Audience::Org(db::id(&township)?));
    }
    Ok(audiences)
}

async fn sent(
    State(state): State<AppState>,
    StewardOf { org_id, .. }: StewardOf,
) -> Result<Json<Vec<SentNotice>>, AppError> {
    let members: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM ({MEMBERS_OF})"))
        .bind(org_id.to_string())
        .fetch_one(&state.db)
        .await?;
    // The notices and their read counts in one query, not one more query per notice.
    let rows: Vec<SentRow> = sqlx::query_as(&format!(
        "SELECT {NOTICE_FIELDS}, (SELECT count(*) FROM notice_reads r WHERE r.notice_id = n.id
                        AND r.person_id IN (SELECT id FROM ({MEMBERS_OF}))) AS read
         {NOTICE_FROM} WHERE n.org_id = ?1 ORDER BY n.published_at DESC LIMIT ?2"
    ))
    .bind(org_id.to_string())
    .bind(LISTED)
    .fetch_all(&state.db)
    .await?;
    rows.into_iter()
        .map(|SentRow { notice, read }| {
            Ok(SentNotice {
                notice: notice.notice()?,
                members: u32::try_from(members).unwrap_or_default(),
                read: u32::try_from(read).unwrap_or_default(),
            })
        })
        .collect::<Result<_, AppError>>()
        .map(Json)
}

/// A notice's columns, as `NoticeRow` reads them, from `NOTICE_FROM`.
const NOTICE_FIELDS: &str = "n.id, n.org_id, o.name AS org_name, n.title, n.body, n.published_at";
const NOTICE_FROM: &str = "FROM notices n JOIN organisations o ON o.id = n.org_id";

#[derive(sqlx::FromRow)]
struct NoticeRow {
    id: String,
    org_id: String,
    org_name: String,
    title: String,
    body: String,
    published_at: i64,
}

#[derive(sqlx::FromRow)]
struct SentRow {
    #[sqlx(flatten)]
    notice: NoticeRow,
    read: i64,
}

impl NoticeRow {
    fn notice(self) -> Result<Notice, AppError> {
        Ok(Notice {
            id: db::id(&self.id)?,
            org_id: db::id(&self.org_id)?,
            org_name: self.org_name,
            title: self.title,
            body: self.body,
            published_at: self.published_at,
        })
    }
}

async fn receipts(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<Id>,
) -> Result<Json<Receipts>, AppError> {
    let notice = load(&state.db, id).await?.ok_or(AppError::NotFound)?;
    roles::require_steward_of(&state.db, &user, notice.org_id).await?;
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(&format!(
        "SELECT m.id, m.name, r.read_at FROM ({MEMBERS_OF}) m
         LEFT JOIN notice_reads r ON r.notice_id = ?2 AND r.person_id = m.id
         ORDER BY r.read_at DESC, m.name"
    ))
    .bind(notice.org_id.to_string())
    .bind(id.to_string())
    .fetch_all(&state.db)
    .await?;
    let (mut read, mut unread) = (Vec::new(), Vec::new());
    for (person_id, name, read_at) in rows {
        let reader = Reader {
            person_id: db::id(&person_id)?,
            name,
            read_at,
        };
        match read_at {
            Some(_) => read.push(reader),
            None => unread.push(reader),
        }
    }
    Ok(Json(Receipts { notice, read, unread }))
}

/// A notice as phones keep it, with its organisation's name.
pub async fn load(db: &SqlitePool, id: Id) -> Result<Option<Notice>, AppError> {
    let row: Option<NoticeRow> = sqlx::query_as(&format!("SELECT {NOTICE_FIELDS} {NOTICE_FROM} WHERE n.id = ?"))
        .bind(id.to_string())
        .fetch_optional(db)
        .await?;
    row.map(NoticeRow::notice).transpose()
}

/// That `person_id` read the notice, for their phones.
pub async fn load_read(db: &SqlitePool, notice_id: Id, person_id: Id) -> Result<Option<NoticeRead>, AppError> {
    let read_at: Option<i64> =
        sqlx::query_scalar("SELECT read_at FROM notice_reads WHERE notice_id = ? AND person_id = ?")
            .bind(notice_id.to_string())
            .bind(person_id.to_string())
            .fetch_optional(db)
            .await?;
    Ok(read_at.map(|read_at| NoticeRead { notice_id, read_at }))
}

/// A phone says its member read a notice: the first time counts (a second phone's report changes nothing). A
/// notice the member is not among the readers of is refused.
pub async fn read_from_phone(conn: &mut SqliteConnection, origin: &Origin, notice_id: Id) -> Result<Outcome, AppError> {
    let org: Option<String> = sqlx::query_scalar("SELECT org_id FROM notices WHERE id = ?")
        .bind(notice_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let forbidden = Ok(Outcome::Rejected {
        reason: Rejection::Forbidden,
    });
    let Some(org) = org else { return forbidden };
    let member: Option<(String, String)> = sqlx::query_as(&format!("{MEMBERS_OF} AND p.id = ?2"))
        .bind(&org)
        .bind(origin.person_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if member.is_none() {
        return forbidden;
    }
    let added = sqlx::query("INSERT OR IGNORE INTO notice_reads (notice_id, person_id, read_at) VALUES (?, ?, ?)")
        .bind(notice_id.to_string())
        .bind(origin.person_id.to_string())
        .bind(origin.occurred_at)
        .execute(&mut *conn)
        .await?;
    if added.rows_affected() > 0 {
        let key = LogKey::NoticeRead(notice_id, origin.person_id);
        changes::touch(conn, key, &[Audience::Member(origin.person_id)]).await?;
    }
    Ok(Outcome::Applied)
}

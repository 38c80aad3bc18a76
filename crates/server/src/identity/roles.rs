//! Who may act on what a request names: the role checks, as extractors beside `AuthUser`, each taking the `{id}`
//! of its path. A handler that takes `SecretaryOf` runs only for a secretary of that organisation, and so on.
//!
//! One policy for a caller without the role (`Seen`): what they cannot know exists answers 404, the same as
//! what does not exist (another organisation's roster, another township's member); what they can know exists
//! answers 403 (an activity of their own organisation, which every member's phone pulls). A failure to read the
//! database is a 500, never either of them.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::error::AppError;
use crate::identity::auth::AuthUser;
use crate::{db, AppState};

/// Whether the caller may know that what they asked for exists: what they are told without the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// They may (it reaches their phone anyway): 403.
    Known,
    /// They may not: 404, as for what does not exist.
    Unknown,
}

impl Seen {
    fn refuse(self) -> AppError {
        match self {
            Seen::Known => AppError::Forbidden,
            Seen::Unknown => AppError::NotFound,
        }
    }
}

/// Passes if `person_id` is a secretary of `org_id`; otherwise as `seen` says.
pub async fn require_secretary(db: &SqlitePool, user: &AuthUser, org_id: Id, seen: Seen) -> Result<(), AppError> {
    let mut conn = db.acquire().await?;
    match is_secretary(&mut conn, user.person_id, org_id).await? {
        true => Ok(()),
        false => Err(seen.refuse()),
    }
}

/// Whether `person_id` is a secretary of `org_id` (also for a write from a phone's outbox).
pub async fn is_secretary(conn: &mut SqliteConnection, person_id: Id, org_id: Id) -> Result<bool, AppError> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM roles WHERE person_id = ? AND role = 'secretary' AND org_id = ?")
            .bind(person_id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Passes if `user` administers the township `org_id`, or the county above it; otherwise 404.
pub async fn require_township_admin(db: &SqlitePool, user: &AuthUser, org_id: Id) -> Result<(), AppError> {
    let found: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM roles r JOIN organisations o ON o.id = ?2 AND o.kind = 'township'
         WHERE r.person_id = ?1 AND ((r.role = 'township_admin' AND r.org_id = o.id)
                                  OR (r.role = 'county_admin' AND r.org_id = o.parent_id))",
    )
    .bind(user.person_id.to_string())
    .bind(org_id.to_string())
    .fetch_optional(db)
    .await?;
    found.map(|_| ()).ok_or(Seen::Unknown.refuse())
}

/// Passes if `person_id` is a member (not an administrator or a secretary, whose accounts their township does
/// not look after) of a township `user` administers; otherwise 404.
pub async fn require_admin_of_member(db: &SqlitePool, user: &AuthUser, person_id: Id) -> Result<(), AppError> {
    let home: Option<String> = sqlx::query_scalar(
        "SELECT home_org_id FROM people p WHERE id = ? AND certificate_no IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM roles r WHERE r.person_id = p.id)",
    )
    .bind(person_id.to_string())
    .fetch_optional(db)
    .await?;
    let home = db::id(&home.ok_or(Seen::Unknown.refuse())?)?;
    require_township_admin(db, user, home).await
}

/// Passes if `user` looks after the member `person_id`: administers their township (`require_admin_of_member`),
/// or is the secretary of a host organisation where they are now (an open stop); otherwise 404.
pub async fn require_caretaker(db: &SqlitePool, user: &AuthUser, person_id: Id) -> Result<(), AppError> {
    match require_admin_of_member(db, user, person_id).await {
        Err(AppError::NotFound) => {}
        decided => return decided,
    }
    let hosting: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM stops s JOIN roles r ON r.org_id = s.org_id AND r.role = 'secretary' AND r.person_id = ?1
         JOIN people p ON p.id = s.person_id AND p.certificate_no IS NOT NULL
         WHERE s.person_id = ?2 AND s.left_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM roles x WHERE x.person_id = p.id)",
    )
    .bind(user.person_id.to_string())
    .bind(person_id.to_string())
    .fetch_optional(db)
    .await?;
    hosting.map(|_| ()).ok_or(Seen::Unknown.refuse())
}

/// Passes if `user` speaks for the organisation `org_id` to its members: its secretary (a host organisation),
/// its administrator (a township, or the county above it), or the county's; otherwise 404.
pub async fn require_steward_of(db: &SqlitePool, user: &AuthUser, org_id: Id) -> Result<(), AppError> {
    let found: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM roles r JOIN organisations o ON o.id = ?2
         WHERE r.person_id = ?1 AND (r.org_id = o.id OR (r.role = 'county_admin' AND r.org_id = o.parent_id))",
    )
    .bind(user.person_id.to_string())
    .bind(org_id.to_string())
    .fetch_optional(db)
    .await?;
    found.map(|_| ()).ok_or(Seen::Unknown.refuse())
}

/// Passes if `user` administers the county `org_id`; otherwise 404.
pub async fn require_county_admin(db: &SqlitePool, user: &AuthUser, org_id: Id) -> Result<(), AppError> {
    let found: Option<(i64,)> =
        sqlx::query_as("SELECT 1 FROM roles WHERE person_id = ? AND role = 'county_admin' AND org_id = ?")
            .bind(user.person_id.to_string())
            .bind(org_id.to_string())
            .fetch_optional(db)
            .await?;
    found.map(|_| ()).ok_or(Seen::Unknown.refuse())
}

/// Passes if `user` administers the county that organisation `org_id` belongs to (a township under it, or a
/// host organisation it set up); otherwise 404.
pub async fn require_admin_of_county_org(db: &SqlitePool, user: &AuthUser, org_id: Id) -> Result<(), AppError> {
    let found: Option<(i64,)> = sqlx::query_as(
        "SELECT 1 FROM roles r JOIN organisations o ON o.id = ?2
         WHERE r.person_id = ?1 AND r.role = 'county_admin' AND r.org_id IN (o.parent_id, o.home_county_id)",
    )
    .bind(user.person_id.to_string())
    .bind(org_id.to_string())
    .fetch_optional(db)
    .await?;
    found.map(|_| ()).ok_or(Seen::Unknown.refuse())
}

/// The caller and the `{id}` of the path, once the session and the id have been read.
async fn caller_and_id(parts: &mut Parts, state: &AppState) -> Result<(AuthUser, Id), AppError> {
    let user = AuthUser::from_request_parts(parts, state).await?;
    let Path(id) = Path::<Id>::from_request_parts(parts, state).await?;
    Ok((user, id))
}

/// Declares an extractor for a role over the path's `{id}`, checked by `$check`: the id, and who the caller is
/// for the handlers that name them (`{ org_id, user }`).
macro_rules! role_over_path {
    ($(#[$doc:meta])* $name:ident { $field:ident $(, $user:ident)? }, $check:expr) => {
        $(#[$doc])*
        pub struct $name {
            $(pub $user: AuthUser,)?
            pub $field: Id,
        }

        impl FromRequestParts<AppState> for $name {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<$name, AppError> {
                let (user, $field) = caller_and_id(parts, state).await?;
                $check(&state.db, &user, $field).await?;
                Ok($name { $($user: user,)? $field })
            }
        }
    };
}

/// `require_secretary` for what only the secretary may know of: an organisation's code, poster, door keys,
/// roster and volunteer hours.
async fn secretary_only(db: &SqlitePool, user: &AuthUser, org_id: Id) -> Result<(), AppError> {
    require_secretary(db, user, org_id, Seen::Unknown).await
}

role_over_path!(
    /// A secretary of the organisation `{id}`, and who they are (a poster names them).
    SecretaryOf { org_id, user },
    secretary_only
);
role_over_path!(
    /// Whoever looks after the member `{id}` (`require_caretaker`): a contact they record names them.
    CaretakerOf { person_id, user },
    require_caretaker
);
role_over_path!(
    /// Whoever speaks for the organisation `{id}` to its members (`require_steward_of`).
    StewardOf { org_id, user },
    require_steward_of
);
role_over_path!(
    /// An administrator of the township `{id}` (or of its county).
    TownshipAdminOf { township },
    require_township_admin
);
role_over_path!(
    /// An administrator of the township of the member `{id}`.
    AdminOfMember { person_id },
    require_admin_of_member
);
role_over_path!(
    /// The administrator of the county `{id}`.
    CountyAdminOf { county },
    require_county_admin
);
role_over_path!(
    /// The administrator of the county that the organisation `{id}` belongs to.
    CountyAdminOver { org_id },
    require_admin_of_county_org
);

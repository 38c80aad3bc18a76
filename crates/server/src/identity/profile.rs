//! The member's own profile on the server: edits arrive through push (`Op::EditProfile`) and are merged field by
//! field by core's `ProfileState::merge`; the result reaches every phone of the member through pull as
//! `Record::Profile`.

use guihai_core::profile::{self, Conflict, Edit, Field, FieldState, Profile, ProfileState};
use guihai_core::sync::{Outcome, Rejection};
use guihai_core::Id;
use sqlx::{SqliteConnection, SqlitePool};

use crate::activities::checkins::Origin;
use crate::db;
use crate::error::AppError;
use crate::sync::changes::{self, Audience, LogKey};

/// Applies a phone's edit inside the push's transaction. A value no phone of ours would send (too long, not a
/// phone number) refuses the whole edit, so a member never finds half of one applied.
pub async fn edit_from_phone(conn: &mut SqliteConnection, origin: &Origin, edit: &Edit) -> Result<Outcome, AppError> {
    let Some(edit) = normalised(edit) else {
        return Ok(Outcome::Rejected {
            reason: Rejection::Invalid,
        });
    };
    apply(conn, origin.person_id, &edit, Some(origin.client_id)).await?;
    Ok(Outcome::Applied)
}

fn normalised(edit: &Edit) -> Option<Edit> {
    let fields = edit
        .fields
        .iter()
        .map(|(field, value)| Some((*field, profile::normalise(*field, value).ok()?)))
        .collect::<Option<_>>()?;
    Some(Edit {
        base_version: edit.base_version,
        fields,
    })
}

/// Merges `edit` (by phone `by`, or by the organisation when `None`) and, if anything changed, stores the result
/// and tells the member's phones.
pub async fn apply(conn: &mut SqliteConnection, person_id: Id, edit: &Edit, by: Option<Id>) -> Result<(), AppError> {
    let mut state = load_state(&mut *conn, person_id).await?;
    if !state.merge(edit, by) {
        return Ok(());
    }
    save_state(&mut *conn, person_id, &state).await?;
    changes::touch(conn, LogKey::Profile(person_id), &[Audience::Member(person_id)]).await?;
    Ok(())
}

async fn load_state(conn: &mut SqliteConnection, person_id: Id) -> Result<ProfileState, AppError> {
    let person = person_id.to_string();
    let version: i64 = sqlx::query_scalar("SELECT profile_version FROM people WHERE id = ?")
        .bind(&person)
        .fetch_one(&mut *conn)
        .await?;
    let fields: Vec<(String, String, i64, Option<String>)> =
        sqlx::query_as("SELECT field, value, version, changed_by FROM profile_fields WHERE person_id = ?")
            .bind(&person)
            .fetch_all(&mut *conn)
            .await?;
    let conflicts: Vec<ConflictRow> = sqlx::query_as(
        "SELECT field, kept, theirs, version, kept_by, theirs_by FROM profile_conflicts WHERE person_id = ?",
    )
    .bind(&person)
    .fetch_all(&mut *conn)
    .await?;
    let mut state = ProfileState {
        version: unsigned(version),
        ..ProfileState::default()
    };
    for (field, value, version, changed_by) in fields {
        let changed_by = changed_by.as_deref().map(db::id).transpose()?;
        state.fields.insert(
            field_named(&field)?,
            FieldState {
                value,
                version: unsigned(version),
                changed_by,
            },
        );
    }
    for row in conflicts {
        let field = field_named(&row.field)?;
        state.conflicts.insert(
            field,
            Conflict {
                field,
                kept: row.kept,
                theirs: row.theirs,
                version: unsigned(row.version),
                kept_by: row.kept_by.as_deref().map(db::id).transpose()?,
                theirs_by: row.theirs_by.as_deref().map(db::id).transpose()?,
            },
        );
    }
    Ok(state)
}

#[derive(sqlx::FromRow)]
struct ConflictRow {
    field: String,
    kept: String,
    theirs: String,
    version: i64,
    kept_by: Option<String>,
    theirs_by: Option<String>,
}

/// Rewrites the person's few profile rows; a profile has at most seven fields and as many conflicts.
async fn save_state(conn: &mut SqliteConnection, person_id: Id, state: &ProfileState) -> Result<(), AppError> {
    let person = person_id.to_string();
    sqlx::query("UPDATE people SET profile_version = ? WHERE id = ?")
        .bind(db::seq(state.version)?)
        .bind(&person)
        .execute(&mut *conn)
        .await?;
    for table in ["profile_fields", "profile_conflicts"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE person_id = ?"))
            .bind(&person)
            .execute(&mut *conn)
            .await?;
    }
    for (field, field_state) in &state.fields {
        sqlx::query("INSERT INTO profile_fields (person_id, field, value, version, changed_by) VALUES (?, ?, ?, ?, ?)")
            .bind(&person)
            .bind(field.as_str())
            .bind(&field_state.value)
            .bind(db::seq(field_state.version)?)
            .bind(field_state.changed_by.map(|id| id.to_string()))
            .execute(&mut *conn)
            .await?;
    }
    for conflict in state.conflicts.values() {
        sqlx::query(
            "INSERT INTO profile_conflicts (person_id, field, kept, theirs, version, kept_by, theirs_by)
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&person)
        .bind(conflict.field.as_str())
        .bind(&conflict.kept)
        .bind(&conflict.theirs)
        .bind(db::seq(conflict.version)?)
        .bind(conflict.kept_by.map(|id| id.to_string()))
        .bind(conflict.theirs_by.map(|id| id.to_string()))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The profile as the member's phones see it.
pub async fn load(db: &SqlitePool, person_id: Id) -> Result<Option<Profile>, AppError> {
    let mut conn = db.acquire().await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM people WHERE id = ?")
        .bind(person_id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Ok(None);
    }
    Ok(Some(load_state(&mut conn, person_id).await?.profile()))
}

fn field_named(name: &str) -> Result<Field, AppError> {
    Field::parse(name).ok_or_else(|| AppError::Internal(format!("unknown profile field {name:?} in the database")))
}

fn unsigned(number: i64) -> u64 {
    u64::try_from(number).unwrap_or_default()
}

//! Organisations as a phone sees them (core's `OrgRef`). Managing them comes with the county's admin pages.

use guihai_core::domain::{OrgKind, OrgRef};
use sqlx::SqlitePool;

use crate::db;
use crate::error::AppError;

pub async fn load(db: &SqlitePool, id: guihai_core::Id) -> Result<Option<OrgRef>, AppError> {
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
pub async fn get(db: &SqlitePool, id: &str) -> Result<OrgRef, AppError> {
    load(db, db::id(id)?)
        .await?
        .ok_or_else(|| AppError::Internal(format!("organisation {id} is missing")))
}

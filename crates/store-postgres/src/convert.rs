//! Between PostgreSQL values and domain values, and the one place where a PostgreSQL error
//! becomes a [`StoreError`].

use domain::{OrgKind, Organisation};
pub(crate) use store::columns::{
    channel_kind, channel_kind_parts, corrupt, email, fold, language, like_escape, movie_id, name,
    number, parsed, project_kind, roles, service, work_languages,
};
use store::{Conflict, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

/// Turns a driver error into a store error; unique violations become [`Conflict`]s by the name
/// of the constraint or unique index that was broken (names fixed in the migrations).
pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        return StoreError::Conflict(conflict_for(d.constraint().unwrap_or_default()));
    }
    StoreError::Database(Box::new(e))
}

fn conflict_for(constraint: &str) -> Conflict {
    match constraint {
        "organisations_name_folded_key" => Conflict::OrganisationName,
        "users_email_key" => Conflict::Email,
        "projects_movie_id_key" | "movie_ids_pkey" => Conflict::MovieId,
        "api_tokens_live_name_key" => Conflict::ApiTokenName,
        other => Conflict::Other(other.to_string()),
    }
}

/// A timestamp as stored: microsecond precision, finer precision cut off (rounded down, as the
/// SQLite backend does; the driver alone would round towards 2000-01-01).
pub(crate) fn at(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

pub(crate) fn position(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// A row of `organisations`: id, name, kind.
pub(crate) type OrgRow = (Uuid, String, String);

pub(crate) fn organisation((id, name_s, kind_s): OrgRow) -> StoreResult<Organisation> {
    Ok(Organisation {
        id: id.into(),
        name: name("organisations.name", &name_s)?,
        kind: parsed::<OrgKind>("organisations.kind", &kind_s)?,
    })
}

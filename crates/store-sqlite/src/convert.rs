//! Between SQLite values and domain values: ids as text, timestamps as microseconds, and the one
//! place where a SQLite error becomes a [`StoreError`].

use domain::{OrgKind, Organisation};
use std::fmt::Display;
pub(crate) use store::columns::{
    channel_kind, channel_kind_parts, corrupt, email, fold, language, like_escape, movie_id, name,
    number, parsed, project_kind, roles, service, work_languages,
};
use store::{Conflict, StoreError, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

/// Turns a driver error into a store error. Unique violations become [`Conflict`]s; SQLite does
/// not report the index name, only the columns (`UNIQUE constraint failed: users.email`), so the
/// columns identify the rule.
pub(crate) fn db_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e
        && d.is_unique_violation()
    {
        let message = d.message();
        let columns = message
            .split_once(": ")
            .map_or(message, |(_, columns)| columns);
        return StoreError::Conflict(conflict_for(columns));
    }
    StoreError::Database(Box::new(e))
}

fn conflict_for(columns: &str) -> Conflict {
    match columns {
        "organisations.name_folded" => Conflict::OrganisationName,
        "users.email" => Conflict::Email,
        "projects.movie_id" | "movie_ids.movie_id" => Conflict::MovieId,
        "api_tokens.user_id, api_tokens.name" => Conflict::ApiTokenName,
        other => Conflict::Other(other.to_string()),
    }
}

/// An id as stored: the hyphenated lower-case form every id type displays as.
pub(crate) fn uuid_text(id: impl Display) -> String {
    id.to_string()
}

pub(crate) fn id<T: From<Uuid>>(column: &str, s: &str) -> StoreResult<T> {
    Uuid::parse_str(s)
        .map(T::from)
        .map_err(|e| corrupt(column, s, e))
}

/// Microseconds since the Unix epoch; finer precision is cut off (rounded down, as the
/// PostgreSQL backend does).
pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    // Every representable OffsetDateTime fits: ±9999 years is about ±3.2e17 µs.
    i64::try_from(t.unix_timestamp_nanos().div_euclid(1000)).unwrap_or(i64::MAX)
}

pub(crate) fn timestamp(column: &str, us: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|e| corrupt(column, us, e))
}

pub(crate) fn opt_timestamp(column: &str, us: Option<i64>) -> StoreResult<Option<OffsetDateTime>> {
    us.map(|us| timestamp(column, us)).transpose()
}

pub(crate) fn position(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

/// A row of `organisations`: id, name, kind.
pub(crate) type OrgRow = (String, String, String);

pub(crate) fn organisation((id_s, name_s, kind_s): OrgRow) -> StoreResult<Organisation> {
    Ok(Organisation {
        id: id("organisations.id", &id_s)?,
        name: name("organisations.name", &name_s)?,
        kind: parsed::<OrgKind>("organisations.kind", &kind_s)?,
    })
}

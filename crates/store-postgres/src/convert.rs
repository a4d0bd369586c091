//! Between PostgreSQL values and domain values, and the one place where a PostgreSQL error
//! becomes a [`StoreError`].

use domain::{
    Email, LanguageTag, MovieId, Name, OrgKind, Organisation, ProjectKind, Roles, Service,
};
use std::fmt::{Debug, Display};
use std::str::FromStr;
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

pub(crate) fn corrupt(column: &str, value: impl Debug, why: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{column} = {value:?}: {why}"))
}

/// The lower-cased form used for case-insensitive matching and ordering. The SQLite backend
/// computes it with the same code (SQLite's lower() folds only ASCII), so both match alike.
pub(crate) fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A timestamp as stored: microsecond precision, finer precision cut off (rounded down, as the
/// SQLite backend does; the driver alone would round towards 2000-01-01).
pub(crate) fn at(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

pub(crate) fn name(column: &str, s: &str) -> StoreResult<Name> {
    Name::parse(s).map_err(|e| corrupt(column, s, e))
}

pub(crate) fn email(column: &str, s: &str) -> StoreResult<Email> {
    Email::parse(s).map_err(|e| corrupt(column, s, e))
}

pub(crate) fn language(column: &str, s: &str) -> StoreResult<LanguageTag> {
    LanguageTag::parse(s).map_err(|e| corrupt(column, s, e))
}

pub(crate) fn movie_id(column: &str, n: i64) -> StoreResult<MovieId> {
    MovieId::new(n).map_err(|e| corrupt(column, n, e))
}

pub(crate) fn roles(column: &str, s: &str) -> StoreResult<Roles> {
    Roles::parse_csv(s).map_err(|e| corrupt(column, s, e))
}

pub(crate) fn parsed<T>(column: &str, s: &str) -> StoreResult<T>
where
    T: FromStr,
    T::Err: Display,
{
    s.parse().map_err(|e| corrupt(column, s, e))
}

pub(crate) fn number(column: &str, n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(|e| corrupt(column, n, e))
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

pub(crate) fn project_kind(s: &str) -> StoreResult<ProjectKind> {
    parsed("projects.kind", s)
}

pub(crate) fn service(s: &str) -> StoreResult<Service> {
    parsed("assignments.service", s)
}

//! Backend-independent helpers for the store implementations: turning column values back into
//! domain values (a failure is [`StoreError::Corrupt`], naming the column), the folded form used
//! for case-insensitive search, `LIKE` escaping, and movie-ID prefix ranges.

use crate::UserWithOrg;
use crate::{StoreError, StoreResult};
use domain::{
    ChannelKind, Email, LanguageTag, MovieId, Name, ProjectKind, Roles, Service, WorkLanguages,
};
use std::fmt::{Debug, Display};
use std::str::FromStr;

pub fn corrupt(column: &str, value: impl Debug, why: impl Display) -> StoreError {
    StoreError::Corrupt(format!("{column} = {value:?}: {why}"))
}

/// The lower-cased form used for case-insensitive matching and ordering. Computed here rather
/// than with SQL's lower(), which folds only ASCII on SQLite.
pub fn fold(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn name(column: &str, s: &str) -> StoreResult<Name> {
    Name::parse(s).map_err(|e| corrupt(column, s, e))
}

pub fn email(column: &str, s: &str) -> StoreResult<Email> {
    Email::parse(s).map_err(|e| corrupt(column, s, e))
}

pub fn language(column: &str, s: &str) -> StoreResult<LanguageTag> {
    LanguageTag::parse(s).map_err(|e| corrupt(column, s, e))
}

pub fn movie_id(column: &str, n: i64) -> StoreResult<MovieId> {
    MovieId::new(n).map_err(|e| corrupt(column, n, e))
}

pub fn roles(column: &str, s: &str) -> StoreResult<Roles> {
    Roles::parse_csv(s).map_err(|e| corrupt(column, s, e))
}

pub fn parsed<T>(column: &str, s: &str) -> StoreResult<T>
where
    T: FromStr,
    T::Err: Display,
{
    s.parse().map_err(|e| corrupt(column, s, e))
}

pub fn number(column: &str, n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(|e| corrupt(column, n, e))
}

pub fn project_kind(s: &str) -> StoreResult<ProjectKind> {
    parsed("projects.kind", s)
}

pub fn service(s: &str) -> StoreResult<Service> {
    parsed("assignments.service", s)
}
/// The movie IDs whose decimal form starts with `digits`, as inclusive ranges, so that a prefix
/// search is a handful of index range scans: "81" → 81..=81, 810..=819, 8100..=8199, …
pub fn movie_id_prefix_ranges(digits: &str) -> Vec<(i64, i64)> {
    let valid = !digits.is_empty()
        && digits.len() <= 12
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    let Some(first) = valid.then(|| digits.parse::<i64>().ok()).flatten() else {
        return Vec::new();
    };
    let (mut lo, mut hi) = (first, first);
    let mut ranges = Vec::new();
    for _ in digits.len()..=12 {
        ranges.push((lo, hi.min(MovieId::MAX)));
        lo *= 10;
        hi = hi * 10 + 9;
    }
    ranges
}

pub fn work_languages(column: &str, stored: Option<&str>) -> StoreResult<WorkLanguages> {
    WorkLanguages::from_stored(stored).map_err(|e| corrupt(column, stored, e))
}

/// A channel's kind as stored: its name and its language, '' for kinds without one.
/// The stored columns of a channel kind: `kind`, `language` ('' when none) and `partner_id`.
pub fn channel_kind_parts(kind: &ChannelKind) -> (&'static str, &str, Option<domain::OrgId>) {
    (
        kind.as_str(),
        kind.language().map_or("", |l| l.as_str()),
        kind.partner(),
    )
}

pub fn channel_kind(
    kind: &str,
    language: &str,
    partner: Option<String>,
) -> StoreResult<ChannelKind> {
    let language = (!language.is_empty()).then_some(language);
    ChannelKind::from_parts(kind, language, partner.as_deref()).map_err(|e| {
        corrupt(
            "channels.kind, channels.language, channels.partner_id",
            (kind, language, partner.as_deref()),
            e,
        )
    })
}

/// The order of [`crate::UserRepo::list_users`]: organisation name, then display name, both without
/// regard to case, identical on every backend.
pub fn sort_users(users: &mut [UserWithOrg]) {
    users.sort_by_cached_key(|u| {
        (
            fold(u.org.name.as_str()),
            fold(u.user.display_name.as_str()),
            u.user.id,
        )
    });
}

/// A notification's reason as stored.
pub fn notify_reason(s: &str) -> StoreResult<domain::notify::NotifyReason> {
    domain::notify::NotifyReason::parse(s)
        .ok_or_else(|| corrupt("notifications.reason", s, "unknown reason"))
}

/// An e-mail's state as stored.
pub fn email_state(s: &str) -> StoreResult<crate::EmailState> {
    crate::EmailState::parse(s).ok_or_else(|| corrupt("emails.state", s, "unknown state"))
}

/// The counts per state from `SELECT state, count(*) … GROUP BY state`.
pub fn email_counts(rows: Vec<(String, i64)>) -> StoreResult<crate::EmailCounts> {
    let mut counts = crate::EmailCounts::default();
    for (s, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match email_state(&s)? {
            crate::EmailState::Pending => counts.pending = n,
            crate::EmailState::Sent => counts.sent = n,
            crate::EmailState::Failed => counts.failed = n,
        }
    }
    Ok(counts)
}

/// The stored columns behind [`crate::RecipientFacts`], ids already decoded.
pub struct FactsColumns {
    pub user_id: domain::UserId,
    pub org_id: domain::OrgId,
    pub org_kind: String,
    pub roles: String,
    pub disabled: bool,
    pub internal_messages: bool,
    pub work_languages: Option<String>,
    pub follows: bool,
    pub frequency: Option<String>,
    pub mentions_immediately: Option<bool>,
    pub muted: bool,
}

pub fn recipient_facts(c: FactsColumns) -> StoreResult<crate::RecipientFacts> {
    let email = match (c.frequency, c.mentions_immediately) {
        (Some(f), Some(m)) => Some(domain::email::EmailPrefs {
            frequency: domain::email::Frequency::parse(&f)
                .map_err(|e| corrupt("email_settings.frequency", &f, e))?,
            mentions_immediately: m,
        }),
        _ => None,
    };
    Ok(crate::RecipientFacts {
        user_id: c.user_id,
        org_id: c.org_id,
        org_kind: parsed("organisations.kind", &c.org_kind)?,
        roles: roles("users.roles", &c.roles)?,
        prefs: domain::ChannelPrefs {
            internal_messages: c.internal_messages,
            languages: work_languages("users.work_languages", c.work_languages.as_deref())?,
        },
        disabled: c.disabled,
        follows: c.follows,
        email,
        muted: c.muted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_cover_every_length() {
        assert_eq!(
            movie_id_prefix_ranges("81").get(..3),
            Some(&[(81, 81), (810, 819), (8100, 8199)][..])
        );
        assert_eq!(movie_id_prefix_ranges("81").len(), 11);
        assert_eq!(
            movie_id_prefix_ranges("999999999999"),
            vec![(MovieId::MAX, MovieId::MAX)]
        );
        assert!(movie_id_prefix_ranges("0").is_empty());
        assert!(movie_id_prefix_ranges("8x").is_empty());
    }

    #[test]
    fn folding_and_escaping() {
        assert_eq!(fold("  Ñandú   Rojo "), "ñandú rojo");
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}

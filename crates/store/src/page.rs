//! Key-set ("cursor") pagination: a list is ordered by a key that identifies each row, and the
//! next page starts strictly after the key of the last row of this one. Unlike an offset, a key
//! neither skips nor repeats rows when rows are added or removed between two requests.
//!
//! The backends fetch `limit + 1` rows with a row-value condition on the key and hand them to
//! [`Page::from_rows`] (or [`cut_extra`]), which keeps `limit` and tells whether more exist.
//! The key types are plain data (serde), so the web layer can turn them into opaque cursors.

use domain::{EmailId, MessageId, ProjectId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One page of a list ordered by a key, and the key to continue after (None: last page).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

impl<T, K> Default for Page<T, K> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            next: None,
        }
    }
}

impl<T, K> Page<T, K> {
    /// A last page holding `items`.
    pub fn last(items: Vec<T>) -> Self {
        Self { items, next: None }
    }

    /// From rows fetched in key order with `LIMIT limit + 1`: the first `limit` of them, and
    /// the key of the last of those when a further row existed.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, key: impl FnOnce(&T) -> K) -> Self {
        let more = cut_extra(&mut rows, limit);
        let next = if more { rows.last().map(key) } else { None };
        Self { items: rows, next }
    }

    /// The same page with every item turned into something else (the key is unchanged).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, K> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Cuts rows fetched with `LIMIT limit + 1` down to `limit`. True when a row was cut, that is
/// when there is a next page (never for `limit` 0, which has no last row to continue after).
pub fn cut_extra<T>(rows: &mut Vec<T>, limit: u32) -> bool {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if rows.len() > limit {
        rows.truncate(limit);
        limit > 0
    } else {
        false
    }
}

/// `LIMIT` for a page of `limit` rows: one more, to learn whether a next page exists.
pub fn fetch_limit(limit: u32) -> i64 {
    i64::from(limit) + 1
}

/// The position of a project in [`crate::ProjectRepo::find_projects`], which orders ascending
/// by `(rank, name_folded, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectKey {
    /// 0: the project or one of its episodes has exactly the movie ID searched for; 1: others.
    pub rank: u8,
    /// The project's name as folded by [`crate::columns::fold`] (as stored).
    pub name_folded: String,
    pub id: ProjectId,
}

/// The position of a row in a newest-first list, ordered descending by `(created_at, id)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewestKey<I> {
    pub created_at: OffsetDateTime,
    pub id: I,
}

/// The position of a message in [`crate::SearchRepo::search_messages`] and of an entry in
/// [`crate::OutboxRepo::bell`] (by the message's `created_at` and id).
pub type MessageKey = NewestKey<MessageId>;

/// The position of an e-mail in [`crate::OutboxRepo::list_emails`].
pub type EmailKey = NewestKey<EmailId>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_rows_keeps_limit_and_keys_the_last_kept_row() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| *n * 10);
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next, Some(20));
        let page = Page::from_rows(vec![1, 2], 2, |n| *n * 10);
        assert_eq!((page.items, page.next), (vec![1, 2], None));
        let page = Page::from_rows(vec![1], 0, |n| *n * 10);
        assert_eq!((page.items, page.next), (Vec::new(), None));
    }
}

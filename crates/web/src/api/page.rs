//! One way to page every API list: `limit` (1–200, default 50) and an opaque `cursor`; each page
//! says `next_cursor` (absent on the last page). A cursor holds the sort key of the last item
//! given, so a page never skips or repeats an item because others were added or removed
//! before it (key-set paging, never an offset).
//!
//! Long lists (titles, search, the outbox, the bell) are paged in the database by the store's
//! keys; short ones (one's tokens, organisations, users, a title's channels) are read whole and
//! paged here by a key of their own.

use crate::error::ApiError;
use app::AppError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// `limit` and `cursor`, for lists that take nothing else.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// At most this many items (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; leave it out for the first page. A cursor this
    /// list did not give out is 404.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The checked `limit` of a list request.
pub fn limit(given: Option<i64>) -> Result<u32, ApiError> {
    match given {
        Some(n) if !(1..=MAX_LIMIT).contains(&n) => Err(ApiError(AppError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT} (it was {n})"),
        ))),
        _ => Ok(u32::try_from(given.unwrap_or(DEFAULT_LIMIT)).unwrap_or(50)),
    }
}

/// The checked `limit` and the key in `cursor`, for list `list`.
pub fn read<K: DeserializeOwned>(
    list: &str,
    limit_given: Option<i64>,
    cursor: Option<&str>,
) -> Result<(u32, Option<K>), ApiError> {
    Ok((limit(limit_given)?, decode(list, cursor)?))
}

/// Each list's cursors carry its name, so a cursor from one list is refused by another.
pub fn encode<K: Serialize>(list: &str, key: &K) -> String {
    let json = serde_json::to_vec(&(list, key)).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The key in a cursor `list` gave out. Any other cursor names no position in this list: 404,
/// like an id that names nothing.
pub fn decode<K: DeserializeOwned>(
    list: &str,
    cursor: Option<&str>,
) -> Result<Option<K>, ApiError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<(String, K)>(&bytes).ok())
        .filter(|(name, _)| name == list)
        .map(|(_, key)| Some(key))
        .ok_or(ApiError(AppError::NotFound))
}

/// Which way a list runs along its key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// Pages a whole list in memory: sorts it by `key` in `order`, keeps the items after `after`,
/// and returns at most `limit` of them with the key to continue from.
pub fn in_memory<T, K: Ord + Clone>(
    mut items: Vec<T>,
    key: impl Fn(&T) -> K,
    order: Order,
    after: Option<K>,
    limit: u32,
) -> (Vec<T>, Option<K>) {
    items.sort_by_key(|t| key(t));
    if order == Order::Descending {
        items.reverse();
    }
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|t| match &after {
            None => true,
            Some(a) => match order {
                Order::Ascending => key(t) > *a,
                Order::Descending => key(t) < *a,
            },
        })
        .collect();
    let limit = limit as usize;
    let next = (rest.len() > limit).then(|| key(&rest[limit - 1]));
    rest.truncate(limit);
    (rest, next)
}

/// Declares the JSON of one page of a list.
macro_rules! page_of {
    ($name:ident, $item:ty, $what:literal) => {
        #[doc = concat!("One page of ", $what, ".")]
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Give it as `cursor` for the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }
    };
}
pub(crate) use page_of;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn in_memory_pages_cover_the_list_once_in_both_orders() {
        let items: Vec<(u32, &str)> = vec![(3, "c"), (1, "a"), (2, "b"), (2, "bb"), (5, "e")];
        for order in [Order::Ascending, Order::Descending] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let (page, next) = in_memory(items.clone(), |t| *t, order, after, 2);
                seen.extend(page);
                match next {
                    Some(k) => after = Some(k),
                    None => break,
                }
            }
            let mut expected = items.clone();
            expected.sort();
            if order == Order::Descending {
                expected.reverse();
            }
            assert_eq!(seen, expected);
        }
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_list() {
        let c = encode("orgs", &("acme".to_string(), 7u32));
        let back: Option<(String, u32)> = decode("orgs", Some(&c)).ok().flatten();
        assert_eq!(back, Some(("acme".to_string(), 7)));
        assert!(decode::<(String, u32)>("users", Some(&c)).is_err());
        assert!(decode::<(String, u32)>("orgs", Some("!!")).is_err());
        assert!(decode::<(String, u32)>("orgs", Some("")).is_err());
        assert!(decode::<(String, u32)>("orgs", None).unwrap().is_none());
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
        assert_eq!(limit(None).ok(), Some(50));
    }
}

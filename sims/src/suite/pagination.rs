//! Cursor pagination shared by every list: `?limit=1..100` (default 20) and `?cursor=`,
//! answering `{"data": [...], "next_cursor": "..." | null}`.
//!
//! Items are walked in id order (ids sort by creation), and a cursor is the opaque encoding of
//! the last id served, so pages stay stable when objects are added or removed meanwhile.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::model::HasId;

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Default, Clone, Deserialize)]
pub struct PageQuery {
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

/// One page of `items`, which must already be filtered and sorted by id.
pub fn paginate<T: HasId>(items: Vec<T>, query: &PageQuery) -> Result<Page<T>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let after = query
        .cursor
        .as_deref()
        .filter(|cursor| !cursor.is_empty())
        .map(decode_cursor)
        .transpose()?;

    let mut rest = items
        .into_iter()
        .filter(|item| after.as_deref().is_none_or(|after| item.id() > after))
        .peekable();
    let data: Vec<T> = rest.by_ref().take(limit).collect();
    let next_cursor = match (rest.peek(), data.last()) {
        (Some(_), Some(last)) => Some(URL_SAFE_NO_PAD.encode(last.id())),
        _ => None,
    };
    Ok(Page { data, next_cursor })
}

fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::invalid_request("cursor is not one this API issued"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Item(String);
    impl HasId for Item {
        fn id(&self) -> &str {
            &self.0
        }
    }

    fn items(n: usize) -> Vec<Item> {
        (1..=n).map(|i| Item(format!("x_{i:08}"))).collect()
    }

    fn query(limit: Option<usize>, cursor: Option<String>) -> PageQuery {
        PageQuery { limit, cursor }
    }

    #[test]
    fn pages_cover_every_item_once() {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = paginate(items(7), &query(Some(3), cursor)).expect("page");
            seen.extend(page.data.into_iter().map(|i| i.0));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, items(7).into_iter().map(|i| i.0).collect::<Vec<_>>());
    }

    #[test]
    fn an_exactly_full_last_page_has_no_next_cursor() {
        let page = paginate(items(3), &query(Some(3), None)).expect("page");
        assert_eq!(page.data.len(), 3);
        assert_eq!(page.next_cursor, None);
    }

    #[test]
    fn the_default_limit_is_twenty() {
        let page = paginate(items(25), &PageQuery::default()).expect("page");
        assert_eq!(page.data.len(), DEFAULT_LIMIT);
        assert!(page.next_cursor.is_some());
    }

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        for limit in [0, 101] {
            let error = paginate(items(1), &query(Some(limit), None)).expect_err("refused");
            assert_eq!(error.code, "invalid_request");
        }
    }

    #[test]
    fn a_foreign_cursor_is_refused() {
        let error = paginate(items(1), &query(None, Some("%%%".into()))).expect_err("refused");
        assert_eq!(error.code, "invalid_request");
    }
}

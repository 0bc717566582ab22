//! The two embed pages. One flow (`embed::show_embed_page`) resolves access, looks the ATS id up
//! in the equivalence table, reads the suite through the page's cache, picks the page's state and
//! renders it: not synced yet, gone from the suite, ready (fresh, or stale when the suite is
//! unreachable). Each page (`job`, `application`) supplies its path, data, fetch and template.

mod application;
mod embed;
mod job;

pub use application::{ApplicationData, show_application_page};
pub use job::{JobData, show_job_page};

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::access::PageAccess;
use super::cache::Cached;
use super::error::PageError;
use super::headers::page_headers;
use super::port::SourceError;
use crate::time::now_ms;

/// What a page shows, before it is dressed for a template.
#[derive(Debug)]
pub enum PageState<T> {
    /// No equivalence for this ATS id yet.
    NotSynced,
    /// Linked, but the suite says the object is gone.
    Missing,
    /// Data to show; `stale_minutes` is set when it is the last known data of an unreachable
    /// suite, with its age.
    Ready {
        data: std::sync::Arc<T>,
        stale_minutes: Option<i64>,
    },
}

/// Picks the page's state from the equivalence lookup and the suite read (pure).
pub fn select_state<T>(
    linked: bool,
    read: Option<Result<Cached<T>, SourceError>>,
    now_ms: i64,
    unavailable: impl FnOnce() -> PageError,
) -> Result<PageState<T>, PageError> {
    if !linked {
        return Ok(PageState::NotSynced);
    }
    match read {
        None => Ok(PageState::NotSynced),
        Some(Ok(Cached::Fresh(data))) => Ok(PageState::Ready {
            data,
            stale_minutes: None,
        }),
        Some(Ok(Cached::Stale {
            data,
            fetched_at_ms,
        })) => Ok(PageState::Ready {
            data,
            stale_minutes: Some(((now_ms - fetched_at_ms).max(0) / 60_000).max(1)),
        }),
        Some(Err(SourceError::NotFound)) => Ok(PageState::Missing),
        Some(Err(SourceError::Unreachable(reason))) => {
            tracing::warn!(%reason, "suite unreachable and nothing cached");
            Err(unavailable())
        }
        Some(Err(SourceError::Failed(message))) => {
            Err(PageError::Internal(anyhow::anyhow!(message)))
        }
    }
}

/// `select_state` at the current time.
pub fn state_now<T>(
    linked: bool,
    read: Option<Result<Cached<T>, SourceError>>,
    unavailable: impl FnOnce() -> PageError,
) -> Result<PageState<T>, PageError> {
    select_state(linked, read, now_ms(), unavailable)
}

/// The HTML response of a page: its security headers, and the session cookie when this request
/// started the session.
pub fn respond(access: &PageAccess, body: String) -> Response {
    let mut headers = page_headers(&access.context.frame_ancestors);
    if let Some(cookie) = access.set_cookie.as_deref()
        && let Ok(value) = HeaderValue::from_str(cookie)
    {
        headers.insert(header::SET_COOKIE, value);
    }
    (headers, Html(body)).into_response()
}

/// An id as one URL path segment (ATS ids are opaque and may hold anything).
pub fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `2026-11-22 10:00 UTC`: unambiguous in both locales.
pub fn format_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn unavailable() -> PageError {
        PageError::Unavailable {
            context: Default::default(),
        }
    }

    #[test]
    fn an_unlinked_id_is_not_synced_yet() {
        let state = select_state::<u8>(false, None, 0, unavailable).expect("state");
        assert!(matches!(state, PageState::NotSynced));
    }

    #[test]
    fn fresh_data_is_ready_without_age() {
        let read = Some(Ok(Cached::Fresh(Arc::new(1u8))));
        let state = select_state(true, read, 0, unavailable).expect("state");
        assert!(matches!(
            state,
            PageState::Ready {
                stale_minutes: None,
                ..
            }
        ));
    }

    #[test]
    fn stale_data_carries_its_age_in_minutes() {
        let read = Some(Ok(Cached::Stale {
            data: Arc::new(1u8),
            fetched_at_ms: 0,
        }));
        let state = select_state(true, read, 5 * 60_000 + 1, unavailable).expect("state");
        assert!(matches!(
            state,
            PageState::Ready {
                stale_minutes: Some(5),
                ..
            }
        ));
    }

    #[test]
    fn a_deleted_object_is_missing_and_an_unreachable_suite_with_nothing_cached_is_503() {
        let state = select_state::<u8>(true, Some(Err(SourceError::NotFound)), 0, unavailable);
        assert!(matches!(state, Ok(PageState::Missing)));
        let read = Some(Err(SourceError::Unreachable("down".into())));
        let state = select_state::<u8>(true, read, 0, unavailable);
        assert!(matches!(state, Err(PageError::Unavailable { .. })));
    }
}

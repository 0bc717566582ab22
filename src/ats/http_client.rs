//! The one outbound HTTP client builder for ATS calls (timeouts, user agent, rustls) and the one
//! place that classifies partner statuses into transient and permanent failures.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::error::AdapterError;

pub const USER_AGENT: &str = concat!("liaison/", env!("CARGO_PKG_VERSION"));

/// Redirects followed within one origin before the call fails.
const MAX_REDIRECTS: usize = 5;

/// A client for partner APIs. A feed download may take long, so the whole-request timeout is
/// generous; what bounds a stuck partner is the connect and read timeouts.
///
/// Redirects are followed only within the origin that was called: a tenant's credentials
/// (`ats.feed_header`, which reqwest would resend, unlike `Authorization`) must never reach
/// another host, and a partner must not be able to point Liaison at internal addresses. A
/// redirect to another origin fails the call ([`CrossOriginRedirect`]). No `Referer` is sent.
/// Names resolve through [`crate::outbound::GuardedResolver`] (no link-local or metadata
/// addresses).
pub fn outbound_client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::custom(same_origin_only))
        .referer(false)
        .dns_resolver(crate::outbound::GuardedResolver::new())
        .connect_timeout(Duration::from_secs(5))
        .read_timeout(Duration::from_secs(30))
        .timeout(Duration::from_secs(600))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

fn same_origin_only(attempt: reqwest::redirect::Attempt<'_>) -> reqwest::redirect::Action {
    let first = attempt.previous().first();
    let same = first.is_some_and(|first| first.origin() == attempt.url().origin());
    if !same {
        let to = attempt.url().origin().ascii_serialization();
        return attempt.error(CrossOriginRedirect { to });
    }
    if attempt.previous().len() > MAX_REDIRECTS {
        return attempt.error(TooManyRedirects);
    }
    attempt.follow()
}

/// A partner answered with a redirect to another origin, which Liaison does not follow.
#[derive(Debug, thiserror::Error)]
#[error("the answer redirects to another origin ({to}), which is not followed")]
pub struct CrossOriginRedirect {
    to: String,
}

#[derive(Debug, thiserror::Error)]
#[error("more than {MAX_REDIRECTS} redirects")]
struct TooManyRedirects;

/// The process's outbound client (one connection pool for every adapter).
pub fn shared_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(outbound_client).clone()
}

/// Maps a partner's status to `Ok` (2xx) or the error class it belongs to.
pub fn classify(status: StatusCode, headers: &HeaderMap, what: &str) -> Result<(), AdapterError> {
    if status.is_success() {
        return Ok(());
    }
    Err(match status {
        StatusCode::TOO_MANY_REQUESTS => AdapterError::RateLimited {
            retry_after: retry_after(headers),
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
            AdapterError::Auth(format!("{what} answered {status}"))
        }
        StatusCode::NOT_FOUND => AdapterError::NotFound(format!("{what} answered {status}")),
        StatusCode::REQUEST_TIMEOUT => AdapterError::Transient(format!("{what} answered {status}")),
        status if status.is_server_error() => {
            AdapterError::Transient(format!("{what} answered {status}"))
        }
        status => AdapterError::Permanent(format!("{what} answered {status}")),
    })
}

/// A transport failure, all worth retrying. A connection that could not be made means the
/// request never left; any other failure (a timeout, a connection lost) may come after the ATS
/// received it, so its outcome is unknown.
pub fn transport_error(error: reqwest::Error, what: &str) -> AdapterError {
    if error.is_redirect() {
        // Refused by the redirect policy: retrying gets the same answer until someone fixes
        // the URL.
        let reason = redirect_reason(&error);
        return AdapterError::Permanent(format!("{what}: {reason}"));
    }
    if error.is_connect() || error.is_builder() {
        AdapterError::Transient(format!("{what}: {error}"))
    } else if error.is_decode() {
        AdapterError::Permanent(format!("{what}: unreadable answer: {error}"))
    } else {
        AdapterError::Unanswered(format!("{what}: {error}"))
    }
}

fn redirect_reason(error: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<CrossOriginRedirect>() || cause.is::<TooManyRedirects>() {
            return cause.to_string();
        }
        source = cause.source();
    }
    error.to_string()
}

/// `Retry-After` in seconds (the HTTP-date form is rare from APIs; it falls back to the
/// backoff), clamped to an hour so a hostile value cannot park a job for ever.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|seconds| Duration::from_secs(seconds.min(3_600)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_are_classified() {
        let none = HeaderMap::new();
        assert!(classify(StatusCode::OK, &none, "x").is_ok());
        assert!(classify(StatusCode::BAD_GATEWAY, &none, "x").is_err_and(|e| e.is_transient()));
        assert!(classify(StatusCode::BAD_REQUEST, &none, "x").is_err_and(|e| !e.is_transient()));
        assert!(matches!(
            classify(StatusCode::UNAUTHORIZED, &none, "x"),
            Err(AdapterError::Auth(_))
        ));
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert!(matches!(
            classify(StatusCode::TOO_MANY_REQUESTS, &headers, "x"),
            Err(AdapterError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(7)
        ));
    }
}

//! `SuiteError`: what a suite call can end in, each variant with a machine-readable `code()`.
//! `classify` is the one place where the suite's statuses become errors, and `retry_later` the
//! one rule for which of them a job tries again.
//! No variant carries a token, a secret or a request URL (which may hold personal data).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;

use crate::time::now_ms;

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// Worth retrying: 5xx, timeout, connection error, a request still in progress.
    #[error("the suite is unavailable: {reason}")]
    Transient { status: Option<u16>, reason: String },
    /// 429: the suite asked us to slow down, for `retry_after` when it said.
    #[error("the suite is rate limiting Liaison")]
    RateLimited { retry_after: Option<Duration> },
    /// The suite refused Liaison's credentials or grant (`invalid_client`, `invalid_grant`,
    /// `invalid_token` after a fresh token, no grant stored yet).
    #[error("the suite refused Liaison's authorisation ({code}): {message}")]
    Auth { code: String, message: String },
    /// The object is not there (404).
    #[error("not found at the suite: {message}")]
    NotFound { message: String },
    /// A 409 that names the object already holding the unique value.
    #[error("already exists at the suite ({code}): {existing_id}")]
    AlreadyExists { code: String, existing_id: String },
    /// Any other 4xx: the request itself is wrong, retrying cannot help.
    #[error("the suite refused the request with {status} {code}: {message}")]
    Permanent {
        status: u16,
        code: String,
        message: String,
    },
    /// A 2xx answer that does not parse as the contract's object.
    #[error("unexpected answer from the suite: {0}")]
    InvalidResponse(String),
    /// Liaison's own configuration for this tenant is unusable (bad URL, no master key).
    #[error("suite client configuration: {0}")]
    Config(String),
    /// The database holding the grant failed.
    #[error("grant store: {0}")]
    Store(String),
}

impl SuiteError {
    /// A stable snake_case code for logs, job records and API answers.
    pub fn code(&self) -> &str {
        match self {
            Self::Transient { .. } => "suite_unavailable",
            Self::RateLimited { .. } => "suite_rate_limited",
            Self::Auth { code, .. } => code,
            Self::NotFound { .. } => "not_found",
            Self::AlreadyExists { code, .. } => code,
            Self::Permanent { code, .. } => code,
            Self::InvalidResponse(_) => "suite_invalid_response",
            Self::Config(_) => "suite_client_config",
            Self::Store(_) => "grant_store_unavailable",
        }
    }

    /// True for failures a retry may cure.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Transient { .. } | Self::RateLimited { .. } | Self::Store(_)
        )
    }

    /// The access token was refused (expired or revoked): fetch a new one once and retry.
    pub fn is_invalid_token(&self) -> bool {
        matches!(self, Self::Auth { code, .. } if code == "invalid_token")
    }

    /// Whether the job that made the call is tried again later (with the queue's backoff): what
    /// [`is_transient`](Self::is_transient), and also a refused authorisation, which an operator
    /// can fix meanwhile. The one rule for suite failures in jobs (`sync::partners::partner_error`
    /// follows it); `is_transient` alone says whether to retry within the call.
    pub fn retry_later(&self) -> bool {
        self.is_transient() || matches!(self, Self::Auth { .. })
    }

    pub(crate) fn transient(reason: impl Into<String>) -> Self {
        Self::Transient {
            status: None,
            reason: reason.into(),
        }
    }

    pub(crate) fn auth(code: &str, message: impl Into<String>) -> Self {
        Self::Auth {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A transport error, without its URL (queries may carry an email address).
    pub(crate) fn from_transport(error: reqwest::Error) -> Self {
        let kind = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "connection failed"
        } else if error.is_decode() || error.is_body() {
            "reading the answer failed"
        } else {
            "request failed"
        };
        let error = error.without_url();
        Self::transient(format!("{kind}: {error}"))
    }
}

impl From<sea_orm::DbErr> for SuiteError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Store(error.to_string())
    }
}

/// The contract's error body, `{"error": {"code", "message", "existing_id"?}}`, with
/// `existing_id` also accepted at the top level.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    error: ErrorDetail,
    #[serde(default)]
    existing_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    existing_id: Option<String>,
}

/// Turns a non-2xx answer into its error. Pure, so the rules are tested here.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> SuiteError {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = if parsed.error.code.is_empty() {
        format!("http_{}", status.as_u16())
    } else {
        parsed.error.code.clone()
    };
    let message = parsed.error.message.clone();
    match status {
        StatusCode::TOO_MANY_REQUESTS => SuiteError::RateLimited {
            retry_after: retry_after(headers),
        },
        status if status.is_server_error() => SuiteError::Transient {
            status: Some(status.as_u16()),
            reason: format!("{} {code}", status.as_u16()),
        },
        StatusCode::REQUEST_TIMEOUT => SuiteError::Transient {
            status: Some(408),
            reason: "408 request timeout".to_owned(),
        },
        // A bare 401 is the bearer check failing; a bare 403 is not about the token.
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => SuiteError::Auth {
            code: match (parsed.error.code.is_empty(), status) {
                (true, StatusCode::UNAUTHORIZED) => "invalid_token".to_owned(),
                (true, _) => "forbidden".to_owned(),
                (false, _) => code,
            },
            message,
        },
        StatusCode::NOT_FOUND => SuiteError::NotFound { message },
        StatusCode::CONFLICT => match parsed.error.existing_id.or(parsed.existing_id) {
            Some(existing_id) => SuiteError::AlreadyExists { code, existing_id },
            // The first request with this Idempotency-Key is still being handled.
            None if code == "idempotency_key_in_use" => SuiteError::Transient {
                status: Some(409),
                reason: code,
            },
            None => SuiteError::Permanent {
                status: 409,
                code,
                message,
            },
        },
        status => SuiteError::Permanent {
            status: status.as_u16(),
            code,
            message,
        },
    }
}

/// `Retry-After` in seconds (the contract's form) or as an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait_ms = at.timestamp_millis() - now_ms();
    Some(Duration::from_millis(wait_ms.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn classify_json(status: u16, body: serde_json::Value) -> SuiteError {
        let status = StatusCode::from_u16(status).expect("status");
        classify(status, &HeaderMap::new(), body.to_string().as_bytes())
    }

    #[test]
    fn server_errors_and_rate_limits_are_transient() {
        assert!(classify_json(503, serde_json::json!({})).is_transient());
        assert!(classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>").is_transient());
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        match classify(StatusCode::TOO_MANY_REQUESTS, &headers, b"") {
            SuiteError::RateLimited { retry_after } => {
                assert_eq!(retry_after, Some(Duration::from_secs(3)))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn conflicts_with_an_existing_id_become_already_exists() {
        let error = classify_json(
            409,
            serde_json::json!({"error": {"code": "email_taken", "message": "taken", "existing_id": "cand_1"}}),
        );
        match error {
            SuiteError::AlreadyExists { code, existing_id } => {
                assert_eq!(
                    (code.as_str(), existing_id.as_str()),
                    ("email_taken", "cand_1")
                )
            }
            other => panic!("unexpected {other:?}"),
        }
        let top_level = classify_json(
            409,
            serde_json::json!({"error": {"code": "already_invited"}, "existing_id": "inv_1"}),
        );
        assert!(matches!(top_level, SuiteError::AlreadyExists { .. }));
        assert!(
            classify_json(
                409,
                serde_json::json!({"error": {"code": "idempotency_key_in_use"}})
            )
            .is_transient()
        );
    }

    #[test]
    fn other_client_errors_are_permanent_and_keep_the_code() {
        let error = classify_json(
            422,
            serde_json::json!({"error": {"code": "unknown_candidate", "message": "no candidate"}}),
        );
        assert!(!error.is_transient());
        assert_eq!(error.code(), "unknown_candidate");
        assert!(!error.retry_later());
        assert!(matches!(
            crate::sync::partners::partner_error(error),
            crate::sync::ports::PartnerError::Permanent(_)
        ));
        assert!(
            classify_json(401, serde_json::json!({"error": {"code": "invalid_token"}}))
                .is_invalid_token()
        );
        assert!(matches!(
            classify_json(404, serde_json::json!({"error": {"code": "not_found"}})),
            SuiteError::NotFound { .. }
        ));
    }
}

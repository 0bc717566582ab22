//! Adapter errors: one place classifies what a partner answered into transient (retry later) and
//! permanent (retrying cannot help), and how a delivery's body failed to parse.

use std::time::Duration;

/// Why a call to an ATS (or a poll) failed.
#[derive(Debug, thiserror::Error)]
pub enum AdapterError {
    /// An outage, a refused connection, a 5xx: worth retrying, and the call had no effect (or
    /// the ATS said it failed).
    #[error("{0}")]
    Transient(String),
    /// The request was sent but no answer came (timeout, connection lost): it may have taken
    /// effect. Worth retrying only for calls that are idempotent.
    #[error("no answer, the call may have taken effect: {0}")]
    Unanswered(String),
    /// 429: retry after the partner's delay when it gave one.
    #[error("rate limited by the ATS")]
    RateLimited { retry_after: Option<Duration> },
    /// 401/403: the tenant's credentials are wrong; an operator must fix them (meanwhile the
    /// job is tried again later).
    #[error("the ATS refused the credentials: {0}")]
    Auth(String),
    #[error("not found at the ATS: {0}")]
    NotFound(String),
    /// Any other refusal, or an answer that does not parse.
    #[error("{0}")]
    Permanent(String),
    /// The tenant's configuration lacks what the call needs.
    #[error("tenant configuration: {0}")]
    Config(String),
    #[error("the `{kind}` ATS kind cannot {operation}")]
    Unsupported {
        kind: &'static str,
        operation: &'static str,
    },
    #[error("the feed is unusable, nothing was changed: {0}")]
    Feed(#[from] crate::ats::xml_feed::FeedError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl AdapterError {
    /// Whether trying again later can succeed: the one rule for ATS failures (the sync
    /// engine's `sync::partners::ats_error` and the queue follow it). Refused credentials are
    /// tried again, with backoff, because an operator can fix them meanwhile.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Transient(_)
                | Self::Unanswered(_)
                | Self::RateLimited { .. }
                | Self::Auth(_)
                | Self::Database(_)
                | Self::Feed(_)
        )
    }
}

/// A verified delivery whose body is not what its sender's contract says (400 `malformed_body`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

impl ParseError {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

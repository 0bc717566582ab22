//! Every way a webhook can be refused, each with one status and one code of the contract.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::error_response;
use crate::signature::VerifyError;

#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("unknown tenant `{0}`")]
    UnknownTenant(String),
    #[error("{0}")]
    Verify(#[from] VerifyError),
    #[error("{0}")]
    Malformed(String),
    #[error("the body is larger than the limit of 1 MiB")]
    BodyTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The event could not be stored: 503, so the sender retries later.
    #[error("the event could not be stored; retry later")]
    Unavailable,
}

impl InboundError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::UnknownTenant(_) => (StatusCode::NOT_FOUND, "unknown_tenant"),
            Self::Verify(error) => (StatusCode::UNAUTHORIZED, error.code()),
            Self::Malformed(_) => (StatusCode::BAD_REQUEST, "malformed_body"),
            Self::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl From<crate::ats::ParseError> for InboundError {
    fn from(error: crate::ats::ParseError) -> Self {
        Self::Malformed(error.0)
    }
}

impl IntoResponse for InboundError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        error_response(status, code, &self.to_string())
    }
}

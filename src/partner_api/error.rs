//! Every way a partner call is refused, each with one status and one code, in the contract's
//! error shape (`{"error": {"code", "message"}}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::error_response;
use crate::inbound::InboundError;

#[derive(Debug, thiserror::Error)]
pub enum PartnerApiError {
    #[error("missing or invalid key")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the body is larger than the limit of 1 MiB")]
    BodyTooLarge,
    #[error("expected application/json")]
    UnsupportedMediaType,
    /// A partner Liaison needs (the suite) or the database is unavailable: try again later.
    #[error("{0}")]
    Unavailable(String),
}

impl PartnerApiError {
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "malformed_body",
            message: message.into(),
        }
    }

    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::BodyTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl From<sea_orm::DbErr> for PartnerApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        tracing::error!(error = %error, "partner call: database");
        Self::Unavailable("the request could not be stored; retry later".to_owned())
    }
}

impl From<InboundError> for PartnerApiError {
    fn from(error: InboundError) -> Self {
        match error {
            InboundError::BodyTooLarge => Self::BodyTooLarge,
            InboundError::UnsupportedMediaType(_) => Self::UnsupportedMediaType,
            other => Self::malformed(other.to_string()),
        }
    }
}

impl IntoResponse for PartnerApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut response = error_response(status, code, &self.to_string());
        if matches!(self, Self::Unauthorized) {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"liaison\""),
            );
        }
        response
    }
}

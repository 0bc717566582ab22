//! What every console page shares: the chrome (who is signed in, the CSRF token for its forms),
//! the security headers, and the error pages (401 carries the sign-in form).

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::web::error::render;

/// The signed-in part of every page.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub who: String,
    pub csrf: String,
    /// The navigation entry to highlight.
    pub section: &'static str,
}

/// Console pages are never framed or cached. Their referrer policy is `same-origin`: another
/// site gets no `Referer` from them (so no console URL leaks), while the console's own form
/// posts carry their real `Origin` (under `no-referrer` a browser sends `Origin: null` even for a
/// same-origin POST, and the sign-in form's origin check must refuse `null`).
pub fn admin_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers
}

/// A rendered page with the console's headers.
pub fn html(template: &impl Template) -> Response {
    (admin_headers(), Html(render(template))).into_response()
}

#[derive(Template)]
#[template(path = "admin/login.html")]
pub struct LoginPage {
    pub chrome: Option<Chrome>,
    pub next: String,
    pub message: Option<String>,
    /// The form's pre-session CSRF token (bound to the sign-in cookie).
    pub csrf: String,
    pub token_enabled: bool,
    pub sso_url: Option<String>,
    pub sso_tenant: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage<'a> {
    chrome: Option<Chrome>,
    heading: &'a str,
    text: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Not signed in: 401 with the sign-in form, leading back to `next`.
    #[error("sign-in needed: {reason}")]
    Unauthorized {
        reason: String,
        next: String,
        options: Box<super::auth::LoginOptions>,
    },
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<crate::crypto::NoMasterKey> for AdminError {
    fn from(error: crate::crypto::NoMasterKey) -> Self {
        Self::Internal(error.into())
    }
}

impl From<sea_orm::DbErr> for AdminError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(error.into())
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, heading, text) = match &self {
            Self::Unauthorized {
                reason,
                next,
                options,
            } => {
                tracing::info!(reason = %reason, "admin console access refused");
                return options.respond(StatusCode::UNAUTHORIZED, next.clone(), None);
            }
            Self::Forbidden(text) => (StatusCode::FORBIDDEN, "Forbidden", text.clone()),
            Self::NotFound(text) => (StatusCode::NOT_FOUND, "Not found", text.clone()),
            Self::BadRequest(text) => (StatusCode::BAD_REQUEST, "Bad request", text.clone()),
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "admin page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error is in the server's log.".to_owned(),
                )
            }
        };
        let page = ErrorPage {
            chrome: None,
            heading,
            text: &text,
        };
        (status, html(&page)).into_response()
    }
}

//! Page errors: HTML that fits an iframe (same look, the tenant's framing rules and language when
//! known), never JSON and never a stack trace. A missing or refused access is a 401 page that
//! offers "Sign in" through the SSO popup.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::headers::page_headers;
use super::i18n::{Locale, Strings};

/// What a page knows about its tenant, to render an error the way its pages look.
#[derive(Clone, Debug, Default)]
pub struct PageContext {
    pub slug: String,
    pub locale: Locale,
    pub frame_ancestors: Vec<String>,
    /// Whether the tenant has an identity provider to sign in with.
    pub sso: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("unknown tenant")]
    UnknownTenant,
    #[error("sign-in needed: {reason}")]
    Unauthorized {
        context: PageContext,
        reason: String,
        /// The page to come back to after signing in.
        return_to: String,
    },
    /// Access refused for a reason with a machine-readable `code` (shown on the page as
    /// `data-code`): a launch token already used (`launch_replayed`), a signed-out session
    /// (`session_signed_out`), a session bound to another page (`wrong_resource`, 403), ...
    #[error("access refused ({code}): {reason}")]
    Denied {
        context: PageContext,
        code: &'static str,
        reason: String,
        /// The page to come back to after signing in.
        return_to: String,
    },
    #[error("forbidden: {reason}")]
    Forbidden {
        context: PageContext,
        reason: String,
    },
    #[error("not found")]
    NotFound { context: PageContext },
    #[error("bad request: {message}")]
    BadRequest {
        context: PageContext,
        message: String,
    },
    #[error("the suite is unreachable")]
    Unavailable { context: PageContext },
    /// A refusal the person can quote to an administrator: the page shows `code`.
    #[error("refused ({code}): {reason}")]
    Refused {
        context: PageContext,
        /// 401 for a sign-in, 403 for an account Liaison will not log into.
        status: StatusCode,
        code: &'static str,
        reason: String,
    },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<anyhow::Error> for PageError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<crate::crypto::NoMasterKey> for PageError {
    fn from(error: crate::crypto::NoMasterKey) -> Self {
        Self::Internal(error.into())
    }
}

impl From<sea_orm::DbErr> for PageError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(error.into())
    }
}

#[derive(Template)]
#[template(path = "pages/error.html")]
struct ErrorPage<'a> {
    lang: &'static str,
    heading: &'a str,
    text: &'a str,
    /// A refusal's machine-readable code, with its label.
    code: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignInPage<'a> {
    t: &'static Strings,
    lang: &'static str,
    sign_in_url: Option<String>,
    reason: &'a str,
    code: Option<&'a str>,
}

/// The code of a session bound to another page (403, not 401).
pub const WRONG_RESOURCE: &str = "wrong_resource";
/// The code of a launch token presented a second time.
pub const LAUNCH_REPLAYED: &str = "launch_replayed";

/// `/sso/{slug}/login?return_to=...` when the tenant has SSO.
fn sign_in_url(context: &PageContext, return_to: &str) -> Option<String> {
    context.sso.then(|| {
        format!(
            "/sso/{}/login?return_to={}",
            context.slug,
            url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>()
        )
    })
}

/// Renders a template, or a plain line when the template itself fails (it should not).
pub fn render(template: &impl Template) -> String {
    template.render().unwrap_or_else(|error| {
        tracing::error!(%error, "template failed to render");
        "<!doctype html><title>Error</title><p>Error</p>".to_owned()
    })
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let default_context = PageContext::default();
        let (status, context, text) = match &self {
            Self::UnknownTenant => (StatusCode::NOT_FOUND, &default_context, None),
            Self::Unauthorized { context, .. } => (StatusCode::UNAUTHORIZED, context, None),
            Self::Denied { context, code, .. } if *code == WRONG_RESOURCE => {
                (StatusCode::FORBIDDEN, context, None)
            }
            Self::Denied { context, .. } => (StatusCode::UNAUTHORIZED, context, None),
            Self::Forbidden { context, .. } => (StatusCode::FORBIDDEN, context, None),
            Self::NotFound { context } => (StatusCode::NOT_FOUND, context, None),
            Self::BadRequest { context, message } => {
                (StatusCode::BAD_REQUEST, context, Some(message.as_str()))
            }
            Self::Unavailable { context } => (StatusCode::SERVICE_UNAVAILABLE, context, None),
            Self::Refused {
                context,
                status,
                code,
                reason,
            } => {
                tracing::info!(tenant = %context.slug, code = %code, reason = %reason, "refused");
                (*status, context, None)
            }
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, &default_context, None)
            }
        };
        let t = context.locale.strings();
        let lang = context.locale.tag();
        let body = match &self {
            Self::Unauthorized {
                context,
                reason,
                return_to,
            } => {
                tracing::info!(tenant = %context.slug, reason = %reason, "page access refused");
                render(&SignInPage {
                    t,
                    lang,
                    sign_in_url: sign_in_url(context, return_to),
                    reason: t.sign_in_text,
                    code: None,
                })
            }
            Self::Denied {
                context,
                code,
                reason,
                return_to,
            } => {
                tracing::info!(tenant = %context.slug, code, reason = %reason, "page access refused");
                let text = match *code {
                    LAUNCH_REPLAYED => t.link_used_text,
                    WRONG_RESOURCE => t.wrong_page_text,
                    _ => t.sign_in_text,
                };
                render(&SignInPage {
                    t,
                    lang,
                    sign_in_url: sign_in_url(context, return_to),
                    reason: text,
                    code: Some(code),
                })
            }
            _ => {
                let text = match (&self, text) {
                    (Self::Unavailable { .. }, _) => t.unreachable_nothing,
                    (Self::BadRequest { .. }, Some(_)) => t.bad_request_text,
                    (Self::Forbidden { .. }, _) => t.sign_in_text,
                    (Self::Refused { status, .. }, _) if *status == StatusCode::UNAUTHORIZED => {
                        t.sign_in_refused_text
                    }
                    (Self::Refused { .. }, _) => t.suite_account_refused_text,
                    (Self::Internal(_), _) => t.internal_text,
                    _ => t.not_found_text,
                };
                let heading = match &self {
                    Self::Unavailable { .. } => t.unreachable_heading,
                    _ => t.error_heading,
                };
                let code = match &self {
                    Self::Refused { code, .. } => Some((t.error_code, *code)),
                    _ => None,
                };
                render(&ErrorPage {
                    lang,
                    heading,
                    text,
                    code,
                })
            }
        };
        (status, page_headers(&context.frame_ancestors), Html(body)).into_response()
    }
}

/// `Query<T>` that rejects with an HTML 400 page instead of axum's plain text.
pub struct PageQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for PageQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| PageError::BadRequest {
                context: PageContext::default(),
                message: rejection.body_text(),
            })
    }
}

//! Extractors that say what a handler needs: `AdminAuth` (the admin bearer token) and
//! `TenantPath` (the `{tenant}` of the path, resolved, or 404 `unknown_tenant`). Put `AdminAuth`
//! first in a handler's arguments, so that an unauthenticated caller cannot probe tenant slugs.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::error::ApiError;
use crate::http::peer::client_ip;
use crate::tenant::{self, TenantRef};

/// Proof that the caller presented the admin token, or a console session (the admin SSO). A
/// session-authenticated call that changes something must also send the session's CSRF token as
/// `X-CSRF-Token` (a bearer token cannot be sent by another site, a cookie can).
pub struct AdminAuth {
    /// `token` or `sso:<tenant>:<email>`, for the logs and replay records.
    pub who: String,
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if let Some(presented) = bearer {
            // Guessing is throttled per client, and a throttled client is refused whatever it
            // presents (see `admin::throttle`).
            let client = client_ip(
                &parts.extensions,
                &parts.headers,
                &state.settings.admin.trusted_proxies(),
            );
            if let Err(throttled) = state.sign_ins.check(client) {
                return Err(ApiError::TooManyAttempts {
                    retry_after_s: throttled.retry_after_seconds(),
                });
            }
            let matches: bool = state.settings.admin_token.as_ref().is_some_and(|expected| {
                presented
                    .as_bytes()
                    .ct_eq(expected.expose_secret().as_bytes())
                    .into()
            });
            if matches {
                return Ok(AdminAuth {
                    who: "token".to_owned(),
                });
            }
            tracing::warn!(client = %client, "API call with a wrong admin token");
            if state.sign_ins.record_failure(client).is_err() {
                tracing::warn!(client = %client, "admin token: this client is throttled now");
            }
            return Err(ApiError::Unauthorized);
        }
        let session = crate::admin::auth::session_of(state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        if !parts.method.is_safe() {
            let presented = parts
                .headers
                .get("x-csrf-token")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            let expected = crate::admin::auth::csrf_of(state, &session);
            if presented.is_empty() || !bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
            {
                return Err(ApiError::Unauthorized);
            }
        }
        Ok(AdminAuth { who: session.who })
    }
}

/// The tenant named by the `{tenant}` path segment.
pub struct TenantPath(pub TenantRef);

impl FromRequestParts<AppState> for TenantPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("no tenant in path".to_owned()))?;
        let slug = params
            .get("tenant")
            .ok_or_else(|| ApiError::NotFound("no tenant in path".to_owned()))?;
        tenant::find_ref(&state.db, slug)
            .await?
            .map(TenantPath)
            .ok_or_else(|| ApiError::UnknownTenant(slug.clone()))
    }
}

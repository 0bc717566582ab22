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
use crate::tenant::{self, TenantRef};

/// Proof that the caller presented the admin token.
pub struct AdminAuth;

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.settings.admin_token else {
            return Err(ApiError::Unauthorized);
        };
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        let matches: bool = presented
            .as_bytes()
            .ct_eq(expected.expose_secret().as_bytes())
            .into();
        if matches {
            Ok(AdminAuth)
        } else {
            Err(ApiError::Unauthorized)
        }
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

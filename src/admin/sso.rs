//! Admin SSO: with `[admin] sso_tenant = "<slug>"`, the console's sign-in page links to that
//! tenant's SSO (`/sso/<slug>/login?return_to=/admin/sso/finish`). The identity provider's
//! answer becomes a tenant session as for the embed pages; this handler accepts it when the
//! person's role maps to the suite role `admin` in the tenant's `[roles]`, and exchanges it for a
//! console session.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::auth::start_session;
use super::page::AdminError;
use crate::app::AppState;
use crate::domain::Role;
use crate::web::access::now_s;
use crate::web::error::PageQuery;
use crate::web::session::SessionOrigin;

#[derive(Debug, Deserialize)]
pub struct FinishQuery {
    #[serde(default)]
    s: String,
}

/// `GET /admin/sso/finish?s=<tenant session>`.
#[tracing::instrument(skip_all)]
pub async fn finish_admin_sso(
    State(state): State<AppState>,
    PageQuery(query): PageQuery<FinishQuery>,
) -> Result<Response, AdminError> {
    let Some(slug) = state.settings.admin.sso_tenant.clone() else {
        return Err(AdminError::NotFound(
            "admin SSO is not configured".to_owned(),
        ));
    };
    let session = state
        .web
        .keys()
        .verify(&query.s, &slug, now_s())
        .map_err(|error| AdminError::Forbidden(format!("the SSO session is not valid: {error}")))?;
    if !matches!(session.origin, SessionOrigin::Oidc | SessionOrigin::Saml) {
        return Err(AdminError::Forbidden(
            "only a sign-in through SSO opens the console".to_owned(),
        ));
    }
    let tenant =
        state.tenants()?.by_slug_now(&slug).await?.ok_or_else(|| {
            AdminError::NotFound(format!("the admin SSO tenant `{slug}` is gone"))
        })?;
    let suite_role = session
        .role
        .as_deref()
        .and_then(|role| tenant.config.roles.get(role));
    if suite_role != Some(Role::Admin) {
        tracing::warn!(tenant = %slug, "admin SSO refused: the role does not map to admin");
        return Err(AdminError::Forbidden(
            "your role does not give access to the admin console".to_owned(),
        ));
    }
    start_session(&state, format!("sso:{slug}:{}", session.email), "/admin").await
}

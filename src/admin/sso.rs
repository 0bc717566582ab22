//! Admin SSO: with `[admin] sso_tenant = "<slug>"`, the console's sign-in page links to that
//! tenant's SSO (`/sso/<slug>/login?return_to=/admin/sso/finish`). When the identity provider
//! answers, the SSO side stores who signed in under a single-use code valid for a minute and
//! sends the browser here with it (`sso::handoff`), together with a cookie binding the code to
//! that browser. This handler spends the code, accepts the person when their role maps to the
//! suite role `admin` in the tenant's `[roles]`, and starts a console session. A tenant session
//! token (`s=`) opens nothing here.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;

use super::auth::{SSO_FINISH_PATH, start_session};
use super::page::AdminError;
use crate::app::AppState;
use crate::domain::Role;
use crate::sso::handoff;
use crate::web::error::PageQuery;
use crate::web::session::read_cookie;

#[derive(Debug, Deserialize)]
pub struct FinishQuery {
    #[serde(default)]
    code: String,
}

/// `GET /admin/sso/finish?code=<single-use code>`.
#[tracing::instrument(skip_all)]
pub async fn finish_admin_sso(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(query): PageQuery<FinishQuery>,
) -> Result<Response, AdminError> {
    let Some(slug) = state.settings.admin.sso_tenant.clone() else {
        return Err(AdminError::NotFound(
            "admin SSO is not configured".to_owned(),
        ));
    };
    let binding = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| read_cookie(value, handoff::BINDING_COOKIE))
        .unwrap_or_default();
    let spent = handoff::redeem(&state.db, &query.code, binding).await?;
    let Some(signed_in) = spent else {
        tracing::warn!(tenant = %slug, "admin SSO refused: unknown, expired, used or unbound code");
        return Err(AdminError::Forbidden(
            "this sign-in link is not valid here: it expired, was already used or was opened \
             in another browser. Sign in again."
                .to_owned(),
        ));
    };
    let tenant =
        state.tenants()?.by_slug_now(&slug).await?.ok_or_else(|| {
            AdminError::NotFound(format!("the admin SSO tenant `{slug}` is gone"))
        })?;
    if signed_in.tenant != tenant.id {
        return Err(AdminError::Forbidden(
            "only a sign-in through the admin SSO tenant opens the console".to_owned(),
        ));
    }
    let suite_role = signed_in
        .role
        .as_deref()
        .and_then(|role| tenant.config.roles.get(role));
    if suite_role != Some(Role::Admin) {
        tracing::warn!(tenant = %slug, "admin SSO refused: the role does not map to admin");
        return Err(AdminError::Forbidden(
            "your role does not give access to the admin console".to_owned(),
        ));
    }
    let mut response =
        start_session(&state, format!("sso:{slug}:{}", signed_in.email), "/admin").await?;
    let secure = if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let clear = format!(
        "{}=; Path={SSO_FINISH_PATH}; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        handoff::BINDING_COOKIE
    );
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

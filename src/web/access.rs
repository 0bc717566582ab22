//! Who may see a page: a launch token (`?launch=`), which starts a session, or a session carried
//! by the page's links (`?s=`) or by the partitioned cookie. Each is checked against the tenant in
//! the URL, so a token for tenant A never opens tenant B's pages, whatever the ATS id.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::error::{PageContext, PageError};
use super::i18n::Locale;
use super::launch;
use super::session::{self, Session, SessionOrigin};
use crate::app::AppState;
use crate::tenant::{SsoKind, Tenant};

/// The query parameters that carry access.
#[derive(Debug, Default, Deserialize)]
pub struct AccessQuery {
    pub launch: Option<String>,
    pub s: Option<String>,
}

/// A page request that may proceed.
pub struct PageAccess {
    pub tenant: Arc<Tenant>,
    pub session: Session,
    /// The signed session, for the page's links and forms.
    pub token: String,
    /// Set when this request started the session: the cookie to send.
    pub set_cookie: Option<String>,
    pub context: PageContext,
}

impl PageAccess {
    pub fn locale(&self) -> Locale {
        self.context.locale
    }
}

pub fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The tenant `slug`, with its opened secrets (from the process's directory: read at most
/// `tenant::SLUG_TTL` ago, as an ATS page may hold many iframes).
pub async fn resolve_tenant(state: &AppState, slug: &str) -> Result<Arc<Tenant>, PageError> {
    state
        .tenants()?
        .by_slug(slug)
        .await?
        .ok_or(PageError::UnknownTenant)
}

/// How the tenant's pages look and frame, in `locale` (else the tenant's).
pub fn page_context(tenant: &Tenant, locale: Option<&str>) -> PageContext {
    PageContext {
        slug: tenant.slug().to_owned(),
        locale: Locale::choose(locale, tenant.config.embed.locale.as_deref()),
        frame_ancestors: tenant.config.embed.frame_ancestors.clone(),
        sso: tenant.config.sso.kind != SsoKind::None,
    }
}

/// The session of this request for `tenant`, or the 401 sign-in page. `return_to` is where
/// signing in should lead back to.
pub fn require_session(
    state: &AppState,
    tenant: Arc<Tenant>,
    query: &AccessQuery,
    headers: &HeaderMap,
    return_to: &str,
) -> Result<PageAccess, PageError> {
    let now = now_s();
    let keys = state.web.keys();
    let refuse = |context: PageContext, reason: String| PageError::Unauthorized {
        context,
        reason,
        return_to: return_to.to_owned(),
    };
    if let Some(token) = query.launch.as_deref() {
        let context = page_context(&tenant, None);
        let secret = tenant
            .config
            .embed
            .launch_secret
            .as_ref()
            .ok_or_else(|| refuse(context.clone(), "the tenant has no launch secret".into()))?;
        let claims = launch::verify(token, secret.expose_secret().as_bytes(), tenant.slug(), now)
            .map_err(|error| refuse(context.clone(), error.to_string()))?;
        let mut session = Session::new(
            tenant.slug(),
            claims.sub,
            claims.email,
            SessionOrigin::Launch,
            now,
        );
        session.role = claims.role;
        session.locale = claims.locale;
        let token = keys.sign(&session);
        let set_cookie = Some(session::session_cookie(
            tenant.slug(),
            &token,
            session::LAUNCH_SESSION_S,
        ));
        let context = page_context(&tenant, session.locale.as_deref());
        return Ok(PageAccess {
            tenant,
            session,
            token,
            set_cookie,
            context,
        });
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| session::read_cookie(value, &session::cookie_name(tenant.slug())));
    let carried = query.s.as_deref().filter(|s| !s.is_empty()).or(cookie);
    let context = page_context(&tenant, None);
    let Some(token) = carried else {
        return Err(refuse(context, "no launch token and no session".into()));
    };
    let session = keys
        .verify(token, tenant.slug(), now)
        .map_err(|error| refuse(context, error.to_string()))?;
    let context = page_context(&tenant, session.locale.as_deref());
    Ok(PageAccess {
        tenant,
        token: token.to_owned(),
        session,
        set_cookie: None,
        context,
    })
}

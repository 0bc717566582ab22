//! Who may see a page: a launch token (`?launch=`), spent once, which starts a session; else a
//! session from the partitioned cookie (preferred), a one-time hand-off code (`?h=`, after a
//! launch's redirect or from the SSO popup), or a session token in a form's body (`s`, also
//! still read from the query for compatibility). Each is checked against the tenant in the URL,
//! so a token for tenant A never opens tenant B's pages; against the signed-out marks, so a
//! session ended by sign-out stays ended; and against the session's `res` when it has one, so a
//! token bound to one page opens only that page.

use std::sync::Arc;

use axum::http::{HeaderMap, header};
use secrecy::ExposeSecret as _;
use serde::Deserialize;

use super::error::{LAUNCH_REPLAYED, PageContext, PageError, WRONG_RESOURCE};
use super::i18n::Locale;
use super::launch;
use super::session::{self, Session, SessionError, SessionOrigin};
use super::spent::{self, SpentKind};
use crate::app::AppState;
use crate::tenant::{SsoKind, Tenant};

/// The query parameters (or form fields) that carry access.
#[derive(Debug, Default, Deserialize)]
pub struct AccessQuery {
    pub launch: Option<String>,
    pub s: Option<String>,
    /// A one-time hand-off code.
    pub h: Option<String>,
}

/// A page request that may proceed.
pub struct PageAccess {
    pub tenant: Arc<Tenant>,
    pub session: Session,
    /// The signed session, for the page's forms.
    pub token: String,
    /// Set when this request started the session or brought it by a hand-off: the cookie to send.
    pub set_cookie: Option<String>,
    pub context: PageContext,
}

impl PageAccess {
    pub fn locale(&self) -> Locale {
        self.context.locale
    }
}

/// What a request asks to open: where signing in should lead back to, and the page
/// (`jobs/{ats id}`, `applications/{ats id}`) checked against a session's `res`.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub return_to: &'a str,
    pub resource: Option<(&'a str, &'a str)>,
}

impl<'a> Target<'a> {
    /// A page: `segment` is `jobs` or `applications`.
    pub fn page(return_to: &'a str, segment: &'a str, ats_id: &'a str) -> Self {
        Self {
            return_to,
            resource: Some((segment, ats_id)),
        }
    }

    /// No page (signing out).
    pub fn none() -> Self {
        Self {
            return_to: "",
            resource: None,
        }
    }

    fn resource(&self) -> Option<String> {
        self.resource
            .map(|(segment, ats_id)| format!("{segment}/{ats_id}"))
    }
}

/// `path` with a one-time hand-off code appended (`SessionKeys::handoff`).
pub fn with_handoff(path: &str, code: &str) -> String {
    let separator = if path.contains('?') { '&' } else { '?' };
    format!("{path}{separator}h={code}")
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

/// The locale the browser asks for (`Accept-Language`), as a tag for `page_context`.
pub fn browser_locale(headers: &HeaderMap) -> Option<&'static str> {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(Locale::from_accept_language)
        .map(Locale::tag)
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

/// A refusal: its code and the reason (for the log).
type Refusal = (&'static str, String);

fn session_refusal(error: SessionError) -> Refusal {
    let code = match error {
        SessionError::Invalid => "session_invalid",
        SessionError::Expired => "session_expired",
        SessionError::WrongTenant => "session_wrong_tenant",
    };
    (code, error.to_string())
}

/// The session of this request for `tenant`, or the 401 sign-in page (403 for a session bound
/// to another page). A launch token is spent here: presented again, it is refused.
pub async fn require_session(
    state: &AppState,
    tenant: Arc<Tenant>,
    query: &AccessQuery,
    headers: &HeaderMap,
    target: Target<'_>,
) -> Result<PageAccess, PageError> {
    let now = now_s();
    let browser = browser_locale(headers);
    let context = page_context(&tenant, browser);
    let deny = |context: PageContext, (code, reason): Refusal| PageError::Denied {
        context,
        code,
        reason,
        return_to: target.return_to.to_owned(),
    };
    let found = match query.launch.as_deref() {
        Some(token) => match start_launch(state, &tenant, token, now).await? {
            Ok(found) => found,
            // A spent token mints nothing; but a browser that already holds a live session
            // (another frame of the same ATS page, a reload) keeps using its own.
            Err(refusal) if refusal.0 == LAUNCH_REPLAYED => {
                match cookie_session(state, &tenant, headers, now).await? {
                    Some((Ok(session), token)) => (session, token.to_owned(), None),
                    _ => return Err(deny(context, refusal)),
                }
            }
            Err(refusal) => return Err(deny(context, refusal)),
        },
        None => carried_session(state, &tenant, query, headers, now)
            .await?
            .map_err(|refusal| deny(context.clone(), refusal))?,
    };
    let (session, token, set_cookie) = found;
    let resource = target.resource();
    if !session.allows(resource.as_deref()) {
        return Err(deny(
            context,
            (
                WRONG_RESOURCE,
                format!("the session opens {:?} only", session.res),
            ),
        ));
    }
    let context = page_context(&tenant, session.locale.as_deref().or(browser));
    Ok(PageAccess {
        tenant,
        session,
        token,
        set_cookie,
        context,
    })
}

type Found = (Session, String, Option<String>);

/// Verifies the launch token, spends it, and starts its session (with its cookie).
async fn start_launch(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Result<Found, Refusal>, PageError> {
    let Some(secret) = tenant.config.embed.launch_secret.as_ref() else {
        return Ok(Err((
            "launch_not_configured",
            "the tenant has no launch secret".to_owned(),
        )));
    };
    let claims = match launch::verify(token, secret.expose_secret().as_bytes(), tenant.slug(), now)
    {
        Ok(claims) => claims,
        Err(error) => return Ok(Err((error.code(), error.to_string()))),
    };
    // Spent once, for as long as the token could still be accepted.
    let first = spent::spend(
        &state.db,
        tenant.id,
        SpentKind::Launch,
        &claims.spend_key(token),
        claims.exp + launch::CLOCK_SKEW_S,
    )
    .await?;
    if !first {
        return Ok(Err((
            LAUNCH_REPLAYED,
            "the launch token was already used".to_owned(),
        )));
    }
    let mut session = Session::new(
        tenant.slug(),
        claims.sub,
        claims.email,
        SessionOrigin::Launch,
        now,
    );
    session.exp = session::launch_session_exp(now, claims.exp);
    session.role = claims.role;
    session.locale = claims.locale;
    session.res = claims.res;
    let token = state.web.keys().sign(&session);
    let cookie = session::session_cookie(tenant.slug(), &token, session.exp - now);
    Ok(Ok((session, token, Some(cookie))))
}

/// A session the request carries: the cookie's, else the hand-off code's, else `s`.
async fn carried_session(
    state: &AppState,
    tenant: &Tenant,
    query: &AccessQuery,
    headers: &HeaderMap,
    now: i64,
) -> Result<Result<Found, Refusal>, PageError> {
    let keys = state.web.keys();
    let mut refusal: Refusal = ("no_session", "no launch token and no session".to_owned());
    let handoff = query.h.as_deref().filter(|h| !h.is_empty());
    match cookie_session(state, tenant, headers, now).await? {
        Some((Ok(session), token)) => {
            if let Some(code) = handoff {
                // Spend it anyway, so that it is worthless wherever its URL was seen.
                redeem_handoff(state, tenant, code, now).await?.ok();
            }
            return Ok(Ok((session, token.to_owned(), None)));
        }
        Some((Err(why), _)) => refusal = why,
        None => {}
    }
    if let Some(code) = handoff {
        match redeem_handoff(state, tenant, code, now).await? {
            Ok(session) => {
                let token = keys.sign(&session);
                let cookie = session::session_cookie(tenant.slug(), &token, session.exp - now);
                return Ok(Ok((session, token, Some(cookie))));
            }
            Err(why) => refusal = why,
        }
    }
    if let Some(token) = query.s.as_deref().filter(|s| !s.is_empty()) {
        match live_session(state, tenant, token, now).await? {
            Ok(session) => return Ok(Ok((session, token.to_owned(), None))),
            Err(why) => refusal = why,
        }
    }
    Ok(Err(refusal))
}

/// The session in the tenant's cookie, if the request has one (and the cookie's value).
async fn cookie_session<'h>(
    state: &AppState,
    tenant: &Tenant,
    headers: &'h HeaderMap,
    now: i64,
) -> Result<Option<(Result<Session, Refusal>, &'h str)>, PageError> {
    let name = session::cookie_name(tenant.slug());
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| session::read_cookie(value, &name));
    let Some(token) = cookie else {
        return Ok(None);
    };
    Ok(Some((
        live_session(state, tenant, token, now).await?,
        token,
    )))
}

/// The session in `token` if it is valid for `tenant` and was not signed out.
async fn live_session(
    state: &AppState,
    tenant: &Tenant,
    token: &str,
    now: i64,
) -> Result<Result<Session, Refusal>, PageError> {
    let session = match state.web.keys().verify(token, tenant.slug(), now) {
        Ok(session) => session,
        Err(error) => return Ok(Err(session_refusal(error))),
    };
    if spent::is_spent(&state.db, tenant.id, SpentKind::SignedOut, &session.sid).await? {
        return Ok(Err((
            "session_signed_out",
            "the session was signed out".to_owned(),
        )));
    }
    Ok(Ok(session))
}

/// The session a hand-off code carries, spending the code (by the session id).
async fn redeem_handoff(
    state: &AppState,
    tenant: &Tenant,
    code: &str,
    now: i64,
) -> Result<Result<Session, Refusal>, PageError> {
    let (session, until) = match state.web.keys().open_handoff(code, tenant.slug(), now) {
        Ok(opened) => opened,
        Err(error) => {
            let (_, reason) = session_refusal(error);
            return Ok(Err(("handoff_invalid", reason)));
        }
    };
    let first = spent::spend(
        &state.db,
        tenant.id,
        SpentKind::Handoff,
        &session.sid,
        until + launch::CLOCK_SKEW_S,
    )
    .await?;
    if !first {
        return Ok(Err((
            "handoff_used",
            "the hand-off code was already used".to_owned(),
        )));
    }
    if spent::is_spent(&state.db, tenant.id, SpentKind::SignedOut, &session.sid).await? {
        return Ok(Err((
            "session_signed_out",
            "the session was signed out".to_owned(),
        )));
    }
    Ok(Ok(session))
}

/// Ends `session` for good: marked signed out until it would have expired.
pub async fn sign_out_session(
    state: &AppState,
    tenant: &Tenant,
    session: &Session,
) -> Result<(), PageError> {
    spent::spend(
        &state.db,
        tenant.id,
        SpentKind::SignedOut,
        &session.sid,
        session.exp + launch::CLOCK_SKEW_S,
    )
    .await?;
    Ok(())
}

//! Single sign-on with the tenant's identity provider (OIDC or SAML 2.0), and the popup that
//! signs a person into the suite. Identity providers refuse to be framed, so sign-in runs in a
//! popup window; when it is done, the popup hands a one-time code of the new session to the
//! iframe that opened it (`postMessage` to Liaison's exact origin) and the iframe reloads with it
//! (`?h=`, spent on first use; the session token itself never travels in a URL).

pub mod handoff;
pub mod idp_cache;
pub mod limits;
pub mod logins;
pub mod oidc;
pub mod popup;
pub mod saml;

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::app::AppState;
use crate::tenant::{SsoKind, Tenant};
use crate::web::access::{
    AccessQuery, Target, now_s, page_context, require_session, resolve_tenant, sign_out_session,
    with_handoff,
};
use crate::web::error::{PageError, PageQuery, render};
use crate::web::headers::page_headers;
use crate::web::i18n::Strings;
use crate::web::session::{self, Session, SessionOrigin};

/// What the SSO endpoints keep in memory: the per-client limits and the identity providers'
/// documents (`idp_cache`). Cheap to clone.
#[derive(Clone)]
pub struct SsoState {
    pub limits: Arc<limits::SignInLimits>,
    /// OIDC discovery with the JWKS, per tenant and issuer.
    pub discovery: Arc<idp_cache::IdpCache<openidconnect::core::CoreProviderMetadata>>,
    /// SAML IdP metadata (XML), per tenant and URL.
    pub saml_metadata: Arc<idp_cache::IdpCache<String>>,
}

impl SsoState {
    pub fn new(settings: &crate::config::SsoLimitSettings) -> Self {
        Self {
            limits: Arc::new(limits::SignInLimits::new(settings)),
            discovery: Arc::default(),
            saml_metadata: Arc::default(),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sso/{tenant}/login", get(start_sign_in))
        .route(
            "/sso/{tenant}/oidc/callback",
            get(oidc::finish_oidc_sign_in),
        )
        .route("/sso/{tenant}/saml/metadata", get(saml::show_saml_metadata))
        .route("/sso/{tenant}/saml/acs", post(saml::consume_saml_response))
        .route("/sso/{tenant}/logout", post(sign_out))
        .route(
            "/open/{tenant}/jobs/{ats_job_id}",
            get(popup::open_job).post(popup::post_open_job),
        )
        .route(
            "/open/{tenant}/applications/{ats_application_id}",
            get(popup::open_application).post(popup::post_open_application),
        )
}

/// Who the identity provider says signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub email: String,
    pub name: Option<String>,
    /// The ATS role the provider states (mapped through the tenant's `[roles]` later).
    pub role: Option<String>,
}

/// A path on Liaison to come back to: only the tenant's own embed pages and popups (or the admin
/// console's SSO hand-off), so the
/// parameter cannot send anyone elsewhere (no other host, no scheme, no `//`, no backslash).
pub fn safe_return_to(slug: &str, path: &str) -> Option<String> {
    // The admin console's SSO hand-off (it checks the tenant and the role itself).
    if path == crate::admin::auth::SSO_FINISH_PATH {
        return Some(path.to_owned());
    }
    let allowed = [format!("/embed/{slug}/"), format!("/open/{slug}/")];
    let ok = allowed
        .iter()
        .any(|prefix| path.starts_with(prefix.as_str()))
        && !path.contains("//")
        && !path.contains('\\')
        && !path.contains("..")
        && path.chars().all(|c| c.is_ascii_graphic());
    ok.then(|| path.to_owned())
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

/// `GET /sso/{tenant}/login?return_to=PATH`: to the tenant's identity provider.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn start_sign_in(
    _: limits::WithinLimit,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(&state, &slug).await?;
    let return_to = match query.return_to.as_deref() {
        None | Some("") => String::new(),
        Some(path) => safe_return_to(tenant.slug(), path).ok_or_else(|| PageError::BadRequest {
            context: page_context(&tenant, None),
            message: "return_to must be one of this tenant's pages".to_owned(),
        })?,
    };
    match tenant.config.sso.kind {
        SsoKind::Oidc => oidc::start(&state, &tenant, return_to).await,
        SsoKind::Saml => saml::start(&state, &tenant, return_to).await,
        SsoKind::None => Err(PageError::NotFound {
            context: page_context(&tenant, None),
        }),
    }
}

#[derive(Template)]
#[template(path = "pages/signed_in.html")]
struct SignedInPage<'a> {
    t: &'static Strings,
    lang: &'static str,
    origin: &'a str,
    /// A one-time hand-off code of the new session, for the iframe.
    handoff: &'a str,
    return_to: &'a str,
    continue_url: Option<String>,
}

/// Liaison's own origin (`scheme://host[:port]`), the only target the popup posts to.
fn own_origin(state: &AppState) -> String {
    url::Url::parse(&state.settings.public_url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Ends a successful sign-in: a session for `identity`, its cookie, and either straight on to
/// a popup target (`/open/...`) or the "signed in" page that hands the session to the iframe.
/// A sign-in for the admin console gets no tenant session: it is handed to
/// `/admin/sso/finish` with a single-use code (`handoff`). `browser_locale` is the language the
/// browser asks for (`web::access::browser_locale`), for the "signed in" page.
pub async fn complete_sign_in(
    state: &AppState,
    tenant: &Tenant,
    identity: Identity,
    origin: SessionOrigin,
    return_to: &str,
    browser_locale: Option<&str>,
) -> Result<Response, PageError> {
    if return_to == crate::admin::auth::SSO_FINISH_PATH {
        return hand_off_to_console(state, tenant, &identity, origin).await;
    }
    let mut session = Session::new(
        tenant.slug(),
        format!("sso:{}", identity.subject),
        identity.email,
        origin,
        now_s(),
    );
    session.name = identity.name;
    session.role = identity.role;
    let token = state.web.keys().sign(&session);
    tracing::info!(tenant = %tenant.slug(), origin = ?origin, "signed in with SSO");
    let context = page_context(tenant, browser_locale);
    let mut headers = page_headers(&context.frame_ancestors);
    let cookie = session::session_cookie(tenant.slug(), &token, session::SSO_SESSION_S);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    // Onward with a one-time hand-off code rather than the session token: the code is spent on
    // first use, so the URL is worthless in history and proxy logs.
    let handoff = state.web.keys().handoff(&session, now_s());
    if return_to.starts_with("/open/") {
        return Ok((headers, Redirect::to(&with_handoff(return_to, &handoff))).into_response());
    }
    let t = context.locale.strings();
    let page = SignedInPage {
        t,
        lang: context.locale.tag(),
        origin: &own_origin(state),
        handoff: &handoff,
        return_to,
        continue_url: (!return_to.is_empty()).then(|| with_handoff(return_to, &handoff)),
    };
    Ok((headers, Html(render(&page))).into_response())
}

/// To `/admin/sso/finish?code=...`, with the cookie that binds the code to this browser.
/// (`SameSite=Lax`: the redirect is a top-level GET, also after the IdP's cross-site POST.)
async fn hand_off_to_console(
    state: &AppState,
    tenant: &Tenant,
    identity: &Identity,
    origin: SessionOrigin,
) -> Result<Response, PageError> {
    let issued = handoff::issue(&state.db, tenant.id, identity, origin).await?;
    tracing::info!(tenant = %tenant.slug(), origin = ?origin, "signed in with SSO for the admin console");
    let secure = if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path={}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        handoff::BINDING_COOKIE,
        issued.binding,
        crate::admin::auth::SSO_FINISH_PATH,
        handoff::HANDOFF_TTL_MS / 1000,
    );
    let mut response = Redirect::to(&format!(
        "{}?code={}",
        crate::admin::auth::SSO_FINISH_PATH,
        issued.code
    ))
    .into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    s: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /sso/{tenant}/logout`: ends the session for good (CSRF token required): marks it
/// signed out in the store (`web::spent`) and clears its cookie.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn sign_out(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Result<Response, PageError> {
    let tenant: Arc<Tenant> = resolve_tenant(&state, &slug).await?;
    let query = AccessQuery {
        s: form.s,
        ..AccessQuery::default()
    };
    let access = require_session(&state, tenant.clone(), &query, &headers, Target::none()).await?;
    if !state.web.keys().check_csrf(&access.session, &form.csrf) {
        return Err(PageError::Forbidden {
            context: access.context,
            reason: "missing or wrong CSRF token".to_owned(),
        });
    }
    // Marked in the store: the token stays refused wherever a copy of it is kept.
    sign_out_session(&state, &tenant, &access.session).await?;
    let mut response_headers = page_headers(&access.context.frame_ancestors);
    if let Ok(value) = HeaderValue::from_str(&session::clear_cookie(tenant.slug())) {
        response_headers.insert(header::SET_COOKIE, value);
    }
    let t = access.locale().strings();
    Ok((
        StatusCode::OK,
        response_headers,
        Html(format!(
            "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><title>{}</title>\
             <link rel=\"stylesheet\" href=\"/static/liaison.css\">\
             <main class=\"liaison\"><p class=\"notice\">{}</p></main></html>",
            access.locale().tag(),
            t.sign_out,
            t.sign_out
        )),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_the_tenant_s_own_pages() {
        assert!(safe_return_to("acme", "/embed/acme/jobs/42").is_some());
        assert!(safe_return_to("acme", "/open/acme/applications/7").is_some());
        for bad in [
            "https://evil.example/embed/acme/jobs/1",
            "//evil.example",
            "/embed/globex/jobs/1",
            "/embed/acme/../../admin",
            "/embed/acme/jobs/1\\x",
            "/embed/acme//evil",
            "/sso/acme/login",
        ] {
            assert!(safe_return_to("acme", bad).is_none(), "{bad}");
        }
    }
}

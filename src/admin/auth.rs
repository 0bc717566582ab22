//! Signing in to the console: the admin token typed into `/admin/login` (compared in constant
//! time) or the admin SSO tenant (`sso.rs`). Either way the browser gets a cookie
//! (`liaison_admin`: HttpOnly, SameSite=Strict, Secure when Liaison is served over https) that
//! names a server-side session (`sessions.rs`): it ends at `[admin] session_minutes`, at
//! sign-out, and when the admin token changes. Forms carry a CSRF token bound to the session.
//!
//! The sign-in form itself is protected against login CSRF three ways: a browser's
//! `Sec-Fetch-Site` must say `same-origin`; its `Origin` must be one of this server's origins
//! (`public_url`'s, `[admin] extra_origins`, or the request's own when that is a loopback name:
//! never an origin taken from `Host` alone, never `null`); and the form must carry the token
//! that matches the pre-session cookie the sign-in page set (a signed double-submit cookie).
//! Failed tokens are throttled per client (`throttle.rs`).

use std::net::IpAddr;

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::page::{AdminError, LoginPage, html};
use super::sessions::{self, NewSession};
use super::throttle::Throttled;
use crate::app::AppState;
use crate::http::peer::ClientIp;
use crate::web::access::now_s;
use crate::web::error::PageQuery;
use crate::web::session::{self, random_id};

pub const COOKIE: &str = "liaison_admin";
/// The sign-in form's pre-session cookie over plain http (a loopback or development setup:
/// browsers refuse `__Host-` cookies without `Secure`, and `Secure` cookies over http).
pub const LOGIN_COOKIE: &str = "liaison_admin_login";
/// The same cookie when `public_url` is https: the `__Host-` prefix makes browsers keep it only
/// if it was set by this host, over https, for `Path=/`, so a sibling domain cannot plant one.
pub const LOGIN_COOKIE_HTTPS: &str = "__Host-liaison_admin_login";
/// Where the admin SSO tenant's sign-in leads back to (see `sso.rs`).
pub const SSO_FINISH_PATH: &str = "/admin/sso/finish";
const SESSION_DOMAIN: &str = "liaison admin session v1";
const CSRF_DOMAIN: &str = "liaison admin csrf v1";
const LOGIN_CSRF_DOMAIN: &str = "liaison admin login csrf v1";
const TOKEN_EPOCH_DOMAIN: &str = "liaison admin token epoch v1";
/// How long a sign-in page's form stays usable.
const LOGIN_COOKIE_SECONDS: i64 = 60 * 60;

/// A console session: who signed in and until when (unix seconds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AdminSession {
    pub sid: String,
    /// `token` or `sso:<tenant>:<email>`.
    pub who: String,
    pub exp: i64,
}

/// A request from a signed-in administrator.
#[derive(Clone, Debug)]
pub struct Admin {
    pub who: String,
    pub csrf: String,
    /// The session's id (sign-out ends it).
    pub sid: String,
}

impl Admin {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), AdminError> {
        if bool::from(self.csrf.as_bytes().ct_eq(presented.as_bytes())) && !presented.is_empty() {
            Ok(())
        } else {
            Err(AdminError::Forbidden(
                "missing or wrong CSRF token: reload the page and try again".to_owned(),
            ))
        }
    }

    pub fn chrome(&self, section: &'static str) -> super::page::Chrome {
        super::page::Chrome {
            who: self.who.clone(),
            csrf: self.csrf.clone(),
            section,
        }
    }
}

/// How one may sign in here, and the sign-in form's pre-session CSRF pair.
#[derive(Clone, Debug, Default)]
pub struct LoginOptions {
    pub token_enabled: bool,
    pub sso_tenant: Option<String>,
    /// The value of the pre-session cookie (kept from the request when it has a valid one, so
    /// two open sign-in tabs both work).
    nonce: String,
    /// Whether `nonce` is new, so the cookie must be set.
    fresh: bool,
    /// What the form carries: the MAC of `nonce`.
    csrf: String,
    https: bool,
}

impl LoginOptions {
    pub fn of(state: &AppState, headers: &HeaderMap) -> Self {
        let https = is_https(state);
        let kept = cookie_value(headers, login_cookie_name(https))
            .filter(|value| is_nonce(value))
            .map(str::to_owned);
        let fresh = kept.is_none();
        let nonce = kept.unwrap_or_else(random_id);
        Self {
            fresh,
            token_enabled: state.settings.admin_token.is_some(),
            sso_tenant: state.settings.admin.sso_tenant.clone(),
            csrf: state.web.keys().csrf_for(LOGIN_CSRF_DOMAIN, &nonce),
            nonce,
            https,
        }
    }

    pub fn page(&self, next: String, message: Option<String>) -> LoginPage {
        LoginPage {
            chrome: None,
            next,
            message,
            csrf: self.csrf.clone(),
            token_enabled: self.token_enabled,
            sso_url: self
                .sso_tenant
                .as_ref()
                .map(|t| format!("/sso/{t}/login?return_to={}", SSO_FINISH_PATH)),
            sso_tenant: self.sso_tenant.clone(),
        }
    }

    /// The sign-in page with `status`, setting the pre-session cookie its form is bound to
    /// (unless the browser has it already).
    pub fn respond(&self, status: StatusCode, next: String, message: Option<String>) -> Response {
        let mut response = (status, html(&self.page(next, message))).into_response();
        if !self.fresh {
            return response;
        }
        let cookie = format!(
            "{}={}; Path=/; Max-Age={LOGIN_COOKIE_SECONDS}; HttpOnly; SameSite=Strict{}",
            login_cookie_name(self.https),
            self.nonce,
            if self.https { "; Secure" } else { "" }
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

fn is_https(state: &AppState) -> bool {
    state.settings.public_url.starts_with("https://")
}

fn login_cookie_name(https: bool) -> &'static str {
    if https {
        LOGIN_COOKIE_HTTPS
    } else {
        LOGIN_COOKIE
    }
}

/// What `random_id` makes: 22 URL-safe characters.
fn is_nonce(value: &str) -> bool {
    value.len() == 22
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| session::read_cookie(value, name))
}

/// The epoch of the configured admin token: a keyed hash (never the token itself) that each
/// session row keeps, so that a new token ends every session opened under the old one.
fn token_epoch(state: &AppState) -> String {
    let token = state
        .settings
        .admin_token
        .as_ref()
        .map(|t| t.expose_secret().to_owned())
        .unwrap_or_default();
    state.web.keys().csrf_for(TOKEN_EPOCH_DOMAIN, &token)
}

/// The console session in this request's cookie, if it is signed by us and still holds in the
/// store (not expired, not signed out, opened under the current admin token).
pub async fn session_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<AdminSession>, sea_orm::DbErr> {
    let Some(token) = cookie_value(headers, COOKIE) else {
        return Ok(None);
    };
    let Ok(claims) = state
        .web
        .keys()
        .open_claims::<AdminSession>(SESSION_DOMAIN, token)
    else {
        return Ok(None);
    };
    if claims.exp <= now_s() {
        return Ok(None);
    }
    let live = sessions::is_live(&state.db, &claims.sid, &token_epoch(state)).await?;
    Ok(live.then_some(claims))
}

/// The CSRF token of a session (forms carry it as `csrf`, API calls as `X-CSRF-Token`).
pub fn csrf_of(state: &AppState, session: &AdminSession) -> String {
    state.web.keys().csrf_for(CSRF_DOMAIN, &session.sid)
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .filter(|p| safe_next(p))
            .unwrap_or_else(|| "/admin".to_owned());
        let session =
            session_of(state, &parts.headers)
                .await?
                .ok_or_else(|| AdminError::Unauthorized {
                    reason: "no valid console session".to_owned(),
                    next,
                    options: Box::new(LoginOptions::of(state, &parts.headers)),
                })?;
        Ok(Admin {
            csrf: csrf_of(state, &session),
            who: session.who,
            sid: session.sid,
        })
    }
}

/// Where to go after signing in: console pages only (no other host, no `//`).
fn safe_next(path: &str) -> bool {
    (path == "/admin" || path.starts_with("/admin/") || path.starts_with("/admin?"))
        && !path.starts_with("/admin/login")
        && !path.contains("//")
        && !path.contains('\\')
        && path.chars().all(|c| c.is_ascii_graphic())
}

/// Opens a console session for `who` (`token`, or `sso:<tenant>:<email>`): records it in the
/// store and answers the redirect to `next` (a console path; anything else goes to `/admin`)
/// that sets its cookie. Every way into the console ends here.
pub async fn start_session(
    state: &AppState,
    who: String,
    next: &str,
) -> Result<Response, AdminError> {
    let lifetime = state.settings.admin.session_minutes as i64 * 60;
    let claims = AdminSession {
        sid: random_id(),
        who,
        exp: now_s() + lifetime,
    };
    sessions::open(
        &state.db,
        NewSession {
            sid: &claims.sid,
            who: &claims.who,
            token_epoch: &token_epoch(state),
            lifetime_ms: lifetime * 1000,
        },
    )
    .await?;
    let token = state.web.keys().sign_claims(SESSION_DOMAIN, &claims);
    tracing::info!(who = %claims.who, "admin console sign-in");
    let target = if safe_next(next) { next } else { "/admin" };
    let mut response = Redirect::to(target).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie(state, &token, lifetime)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if is_https(state) { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /admin/login`.
pub async fn show_login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Response {
    let next = query.next.filter(|n| safe_next(n)).unwrap_or_default();
    LoginOptions::of(&state, &headers).respond(StatusCode::OK, next, None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// Whether a host (as in `Host` or a URL, port excluded) names this machine's loopback.
fn is_loopback_name(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The origins a sign-in form may be posted from: `public_url`'s, `[admin] extra_origins`, and
/// the request's own origin when its host is a loopback name (`localhost:8080` and
/// `127.0.0.1:8080` are the same server to the person at that machine). Never `null`, and never
/// an origin built from a `Host` header that names another machine.
fn allowed_origins(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    let mut allowed = state.settings.admin.extra_origins();
    allowed.extend(crate::config::origin_of(
        url::Url::parse(&state.settings.public_url)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
            .as_str(),
    ));
    if let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok())
        && let Ok(authority) = host.parse::<axum::http::uri::Authority>()
        && is_loopback_name(authority.host())
    {
        for scheme in ["http", "https"] {
            allowed.extend(crate::config::origin_of(&format!("{scheme}://{authority}")));
        }
    }
    allowed
}

/// Refuses a sign-in form that a browser posted from anywhere but this server: a
/// `Sec-Fetch-Site` other than `same-origin`, or an `Origin` not among `allowed_origins` (an
/// `Origin: null` included). A client that sends neither (not a browser) is left to the form's
/// CSRF token.
fn check_browser_origin(state: &AppState, headers: &HeaderMap) -> Result<(), String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("?");
        if site != "same-origin" {
            return Err(format!(
                "the sign-in form was posted from another site (Sec-Fetch-Site: {site})"
            ));
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("?");
    if allowed_origins(state, headers).iter().any(|o| o == origin) {
        Ok(())
    } else {
        Err(format!(
            "the sign-in form was posted from {origin}, which is not this server's origin: \
             open the console at public_url ({}), or list this origin in \
             [admin] extra_origins",
            state.settings.public_url
        ))
    }
}

/// The answer to a client that failed too often: 429 with `Retry-After`.
fn too_many_attempts(
    options: &LoginOptions,
    next: String,
    client: IpAddr,
    throttled: Throttled,
) -> Response {
    let seconds = throttled.retry_after_seconds();
    tracing::debug!(client = %client, "admin console sign-in refused: throttled");
    let mut response = options.respond(
        StatusCode::TOO_MANY_REQUESTS,
        next,
        Some(format!(
            "Too many failed sign-ins from your address: try again in {seconds} seconds."
        )),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// `POST /admin/login`: the admin token, compared in constant time.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_token(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AdminError> {
    let options = LoginOptions::of(&state, &headers);
    if let Err(throttled) = state.sign_ins.check(client) {
        return Ok(too_many_attempts(&options, form.next, client, throttled));
    }
    if let Err(reason) = check_browser_origin(&state, &headers) {
        tracing::warn!(client = %client, reason = %reason, "admin console sign-in refused");
        return Err(AdminError::Forbidden(reason));
    }
    let presented_nonce = cookie_value(&headers, login_cookie_name(options.https));
    let bound = presented_nonce.is_some_and(|nonce| {
        let expected = state.web.keys().csrf_for(LOGIN_CSRF_DOMAIN, nonce);
        !form.csrf.is_empty() && bool::from(expected.as_bytes().ct_eq(form.csrf.as_bytes()))
    });
    if !bound {
        tracing::warn!(client = %client, "admin console sign-in refused: the form's CSRF token does not match its cookie");
        return Ok(options.respond(
            StatusCode::FORBIDDEN,
            form.next,
            Some("The sign-in form had expired: please try again.".to_owned()),
        ));
    }
    let refuse = |message: &str| {
        options.respond(
            StatusCode::UNAUTHORIZED,
            form.next.clone(),
            Some(message.to_owned()),
        )
    };
    let Some(expected) = &state.settings.admin_token else {
        return Ok(refuse(
            "Token sign-in is disabled: no admin_token is configured.",
        ));
    };
    let matches: bool = form
        .token
        .trim()
        .as_bytes()
        .ct_eq(expected.expose_secret().as_bytes())
        .into();
    if !matches {
        tracing::warn!(client = %client, "admin console sign-in with a wrong token");
        if state.sign_ins.record_failure(client).is_err() {
            tracing::warn!(client = %client, "admin sign-in: this client is throttled now");
        }
        return Ok(refuse("That is not the admin token."));
    }
    start_session(&state, "token".to_owned(), &form.next).await
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/logout`: ends the session in the store and clears the cookie (CSRF token
/// required). The cookie is dead from then on, in this browser or any other.
pub async fn sign_out(
    admin: Admin,
    State(state): State<AppState>,
    Form(form): Form<LogoutForm>,
) -> Result<Response, AdminError> {
    admin.check_csrf(&form.csrf)?;
    sessions::revoke(&state.db, &admin.sid).await?;
    let mut response = Redirect::to("/admin/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie(&state, "", 0)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    tracing::info!(who = %admin.who, "admin console sign-out");
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_in_the_console() {
        assert!(safe_next("/admin/events?tenant=acme"));
        assert!(safe_next("/admin"));
        for bad in [
            "https://evil.example/admin",
            "//evil.example",
            "/admin//evil",
            "/adminx",
            "/admin/login",
            "/embed/acme",
        ] {
            assert!(!safe_next(bad), "{bad}");
        }
    }

    #[test]
    fn loopback_names_are_recognised() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback_name(host), "{host}");
        }
        for host in [
            "evil.example",
            "10.0.0.1",
            "localhost.evil.example",
            "[::2]",
        ] {
            assert!(!is_loopback_name(host), "{host}");
        }
    }
}

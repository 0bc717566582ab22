//! Signing in to the console: the admin token typed into `/admin/login` (compared in constant
//! time) or the admin SSO tenant (`sso.rs`). Either way the browser gets a signed session cookie
//! (`liaison_admin`: HttpOnly, SameSite=Strict, Secure when Liaison is served over https) that
//! expires after `[admin] session_minutes`. Forms carry a CSRF token bound to the session.

use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::page::{AdminError, LoginPage, html};
use crate::app::AppState;
use crate::web::access::now_s;
use crate::web::error::PageQuery;
use crate::web::session::{self, random_id};

pub const COOKIE: &str = "liaison_admin";
/// Where the admin SSO tenant's sign-in leads back to (see `sso.rs`).
pub const SSO_FINISH_PATH: &str = "/admin/sso/finish";
const SESSION_DOMAIN: &str = "liaison admin session v1";
const CSRF_DOMAIN: &str = "liaison admin csrf v1";

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

/// How one may sign in here.
#[derive(Clone, Debug, Default)]
pub struct LoginOptions {
    pub token_enabled: bool,
    pub sso_tenant: Option<String>,
}

impl LoginOptions {
    pub fn of(state: &AppState) -> Self {
        Self {
            token_enabled: state.settings.admin_token.is_some(),
            sso_tenant: state.settings.admin.sso_tenant.clone(),
        }
    }

    pub fn page(&self, next: String, message: Option<String>) -> LoginPage {
        LoginPage {
            chrome: None,
            next,
            message,
            token_enabled: self.token_enabled,
            sso_url: self
                .sso_tenant
                .as_ref()
                .map(|t| format!("/sso/{t}/login?return_to={}", SSO_FINISH_PATH)),
            sso_tenant: self.sso_tenant.clone(),
        }
    }
}

/// The console session in this request's cookie, if valid.
pub fn session_of(state: &AppState, headers: &HeaderMap) -> Option<AdminSession> {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| session::read_cookie(value, COOKIE))?;
    let claims: AdminSession = state.web.keys().open_claims(SESSION_DOMAIN, token).ok()?;
    (claims.exp > now_s()).then_some(claims)
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
            session_of(state, &parts.headers).ok_or_else(|| AdminError::Unauthorized {
                reason: "no valid console session".to_owned(),
                next,
                options: LoginOptions::of(state),
            })?;
        Ok(Admin {
            csrf: csrf_of(state, &session),
            who: session.who,
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

/// Starts a console session for `who`: the cookie to set and the redirect to `next`.
pub fn start_session(state: &AppState, who: String, next: &str) -> Response {
    let lifetime = state.settings.admin.session_minutes as i64 * 60;
    let claims = AdminSession {
        sid: random_id(),
        who,
        exp: now_s() + lifetime,
    };
    let token = state.web.keys().sign_claims(SESSION_DOMAIN, &claims);
    tracing::info!(who = %claims.who, "admin console sign-in");
    let target = if safe_next(next) { next } else { "/admin" };
    let mut response = Redirect::to(target).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie(state, &token, lifetime)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// `GET /admin/login`.
pub async fn show_login_page(
    State(state): State<AppState>,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Response {
    let next = query.next.filter(|n| safe_next(n)).unwrap_or_default();
    html(&LoginOptions::of(&state).page(next, None))
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// Whether a browser's `Origin` (when sent) is Liaison's own: a sign-in form posted from
/// another site is refused (login CSRF).
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let own = url::Url::parse(&state.settings.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    origin == own || origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// `POST /admin/login`: the admin token, compared in constant time.
#[tracing::instrument(skip_all)]
pub async fn sign_in_with_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AdminError> {
    if !same_origin(&state, &headers) {
        return Err(AdminError::Forbidden(
            "the sign-in form was posted from another site".to_owned(),
        ));
    }
    let options = LoginOptions::of(&state);
    let refuse = |message: &str| {
        let page = options.page(form.next.clone(), Some(message.to_owned()));
        (StatusCode::UNAUTHORIZED, html(&page)).into_response()
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
        tracing::warn!("admin console sign-in with a wrong token");
        return Ok(refuse("That is not the admin token."));
    }
    Ok(start_session(&state, "token".to_owned(), &form.next))
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /admin/logout`: clears the cookie (CSRF token required).
pub async fn sign_out(
    admin: Admin,
    State(state): State<AppState>,
    Form(form): Form<LogoutForm>,
) -> Result<Response, AdminError> {
    admin.check_csrf(&form.csrf)?;
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
}

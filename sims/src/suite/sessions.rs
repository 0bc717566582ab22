//! One-time login links (`POST /v1/sessions`), the `GET /login/{token}` page that spends them,
//! and the stand-in pages of the suite's web app where people land.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::SuiteSim;
use super::error::{ApiError, ApiJson};
use super::model::{Timestamp, now};
use super::state::{Landing, LoginLink, Store, random_token};

const SESSION_COOKIE: &str = "suite_user";

pub fn api_routes() -> Router<SuiteSim> {
    Router::new().route("/v1/sessions", post(create_session))
}

pub fn page_routes() -> Router<SuiteSim> {
    Router::new().route("/login/{token}", get(log_in))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionIn {
    pub user_id: String,
    pub redirect_path: String,
}

#[derive(Debug, Serialize)]
pub struct SessionOut {
    pub login_url: String,
    pub expires_at: Timestamp,
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    Unknown,
    Used,
    Expired,
}

/// A path inside the suite: absolute, and not a way out to another host.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')
}

impl Store {
    pub fn create_login_link(
        &mut self,
        input: SessionIn,
        lifetime: std::time::Duration,
    ) -> Result<(String, Timestamp), ApiError> {
        if !is_local_path(&input.redirect_path) {
            return Err(ApiError::invalid_request(
                "redirect_path must be a path starting with /",
            ));
        }
        let user = self.users.get(&input.user_id).ok_or_else(|| {
            ApiError::unprocessable("unknown_user", format!("no user {}", input.user_id))
        })?;
        if !user.active {
            return Err(ApiError::unprocessable(
                "user_inactive",
                "the user is deactivated",
            ));
        }
        let token = random_token(24);
        let expires_at =
            now() + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::MAX);
        self.sessions.insert(
            token.clone(),
            LoginLink {
                user_id: input.user_id,
                redirect_path: input.redirect_path,
                expires_at,
                used_at: None,
            },
        );
        Ok((token, expires_at))
    }

    /// Spends a login link once and records where its user landed.
    pub fn use_login_link(&mut self, token: &str, at: Timestamp) -> Result<Landing, LoginError> {
        let link = self.sessions.get_mut(token).ok_or(LoginError::Unknown)?;
        if link.used_at.is_some() {
            return Err(LoginError::Used);
        }
        if link.expires_at <= at {
            return Err(LoginError::Expired);
        }
        link.used_at = Some(at);
        let landing = Landing {
            user_id: link.user_id.clone(),
            path: link.redirect_path.clone(),
            at,
        };
        self.logins.push(landing.clone());
        Ok(landing)
    }
}

async fn create_session(
    State(sim): State<SuiteSim>,
    ApiJson(input): ApiJson<SessionIn>,
) -> Result<(StatusCode, Json<SessionOut>), ApiError> {
    let lifetime = sim.config().login_link_lifetime;
    let (token, expires_at) = sim.mutate(|store| store.create_login_link(input, lifetime))?;
    let login_url = format!("{}/login/{token}", sim.public_url());
    Ok((
        StatusCode::CREATED,
        Json(SessionOut {
            login_url,
            expires_at,
        }),
    ))
}

async fn log_in(State(sim): State<SuiteSim>, Path(token): Path<String>) -> Response {
    let landing = sim.store().use_login_link(&token, chrono::Utc::now());
    match landing {
        Ok(landing) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
                landing.user_id
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to(&landing.path)).into_response()
        }
        Err(LoginError::Unknown) => {
            (StatusCode::NOT_FOUND, Html("<h1>Unknown login link</h1>")).into_response()
        }
        Err(LoginError::Used) => (
            StatusCode::GONE,
            Html("<h1>This login link was already used</h1>"),
        )
            .into_response(),
        Err(LoginError::Expired) => (
            StatusCode::GONE,
            Html("<h1>This login link has expired</h1>"),
        )
            .into_response(),
    }
}

/// Fallback: a JSON 404 under `/v1`, and elsewhere a plain page standing in for the suite's web
/// app (project pages, interview pages, review pages), naming the signed-in user.
pub async fn show_suite_page(
    State(sim): State<SuiteSim>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let path = uri.path();
    if method != Method::GET
        || path.starts_with("/v1/")
        || path.starts_with("/_sim/")
        || path.starts_with("/oauth/")
    {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no route {method} {path}"),
        )
        .into_response();
    }
    let user = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, user_id)| sim.store().users.get(user_id).map(|u| u.name.clone()));
    let who = user.map_or_else(
        || "not signed in".to_owned(),
        |name| format!("signed in as {}", escape(&name)),
    );
    Html(format!(
        "<!doctype html><title>Suite</title><h1>Suite page {}</h1><p>{who}</p>",
        escape(path)
    ))
    .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn store_with_admin() -> (Store, String) {
        let mut store = Store::default();
        store.seed_admin();
        let admin = store.consenting_user_id().expect("admin");
        (store, admin)
    }

    #[test]
    fn a_login_link_works_once() {
        let (mut store, admin) = store_with_admin();
        let input = SessionIn {
            user_id: admin.clone(),
            redirect_path: "/projects/prj_1".into(),
        };
        let (token, _) = store
            .create_login_link(input, Duration::from_secs(60))
            .expect("link");
        let landing = store
            .use_login_link(&token, chrono::Utc::now())
            .expect("first use");
        assert_eq!(
            (landing.user_id.as_str(), landing.path.as_str()),
            (admin.as_str(), "/projects/prj_1")
        );
        assert_eq!(
            store.use_login_link(&token, chrono::Utc::now()),
            Err(LoginError::Used)
        );
        assert_eq!(store.logins.len(), 1);
    }

    #[test]
    fn an_old_login_link_is_expired() {
        let (mut store, admin) = store_with_admin();
        let input = SessionIn {
            user_id: admin,
            redirect_path: "/".into(),
        };
        let (token, _) = store
            .create_login_link(input, Duration::from_secs(60))
            .expect("link");
        let later = chrono::Utc::now() + chrono::Duration::seconds(61);
        assert_eq!(
            store.use_login_link(&token, later),
            Err(LoginError::Expired)
        );
    }

    #[test]
    fn redirects_stay_inside_the_suite() {
        assert!(is_local_path("/projects/1"));
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "projects",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }
}

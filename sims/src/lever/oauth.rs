//! Lever's OAuth2 authorization code (`contracts/ats-partners.md` §2b): a consent page that
//! approves at once (`GET /authorize`, also at `/oauth/authorize`) and redirects back with
//! `code` and `state`; `POST /oauth/token` with the `authorization_code` and `refresh_token`
//! grants (client id and secret in the form); access tokens that expire (one hour unless
//! configured shorter) and refresh tokens that rotate and are single use: presenting a spent
//! one revokes the whole grant. Pure rules in `Grants`, the HTTP side below.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq as _;

use super::state::{SimState, lock};

/// What the token endpoint did, for assertions.
#[derive(Debug, Default, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthCounters {
    pub codes_exchanged: u64,
    /// Successful refreshes (each rotated the refresh token).
    pub refreshes: u64,
    /// Spent refresh tokens presented again (each revoked its grant).
    pub refresh_reuses: u64,
    /// API calls refused for an expired, revoked or unknown bearer token.
    pub refused_tokens: u64,
}

/// Grants, tokens and codes. Token values are map keys and never shown.
#[derive(Debug, Default)]
pub struct Grants {
    codes: HashMap<String, Code>,
    revoked: Vec<bool>,
    access: HashMap<String, (usize, Instant)>,
    refresh: HashMap<String, (usize, bool)>,
    pub counters: OAuthCounters,
}

#[derive(Debug)]
struct Code {
    redirect_uri: String,
    expires: Instant,
    used: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    InvalidRequest(&'static str),
    InvalidClient,
    InvalidGrant(&'static str),
    UnsupportedGrantType,
}

fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Grants {
    pub fn create_code(&mut self, redirect_uri: &str) -> String {
        let code = random_token();
        self.codes.insert(
            code.clone(),
            Code {
                redirect_uri: redirect_uri.to_owned(),
                expires: Instant::now() + Duration::from_secs(600),
                used: false,
            },
        );
        code
    }

    fn issue(&mut self, grant: usize, ttl: Duration) -> serde_json::Value {
        let access = random_token();
        let refresh = random_token();
        self.access
            .insert(access.clone(), (grant, Instant::now() + ttl));
        self.refresh.insert(refresh.clone(), (grant, false));
        json!({"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
               "scope": "offline_access opportunities:read:admin", "expires_in": ttl.as_secs().max(1)})
    }

    pub fn exchange_code(
        &mut self,
        code: &str,
        redirect_uri: &str,
        ttl: Duration,
    ) -> Result<serde_json::Value, TokenError> {
        let stored = self
            .codes
            .get_mut(code)
            .ok_or(TokenError::InvalidGrant("unknown code"))?;
        if stored.used || stored.expires <= Instant::now() {
            return Err(TokenError::InvalidGrant("code used or expired"));
        }
        if stored.redirect_uri != redirect_uri {
            return Err(TokenError::InvalidGrant("redirect_uri does not match"));
        }
        stored.used = true;
        self.revoked.push(false);
        self.counters.codes_exchanged += 1;
        Ok(self.issue(self.revoked.len() - 1, ttl))
    }

    /// Rotates `presented`; a spent one revokes its grant.
    pub fn refresh(
        &mut self,
        presented: &str,
        ttl: Duration,
    ) -> Result<serde_json::Value, TokenError> {
        let (grant, used) = *self
            .refresh
            .get(presented)
            .ok_or(TokenError::InvalidGrant("unknown refresh token"))?;
        if self.revoked[grant] {
            return Err(TokenError::InvalidGrant("grant revoked"));
        }
        if used {
            self.revoked[grant] = true;
            self.counters.refresh_reuses += 1;
            return Err(TokenError::InvalidGrant("refresh token already used"));
        }
        self.refresh.insert(presented.to_owned(), (grant, true));
        self.counters.refreshes += 1;
        Ok(self.issue(grant, ttl))
    }

    /// Ends every access token's life now, so the connector's next call meets a 401.
    pub fn expire_access_tokens(&mut self) -> usize {
        let now = Instant::now();
        self.access
            .values_mut()
            .map(|(_, expires)| *expires = now)
            .count()
    }

    /// Whether `token` is a live access token.
    pub fn accepts(&mut self, token: &str) -> bool {
        let live = self
            .access
            .get(token)
            .is_some_and(|(grant, expires)| !self.revoked[*grant] && *expires > Instant::now());
        if !live {
            self.counters.refused_tokens += 1;
        }
        live
    }
}

fn oauth_error(error: TokenError) -> Response {
    let (status, code, description) = match error {
        TokenError::InvalidRequest(field) => (StatusCode::BAD_REQUEST, "invalid_request", field),
        TokenError::InvalidClient => (
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        ),
        TokenError::InvalidGrant(why) => (StatusCode::BAD_REQUEST, "invalid_grant", why),
        TokenError::UnsupportedGrantType => (
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
    };
    (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

/// `POST /_sim/oauth/expire`: every access token expires now.
pub async fn expire_access_tokens(State(state): State<SimState>) -> Response {
    let expired = lock(&state.0.oauth).expire_access_tokens();
    Json(json!({"expired": expired})).into_response()
}

/// `GET /authorize`: every parameter Lever requires must be there; the simulated admin approves.
pub async fn authorize(
    State(state): State<SimState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let config = state.config();
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    for required in [
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "audience",
        "scope",
    ] {
        if get(required).is_empty() {
            return (StatusCode::BAD_REQUEST, format!("{required} is required")).into_response();
        }
    }
    if get("client_id") != config.oauth_client_id || get("response_type") != "code" {
        return (
            StatusCode::BAD_REQUEST,
            "unknown client_id or response_type",
        )
            .into_response();
    }
    let Ok(mut redirect) = url::Url::parse(get("redirect_uri")) else {
        return (StatusCode::BAD_REQUEST, "redirect_uri must be a URL").into_response();
    };
    if !get("scope").split(' ').any(|s| s == "offline_access") {
        // Without offline_access Lever issues no refresh token; Liaison must ask for it.
        return (StatusCode::BAD_REQUEST, "scope lacks offline_access").into_response();
    }
    let code = lock(&state.0.oauth).create_code(get("redirect_uri"));
    redirect
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", get("state"));
    Redirect::to(redirect.as_str()).into_response()
}

/// `POST /oauth/token` (form).
pub async fn issue_token(State(state): State<SimState>, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<HashMap<String, String>>(&body) else {
        return oauth_error(TokenError::InvalidRequest("body must be a form"));
    };
    let config = state.config();
    let field = |name: &'static str| {
        form.get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or(TokenError::InvalidRequest(name))
    };
    let client_ok = form.get("client_id") == Some(&config.oauth_client_id)
        && form.get("client_secret").is_some_and(|secret| {
            bool::from(
                secret
                    .as_bytes()
                    .ct_eq(config.oauth_client_secret.as_bytes()),
            )
        });
    if !client_ok {
        return oauth_error(TokenError::InvalidClient);
    }
    let ttl = config.access_token_ttl;
    let mut grants = lock(&state.0.oauth);
    let answer = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => match (field("code"), field("redirect_uri")) {
            (Ok(code), Ok(redirect)) => grants.exchange_code(code, redirect, ttl),
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        Some("refresh_token") => field("refresh_token").and_then(|t| grants.refresh(t, ttl)),
        Some(_) => Err(TokenError::UnsupportedGrantType),
        None => Err(TokenError::InvalidRequest("grant_type")),
    };
    drop(grants);
    match answer {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => oauth_error(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn refresh_tokens_rotate_and_a_spent_one_revokes_the_grant() {
        let mut grants = Grants::default();
        let code = grants.create_code("http://x/cb");
        assert!(grants.exchange_code(&code, "http://x/cb", HOUR).is_ok());
        let code = grants.create_code("http://x/cb");
        let first = grants
            .exchange_code(&code, "http://x/cb", HOUR)
            .expect("tokens");
        assert!(grants.exchange_code(&code, "http://x/cb", HOUR).is_err());
        let old = first["refresh_token"].as_str().expect("refresh").to_owned();
        let second = grants.refresh(&old, HOUR).expect("rotated");
        let access = second["access_token"].as_str().expect("access").to_owned();
        assert!(grants.accepts(&access));
        assert_eq!(
            grants.refresh(&old, HOUR),
            Err(TokenError::InvalidGrant("refresh token already used"))
        );
        assert!(!grants.accepts(&access));
        let newest = second["refresh_token"].as_str().expect("refresh");
        assert!(grants.refresh(newest, HOUR).is_err());
        assert_eq!(grants.counters.refresh_reuses, 1);
    }

    #[test]
    fn access_tokens_expire() {
        let mut grants = Grants::default();
        let code = grants.create_code("http://x/cb");
        let tokens = grants
            .exchange_code(&code, "http://x/cb", Duration::ZERO)
            .expect("tokens");
        assert!(!grants.accepts(tokens["access_token"].as_str().expect("access")));
    }
}

//! OAuth grants and tokens: who holds which access and refresh tokens, PKCE, and the rules
//! (rotation, single use, revocation of the whole grant on reuse). Pure state, no I/O.

use std::collections::HashMap;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use super::error::ApiError;
use super::state::random_token;

/// How long an authorization code may wait before it is exchanged.
const AUTH_CODE_LIFETIME_SECS: i64 = 600;

/// Who is calling: the client and, for the authorization code grant, the suite user it acts as.
#[derive(Debug, Clone)]
pub struct Principal {
    pub client_id: String,
    pub grant_id: String,
    pub user_id: Option<String>,
}

/// Grants, tokens and codes. Token values are map keys and never serialized.
#[derive(Debug, Default)]
pub struct AuthStore {
    grants: HashMap<String, Grant>,
    access_tokens: HashMap<String, AccessToken>,
    refresh_tokens: HashMap<String, RefreshToken>,
    codes: HashMap<String, AuthCode>,
    next_grant: u64,
}

#[derive(Debug)]
struct Grant {
    client_id: String,
    user_id: Option<String>,
    revoked: bool,
}

#[derive(Debug)]
struct AccessToken {
    grant_id: String,
    expires_at: DateTime<Utc>,
    revoked: bool,
}

#[derive(Debug)]
struct RefreshToken {
    grant_id: String,
    used: bool,
}

#[derive(Debug)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    user_id: String,
    expires_at: DateTime<Utc>,
    /// The grant this code started, so a replayed code can revoke it.
    grant_id: Option<String>,
}

/// OAuth errors have their own shape: `{"error": "invalid_grant", "error_description": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    InvalidClient,
    InvalidGrant(&'static str),
    InvalidRequest(&'static str),
    UnsupportedGrantType,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let (status, code, description) = match self {
            Self::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client or wrong secret",
            ),
            Self::InvalidGrant(why) => (StatusCode::BAD_REQUEST, "invalid_grant", why),
            Self::InvalidRequest(why) => (StatusCode::BAD_REQUEST, "invalid_request", why),
            Self::UnsupportedGrantType => (
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be client_credentials, authorization_code or refresh_token",
            ),
        };
        let body = Json(json!({ "error": code, "error_description": description }));
        let mut response = (status, body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"suite\""),
            );
        }
        response
    }
}

/// What a successful token request answers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
}

impl AuthStore {
    pub(super) fn new_grant(&mut self, client_id: &str, user_id: Option<String>) -> String {
        self.next_grant += 1;
        let id = format!("grant_{}", self.next_grant);
        self.grants.insert(
            id.clone(),
            Grant {
                client_id: client_id.to_owned(),
                user_id,
                revoked: false,
            },
        );
        id
    }

    pub(super) fn issue(
        &mut self,
        grant_id: &str,
        lifetime: std::time::Duration,
        with_refresh: bool,
        now: DateTime<Utc>,
    ) -> TokenResponse {
        let access_token = random_token(32);
        let expires_at =
            now + chrono::Duration::from_std(lifetime).unwrap_or(chrono::Duration::MAX);
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                grant_id: grant_id.to_owned(),
                expires_at,
                revoked: false,
            },
        );
        let refresh_token = with_refresh.then(|| {
            let token = random_token(32);
            self.refresh_tokens.insert(
                token.clone(),
                RefreshToken {
                    grant_id: grant_id.to_owned(),
                    used: false,
                },
            );
            token
        });
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime.as_secs_f64().ceil() as u64,
            scope: with_refresh.then_some("suite"),
            refresh_token,
        }
    }

    /// Revokes a grant and every access and refresh token it issued.
    fn revoke_grant(&mut self, grant_id: &str) {
        if let Some(grant) = self.grants.get_mut(grant_id) {
            grant.revoked = true;
        }
        for token in self.access_tokens.values_mut() {
            if token.grant_id == grant_id {
                token.revoked = true;
            }
        }
        for token in self.refresh_tokens.values_mut() {
            if token.grant_id == grant_id {
                token.used = true;
            }
        }
    }

    /// Makes every access token expired at once, so clients must fetch a new one.
    pub fn expire_access_tokens(&mut self) -> usize {
        let past = Utc::now() - chrono::Duration::seconds(1);
        self.access_tokens
            .values_mut()
            .map(|token| token.expires_at = past)
            .count()
    }

    pub fn authenticate(&self, token: &str, now: DateTime<Utc>) -> Result<Principal, ApiError> {
        let access = self
            .access_tokens
            .get(token)
            .ok_or_else(|| ApiError::invalid_token("unknown access token"))?;
        let grant = self
            .grants
            .get(&access.grant_id)
            .ok_or_else(|| ApiError::invalid_token("unknown access token"))?;
        if access.revoked || grant.revoked {
            return Err(ApiError::invalid_token("access token revoked"));
        }
        if access.expires_at <= now {
            return Err(ApiError::invalid_token("access token expired"));
        }
        Ok(Principal {
            client_id: grant.client_id.clone(),
            grant_id: access.grant_id.clone(),
            user_id: grant.user_id.clone(),
        })
    }

    pub fn create_code(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> String {
        let code = random_token(24);
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                code_challenge: code_challenge.to_owned(),
                user_id: user_id.to_owned(),
                expires_at: now + chrono::Duration::seconds(AUTH_CODE_LIFETIME_SECS),
                grant_id: None,
            },
        );
        code
    }

    /// Exchanges a code. `client_id` is the authenticated client, if the request named one;
    /// PKCE binds the code to whoever started the flow either way.
    pub(super) fn exchange_code(
        &mut self,
        client_id: Option<&str>,
        form: &HashMap<String, String>,
        lifetime: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, OAuthError> {
        let code = field(form, "code")?;
        let redirect_uri = field(form, "redirect_uri")?;
        let verifier = field(form, "code_verifier")?;
        let stored = self
            .codes
            .get(code)
            .ok_or(OAuthError::InvalidGrant("unknown code"))?;
        if let Some(grant_id) = stored.grant_id.clone() {
            // A replayed code: revoke what the first exchange issued (RFC 6749 §4.1.2).
            self.revoke_grant(&grant_id);
            return Err(OAuthError::InvalidGrant("code already used"));
        }
        if stored.expires_at <= now {
            return Err(OAuthError::InvalidGrant("code expired"));
        }
        if client_id.is_some_and(|id| id != stored.client_id) || stored.redirect_uri != redirect_uri
        {
            return Err(OAuthError::InvalidGrant(
                "code issued to another client or redirect_uri",
            ));
        }
        if !pkce_matches(verifier, &stored.code_challenge) {
            return Err(OAuthError::InvalidGrant(
                "code_verifier does not match the challenge",
            ));
        }
        let (client_id, user_id) = (stored.client_id.clone(), stored.user_id.clone());
        let grant_id = self.new_grant(&client_id, Some(user_id));
        if let Some(stored) = self.codes.get_mut(code) {
            stored.grant_id = Some(grant_id.clone());
        }
        Ok(self.issue(&grant_id, lifetime, true, now))
    }

    /// Rotates a refresh token. Presenting one that was already used revokes the grant; the
    /// returned flag says whether that happened.
    pub(super) fn refresh(
        &mut self,
        client_id: Option<&str>,
        form: &HashMap<String, String>,
        lifetime: std::time::Duration,
        now: DateTime<Utc>,
    ) -> Result<TokenResponse, (OAuthError, bool)> {
        let presented = field(form, "refresh_token").map_err(|e| (e, false))?;
        let invalid = |why| (OAuthError::InvalidGrant(why), false);
        let stored = self
            .refresh_tokens
            .get(presented)
            .ok_or_else(|| invalid("unknown refresh token"))?;
        let grant_id = stored.grant_id.clone();
        let used = stored.used;
        let grant = self
            .grants
            .get(&grant_id)
            .ok_or_else(|| invalid("unknown refresh token"))?;
        if client_id.is_some_and(|id| id != grant.client_id) {
            return Err(invalid("refresh token issued to another client"));
        }
        if grant.revoked {
            return Err(invalid("grant revoked"));
        }
        if used {
            self.revoke_grant(&grant_id);
            return Err((OAuthError::InvalidGrant("refresh token already used"), true));
        }
        if let Some(stored) = self.refresh_tokens.get_mut(presented) {
            stored.used = true;
        }
        Ok(self.issue(&grant_id, lifetime, true, now))
    }
}

fn field<'a>(form: &'a HashMap<String, String>, name: &'static str) -> Result<&'a str, OAuthError> {
    form.get(name)
        .map(String::as_str)
        .filter(|value| !value.is_empty())
        .ok_or(OAuthError::InvalidRequest(name))
}

/// PKCE S256: the challenge is base64url(SHA-256(verifier)) without padding.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn pkce_accepts_the_rfc_7636_example() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "another",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn refresh_rotation_then_reuse_revokes_the_grant() {
        let mut auth = AuthStore::default();
        let now = Utc::now();
        let grant = auth.new_grant("liaison", Some("usr_1".into()));
        let first = auth.issue(&grant, HOUR, true, now);
        let old_refresh = first.refresh_token.clone().expect("refresh token");

        let second = auth
            .refresh(None, &form(&[("refresh_token", &old_refresh)]), HOUR, now)
            .expect("rotation");
        assert_ne!(second.refresh_token, first.refresh_token);
        assert!(auth.authenticate(&second.access_token, now).is_ok());

        let reuse = auth.refresh(None, &form(&[("refresh_token", &old_refresh)]), HOUR, now);
        assert_eq!(
            reuse,
            Err((OAuthError::InvalidGrant("refresh token already used"), true))
        );
        assert!(auth.authenticate(&first.access_token, now).is_err());
        assert!(auth.authenticate(&second.access_token, now).is_err());
        let newest = second.refresh_token.expect("refresh token");
        assert!(
            auth.refresh(None, &form(&[("refresh_token", &newest)]), HOUR, now)
                .is_err()
        );
    }

    #[test]
    fn access_tokens_expire() {
        let mut auth = AuthStore::default();
        let now = Utc::now();
        let grant = auth.new_grant("liaison", None);
        let tokens = auth.issue(&grant, Duration::from_secs(1), false, now);
        assert!(auth.authenticate(&tokens.access_token, now).is_ok());
        let later = now + chrono::Duration::seconds(2);
        let error = auth
            .authenticate(&tokens.access_token, later)
            .expect_err("expired");
        assert_eq!(error.code, "invalid_token");
    }
}

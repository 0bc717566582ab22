//! Access tokens for suite calls, per tenant: cached, replaced a little before they expire, and
//! fetched single flight (when many tasks need a token at once, one token request is made and the
//! others wait for its answer). Two sources: client credentials (a machine account, in memory)
//! and authorization code (a refresh token shared by every process through `GrantStore`).

mod authorization;
mod oauth;

pub(crate) use authorization::verifier_context;
pub use authorization::{
    AuthorizationError, begin_grant_authorization, complete_authorization,
    finish_grant_authorization, start_authorization,
};
pub use oauth::{GrantTokens, OAuthEndpoints, OAuthHttp, SuiteOAuth, TokenHttpError};

use std::fmt;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::error::SuiteError;
use super::grant_store::GrantStore;
use crate::time::now_ms;

/// An access token and when to stop using it. `Debug` never shows the token.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    /// When to replace it (ms since the epoch): a margin before it expires.
    pub refresh_at_ms: i64,
    pub expires_at_ms: i64,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"<redacted>")
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

impl AccessToken {
    pub fn new(secret: SecretString, issued_at_ms: i64, expires_at_ms: i64) -> Self {
        Self {
            secret,
            refresh_at_ms: refresh_at(issued_at_ms, expires_at_ms),
            expires_at_ms,
        }
    }

    pub fn issued_now(secret: SecretString, lifetime: Duration) -> Self {
        let now = now_ms();
        Self::new(secret, now, now + lifetime.as_millis() as i64)
    }

    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    pub fn is_fresh(&self, now_ms: i64) -> bool {
        now_ms < self.refresh_at_ms
    }

    pub fn same_as(&self, other: &AccessToken) -> bool {
        self.secret.expose_secret() == other.secret.expose_secret()
    }
}

/// When to replace a token issued at `issued` that expires at `expires`: a fifth of its lifetime
/// early, at most a minute, so a call never leaves with a token about to lapse in flight.
pub fn refresh_at(issued_ms: i64, expires_ms: i64) -> i64 {
    let lifetime = (expires_ms - issued_ms).max(0);
    expires_ms - (lifetime / 5).min(60_000)
}

/// Where tokens come from.
pub enum TokenSource {
    ClientCredentials(SuiteOAuth),
    AuthorizationCode {
        oauth: SuiteOAuth,
        grants: GrantStore,
    },
}

impl TokenSource {
    async fn fetch(&self, rejected: Option<&AccessToken>) -> Result<AccessToken, SuiteError> {
        match self {
            Self::ClientCredentials(oauth) => oauth.client_credentials().await,
            Self::AuthorizationCode { oauth, grants } => grants.access_token(oauth, rejected).await,
        }
    }
}

/// The per-tenant token cache with single flight.
pub struct TokenManager {
    source: TokenSource,
    current: RwLock<Option<AccessToken>>,
    /// Held by the one task fetching a token; the others queue behind it, then reuse its token.
    in_flight: Mutex<()>,
}

impl TokenManager {
    pub fn new(source: TokenSource) -> Self {
        Self {
            source,
            current: RwLock::new(None),
            in_flight: Mutex::new(()),
        }
    }

    /// A token good for a call now.
    pub async fn token(&self) -> Result<AccessToken, SuiteError> {
        match self.cached(None) {
            Some(token) => Ok(token),
            None => self.fetch(None).await,
        }
    }

    /// A token other than `rejected`, which the suite just refused (`invalid_token`).
    pub async fn token_after_rejection(
        &self,
        rejected: &AccessToken,
    ) -> Result<AccessToken, SuiteError> {
        self.fetch(Some(rejected)).await
    }

    async fn fetch(&self, rejected: Option<&AccessToken>) -> Result<AccessToken, SuiteError> {
        let _flight = self.in_flight.lock().await;
        // Whoever held the flight before us may have fetched what we need.
        if let Some(token) = self.cached(rejected) {
            return Ok(token);
        }
        let token = self.source.fetch(rejected).await?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(token.clone());
        Ok(token)
    }

    fn cached(&self, rejected: Option<&AccessToken>) -> Option<AccessToken> {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current
            .as_ref()
            .filter(|token| token.is_fresh(now_ms()))
            .filter(|token| rejected.is_none_or(|rejected| !token.same_as(rejected)))
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_replaced_a_fifth_of_their_life_early_at_most_a_minute() {
        assert_eq!(refresh_at(0, 10_000), 8_000);
        assert_eq!(refresh_at(0, 3_600_000), 3_540_000);
        assert_eq!(refresh_at(5_000, 5_000), 5_000);
    }

    #[test]
    fn a_token_is_fresh_until_its_refresh_time_and_never_printed() {
        let token = AccessToken::new(SecretString::from("tok-SECRET".to_owned()), 0, 10_000);
        assert!(token.is_fresh(7_999));
        assert!(!token.is_fresh(8_000));
        assert!(!format!("{token:?}").contains("tok-SECRET"));
    }
}

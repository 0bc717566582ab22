//! Lever's OAuth2 authorization code (`contracts/ats-partners.md` §2b), on the suite's
//! machinery: the consent URL and callback (`suite::auth::{begin,finish}_grant_authorization`),
//! the grant in the database with its single-flight refresh across processes
//! (`suite::grant_store`, party `lever`), and the per-process token cache (`TokenManager`).
//! Lever's own parts: its endpoints, the `audience` parameter and its scopes.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};

use crate::ats::error::AdapterError;
use crate::ats::shared::AtsShared;
use crate::crypto::MasterKey;
use crate::suite::auth::{
    AuthorizationError, OAuthEndpoints, SuiteOAuth, TokenManager, begin_grant_authorization,
    finish_grant_authorization,
};
use crate::suite::error::SuiteError;
use crate::suite::grant_store::GrantParty;
use crate::tenant::{AtsKind, LeverAuth, Tenant};

fn uses_authorization_code(tenant: &Tenant) -> bool {
    tenant.config.ats.kind == AtsKind::Lever
        && tenant.config.ats.lever.auth == LeverAuth::AuthorizationCode
}

/// How long one token request to Lever may take outside a refresh lease (the callback).
const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The tenant's OAuth client at Lever, each token request bounded by `timeout`.
pub fn oauth_client(
    http: reqwest::Client,
    tenant: &Tenant,
    timeout: Duration,
) -> Result<SuiteOAuth, SuiteError> {
    let lever = &tenant.config.ats.lever;
    let base = lever.oauth_url.trim_end_matches('/');
    SuiteOAuth::with_endpoints(
        http,
        OAuthEndpoints {
            authorize_url: format!("{base}/authorize"),
            token_url: format!("{base}/oauth/token"),
            client_id: lever.client_id.as_deref().unwrap_or_default(),
            client_secret: lever.client_secret.as_ref(),
            scopes: lever.scopes.clone(),
            authorize_params: vec![("audience".to_owned(), lever.audience.clone())],
            setting: "ats.lever.oauth_url",
            request_timeout: Some(timeout),
        },
    )
}

/// What the tenant's OAuth client is built from; the secret enters only hashed.
fn fingerprint(tenant: &Tenant) -> String {
    let lever = &tenant.config.ats.lever;
    let mut hasher = Sha256::new();
    for part in [
        lever.oauth_url.as_str(),
        lever.client_id.as_deref().unwrap_or_default(),
        lever
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret())
            .unwrap_or_default(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    format!("{:x}", hasher.finalize())
}

/// Starts an authorisation: the URL a Lever admin opens to authorise Liaison.
pub async fn start_authorization(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    public_url: &str,
    http: reqwest::Client,
) -> Result<url::Url, AuthorizationError> {
    if !uses_authorization_code(tenant) {
        return Err(AuthorizationError::NotAuthorizationCode(
            tenant.slug().to_owned(),
        ));
    }
    let oauth = oauth_client(http, tenant, TOKEN_REQUEST_TIMEOUT)?;
    let redirect = crate::ats::authorization::redirect_uri(public_url, tenant.slug());
    begin_grant_authorization(db, key, tenant, GrantParty::Ats, &oauth, redirect).await
}

/// Completes an authorisation from the callback's `state` and `code`.
pub async fn complete_authorization(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    http: reqwest::Client,
    (state, code): (&str, &str),
    lease: Duration,
) -> Result<(), AuthorizationError> {
    if !uses_authorization_code(tenant) {
        return Err(AuthorizationError::NotAuthorizationCode(
            tenant.slug().to_owned(),
        ));
    }
    let oauth = oauth_client(http, tenant, TOKEN_REQUEST_TIMEOUT)?;
    finish_grant_authorization(
        db,
        key,
        tenant,
        GrantParty::Ats,
        &oauth,
        (state, code),
        lease,
    )
    .await
}

/// The tenant's access tokens, from the application's shared state (the enclosing
/// `AtsShared::scope`).
pub fn token_manager(
    http: &reqwest::Client,
    tenant: &Tenant,
) -> Result<Arc<TokenManager>, AdapterError> {
    let shared = AtsShared::current().ok_or_else(|| {
        AdapterError::Config(
            "ats.lever.auth = \"authorization_code\" needs the database here".to_owned(),
        )
    })?;
    // A refresh runs under the grant's lease: its token request must end well before the lease
    // does, or another process could take the lease and spend the same refresh token.
    let timeout = (shared.refresh_lease() / 2).min(TOKEN_REQUEST_TIMEOUT);
    shared
        .tokens(tenant, GrantParty::Ats, fingerprint(tenant), || {
            oauth_client(http.clone(), tenant, timeout)
        })
        .map_err(grant_error)
}

/// A failure to get a token, as an adapter error: a grant that is missing or refused needs an
/// admin (`Auth`, retried with backoff meanwhile); an outage is transient.
pub fn grant_error(error: SuiteError) -> AdapterError {
    match error {
        SuiteError::RateLimited { retry_after } => AdapterError::RateLimited { retry_after },
        SuiteError::Config(reason) => AdapterError::Config(reason),
        error if error.is_transient() => AdapterError::Transient(error.to_string()),
        SuiteError::Auth { code, message } => AdapterError::Auth(format!("{code}: {message}")),
        other => AdapterError::Transient(other.to_string()),
    }
}

//! The authorization-code flow, once per tenant and party: `begin_grant_authorization` makes the
//! consent URL (PKCE S256 and a `state`, both kept server-side in `oauth_states` under the party,
//! the verifier sealed) and `finish_grant_authorization` checks the callback's `state` (single
//! use, expiring, the same party's), exchanges the code and stores the grant sealed. The suite's
//! `start_authorization` / `complete_authorization` and Lever's (`ats::lever::oauth`) are these
//! with their party's endpoints.

use std::time::Duration;

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use secrecy::SecretString;

use super::oauth::SuiteOAuth;
use crate::crypto::MasterKey;
use crate::store::entities::oauth_state;
use crate::suite::error::SuiteError;
use crate::suite::grant_store::{GrantParty, GrantStore};
use crate::tenant::{SuiteAuth, Tenant};
use crate::time::now_ms;

/// How long an admin has to approve after the URL is printed.
const STATE_LIFETIME_MS: i64 = 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum AuthorizationError {
    #[error(
        "tenant `{0}` does not use auth = \"authorization_code\" there (suite.auth, or \
         ats.lever.auth for Lever)"
    )]
    NotAuthorizationCode(String),
    #[error("the authorisation request is unknown, already used or expired")]
    InvalidState,
    #[error("the suite did not authorise Liaison: {0}")]
    Denied(String),
    #[error("{0}")]
    Suite(#[from] SuiteError),
}

impl AuthorizationError {
    pub fn code(&self) -> &str {
        match self {
            Self::NotAuthorizationCode(_) => "not_authorization_code",
            Self::InvalidState => "invalid_state",
            Self::Denied(_) => "authorization_denied",
            Self::Suite(error) => error.code(),
        }
    }
}

/// `{public_url}/oauth/suite/{tenant}/callback`.
pub fn redirect_uri(public_url: &str, slug: &str) -> String {
    format!(
        "{}/oauth/suite/{slug}/callback",
        public_url.trim_end_matches('/')
    )
}

pub(crate) fn verifier_context(slug: &str) -> String {
    format!("oauth-state:{slug}")
}

/// Starts an authorisation: answers the URL a suite admin opens to approve Liaison.
pub async fn start_authorization(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    public_url: &str,
    http: reqwest::Client,
) -> Result<url::Url, AuthorizationError> {
    if tenant.config.suite.auth != SuiteAuth::AuthorizationCode {
        return Err(AuthorizationError::NotAuthorizationCode(
            tenant.slug().to_owned(),
        ));
    }
    let redirect = redirect_uri(public_url, tenant.slug());
    let oauth = SuiteOAuth::new(http, &tenant.config.suite)?;
    begin_grant_authorization(db, key, tenant, GrantParty::Suite, &oauth, redirect).await
}

/// Starts an authorisation at `party`: answers the consent URL and keeps its `state` and PKCE
/// verifier until the callback to `redirect` comes back.
pub async fn begin_grant_authorization(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    party: GrantParty,
    oauth: &SuiteOAuth,
    redirect: String,
) -> Result<url::Url, AuthorizationError> {
    let (url, state, verifier) = oauth.authorize_url(&redirect)?;
    let now = now_ms();
    // Housekeeping: expired authorisations are of no use to anyone.
    oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::ExpiresAt.lt(now))
        .exec(db)
        .await
        .map_err(SuiteError::from)?;
    oauth_state::ActiveModel {
        tenant_id: Set(tenant.id.0),
        party: Set(party.as_str().to_owned()),
        state: Set(state.secret().to_owned()),
        sealed_verifier: Set(key.seal(
            verifier.secret().as_bytes(),
            &verifier_context(tenant.slug()),
        )),
        redirect_uri: Set(redirect),
        created_at: Set(now),
        expires_at: Set(now + STATE_LIFETIME_MS),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(SuiteError::from)?;
    Ok(url)
}

/// Completes an authorisation from the callback's `state` and `code`.
pub async fn complete_authorization(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    http: reqwest::Client,
    state: &str,
    code: &str,
    lease: Duration,
) -> Result<(), AuthorizationError> {
    let oauth = SuiteOAuth::new(http, &tenant.config.suite)?;
    finish_grant_authorization(
        db,
        key,
        tenant,
        GrantParty::Suite,
        &oauth,
        (state, code),
        lease,
    )
    .await
}

/// Completes an authorisation at `party` from the callback's `(state, code)`.
pub async fn finish_grant_authorization(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    party: GrantParty,
    oauth: &SuiteOAuth,
    (state, code): (&str, &str),
    lease: Duration,
) -> Result<(), AuthorizationError> {
    let pending = oauth_state::Entity::find()
        .filter(oauth_state::Column::TenantId.eq(tenant.id.0))
        .filter(oauth_state::Column::Party.eq(party.as_str()))
        .filter(oauth_state::Column::State.eq(state))
        .filter(oauth_state::Column::ExpiresAt.gt(now_ms()))
        .one(db)
        .await
        .map_err(SuiteError::from)?
        .ok_or(AuthorizationError::InvalidState)?;
    // Single use: only the request that deletes the row may go on.
    let deleted = oauth_state::Entity::delete_many()
        .filter(oauth_state::Column::Id.eq(pending.id))
        .exec(db)
        .await
        .map_err(SuiteError::from)?;
    if deleted.rows_affected != 1 {
        return Err(AuthorizationError::InvalidState);
    }
    let verifier = key
        .open(&pending.sealed_verifier, &verifier_context(tenant.slug()))
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(SecretString::from)
        .ok_or(AuthorizationError::InvalidState)?;
    let tokens = oauth
        .exchange_code(code, verifier, &pending.redirect_uri)
        .await?;
    GrantStore::new(db.clone(), key.clone(), tenant.id, tenant.slug(), lease)
        .for_party(party)
        .save_new_grant(&tokens)
        .await?;
    tracing::info!(tenant = %tenant.slug(), party = party.as_str(), "authorised Liaison");
    Ok(())
}

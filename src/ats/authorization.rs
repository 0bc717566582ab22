//! The OAuth2 authorization code at the tenant's ATS, for the kinds that use it: the one entry
//! the callback route and `liaison tenant authorize-ats` call, whatever the kind. A kind that
//! authorises this way adds a line to each match; the grant machinery (`suite::grant_store`,
//! party `ats`) is shared with the suite's.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::crypto::MasterKey;
use crate::suite::auth::AuthorizationError;
use crate::tenant::{AtsKind, Tenant};

/// The URL an admin of the tenant's ATS opens to authorise Liaison.
pub async fn start(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    public_url: &str,
    http: reqwest::Client,
) -> Result<url::Url, AuthorizationError> {
    match tenant.config.ats.kind {
        AtsKind::Lever => {
            super::lever::oauth::start_authorization(db, key, tenant, public_url, http).await
        }
        _ => Err(AuthorizationError::NotAuthorizationCode(
            tenant.slug().to_owned(),
        )),
    }
}

/// Completes an authorisation from the callback's `state` and `code`.
pub async fn complete(
    db: &DatabaseConnection,
    key: &MasterKey,
    tenant: &Tenant,
    http: reqwest::Client,
    state_and_code: (&str, &str),
    lease: Duration,
) -> Result<(), AuthorizationError> {
    match tenant.config.ats.kind {
        AtsKind::Lever => {
            super::lever::oauth::complete_authorization(
                db,
                key,
                tenant,
                http,
                state_and_code,
                lease,
            )
            .await
        }
        _ => Err(AuthorizationError::NotAuthorizationCode(
            tenant.slug().to_owned(),
        )),
    }
}

/// `{public_url}/oauth/ats/{tenant}/callback`: where the ATS sends the admin back.
pub fn redirect_uri(public_url: &str, slug: &str) -> String {
    format!(
        "{}/oauth/ats/{slug}/callback",
        public_url.trim_end_matches('/')
    )
}

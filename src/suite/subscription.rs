//! The suite half of `liaison tenant connect`: Liaison's webhook subscription at the suite, and
//! the signing secret it gets, stored sealed as the tenant's `suite.webhook_secret`.

use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};

use super::{CreateWebhookRequest, OperationKey, PageRequest, SuiteClients, SuiteError};
use crate::crypto::MasterKey;
use crate::tenant::{self, Tenant};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SuiteSubscription {
    /// Registered now; its secret is stored.
    Registered { id: String },
    /// Already registered, and its secret is known.
    AlreadyRegistered { id: String },
}

/// Where the suite sends the tenant's events.
pub fn webhook_url(public_url: &str, slug: &str) -> String {
    format!("{}/webhooks/{slug}/suite", public_url.trim_end_matches('/'))
}

/// Makes sure the suite delivers every event type to Liaison, and that Liaison can verify them.
/// A subscription whose secret Liaison does not hold (the suite shows it only at creation) is
/// replaced by a new one. Idempotent.
pub async fn ensure_suite_subscription(
    db: &DatabaseConnection,
    master_key: &MasterKey,
    clients: &SuiteClients,
    tenant: &Tenant,
    public_url: &str,
) -> Result<SuiteSubscription, SuiteError> {
    let client = clients.for_tenant(tenant)?;
    let url = webhook_url(public_url, tenant.slug());
    let existing = client.list_webhooks(&PageRequest::default()).await?;
    let mine: Vec<_> = existing.data.into_iter().filter(|w| w.url == url).collect();
    if tenant.config.suite.webhook_secret.is_some()
        && let Some(subscription) = mine.first()
    {
        return Ok(SuiteSubscription::AlreadyRegistered {
            id: subscription.id.clone(),
        });
    }
    for stale in &mine {
        client.delete_webhook(&stale.id).await?;
    }
    let request = CreateWebhookRequest {
        url: url.clone(),
        events: vec!["*".to_owned()],
    };
    // Each registration is a new operation (an earlier one was deleted above).
    let key = OperationKey::new(tenant.slug(), "subscribe", uuid::Uuid::new_v4().to_string());
    let created = client.create_webhook(&key, &request).await?;
    let secret = created.secret.ok_or_else(|| {
        SuiteError::InvalidResponse("the subscription came without its secret".to_owned())
    })?;
    let mut config = tenant.config.clone();
    config.suite.webhook_secret = Some(SecretString::from(secret.expose_secret().to_owned()));
    tenant::apply(db, master_key, &config)
        .await
        .map_err(|e| SuiteError::Store(format!("{e:#}")))?;
    Ok(SuiteSubscription::Registered { id: created.id })
}

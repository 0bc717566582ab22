//! Liaison's webhook subscriptions at Gupy: register the actions it listens to (with the
//! `clientHeaders` that authenticate deliveries), list and remove them, and the periodic check
//! that re-registers any Gupy dropped (it silently unsubscribes a URL after 7 days of failures).

use std::collections::BTreeMap;

use sea_orm::{DatabaseConnection, TransactionTrait};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::json;

use super::client::GupyClient;
use super::payload::{WebhookAction, WebhookSubscription, WebhookSubscriptionRequest};
use crate::ats::AdapterFuture;
use crate::ats::capabilities::{self, AtsSubscription, Subscriptions};
use crate::ats::error::AdapterError;
use crate::events::{EventBody, InboundEvent, Source};
use crate::inbox::{NewEvent, insert_events};
use crate::signature::shared_token::TOKEN_HEADER;
use crate::tenant::Tenant;
use crate::time::now_ms;

/// The actions Liaison subscribes to (`contracts/gupy.md`).
pub const ACTIONS: [WebhookAction; 6] = [
    WebhookAction::ApplicationCreated,
    WebhookAction::ApplicationMoved,
    WebhookAction::ApplicationCompleted,
    WebhookAction::CandidateHired,
    WebhookAction::JobPublished,
    WebhookAction::JobStatusChanged,
];

/// The event-log type of a re-registered subscription.
pub const SUBSCRIPTION_RESTORED: &str = "liaison.subscription_restored";

/// Where Gupy delivers a tenant's events.
pub fn postback_url(public_url: &str, slug: &str) -> String {
    crate::ats::webhook_url(public_url, slug)
}

/// What `ensure_subscriptions` did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SubscriptionReport {
    /// Registered now.
    pub created: Vec<WebhookSubscription>,
    /// Already there.
    pub existing: Vec<WebhookSubscription>,
}

/// Liaison's subscriptions for this tenant (those delivering to its postback URL).
pub async fn list_subscriptions(
    client: &GupyClient,
    tenant: &Tenant,
    public_url: &str,
) -> Result<Vec<WebhookSubscription>, AdapterError> {
    let url = postback_url(public_url, tenant.slug());
    Ok(client
        .list_webhooks()
        .await?
        .into_iter()
        .filter(|s| s.postback_url == url)
        .collect())
}

/// Registers every action of [`ACTIONS`] not registered yet. Idempotent.
#[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
pub async fn ensure_subscriptions(
    client: &GupyClient,
    tenant: &Tenant,
    public_url: &str,
) -> Result<SubscriptionReport, AdapterError> {
    let secret = tenant
        .config
        .ats
        .webhook_secret
        .as_ref()
        .ok_or_else(|| AdapterError::Config("ats.webhook_secret is not set".to_owned()))?;
    let url = postback_url(public_url, tenant.slug());
    let current = list_subscriptions(client, tenant, public_url).await?;
    let mut report = SubscriptionReport::default();
    for action in ACTIONS {
        if let Some(found) = current
            .iter()
            .find(|s| s.action == action && s.status == "active")
        {
            report.existing.push(found.clone());
            continue;
        }
        let request = WebhookSubscriptionRequest {
            action,
            status: "active".to_owned(),
            postback_url: url.clone(),
            tech_owner_name: Some("Liaison".to_owned()),
            tech_owner_email: None,
            client_headers: BTreeMap::from([
                (TOKEN_HEADER.to_owned(), secret.expose_secret().to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ]),
        };
        let created = client.create_webhook(&request).await?;
        tracing::info!(
            action = action.as_str(),
            "registered a Gupy webhook subscription"
        );
        report.created.push(created);
    }
    Ok(report)
}

/// Removes Liaison's subscriptions for this tenant; answers how many.
pub async fn remove_subscriptions(
    client: &GupyClient,
    tenant: &Tenant,
    public_url: &str,
) -> Result<usize, AdapterError> {
    let ours = list_subscriptions(client, tenant, public_url).await?;
    for subscription in &ours {
        client.delete_webhook(&subscription.id).await?;
    }
    Ok(ours.len())
}

/// The periodic check: re-registers what disappeared and records each restoration in the event
/// log (an inbox row of type `liaison.subscription_restored`, status `processed`).
pub async fn check_subscriptions(
    db: &DatabaseConnection,
    client: &GupyClient,
    tenant: &Tenant,
    public_url: &str,
) -> Result<SubscriptionReport, AdapterError> {
    let report = ensure_subscriptions(client, tenant, public_url).await?;
    if report.created.is_empty() {
        return Ok(report);
    }
    tracing::warn!(
        tenant = %tenant.slug(),
        restored = report.created.len(),
        "Gupy had dropped webhook subscriptions; re-registered them"
    );
    let now = now_ms();
    let entries: Vec<NewEvent> = report
        .created
        .iter()
        .map(|subscription| {
            let event = InboundEvent {
                source: Source::Ats,
                delivery_id: format!("subscription_restored:{}:{now}", subscription.id),
                partner_type: SUBSCRIPTION_RESTORED.to_owned(),
                occurred_at: Some(now),
                body: EventBody::Ignored,
            };
            let payload = json!({
                "action": subscription.action.as_str(),
                "subscriptionId": subscription.id,
                "postbackUrl": subscription.postback_url,
            });
            NewEvent::log_only(tenant.id, event, payload.to_string())
        })
        .collect();
    record(db, &entries).await?;
    Ok(report)
}

async fn record(db: &DatabaseConnection, entries: &[NewEvent]) -> Result<(), AdapterError> {
    let txn = db.begin().await?;
    insert_events(&txn, entries, 1).await?;
    txn.commit().await?;
    Ok(())
}

/// A tenant's subscriptions at Gupy behind [`Subscriptions`]: Gupy's types stay here.
pub struct GupySubscriptions<'a> {
    pub client: GupyClient,
    pub tenant: &'a Tenant,
}

fn liaison(subscription: WebhookSubscription) -> AtsSubscription {
    AtsSubscription {
        id: subscription.id,
        events: subscription.action.as_str().to_owned(),
        postback_url: subscription.postback_url,
        status: subscription.status,
    }
}

fn liaison_report(report: SubscriptionReport) -> capabilities::SubscriptionReport {
    capabilities::SubscriptionReport {
        created: report.created.into_iter().map(liaison).collect(),
        existing: report.existing.into_iter().map(liaison).collect(),
    }
}

impl Subscriptions for GupySubscriptions<'_> {
    fn list<'a>(&'a self, public_url: &'a str) -> AdapterFuture<'a, Vec<AtsSubscription>> {
        Box::pin(async move {
            let found = list_subscriptions(&self.client, self.tenant, public_url).await?;
            Ok(found.into_iter().map(liaison).collect())
        })
    }

    fn ensure<'a>(
        &'a self,
        public_url: &'a str,
    ) -> AdapterFuture<'a, capabilities::SubscriptionReport> {
        Box::pin(async move {
            let report = ensure_subscriptions(&self.client, self.tenant, public_url).await?;
            Ok(liaison_report(report))
        })
    }

    fn remove<'a>(&'a self, public_url: &'a str) -> AdapterFuture<'a, usize> {
        Box::pin(remove_subscriptions(&self.client, self.tenant, public_url))
    }

    fn restore<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        public_url: &'a str,
    ) -> AdapterFuture<'a, usize> {
        Box::pin(async move {
            let report = check_subscriptions(db, &self.client, self.tenant, public_url).await?;
            Ok(report.created.len())
        })
    }
}

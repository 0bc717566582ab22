//! What an ATS kind offers beyond deliveries and REST calls, in Liaison's own types: how its
//! changes reach Liaison, its webhook subscriptions, and what a sample payload becomes. Callers
//! (the CLI, the console, the scheduler, the demo) ask the adapter, never match on its kind.

use std::future::Future;
use std::pin::Pin;

use axum::http::HeaderMap;
use bytes::Bytes;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::AdapterFuture;
use crate::events::InboundEvent;
use crate::signature::Verified;

/// How the console's preview of a sample is offered for a kind: its heading and what to paste.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PreviewGuide {
    pub heading: &'static str,
    pub help: &'static str,
}

impl Default for PreviewGuide {
    fn default() -> Self {
        Self {
            heading: "Preview a sample",
            help: "Paste a payload as the ATS would send it (JSON). It is parsed by this \
                   tenant's adapter; nothing is stored or sent.",
        }
    }
}

/// How a kind's changes reach Liaison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Webhooks Liaison registers itself through the ATS's subscription API.
    Subscribed,
    /// Webhooks an operator configures by hand at the ATS.
    ConfiguredAtTheAts,
    /// Liaison polls; nothing delivers to it.
    Polled,
    /// The ATS orders interviews through Liaison's partner routes under `routes`
    /// (`/partners/greenhouse`), with the key Liaison issued the tenant.
    PartnerApi { routes: &'static str },
}

impl Delivery {
    /// Whether the ATS delivers webhooks to Liaison's URL for the tenant.
    pub fn pushes(self) -> bool {
        matches!(self, Self::Subscribed | Self::ConfiguredAtTheAts)
    }
}

/// A kind that reads its webhook deliveries itself: a delivery may become several events, and
/// the kind may choose its own HTTP answer (script tenants: their `catch`). Once the tenant is
/// known, `POST /webhooks/{tenant}/ats` hands it the request: it verifies, stores every event
/// through the inbox in one transaction, counts the delivery in the metrics and answers. Kinds
/// without it are read by the route (`verify`, then one event from `parse`).
pub trait OwnReception: Send + Sync {
    fn receive<'a>(
        &'a self,
        inbound: &'a crate::inbound::InboundState,
        tenant: std::sync::Arc<crate::tenant::Tenant>,
        request: axum::extract::Request,
    ) -> ReceptionFuture<'a>;
}

pub type ReceptionFuture<'a> = Pin<Box<dyn Future<Output = axum::response::Response> + Send + 'a>>;

/// Where a push kind delivers a tenant's webhooks.
pub fn webhook_url(public_url: &str, slug: &str) -> String {
    format!("{}/webhooks/{slug}/ats", public_url.trim_end_matches('/'))
}

/// One webhook subscription at the ATS. Serialised as `tenant subscriptions --json` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AtsSubscription {
    pub id: String,
    /// What it delivers (Gupy: its action).
    #[serde(rename = "action")]
    pub events: String,
    pub postback_url: String,
    pub status: String,
}

/// What registering the subscriptions did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SubscriptionReport {
    /// Registered now.
    pub created: Vec<AtsSubscription>,
    /// Already there.
    pub existing: Vec<AtsSubscription>,
}

/// A tenant's webhook subscriptions at an ATS with a subscription API
/// ([`Delivery::Subscribed`]), all of them delivering to [`webhook_url`].
pub trait Subscriptions: Send + Sync {
    /// Liaison's subscriptions for the tenant.
    fn list<'a>(&'a self, public_url: &'a str) -> AdapterFuture<'a, Vec<AtsSubscription>>;

    /// Registers what is not registered yet. Idempotent.
    fn ensure<'a>(&'a self, public_url: &'a str) -> AdapterFuture<'a, SubscriptionReport>;

    /// Removes Liaison's subscriptions; answers how many.
    fn remove<'a>(&'a self, public_url: &'a str) -> AdapterFuture<'a, usize>;

    /// The periodic check: re-registers what the ATS dropped and records each restoration in
    /// the event log; answers how many were restored.
    fn restore<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        public_url: &'a str,
    ) -> AdapterFuture<'a, usize>;
}

/// What a sample payload would become: its events, and the parts that could not be read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SamplePreview {
    pub events: Vec<InboundEvent>,
    /// Items (feed jobs) that could not be read, with why.
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PreviewError {
    #[error("the sample is not valid JSON: {0}")]
    NotJson(String),
    #[error("the adapter refuses the sample: {0}")]
    Refused(String),
    #[error("the sample is not a readable feed: {0}")]
    NotAFeed(String),
}

impl PreviewError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotJson(_) => "invalid_json",
            Self::Refused(_) => "unparseable_payload",
            Self::NotAFeed(_) => "invalid_feed",
        }
    }
}

pub type PreviewFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SamplePreview, PreviewError>> + Send + 'a>>;

/// The preview of a push kind: the sample parsed exactly as a delivery, nothing stored.
pub fn preview_delivery(
    adapter: &(impl super::AtsAdapter + ?Sized),
    tenant: &crate::tenant::Tenant,
    sample: &str,
) -> Result<SamplePreview, PreviewError> {
    let payload: serde_json::Value =
        serde_json::from_str(sample).map_err(|e| PreviewError::NotJson(e.to_string()))?;
    let delivery = Verified::trusted(HeaderMap::new(), Bytes::from(sample.to_owned()));
    let event = adapter
        .parse(tenant, &delivery, &payload)
        .map_err(|e| PreviewError::Refused(e.to_string()))?;
    Ok(SamplePreview {
        events: vec![event],
        problems: Vec::new(),
    })
}

/// An order's result to report to the ATS that ordered it (embedded-assessment kinds).
#[derive(Clone, Debug)]
pub struct OrderReport {
    /// Where the ATS takes it (Greenhouse: the order's `url`).
    pub callback_url: String,
    /// The key the ATS knows the tenant by (Greenhouse: the Basic-auth key Liaison issued).
    pub credential: Option<secrecy::SecretString>,
    pub result: crate::orders::OrderResult,
}

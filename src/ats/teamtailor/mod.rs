//! Teamtailor's partner API (`contracts/ats-partners.md` §3.1): Teamtailor calls Liaison
//! (`routes`: the trigger form, the order webhook, activation), authenticated by
//! `Authorization: Bearer <provider key>` (the key Liaison issued the tenant) and, on webhooks,
//! `Teamtailor-Signature` over `"{t}.{partner-event id}"`. Teamtailor never retries, so the order
//! is committed before the 2xx. The result goes back as a JSON:API `PUT` of the order's
//! `update-url` with the partner API key (`ats.token`) and `X-Api-Version: 20180828`.

pub mod normalize;
pub mod payload;
pub mod provider_key;
pub mod recovery;
pub mod routes;
pub mod signature;

use secrecy::ExposeSecret;

use super::capabilities::{Delivery, OrderReport};
use super::error::AdapterError;
use super::http_client::{classify, transport_error};
use super::{AdapterFuture, AtsAdapter, PollContext, PollReport};
use crate::tenant::{AtsKind, Tenant};

/// The API version Teamtailor requires on every call.
pub const API_VERSION: &str = "20180828";
/// How often a tenant recovers orders when `ats.poll_interval_s` does not say.
pub const RECOVERY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);

/// `Authorization` on Liaison's calls: the partner API key after the tenant's word for it
/// (`[ats.teamtailor] result_auth`: Teamtailor's docs show both `Token` and `Bearer`).
pub(crate) fn auth_header(tenant: &Tenant, key: &str) -> String {
    format!(
        "{} {key}",
        tenant.config.ats.teamtailor.result_auth.as_str()
    )
}

pub struct TeamtailorAdapter {
    http: reqwest::Client,
}

impl TeamtailorAdapter {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl AtsAdapter for TeamtailorAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::Teamtailor
    }

    fn name(&self) -> &'static str {
        "Teamtailor"
    }

    fn delivery(&self) -> Delivery {
        Delivery::PartnerApi {
            routes: "/partners/teamtailor",
        }
    }

    /// Teamtailor never retries: the poll is the recovery of what its deliveries lost.
    fn default_poll_interval(&self) -> Option<std::time::Duration> {
        Some(RECOVERY_INTERVAL)
    }

    fn poll<'a>(&'a self, context: &'a PollContext<'a>) -> AdapterFuture<'a, PollReport> {
        Box::pin(recovery::recover(context, &self.http))
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
    fn report_order<'a>(
        &'a self,
        tenant: &'a Tenant,
        report: &'a OrderReport,
    ) -> AdapterFuture<'a, ()> {
        Box::pin(async move {
            let token = tenant
                .config
                .ats
                .token
                .as_ref()
                .ok_or_else(|| AdapterError::Config("ats.token is required".to_owned()))?;
            let url = url::Url::parse(&report.callback_url)
                .map_err(|e| AdapterError::Permanent(format!("the update-url: {e}")))?;
            crate::outbound::check_url(&url).map_err(|refused| {
                AdapterError::Permanent(format!(
                    "the update-url points at {} ({}), which Liaison does not call",
                    refused.reason, refused.host
                ))
            })?;
            let id = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default()
                .to_owned();
            let document = normalize::result_document(&id, &report.result);
            let body = serde_json::to_vec(&document)
                .map_err(|e| AdapterError::Permanent(e.to_string()))?;
            let what = "PUT of the partner result";
            let response = self
                .http
                .put(url)
                .header(
                    reqwest::header::AUTHORIZATION,
                    auth_header(tenant, token.expose_secret()),
                )
                .header("X-Api-Version", API_VERSION)
                .header(reqwest::header::CONTENT_TYPE, "application/vnd.api+json")
                .body(body)
                .timeout(std::time::Duration::from_secs(30))
                .send()
                .await
                .map_err(|e| transport_error(e, what))?;
            classify(response.status(), response.headers(), what)
        })
    }
}

//! Gupy: the ATS with a dedicated adapter (see `contracts/gupy.md`).
//!
//! Deliveries are authenticated by the static `X-Liaison-Token` header Liaison registers in each
//! subscription's `clientHeaders`; their JSON may come without `Content-Type`. Thin deliveries are
//! enriched later, in the worker, through `fetch_job` / `fetch_application`.

pub mod client;
pub mod normalize;
pub mod payload;
pub mod poll;
pub mod subscriptions;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

pub use client::GupyClient;

use super::capabilities::{Delivery, Subscriptions};
use super::error::{AdapterError, ParseError};
use super::{AdapterFuture, ApplicationRef, AtsAdapter, PollContext, PollReport, WriteBack};
use crate::events::{AtsApplication, AtsJob, InboundEvent};
use crate::signature::{Unverified, Verified, VerifyError, shared_token};
use crate::tenant::{AtsKind, Tenant};

pub struct GupyAdapter {
    http: reqwest::Client,
}

impl GupyAdapter {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }

    pub fn client(&self, tenant: &Tenant) -> Result<GupyClient, AdapterError> {
        GupyClient::for_tenant(self.http.clone(), tenant)
    }
}

impl AtsAdapter for GupyAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::Gupy
    }

    fn name(&self) -> &'static str {
        "Gupy"
    }

    fn json_without_content_type(&self) -> bool {
        true
    }

    fn delivery(&self) -> Delivery {
        Delivery::Subscribed
    }

    fn writes_back(&self) -> bool {
        true
    }

    fn subscriptions<'a>(
        &'a self,
        tenant: &'a Tenant,
    ) -> Result<Box<dyn Subscriptions + 'a>, AdapterError> {
        Ok(Box::new(subscriptions::GupySubscriptions {
            client: self.client(tenant)?,
            tenant,
        }))
    }

    fn verify(
        &self,
        tenant: &Tenant,
        delivery: &Unverified,
        _now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let secret = tenant
            .config
            .ats
            .webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes())
            .unwrap_or_default();
        shared_token::verify(secret, delivery.header(shared_token::TOKEN_HEADER))
    }

    fn parse(
        &self,
        _tenant: &Tenant,
        _delivery: &Verified,
        payload: &serde_json::Value,
    ) -> Result<InboundEvent, ParseError> {
        normalize::parse_delivery(payload)
    }

    fn fetch_job<'a>(
        &'a self,
        tenant: &'a Tenant,
        ats_job_id: &'a str,
    ) -> AdapterFuture<'a, AtsJob> {
        Box::pin(async move {
            let job = self.client(tenant)?.get_job(ats_job_id).await?;
            Ok(normalize::job_of(&job))
        })
    }

    fn fetch_application<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
    ) -> AdapterFuture<'a, AtsApplication> {
        Box::pin(async move {
            let found = self
                .client(tenant)?
                .find_application(&application.ats_job_id, &application.ats_application_id)
                .await?;
            Ok(normalize::application_of(&found))
        })
    }

    fn write_back<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
        result: &'a WriteBack,
    ) -> AdapterFuture<'a, ()> {
        Box::pin(async move {
            let client = self.client(tenant)?;
            let (job, app) = (&application.ats_job_id, &application.ats_application_id);
            match result {
                WriteBack::Tag(tag) => client.put_tag(job, app, tag).await,
                WriteBack::Comment { text, .. } => client.post_comment(job, app, text).await,
            }
        })
    }

    fn poll<'a>(&'a self, context: &'a PollContext<'a>) -> AdapterFuture<'a, PollReport> {
        Box::pin(async move {
            let client = self.client(context.tenant)?;
            poll::poll_listing(context, &client).await
        })
    }
}

//! Lever (`contracts/ats-partners.md` §2): the "trigger stage" ATS. A Lever admin points
//! webhooks at Liaison; each delivery carries its signature in the body (over its `token` and
//! `triggeredAt` only), so a delivery is a hint: the flow reads the opportunity from Lever
//! before acting. Results go back as a note and pass/fail tags, written as the tenant's
//! `perform_as` user, under Lever's rate limit. Tenants without webhooks poll.

pub mod client;
pub mod limits;
pub mod normalize;
pub mod oauth;
pub mod payload;
pub mod poll;
pub mod signature;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use secrecy::ExposeSecret;

pub use client::{Credentials, LeverClient};

use super::capabilities::Delivery;
use super::error::{AdapterError, ParseError};
use super::{AdapterFuture, ApplicationRef, AtsAdapter, PollContext, PollReport, WriteBack};
use crate::events::{AtsApplication, AtsJob, InboundEvent};
use crate::signature::{Unverified, Verified, VerifyError};
use crate::tenant::{AtsKind, LeverAuth, Tenant};

pub struct LeverAdapter {
    http: reqwest::Client,
    limits: limits::Limits,
}

impl LeverAdapter {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            limits: limits::Limits::default(),
        }
    }

    /// The client of a `lever` tenant (its `ats.base_url`, `[ats.lever]`, and `ats.token` or
    /// its OAuth grant), sharing the tenant's rate limit with every other client of this
    /// process, and its access tokens with those of this application.
    pub fn client(&self, tenant: &Tenant) -> Result<LeverClient, AdapterError> {
        let ats = &tenant.config.ats;
        let base_url = ats
            .base_url
            .as_deref()
            .ok_or_else(|| AdapterError::Config("ats.base_url is not set".to_owned()))?;
        let credentials = match ats.lever.auth {
            LeverAuth::ApiKey => Credentials::ApiKey(
                ats.token
                    .clone()
                    .ok_or_else(|| AdapterError::Config("ats.token is not set".to_owned()))?,
            ),
            LeverAuth::AuthorizationCode => {
                Credentials::Bearer(oauth::token_manager(&self.http, tenant)?)
            }
        };
        let perform_as =
            ats.lever.perform_as.clone().ok_or_else(|| {
                AdapterError::Config("ats.lever.perform_as is not set".to_owned())
            })?;
        Ok(LeverClient {
            http: self.http.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            credentials,
            perform_as,
            limit: self.limits.of(tenant.id.0, &ats.lever),
            tenant_id: tenant.id.0,
            timeout: ats.request_timeout_ms.map(Duration::from_millis),
        })
    }
}

impl AtsAdapter for LeverAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::Lever
    }

    fn name(&self) -> &'static str {
        "Lever"
    }

    fn delivery(&self) -> Delivery {
        Delivery::ConfiguredAtTheAts
    }

    fn writes_back(&self) -> bool {
        true
    }

    fn verify(
        &self,
        tenant: &Tenant,
        delivery: &Unverified,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let ats = &tenant.config.ats;
        let secret = ats
            .webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes())
            .unwrap_or_default();
        let tolerance = TimeDelta::seconds(
            i64::try_from(ats.lever.webhook_tolerance_s).unwrap_or(i64::MAX / 1_000),
        );
        signature::verify(secret, delivery.body(), tolerance, now)
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
            let posting = self.client(tenant)?.get_posting(ats_job_id).await?;
            Ok(normalize::job_of(&posting))
        })
    }

    /// Lever finds an opportunity by its id alone: `application.ats_job_id` is not needed.
    fn fetch_application<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
    ) -> AdapterFuture<'a, AtsApplication> {
        Box::pin(async move {
            let opportunity = self
                .client(tenant)?
                .get_opportunity(&application.ats_application_id)
                .await?;
            normalize::application_of(&opportunity, &tenant.config.ats.interview_step)
                .map_err(|e| AdapterError::Permanent(e.0))
        })
    }

    /// A tag goes on with `addTags`; the opposite verdict's tag (pass or fail) comes off with
    /// `removeTags`, so a changed verdict leaves one. A comment is a note.
    fn write_back<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
        result: &'a WriteBack,
    ) -> AdapterFuture<'a, ()> {
        Box::pin(async move {
            let client = self.client(tenant)?;
            let opportunity = &application.ats_application_id;
            match result {
                WriteBack::Tag(tag) => {
                    client.add_tag(opportunity, tag).await?;
                    let writeback = &tenant.config.writeback;
                    let opposite = if *tag == writeback.pass_tag {
                        Some(&writeback.fail_tag)
                    } else if *tag == writeback.fail_tag {
                        Some(&writeback.pass_tag)
                    } else {
                        None
                    };
                    match opposite {
                        Some(opposite) => client.remove_tag(opportunity, opposite).await,
                        None => Ok(()),
                    }
                }
                WriteBack::Comment { text, score } => {
                    client
                        .add_note(opportunity, text, score.map(normalize::note_score))
                        .await
                }
            }
        })
    }

    fn poll<'a>(&'a self, context: &'a PollContext<'a>) -> AdapterFuture<'a, PollReport> {
        Box::pin(async move {
            let client = self.client(context.tenant)?;
            poll::poll_opportunities(context, &client).await
        })
    }
}

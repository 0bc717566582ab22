//! The `xml-feed` kind as an [`AtsAdapter`]: it only polls (no webhooks, no API to call back).

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::poll::poll_feed;
use crate::ats::error::ParseError;
use crate::ats::{
    AdapterFuture, ApplicationRef, AtsAdapter, PollContext, PollReport, WriteBack, unsupported,
};
use crate::events::{AtsApplication, AtsJob, InboundEvent};
use crate::signature::{Unverified, Verified, VerifyError};
use crate::tenant::{AtsKind, Tenant};

pub struct XmlFeedAdapter {
    http: reqwest::Client,
}

impl XmlFeedAdapter {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

impl AtsAdapter for XmlFeedAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::XmlFeed
    }

    /// A feed tenant has no webhook secret: no delivery can authenticate.
    fn verify(&self, _: &Tenant, _: &Unverified, _: DateTime<Utc>) -> Result<(), VerifyError> {
        Err(VerifyError::InvalidSignature)
    }

    fn parse(&self, _: &Tenant, _: &Verified, _: &Value) -> Result<InboundEvent, ParseError> {
        Err(ParseError::new("xml-feed tenants take no webhooks"))
    }

    fn fetch_job<'a>(&'a self, _: &'a Tenant, _: &'a str) -> AdapterFuture<'a, AtsJob> {
        unsupported(AtsKind::XmlFeed, "fetch a single job")
    }

    fn fetch_application<'a>(
        &'a self,
        _: &'a Tenant,
        _: &'a ApplicationRef,
    ) -> AdapterFuture<'a, AtsApplication> {
        unsupported(AtsKind::XmlFeed, "fetch an application")
    }

    fn write_back<'a>(
        &'a self,
        _: &'a Tenant,
        _: &'a ApplicationRef,
        _: &'a WriteBack,
    ) -> AdapterFuture<'a, ()> {
        unsupported(AtsKind::XmlFeed, "write results back")
    }

    fn poll<'a>(&'a self, context: &'a PollContext<'a>) -> AdapterFuture<'a, PollReport> {
        Box::pin(poll_feed(context, &self.http))
    }
}

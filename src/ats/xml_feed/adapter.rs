//! The `xml-feed` kind as an [`AtsAdapter`]: it only polls (no webhooks, no API to call back).

use chrono::{DateTime, Utc};
use serde_json::Value;

use std::time::Duration;

use super::poll::poll_feed;
use super::preview::preview_feed;
use crate::ats::capabilities::{Delivery, PreviewFuture, PreviewGuide};
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

    fn delivery(&self) -> Delivery {
        Delivery::Polled
    }

    /// A feed tenant that does not say polls every five minutes.
    fn default_poll_interval(&self) -> Option<Duration> {
        Some(Duration::from_secs(300))
    }

    fn snapshot_table(&self) -> Option<&'static str> {
        Some("xml_feed_snapshots")
    }

    fn preview_guide(&self) -> PreviewGuide {
        PreviewGuide {
            help: "Paste a feed as the ATS publishes it (XML). It is read by this tenant's \
                   adapter; nothing is stored or sent.",
            ..PreviewGuide::default()
        }
    }

    /// The sample read as a feed, each job as the poll would store it.
    fn preview<'a>(&'a self, tenant: &'a Tenant, sample: &'a str) -> PreviewFuture<'a> {
        Box::pin(preview_feed(tenant, sample))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_asks_a_feed_tenant_for_xml() {
        let guide = crate::ats::adapter_for(AtsKind::XmlFeed).preview_guide();
        assert_eq!(guide.heading, PreviewGuide::default().heading);
        assert!(guide.help.contains("(XML)"), "{}", guide.help);
    }
}

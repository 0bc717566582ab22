//! What a sample payload would become for a tenant: the tenant's ATS adapter parses it exactly as
//! a delivery (JSON kinds) or a feed (xml-feed), and nothing is stored or enqueued.

use axum::http::HeaderMap;
use bytes::Bytes;
use serde::Serialize;

use crate::ats::adapter_for;
use crate::ats::xml_feed::{FeedItem, FeedParser, poll::ats_job};
use crate::events::{EventBody, InboundEvent};
use crate::signature::Verified;
use crate::tenant::{AtsKind, Tenant};

/// At most this many feed jobs are shown.
const MAX_FEED_JOBS: usize = 50;

/// One event the sample would produce.
#[derive(Clone, Debug, Serialize)]
pub struct PreviewEvent {
    pub event: InboundEvent,
    /// The ordering key's subject (`application:42`): events of one subject apply in order.
    pub subject: Option<String>,
    /// Whether the sync engine acts on it (an `ignored` event is only logged).
    pub acted_upon: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Preview {
    pub events: Vec<PreviewEvent>,
    /// Feed jobs that could not be read, with why.
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

fn item(event: InboundEvent) -> PreviewEvent {
    PreviewEvent {
        subject: event.subject(),
        acted_upon: !matches!(event.body, EventBody::Ignored),
        event,
    }
}

/// Parses `sample` as the tenant's ATS would send it.
pub async fn preview(tenant: &Tenant, sample: &str) -> Result<Preview, PreviewError> {
    if tenant.config.ats.kind == AtsKind::XmlFeed {
        return preview_feed(tenant, sample).await;
    }
    let payload: serde_json::Value =
        serde_json::from_str(sample).map_err(|e| PreviewError::NotJson(e.to_string()))?;
    let delivery = Verified::trusted(HeaderMap::new(), Bytes::from(sample.to_owned()));
    let event = adapter_for(tenant.config.ats.kind)
        .parse(tenant, &delivery, &payload)
        .map_err(|e| PreviewError::Refused(e.to_string()))?;
    Ok(Preview {
        events: vec![item(event)],
        problems: Vec::new(),
    })
}

async fn preview_feed(tenant: &Tenant, sample: &str) -> Result<Preview, PreviewError> {
    let mut parser = FeedParser::new(sample.as_bytes());
    let mut preview = Preview {
        events: Vec::new(),
        problems: Vec::new(),
    };
    while preview.events.len() < MAX_FEED_JOBS {
        match parser.next_item().await {
            Ok(Some(FeedItem::Job(job))) => {
                let job = ats_job(&job, tenant.config.ats.language.as_deref());
                preview.events.push(item(InboundEvent {
                    source: crate::events::Source::Poll,
                    delivery_id: format!("preview:{}", job.ats_job_id),
                    partner_type: "job.upserted".to_owned(),
                    occurred_at: None,
                    body: EventBody::JobUpserted(job),
                }));
            }
            Ok(Some(FeedItem::Invalid(problem))) => preview.problems.push(problem.to_string()),
            Ok(None) => break,
            Err(error) => return Err(PreviewError::NotAFeed(error.to_string())),
        }
    }
    Ok(preview)
}

//! What a sample feed would become: each job as the poll would store it, nothing stored.

use super::poll::ats_job;
use super::{FeedItem, FeedParser};
use crate::ats::capabilities::{PreviewError, SamplePreview};
use crate::events::{EventBody, InboundEvent, Source};
use crate::tenant::Tenant;

/// At most this many feed jobs are shown.
const MAX_FEED_JOBS: usize = 50;

pub async fn preview_feed(tenant: &Tenant, sample: &str) -> Result<SamplePreview, PreviewError> {
    let mut parser = FeedParser::new(sample.as_bytes());
    let mut preview = SamplePreview::default();
    while preview.events.len() < MAX_FEED_JOBS {
        match parser.next_item().await {
            Ok(Some(FeedItem::Job(job))) => {
                let job = ats_job(&job, tenant.config.ats.language.as_deref());
                preview.events.push(InboundEvent {
                    source: Source::Poll,
                    delivery_id: format!("preview:{}", job.ats_job_id),
                    partner_type: "job.upserted".to_owned(),
                    occurred_at: None,
                    body: EventBody::JobUpserted(job),
                });
            }
            Ok(Some(FeedItem::Invalid(problem))) => preview.problems.push(problem.to_string()),
            Ok(None) => break,
            Err(error) => return Err(PreviewError::NotAFeed(error.to_string())),
        }
    }
    Ok(preview)
}

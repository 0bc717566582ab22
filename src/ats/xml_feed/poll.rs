//! One poll of an xml feed: the HTTP body is streamed into the parser (bounded memory whatever
//! the feed's size), each job staged in the database in batches with its content hash, and only
//! once the whole feed parsed does `snapshot::commit` diff it against the previous snapshot, in
//! SQL, and store the changes, in one transaction. A feed that fails to download or parse
//! changes nothing.
//!
//! Memory per poll: one parsed job (the parser's bound), a batch of `STAGE_BATCH` staged rows
//! (about 1 KiB each), and at most `MAX_REPORTED_SKIPS` skipped-job reports.

use std::time::Instant;

use futures::TryStreamExt as _;
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use tokio_util::io::StreamReader;
use tracing::Instrument as _;

use super::job::FeedJob;
use super::parser::{FeedItem, FeedParser, JobError};
use super::snapshot::{self, StagedJob};
use crate::ats::PollContext;
use crate::ats::error::AdapterError;
use crate::ats::http_client::{classify, transport_error};
use crate::ats::poll::PollReport;
use crate::events::AtsJob;
use crate::health::Side;
use crate::telemetry::{CallStatus, PartnerCalls};

/// The feed's endpoint label.
const FEED_ENDPOINT: &str = "GET feed";
/// Jobs staged per INSERT.
const STAGE_BATCH: usize = 500;
/// Skipped jobs reported one by one in the event log; beyond, only counted.
pub const MAX_REPORTED_SKIPS: usize = 100;

#[tracing::instrument(skip_all, fields(tenant = %context.tenant.slug()))]
pub async fn poll_feed(
    context: &PollContext<'_>,
    http: &reqwest::Client,
) -> Result<PollReport, AdapterError> {
    let tenant = context.tenant;
    let url = tenant
        .config
        .ats
        .base_url
        .as_deref()
        .ok_or_else(|| AdapterError::Config("ats.base_url (the feed URL) is not set".into()))?;
    let mut request = http.get(url);
    if let Some((name, value)) = feed_header(tenant)? {
        request = request.header(name, value);
    }
    let calls = PartnerCalls::current().recorder("xml-feed", Some((tenant.id.0, Side::Ats)));
    let span = calls.span(FEED_ENDPOINT);
    let started = Instant::now();
    // Timed to the answer's head: the body streams into the parser below.
    let sent = request.send().instrument(span.clone()).await;
    let status = match &sent {
        Ok(response) => CallStatus::Http(response.status().as_u16()),
        Err(error) => CallStatus::of_transport(error),
    };
    calls.record(&span, FEED_ENDPOINT, status, started.elapsed());
    let response = sent.map_err(|e| transport_error(e, "GET feed"))?;
    classify(response.status(), response.headers(), "GET feed")?;
    let body = StreamReader::new(response.bytes_stream().map_err(std::io::Error::other));
    let mut parser = FeedParser::new(body);

    snapshot::clear_staging(context.db, tenant.id).await?;
    let staged = stage_feed(context, &mut parser, tenant.config.ats.language.as_deref()).await;
    let (seen, skips, skipped) = match staged {
        Ok(staged) => staged,
        Err(error) => {
            // Nothing of this poll may survive: the previous snapshot stays as it was.
            snapshot::clear_staging(context.db, tenant.id).await?;
            tracing::warn!(error = %error, "the feed is unusable; nothing changed");
            return Err(error);
        }
    };
    let mut report = snapshot::commit(context.db, tenant, context.max_attempts, &skips).await?;
    report.seen = seen;
    report.skipped = skipped;
    let stats = parser.stats();
    report.parser_peak_bytes = stats.peak_held_bytes as u64;
    tracing::debug!(
        bytes = stats.bytes_read,
        peak_held_bytes = stats.peak_held_bytes,
        "feed parsed"
    );
    Ok(report)
}

/// Streams the feed into the staging table. Answers jobs seen, the skipped jobs to report and
/// how many were skipped.
async fn stage_feed<R: tokio::io::AsyncBufRead + Unpin>(
    context: &PollContext<'_>,
    parser: &mut FeedParser<R>,
    language: Option<&str>,
) -> Result<(u64, Vec<JobError>, u64), AdapterError> {
    let mut batch = Vec::with_capacity(STAGE_BATCH);
    let mut skips = Vec::new();
    let (mut seen, mut skipped) = (0, 0);
    while let Some(item) = parser.next_item().await? {
        seen += 1;
        match item {
            FeedItem::Job(job) => batch.push(StagedJob {
                reference: job.reference.clone(),
                content_hash: Some(job.content_hash.to_hex()),
                job: Some(ats_job(&job, language)),
            }),
            FeedItem::Invalid(error) => {
                skipped += 1;
                // A bad job that names its reference is still in the feed: keep it as it was.
                if let Some(reference) = &error.reference {
                    batch.push(StagedJob {
                        reference: reference.clone(),
                        content_hash: None,
                        job: None,
                    });
                }
                if skips.len() < MAX_REPORTED_SKIPS {
                    skips.push(error);
                }
            }
        }
        if batch.len() >= STAGE_BATCH {
            snapshot::stage(context.db, context.tenant.id, &batch).await?;
            batch.clear();
        }
    }
    snapshot::stage(context.db, context.tenant.id, &batch).await?;
    Ok((seen, skips, skipped))
}

/// `ats.feed_header = "Name: value"`.
fn feed_header(
    tenant: &crate::tenant::Tenant,
) -> Result<Option<(HeaderName, HeaderValue)>, AdapterError> {
    let Some(header) = tenant.config.ats.feed_header.as_ref() else {
        return Ok(None);
    };
    let invalid = || AdapterError::Config("ats.feed_header must look like `Name: value`".into());
    let (name, value) = header.expose_secret().split_once(':').ok_or_else(invalid)?;
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| invalid())?;
    let mut value = HeaderValue::from_str(value.trim()).map_err(|_| invalid())?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

/// A feed job in Liaison's terms.
pub fn ats_job(job: &FeedJob, language: Option<&str>) -> AtsJob {
    let day = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| t.get(..10))
            .filter(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok())
            .map(str::to_owned)
    };
    AtsJob {
        ats_job_id: job.reference.clone(),
        title: Some(job.name.clone()),
        description: job.summary.clone(),
        location: job.address.clone(),
        language: language.map(str::to_owned),
        starts_on: day(&job.start),
        ends_on: day(&job.end),
        url: job.url.clone(),
        complete: true,
    }
}

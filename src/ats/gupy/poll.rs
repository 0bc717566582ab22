//! The Gupy listing poll: jobs and applications updated since the persisted cursor, for tenants
//! that poll as well as (or instead of) receiving webhooks. Gupy's API has no "updated since"
//! filter, so every job's applications are listed page by page and filtered here; the changes of
//! one poll are held in memory until they commit (one small event per changed application).

use chrono::{DateTime, Utc};
use sea_orm::TransactionTrait;

use super::client::{GupyClient, collect_pages};
use super::normalize::{application_of, job_is_closed, job_of};
use super::payload::{Job, JobStatus, gupy_time};
use crate::ats::PollContext;
use crate::ats::error::AdapterError;
use crate::ats::poll::{PollReport, read_cursor, write_cursor};
use crate::events::{EventBody, InboundEvent, Source};
use crate::inbox::{NewEvent, Stored, insert_events};

/// The cursor's name in `poll_cursors`.
pub const CURSOR_SOURCE: &str = "gupy.listing";

pub async fn poll_listing(
    context: &PollContext<'_>,
    client: &GupyClient,
) -> Result<PollReport, AdapterError> {
    let tenant = context.tenant;
    let since = read_cursor(context.db, tenant.id, CURSOR_SOURCE)
        .await?
        .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
        .map(|c| c.with_timezone(&Utc));
    // `>=`: a change in the cursor's own millisecond is read again and deduplicated by its
    // delivery id, rather than missed.
    let is_new = |at: DateTime<Utc>| since.is_none_or(|since| at >= since);
    let mut report = PollReport::default();
    let mut newest = since;
    let mut events = Vec::new();
    let jobs = collect_pages(|page| client.list_jobs(page)).await?;
    for job in &jobs {
        report.seen += 1;
        if is_new(job.updated_at) {
            newest = newest.max(Some(job.updated_at));
            if let Some(body) = job_body(job) {
                events.push(poll_event(
                    format!("gupy-job:{}:{}", job.id, job.updated_at.timestamp_millis()),
                    "job.polled",
                    job.updated_at,
                    body,
                ));
            }
        }
        if job_is_closed(job) {
            continue;
        }
        let job_id = job.id.to_string();
        let applications = collect_pages(|page| client.list_applications(&job_id, page)).await?;
        for application in applications {
            report.seen += 1;
            if !is_new(application.updated_at) {
                continue;
            }
            newest = newest.max(Some(application.updated_at));
            events.push(poll_event(
                format!(
                    "gupy-application:{}:{}",
                    application.id,
                    application.updated_at.timestamp_millis()
                ),
                "application.polled",
                application.updated_at,
                EventBody::ApplicationChanged(application_of(&application)),
            ));
        }
    }
    let cursor = newest.map(|at| gupy_time::format(&at));
    let rows: Vec<NewEvent> = events
        .into_iter()
        .map(|event| {
            let payload = serde_json::to_string(&event.body).unwrap_or_default();
            NewEvent::received(tenant.id, event, payload)
        })
        .collect();
    let txn = context.db.begin().await?;
    let stored = insert_events(&txn, &rows, context.max_attempts).await?;
    if let Some(cursor) = &cursor {
        write_cursor(&txn, tenant.id, CURSOR_SOURCE, cursor).await?;
    }
    txn.commit().await?;
    for outcome in stored {
        match outcome {
            Stored::New(_) => {
                report.stored += 1;
                report.new += 1;
            }
            Stored::Duplicate(_) => report.duplicates += 1,
        }
    }
    report.cursor = cursor;
    Ok(report)
}

fn job_body(job: &Job) -> Option<EventBody> {
    if job_is_closed(job) {
        Some(EventBody::JobClosed {
            ats_job_id: job.id.to_string(),
        })
    } else if job.status == JobStatus::Published {
        Some(EventBody::JobUpserted(job_of(job)))
    } else {
        None
    }
}

fn poll_event(
    delivery_id: String,
    partner_type: &str,
    at: DateTime<Utc>,
    body: EventBody,
) -> InboundEvent {
    InboundEvent {
        source: Source::Poll,
        delivery_id,
        partner_type: partner_type.to_owned(),
        occurred_at: Some(at.timestamp_millis()),
        body,
    }
}

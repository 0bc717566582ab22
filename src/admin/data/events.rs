//! The event debugger's reads: events across tenants with filters, and one event with its
//! payloads (masked), the jobs it produced and every attempt of each.

use std::collections::HashMap;

use bytes::Bytes;
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use serde_json::Value;

use super::masking::{Reveal, mask_json, mask_text};
use crate::ids::{EventId, JobId, TenantId};
use crate::inbound::body::{BodyFormat, to_json};
use crate::inbox;
use crate::queue;
use crate::sync::events_log::EventSummary;
use crate::time::to_rfc3339;

pub use crate::inbox::EventFilter;

/// An event as listed, with its tenant's slug.
#[derive(Clone, Debug, Serialize)]
pub struct EventItem {
    pub tenant: String,
    #[serde(flatten)]
    pub event: EventSummary,
}

#[derive(Clone, Debug, Serialize)]
pub struct EventList {
    pub data: Vec<EventItem>,
    pub next_cursor: Option<String>,
}

pub use crate::tenant::slugs_by_id as tenant_slugs;

/// Events newest first, `limit` at a time; `cursor` is the last id of the previous page.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    limit: u64,
    cursor: Option<i64>,
) -> Result<EventList, DbErr> {
    let limit = limit.clamp(1, 500);
    let mut rows = inbox::newest_events(db, filter, cursor, limit + 1).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|row| row.id.to_string())
    } else {
        None
    };
    let slugs = tenant_slugs(db).await?;
    let data = rows
        .into_iter()
        .map(|row| EventItem {
            tenant: slugs.get(&row.tenant_id).cloned().unwrap_or_default(),
            event: EventSummary::from(row),
        })
        .collect();
    Ok(EventList { data, next_cursor })
}

/// One attempt of a job, from the execution log.
#[derive(Clone, Debug, Serialize)]
pub struct AttemptView {
    pub attempt: i32,
    pub started_at: String,
    pub duration_ms: i64,
    pub outcome: String,
    /// What was called at the partners (a summary written by the worker).
    pub call: Option<String>,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct JobView {
    pub id: String,
    pub flow: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub attempt_log: Vec<AttemptView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EventDetail {
    pub tenant: String,
    #[serde(flatten)]
    pub event: EventSummary,
    /// The raw payload, masked: JSON as sent, a form or multipart body as its fields (percent-
    /// decoded), anything else as masked free text.
    pub payload: Value,
    /// Liaison's normalised event (`InboundEvent`), masked alike.
    pub normalized: Value,
    pub jobs: Vec<JobView>,
    /// Whether personal data is shown (secrets never are).
    pub personal_data_shown: bool,
}

/// A stored body, masked. JSON is masked as JSON. A form or multipart body (the raw text the
/// sender posted) is parsed back into its fields by the webhook path's own parser, so that its
/// values are masked percent-decoded and by their keys, like JSON; only text that is neither is
/// masked as free text.
async fn mask_stored(text: &str, reveal: Reveal) -> Value {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return mask_json(&value, reveal);
    }
    match fields_of(text).await {
        Some(fields) => mask_json(&fields, reveal),
        None => Value::String(mask_text(text, reveal)),
    }
}

/// The fields of a stored form or multipart body, as the webhook path made them.
async fn fields_of(text: &str) -> Option<Value> {
    let format = stored_format(text)?;
    to_json(&format, &Bytes::copy_from_slice(text.as_bytes()))
        .await
        .ok()
}

/// A multipart body starts with its boundary line (`--boundary`); anything else that was
/// stored as text and is not JSON came as a form.
fn stored_format(text: &str) -> Option<BodyFormat> {
    if let Some(rest) = text.trim_start().strip_prefix("--") {
        let line = rest.split('\n').next().unwrap_or_default();
        let boundary = line.trim_end_matches('\r');
        if !boundary.is_empty() && !boundary.contains(char::is_whitespace) {
            return Some(BodyFormat::Multipart {
                boundary: boundary.to_owned(),
            });
        }
    }
    text.contains('=').then_some(BodyFormat::Form)
}

/// The event `id` with everything the debugger shows; None when there is no such event.
pub async fn detail(
    db: &impl ConnectionTrait,
    id: EventId,
    reveal: Reveal,
) -> Result<Option<EventDetail>, DbErr> {
    let Some(row) = inbox::find_event(db, id).await? else {
        return Ok(None);
    };
    let jobs = queue::jobs_of_event(db, EventId(row.id), TenantId(row.tenant_id)).await?;
    let job_ids: Vec<JobId> = jobs.iter().map(|j| JobId(j.id)).collect();
    let mut attempts: HashMap<i64, Vec<AttemptView>> = HashMap::new();
    for a in queue::attempts_of_jobs(db, &job_ids).await? {
        attempts.entry(a.job_id).or_default().push(AttemptView {
            attempt: a.attempt,
            started_at: to_rfc3339(a.started_at),
            duration_ms: a.duration_ms,
            outcome: a.outcome,
            call: a.call.map(|c| mask_text(&c, reveal)),
            error: a.error.map(|e| mask_text(&e, reveal)),
        });
    }
    let jobs = jobs
        .into_iter()
        .map(|j| JobView {
            id: JobId(j.id).to_string(),
            flow: j.flow,
            status: j.status,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: to_rfc3339(j.run_at),
            last_error: j.last_error.map(|e| mask_text(&e, reveal)),
            created_at: to_rfc3339(j.created_at),
            updated_at: to_rfc3339(j.updated_at),
            attempt_log: attempts.remove(&j.id).unwrap_or_default(),
        })
        .collect();
    let tenant = tenant_slugs(db)
        .await?
        .remove(&row.tenant_id)
        .unwrap_or_default();
    let payload = mask_stored(&row.payload, reveal).await;
    let normalized = mask_stored(&row.normalized, reveal).await;
    Ok(Some(EventDetail {
        tenant,
        event: EventSummary::from(row),
        payload,
        normalized,
        jobs,
        personal_data_shown: reveal == Reveal::Personal,
    }))
}

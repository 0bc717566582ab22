//! The sync engine: turns stored events into jobs, and runs them (worker, flows).
//!
//! Every stored event becomes one `apply_event` job, ordered by the event's subject, so that one
//! entity's events are applied one at a time and in order, while different entities run in
//! parallel. The inbound path calls `job_for_event` inside the transaction that stores the event.

mod completions;
pub mod events_log;
mod flow;
pub mod flows;
pub mod keys;
pub mod partners;
pub mod plan;
pub mod ports;
pub mod replay;
pub mod runtime;
pub mod state;
mod worker;

pub use flow::{Flow, FlowFuture, Flows, JobContext, JobError};
pub use worker::{Worker, event_status};

use crate::events::InboundEvent;
use crate::ids::{EventId, TenantId};
use crate::queue::NewJob;

/// The flow that applies one stored event.
pub const APPLY_EVENT: &str = "apply_event";

/// The job that applies `event` (stored as `event_id`). Enqueue it in the same transaction as the
/// event, so that both commit or neither does.
pub fn job_for_event(
    tenant: TenantId,
    event_id: EventId,
    event: &InboundEvent,
    max_attempts: u32,
) -> NewJob {
    NewJob {
        tenant,
        event: Some(event_id),
        flow: APPLY_EVENT.to_owned(),
        payload: serde_json::json!({ "event_id": event_id.0 }),
        idempotency_key: format!("event:{}", event_id.0),
        ordering_key: Some(
            event
                .subject()
                .map(|subject| format!("{}:{subject}", tenant.0))
                .unwrap_or_else(|| format!("{}:event:{}", tenant.0, event_id.0)),
        ),
        run_at: None,
        max_attempts,
    }
}

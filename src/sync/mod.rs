//! The sync engine: turns stored events into jobs, and runs them (worker, flows).
//!
//! Every stored event becomes one `apply_event` job, ordered by the event's subject, so that one
//! entity's events are applied one at a time and in order, while different entities run in
//! parallel. The inbox builds that job (`inbox::job_for_event`) and enqueues it with the event.

mod completions;
pub mod events_log;
mod flow;
pub mod flows;
pub mod keys;
pub mod orders;
pub mod partners;
pub mod plan;
pub mod ports;
pub mod replay;
pub mod runtime;
pub mod state;
mod worker;

pub use flow::{Flow, FlowFuture, Flows, JobContext, JobError};
pub use worker::Worker;
// The job of each stored event is the inbox's to build (it enqueues it with the event).
pub use crate::inbox::{APPLY_EVENT, job_for_event};

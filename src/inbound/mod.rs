//! Inbound webhooks: verify the raw bytes -> normalise -> store the event and its job in one
//! transaction -> answer 202. See `docs/webhooks.md`.
//!
//! - `routes`: the two routes, thin.
//! - `body`: size limit, content types, form and multipart bodies as JSON.
//! - `suite_events`: Standard Webhooks and the suite's event types (ATS kinds are in `ats/`).
//! - `tenants`: a short-lived cache of opened tenants.
//! - `inbox`: the group-commit writer, and the insert path pollers share.

pub mod body;
mod error;
pub mod inbox;
mod routes;
pub mod suite_events;
mod tenants;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

pub use error::InboundError;
pub use inbox::{Inbox, NewEvent, Stored};
pub use routes::router;
pub use tenants::TenantCache;

/// What the inbound path keeps in the app state.
#[derive(Clone)]
pub struct InboundState {
    pub inbox: Inbox,
    pub tenants: TenantCache,
}

impl InboundState {
    /// Starts the inbox writer (needs a Tokio runtime).
    pub fn start(db: DatabaseConnection, max_attempts: u32, wake: Arc<Notify>) -> Self {
        Self {
            inbox: Inbox::spawn(db, max_attempts, wake),
            tenants: TenantCache::default(),
        }
    }
}

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

use crate::crypto::MasterKey;
use crate::telemetry::Metrics;

pub use error::InboundError;
pub use inbox::{Inbox, NewEvent, Stored};
pub use routes::router;
pub use tenants::TenantCache;

/// The webhook routes' state (an axum sub-state of the application's, via `FromRef`).
#[derive(Clone)]
pub struct InboundState {
    pub inbox: Inbox,
    /// Opens tenants by slug. None without a master key: every webhook then answers 503.
    pub tenants: Option<OpenTenants>,
    pub metrics: Arc<Metrics>,
}

/// The cache of opened tenants, with what opening one takes (the key is required here).
#[derive(Clone)]
pub struct OpenTenants {
    pub db: DatabaseConnection,
    pub key: MasterKey,
    pub cache: TenantCache,
}

impl InboundState {
    /// Starts the inbox writer (needs a Tokio runtime).
    pub fn start(
        db: DatabaseConnection,
        master_key: Option<MasterKey>,
        max_attempts: u32,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            inbox: Inbox::spawn(db.clone(), max_attempts, wake),
            tenants: master_key.map(|key| OpenTenants {
                db,
                key,
                cache: TenantCache::default(),
            }),
            metrics,
        }
    }
}

//! Inbound webhooks: verify the raw bytes -> normalise -> store the event and its job in one
//! transaction -> answer 202. See `docs/webhooks.md`.
//!
//! - `routes`: the two routes, thin.
//! - `body`: size limit, content types, form and multipart bodies as JSON.
//! - `suite_events`: Standard Webhooks and the suite's event types (ATS kinds are in `ats/`).
//!
//! An ATS kind that reads its deliveries itself (`ats::OwnReception`: several events, its own
//! answer; script tenants) gets the request once the tenant is known.
//!
//! Events are stored through the inbox (`crate::inbox`), which the pollers share.

pub mod body;
mod error;
mod routes;
pub mod suite_events;

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::inbox::Inbox;
use crate::script::prepared::PreparedScripts;
use crate::telemetry::Metrics;
use crate::tenant::Directory;

pub use error::InboundError;
pub use routes::router;

/// The webhook routes' state: the router holds it alone, behind an `Arc` (`http::router`), so
/// that a request clones one reference count, not the application's state.
#[derive(Clone)]
pub struct InboundState {
    pub inbox: Inbox,
    /// The process's tenant directory. None without a master key: every webhook then answers 503.
    pub tenants: Option<Directory>,
    pub metrics: Arc<Metrics>,
    /// Script tenants' programs and settings, prepared once per tenant version.
    pub scripts: PreparedScripts,
    /// Keeps the script runs' flusher going while this state lives.
    _runs_flusher: Arc<()>,
}

impl InboundState {
    /// Starts the inbox writer and the script runs' flusher (needs a Tokio runtime).
    pub fn start(
        db: DatabaseConnection,
        tenants: Option<Directory>,
        max_attempts: u32,
        wake: Arc<Notify>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let runs_flusher = Arc::new(());
        crate::script::runs::spawn_flusher(db.clone(), Arc::downgrade(&runs_flusher));
        Self {
            inbox: Inbox::spawn(db, max_attempts, wake),
            tenants,
            metrics,
            scripts: PreparedScripts::default(),
            _runs_flusher: runs_flusher,
        }
    }
}

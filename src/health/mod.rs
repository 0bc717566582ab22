//! Connection health per tenant, for the admin console: for each side (the ATS, the suite) the
//! last successful call Liaison made to it, the last failed one (time and a short summary, never a
//! secret), and the last event received from it.
//!
//! Outbound calls are recorded at the partner clients' choke points (`telemetry::calls`) into an
//! in-memory `HealthBook`, flushed to `partner_health` in the background (see `book`). Inbound
//! times come from the inbox.

mod book;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;

pub use book::{HealthBook, HealthCell};

use crate::store::entities::partner_health;

/// Which partner of a tenant.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Side {
    Ats,
    Suite,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ats => "ats",
            Self::Suite => "suite",
        }
    }

    /// The inbox sources that count as "received from" this side: the ATS's webhooks and polls,
    /// the suite's webhooks.
    fn inbox_sources(self) -> &'static [&'static str] {
        match self {
            Self::Ats => &["ats", "poll"],
            Self::Suite => &["suite"],
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct TenantHealth {
    pub ats: SideHealth,
    pub suite: SideHealth,
}

/// Times are milliseconds since the Unix epoch (`crate::time`).
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct SideHealth {
    /// The last call Liaison made that the partner answered as expected.
    pub last_ok_at: Option<i64>,
    /// The last call that failed (5xx, 401/403, 429, timeout, connection refused).
    pub last_error_at: Option<i64>,
    pub last_error: Option<String>,
    /// The last event received from the partner (webhook, or poll for the ATS side).
    pub last_inbound_at: Option<i64>,
}

/// The tenant's connection health, as every process recorded it (up to a few seconds late for
/// successes; failures are written at once).
pub async fn tenant_health(db: &DatabaseConnection, tenant_id: i64) -> Result<TenantHealth, DbErr> {
    let rows = partner_health::Entity::find()
        .filter(partner_health::Column::TenantId.eq(tenant_id))
        .all(db)
        .await?;
    let mut health = TenantHealth::default();
    for (side, target) in [
        (Side::Ats, &mut health.ats),
        (Side::Suite, &mut health.suite),
    ] {
        if let Some(row) = rows.iter().find(|row| row.side == side.as_str()) {
            target.last_ok_at = row.last_ok_at;
            target.last_error_at = row.last_error_at;
            target.last_error = row.last_error.clone();
        }
        target.last_inbound_at = last_inbound_at(db, tenant_id, side).await?;
    }
    Ok(health)
}

/// The newest `received_at` of the side's sources (the inbox's `(tenant_id, source, ...)` unique
/// index narrows the scan to the tenant's events from that side).
async fn last_inbound_at(
    db: &DatabaseConnection,
    tenant_id: i64,
    side: Side,
) -> Result<Option<i64>, DbErr> {
    crate::inbox::newest_received_at(db, crate::ids::TenantId(tenant_id), side.inbox_sources())
        .await
}

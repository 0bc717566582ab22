//! One-shot polls (`poll_once`) and the cursors they persist. The scheduler that calls them
//! under a cross-process lease lives in the sync engine; a poll assumes it is the only one
//! running for its tenant.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, DeriveIden};
use serde::Serialize;
use tokio::sync::Notify;

use super::{AdapterError, PollContext, adapter_for};
use crate::ids::TenantId;
use crate::telemetry::PartnerCalls;
use crate::tenant::Tenant;
use crate::time::now_ms;

/// What polls and subscription checks need from their process: built once by whoever runs them
/// (the sync runtime's scheduler, tests), never a whole application state.
#[derive(Clone)]
pub struct Pollers {
    pub db: DatabaseConnection,
    /// The queue's attempt budget, for the jobs a poll enqueues.
    pub max_attempts: u32,
    /// Where partner calls are recorded (metrics, spans, health).
    pub partner_calls: PartnerCalls,
    /// Wakes this process's workers once a poll stored events.
    pub wake: Arc<Notify>,
    /// Liaison's public URL, where the ATS's subscriptions point.
    pub public_url: String,
    /// The state the tenant's processes share (Lever's OAuth grant), set around adapter calls.
    pub ats_shared: super::shared::AtsShared,
}

/// What one poll found and stored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// Items read from the partner (feed jobs, listed applications and jobs).
    pub seen: u64,
    /// Not known before.
    pub new: u64,
    /// Known, with different content.
    pub changed: u64,
    /// Gone from the feed (reported as closed).
    pub removed: u64,
    /// Unreadable items, reported in the event log and skipped.
    pub skipped: u64,
    /// Events stored in the inbox (and their jobs enqueued), or orders stored or requeued.
    pub stored: u64,
    /// Embedded-assessment kinds: jobs of unfinished orders requeued after the queue gave up.
    pub requeued: u64,
    /// Events whose delivery id was already stored.
    pub duplicates: u64,
    /// The persisted cursor after this poll, for listing sources.
    pub cursor: Option<String>,
    /// xml-feed: the most bytes the streaming parser held at once (its memory bound at work).
    pub parser_peak_bytes: u64,
}

/// Polls the tenant's ATS once (xml-feed: the whole feed; gupy: applications and jobs updated
/// since the cursor), stores the changes as `Source::Poll` events and wakes the workers. Nothing
/// is stored when the poll fails. Kinds that do not poll answer an empty report.
pub async fn poll_once(state: &Pollers, tenant: &Tenant) -> Result<PollReport, AdapterError> {
    let adapter = adapter_for(tenant.config.ats.kind);
    let context = PollContext {
        db: &state.db,
        tenant,
        max_attempts: state.max_attempts,
    };
    let report = state
        .partner_calls
        .clone()
        .scope(state.ats_shared.clone().scope(adapter.poll(&context)))
        .await?;
    if report.stored > 0 {
        state.wake.notify_one();
    }
    tracing::info!(
        tenant = %tenant.slug(),
        seen = report.seen,
        new = report.new,
        changed = report.changed,
        removed = report.removed,
        skipped = report.skipped,
        requeued = report.requeued,
        "poll finished"
    );
    Ok(report)
}

#[derive(DeriveIden)]
enum PollCursors {
    Table,
    TenantId,
    Source,
    Cursor,
    UpdatedAt,
}

/// The cursor a listing source persisted for the tenant.
pub async fn read_cursor(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    source: &str,
) -> Result<Option<String>, DbErr> {
    let select = Query::select()
        .column(PollCursors::Cursor)
        .from(PollCursors::Table)
        .and_where(Expr::col(PollCursors::TenantId).eq(tenant.0))
        .and_where(Expr::col(PollCursors::Source).eq(source))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => Ok(Some(row.try_get("", "cursor")?)),
        None => Ok(None),
    }
}

/// Persists the cursor (call it in the transaction that stores the poll's events).
pub async fn write_cursor(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    source: &str,
    cursor: &str,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table(PollCursors::Table)
        .columns([
            PollCursors::TenantId,
            PollCursors::Source,
            PollCursors::Cursor,
            PollCursors::UpdatedAt,
        ])
        .values([
            tenant.0.into(),
            source.into(),
            cursor.into(),
            now_ms().into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([PollCursors::TenantId, PollCursors::Source])
                .update_columns([PollCursors::Cursor, PollCursors::UpdatedAt])
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await.map(drop)
}

/// The periodic subscription check (the scheduler calls it next to `poll_once`): for a kind
/// with a subscription API, re-registers the webhook subscriptions the ATS dropped and records
/// each in the event log. Other kinds have nothing to check. Answers how many were restored.
pub async fn check_subscriptions(state: &Pollers, tenant: &Tenant) -> Result<usize, AdapterError> {
    let adapter = adapter_for(tenant.config.ats.kind);
    if adapter.delivery() != super::Delivery::Subscribed {
        return Ok(0);
    }
    let subscriptions = adapter.subscriptions(tenant)?;
    let check = subscriptions.restore(&state.db, &state.public_url);
    state.partner_calls.clone().scope(check).await
}

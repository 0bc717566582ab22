//! The reads of stored events that others need, as named queries: the event log's listings
//! (the console, the API, the CLI), one event, the email search's scan, the newest event of a
//! side (connection health) and the jobs' starting points (events with their subject's version).

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};

use crate::ids::{EventId, TenantId};
use crate::store::entities::inbox_event;
use crate::store::{numbered_params, param_list};

/// A stored event, as the readers get it.
pub type StoredEvent = inbox_event::Model;

/// Which events to list. Every field narrows the list; times are ms since the epoch and apply to
/// when the event was received.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub tenant: Option<TenantId>,
    pub status: Option<String>,
    pub event_type: Option<String>,
    pub source: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Events matching `filter`, newest first, at most `limit`, older than the event `before` when
/// given (the previous page's last id).
pub async fn newest_events(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<StoredEvent>, DbErr> {
    let column = |value: &Option<String>, column: inbox_event::Column| {
        value.as_ref().map(|value| column.eq(value.as_str()))
    };
    let conditions = [
        filter
            .tenant
            .map(|tenant| inbox_event::Column::TenantId.eq(tenant.0)),
        column(&filter.status, inbox_event::Column::Status),
        column(&filter.event_type, inbox_event::Column::EventType),
        column(&filter.source, inbox_event::Column::Source),
        filter
            .from
            .map(|from| inbox_event::Column::ReceivedAt.gte(from)),
        filter.to.map(|to| inbox_event::Column::ReceivedAt.lt(to)),
        before.map(|before| inbox_event::Column::Id.lt(before)),
    ];
    let mut query = inbox_event::Entity::find();
    for condition in conditions.into_iter().flatten() {
        query = query.filter(condition);
    }
    query
        .order_by_desc(inbox_event::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The stored event `id`, of any tenant (callers check access).
pub async fn find_event(
    db: &impl ConnectionTrait,
    id: EventId,
) -> Result<Option<StoredEvent>, DbErr> {
    inbox_event::Entity::find_by_id(id.0).one(db).await
}

/// The ids and normalised JSON of a tenant's events whose text contains `needle`, newest first,
/// at most `limit` of them, older than the event `before` when given (the previous batch's last
/// id): callers read every match batch by batch.
pub async fn normalized_mentioning(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    needle: &str,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<(i64, String)>, DbErr> {
    let mut query = inbox_event::Entity::find()
        .select_only()
        .column(inbox_event::Column::Id)
        .column(inbox_event::Column::Normalized)
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .filter(inbox_event::Column::Normalized.contains(needle));
    if let Some(before) = before {
        query = query.filter(inbox_event::Column::Id.lt(before));
    }
    query
        .order_by_desc(inbox_event::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await
}

/// When the newest of a tenant's events from `sources` was received (the unique index on
/// `(tenant_id, source, ...)` narrows the scan to them).
pub async fn newest_received_at(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    sources: &[&str],
) -> Result<Option<i64>, DbErr> {
    let newest: Option<Option<i64>> = inbox_event::Entity::find()
        .select_only()
        .column_as(inbox_event::Column::ReceivedAt.max(), "newest")
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .filter(inbox_event::Column::Source.is_in(sources.iter().copied()))
        .into_tuple()
        .one(db)
        .await?;
    Ok(newest.flatten())
}

/// A stored event with the `sync_state` value kept under `version_prefix` + its subject.
#[derive(Debug, FromQueryResult)]
pub struct EventWithVersion {
    pub id: i64,
    pub tenant_id: i64,
    pub normalized: String,
    pub applied: Option<String>,
}

/// Each event of the batch with the stored version of its subject (`$1` is the prefix), in one
/// query.
const EVENTS_WITH_VERSION_SQL: &str = "
SELECT e.id, e.tenant_id, e.normalized, v.value AS applied
FROM inbox_events e
LEFT JOIN sync_state v ON v.tenant_id = e.tenant_id AND v.key = $1 || e.subject
WHERE e.id IN ({ids})";

/// The events `ids`, each with the version its subject was last applied at, in one query (a
/// claimed batch's starting points). The caller bounds `ids`.
pub async fn events_with_version(
    db: &impl ConnectionTrait,
    version_prefix: &str,
    ids: &[i64],
) -> Result<Vec<EventWithVersion>, DbErr> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let sql = numbered_params(
        backend,
        &EVENTS_WITH_VERSION_SQL.replace("{ids}", &param_list(2, ids.len())),
    );
    let values = std::iter::once(sea_orm::Value::from(version_prefix))
        .chain(ids.iter().map(|id| sea_orm::Value::from(*id)));
    let statement = Statement::from_sql_and_values(backend, sql, values);
    EventWithVersion::find_by_statement(statement).all(db).await
}

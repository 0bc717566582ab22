//! The sync engine's persistent state: keyed values per tenant, the last applied time per entity
//! (so an older event never undoes a newer one), named leases, and write-back intents.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::keys::{LeaseName, StateKey};
use crate::ids::TenantId;
use crate::store::entities::{lease, sync_state, writeback};
use crate::time::now_ms;

pub async fn get(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    key: &str,
) -> Result<Option<String>, DbErr> {
    Ok(sync_state::Entity::find()
        .filter(sync_state::Column::TenantId.eq(tenant.0))
        .filter(sync_state::Column::Key.eq(key))
        .one(db)
        .await?
        .map(|row| row.value))
}

pub async fn put(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    key: &str,
    value: &str,
) -> Result<(), DbErr> {
    let row = sync_state::ActiveModel {
        tenant_id: Set(tenant.0),
        key: Set(key.to_owned()),
        value: Set(value.to_owned()),
        updated_at: Set(now_ms()),
        ..Default::default()
    };
    sync_state::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([sync_state::Column::TenantId, sync_state::Column::Key])
                .update_columns([sync_state::Column::Value, sync_state::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// A `sync_state` value that a job writes when it is marked done, in the same transaction: a job
/// that fails or loses its lease leaves none of them behind, and a busy worker writes the values
/// of many jobs in one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateWrite {
    pub tenant: TenantId,
    pub key: String,
    pub value: String,
}

/// Rows per upsert: four bound parameters each, well under both back ends' limits.
const WRITES_PER_STATEMENT: usize = 200;

/// The last item of each key, in their order: what a batch upsert may carry (PostgreSQL refuses
/// one that touches a row twice).
fn last_per_key<'a, T, K: Eq + std::hash::Hash>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut last_of_key = std::collections::HashMap::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        last_of_key.insert(key(item), index);
    }
    items
        .iter()
        .enumerate()
        .filter(|(index, item)| last_of_key.get(&key(item)) == Some(index))
        .map(|(_, item)| item)
        .collect()
}

/// Writes `writes`; of several writes to one key, the last wins (PostgreSQL refuses an upsert
/// that touches one row twice, so they are merged first).
pub async fn put_many(db: &impl ConnectionTrait, writes: &[StateWrite]) -> Result<(), DbErr> {
    let now = now_ms();
    let merged = last_per_key(writes, |write| (write.tenant, write.key.as_str()));
    for chunk in merged.chunks(WRITES_PER_STATEMENT) {
        let rows = chunk.iter().map(|write| sync_state::ActiveModel {
            tenant_id: Set(write.tenant.0),
            key: Set(write.key.clone()),
            value: Set(write.value.clone()),
            updated_at: Set(now),
            ..Default::default()
        });
        sync_state::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([sync_state::Column::TenantId, sync_state::Column::Key])
                    .update_columns([sync_state::Column::Value, sync_state::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, tenant: TenantId, key: &str) -> Result<(), DbErr> {
    sync_state::Entity::delete_many()
        .filter(sync_state::Column::TenantId.eq(tenant.0))
        .filter(sync_state::Column::Key.eq(key))
        .exec(db)
        .await
        .map(|_| ())
}

/// When the last applied event of `subject` occurred (ms), if one was applied.
pub async fn applied_version(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    subject: &str,
) -> Result<Option<i64>, DbErr> {
    Ok(get(db, tenant, &version_key(subject))
        .await?
        .and_then(|v| v.parse::<i64>().ok()))
}

/// Whether an event that occurred at `occurred_at` is older than the last applied one.
pub fn is_older(occurred_at: Option<i64>, applied: Option<i64>) -> bool {
    matches!((occurred_at, applied), (Some(at), Some(last)) if at < last)
}

/// The write that records the entity's state as of `occurred_at` as applied. The caller checked
/// `applied_version` first; events of one subject are applied one at a time (the queue's
/// ordering key), so nothing newer can have been recorded since.
pub fn applied(tenant: TenantId, subject: &str, occurred_at: i64) -> StateWrite {
    StateWrite {
        tenant,
        key: version_key(subject),
        value: occurred_at.to_string(),
    }
}

pub use super::keys::VERSION_PREFIX;

/// Where the last applied time of `subject` is kept.
pub fn version_key(subject: &str) -> String {
    StateKey::Version { subject }.to_string()
}

/// Takes the lease `name` for `owner` until `now + ttl_ms` when it is free (never taken,
/// released, or expired). True when `owner` took it. The holder does not take it again before it
/// expires: the expiry is when the task is next due, in this process or any other.
pub async fn try_lease(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: LeaseName,
    owner: &str,
    ttl_ms: i64,
) -> Result<bool, DbErr> {
    let now = now_ms();
    lease::Entity::insert(lease::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(name.as_str().to_owned()),
        owner: Set(None),
        expires_at: Set(0),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([lease::Column::TenantId, lease::Column::Name])
    .exec(db)
    .await?;
    let taken = lease::Entity::update_many()
        .col_expr(lease::Column::Owner, Expr::value(owner))
        .col_expr(lease::Column::ExpiresAt, Expr::value(now + ttl_ms))
        .filter(lease::Column::TenantId.eq(tenant.0))
        .filter(lease::Column::Name.eq(name.as_str()))
        .filter(
            lease::Column::ExpiresAt
                .lt(now)
                .or(lease::Column::Owner.is_null()),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

pub async fn release_lease(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    name: LeaseName,
    owner: &str,
) -> Result<(), DbErr> {
    lease::Entity::update_many()
        .col_expr(lease::Column::Owner, Expr::value(Option::<String>::None))
        .col_expr(lease::Column::ExpiresAt, Expr::value(0))
        .filter(lease::Column::TenantId.eq(tenant.0))
        .filter(lease::Column::Name.eq(name.as_str()))
        .filter(lease::Column::Owner.eq(owner))
        .exec(db)
        .await
        .map(|_| ())
}

/// Where a write-back stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Intent {
    /// Recorded just now: make the call, then `finish_writeback`.
    Proceed,
    /// Already made.
    Done,
    /// Recorded by an earlier attempt that never said how the call ended (it crashed): the write
    /// may or may not have happened.
    Uncertain,
}

pub const INTENDED: &str = "intended";
pub const DONE: &str = "done";
pub const UNCERTAIN: &str = "uncertain";

/// Records the intent to make write-back `key` before making it. A second caller learns that it
/// was already made (or may have been).
pub async fn begin_writeback(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    key: &str,
    ats_application_id: &str,
    action: &str,
) -> Result<Intent, DbErr> {
    let now = now_ms();
    let inserted = writeback::Entity::insert(writeback::ActiveModel {
        tenant_id: Set(tenant.0),
        key: Set(key.to_owned()),
        ats_application_id: Set(ats_application_id.to_owned()),
        action: Set(action.to_owned()),
        status: Set(INTENDED.to_owned()),
        external_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([writeback::Column::TenantId, writeback::Column::Key])
    .exec(db)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
        return Ok(Intent::Proceed);
    }
    let existing = writeback::Entity::find()
        .filter(writeback::Column::TenantId.eq(tenant.0))
        .filter(writeback::Column::Key.eq(key))
        .one(db)
        .await?;
    Ok(match existing.map(|row| row.status) {
        Some(status) if status == DONE => Intent::Done,
        Some(_) => Intent::Uncertain,
        // Removed meanwhile (a failed call withdrew it): the caller may try again.
        None => Intent::Proceed,
    })
}

/// Marks a write-back made (`Some`) or withdraws the intent after a call that certainly failed
/// (`None`), so that a retry makes it again.
pub async fn finish_writeback(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    key: &str,
    outcome: Option<Option<String>>,
) -> Result<(), DbErr> {
    let filter = writeback::Entity::update_many()
        .filter(writeback::Column::TenantId.eq(tenant.0))
        .filter(writeback::Column::Key.eq(key));
    match outcome {
        Some(external_id) => {
            filter
                .col_expr(writeback::Column::Status, Expr::value(DONE))
                .col_expr(writeback::Column::ExternalId, Expr::value(external_id))
                .col_expr(writeback::Column::UpdatedAt, Expr::value(now_ms()))
                .exec(db)
                .await?;
        }
        None => {
            writeback::Entity::delete_many()
                .filter(writeback::Column::TenantId.eq(tenant.0))
                .filter(writeback::Column::Key.eq(key))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}

/// An idempotent write-back a job made, recorded as done with the job's completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MadeWriteback {
    pub tenant: TenantId,
    pub key: String,
    pub ats_application_id: String,
    pub action: String,
}

/// Records `made` as done, whatever an earlier attempt left under the same keys (of several with
/// one key, the last wins).
pub async fn record_writebacks_done(
    db: &impl ConnectionTrait,
    made: &[MadeWriteback],
) -> Result<(), DbErr> {
    let now = now_ms();
    let rows: Vec<writeback::ActiveModel> =
        last_per_key(made, |row| (row.tenant, row.key.as_str()))
            .into_iter()
            .map(|row| writeback::ActiveModel {
                tenant_id: Set(row.tenant.0),
                key: Set(row.key.clone()),
                ats_application_id: Set(row.ats_application_id.clone()),
                action: Set(row.action.clone()),
                status: Set(DONE.to_owned()),
                external_id: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
    // Six parameters per row: well under both back ends' limits.
    for chunk in rows.chunks(WRITES_PER_STATEMENT) {
        writeback::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([writeback::Column::TenantId, writeback::Column::Key])
                    .update_columns([writeback::Column::Status, writeback::Column::UpdatedAt])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Flags an intent whose outcome is unknown, so the console can show it for a human to check.
pub async fn mark_uncertain(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    key: &str,
) -> Result<(), DbErr> {
    writeback::Entity::update_many()
        .col_expr(writeback::Column::Status, Expr::value(UNCERTAIN))
        .col_expr(writeback::Column::UpdatedAt, Expr::value(now_ms()))
        .filter(writeback::Column::TenantId.eq(tenant.0))
        .filter(writeback::Column::Key.eq(key))
        .filter(writeback::Column::Status.eq(INTENDED))
        .exec(db)
        .await
        .map(|_| ())
}

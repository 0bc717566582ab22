//! The equivalence table: which ATS id is which suite id, per tenant and entity kind. This module
//! is the only code that writes it; both sync directions and the pages read it through here.
//!
//! `link` is safe under concurrency: the unique constraints decide the race, and a loser reads the
//! winner's row instead of overwriting it.

mod kind;

pub use kind::{EntityKind, UnknownKind};

use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::ids::TenantId;
use crate::store::entities::{equivalence, equivalence_history};
use crate::store::{is_unique_violation, numbered_params, param_list};
use crate::time::now_ms;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Equivalence {
    pub kind: EntityKind,
    pub ats_id: String,
    pub suite_id: String,
    pub created_at: i64,
    pub synced_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub kind: EntityKind,
    pub ats_id: String,
    pub suite_id: String,
    pub action: String,
    pub at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkOutcome {
    /// This call created the row.
    Created,
    /// The same binding already existed (a replay, or a racing twin that won).
    AlreadyLinked,
}

#[derive(Debug, thiserror::Error)]
pub enum EquivalenceError {
    #[error("{kind} `{ats_id}` is already linked to suite id `{existing_suite_id}`")]
    AtsIdTaken {
        kind: EntityKind,
        ats_id: String,
        existing_suite_id: String,
    },
    #[error("suite id `{suite_id}` is already linked to {kind} `{existing_ats_id}`")]
    SuiteIdTaken {
        kind: EntityKind,
        suite_id: String,
        existing_ats_id: String,
    },
    #[error("id must be 1 to 255 characters")]
    InvalidId,
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn to_equivalence(row: equivalence::Model) -> Option<Equivalence> {
    Some(Equivalence {
        kind: row.kind.parse().ok()?,
        ats_id: row.ats_id,
        suite_id: row.suite_id,
        created_at: row.created_at,
        synced_at: row.synced_at,
    })
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 255
}

/// Binds `ats_id` to `suite_id`. Creates the row, or confirms an identical one; a binding to
/// anything else is refused with the id that holds it, never overwritten.
pub async fn link<C>(
    db: &C,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
    suite_id: &str,
) -> Result<LinkOutcome, EquivalenceError>
where
    C: ConnectionTrait + TransactionTrait,
{
    if !valid_id(ats_id) || !valid_id(suite_id) {
        return Err(EquivalenceError::InvalidId);
    }
    // The row may vanish between a lost race and the read that follows (a concurrent unlink);
    // trying again then is correct and ends quickly.
    for _ in 0..3 {
        match insert_link(db, tenant, kind, ats_id, suite_id).await {
            Ok(()) => return Ok(LinkOutcome::Created),
            Err(error) if is_unique_violation(&error) => {}
            Err(error) => return Err(error.into()),
        }
        if let Some(existing) = lookup_by_ats(db, tenant, kind, ats_id).await? {
            if existing.suite_id == suite_id {
                return Ok(LinkOutcome::AlreadyLinked);
            }
            return Err(EquivalenceError::AtsIdTaken {
                kind,
                ats_id: ats_id.to_owned(),
                existing_suite_id: existing.suite_id,
            });
        }
        if let Some(existing) = lookup_by_suite(db, tenant, kind, suite_id).await? {
            return Err(EquivalenceError::SuiteIdTaken {
                kind,
                suite_id: suite_id.to_owned(),
                existing_ats_id: existing.ats_id,
            });
        }
    }
    Err(DbErr::Custom("equivalence kept changing while linking".to_owned()).into())
}

/// A binding for [`link_all`].
#[derive(Clone, Copy, Debug)]
pub struct NewLink<'a> {
    pub kind: EntityKind,
    pub ats_id: &'a str,
    pub suite_id: &'a str,
}

/// Binds several pairs, answering for each what [`link`] would. The common case, all of them
/// new, takes one transaction of two statements (the rows, their history); when any already
/// exists (or a racing writer got there first), each is linked on its own.
pub async fn link_all<C>(
    db: &C,
    tenant: TenantId,
    links: &[NewLink<'_>],
) -> Vec<Result<LinkOutcome, EquivalenceError>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let all_valid = links
        .iter()
        .all(|link| valid_id(link.ats_id) && valid_id(link.suite_id));
    if all_valid && !links.is_empty() && insert_links(db, tenant, links).await.is_ok() {
        return links.iter().map(|_| Ok(LinkOutcome::Created)).collect();
    }
    let mut outcomes = Vec::with_capacity(links.len());
    for new in links {
        outcomes.push(link(db, tenant, new.kind, new.ats_id, new.suite_id).await);
    }
    outcomes
}

/// All of `links` and their history in one transaction; any conflict fails the whole.
async fn insert_links<C>(db: &C, tenant: TenantId, links: &[NewLink<'_>]) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = now_ms();
    let txn = db.begin().await?;
    equivalence::Entity::insert_many(links.iter().map(|new| equivalence::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(new.kind.as_str().to_owned()),
        ats_id: Set(new.ats_id.to_owned()),
        suite_id: Set(new.suite_id.to_owned()),
        created_at: Set(now),
        synced_at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(&txn)
    .await?;
    equivalence_history::Entity::insert_many(
        links
            .iter()
            .map(|new| history_row(tenant, new.kind, new.ats_id, new.suite_id, "linked", now)),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await
}

/// A binding a job made, written when the job is marked done, in the same transaction
/// (see [`link_made`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MadeLink {
    pub tenant: TenantId,
    pub kind: EntityKind,
    pub ats_id: String,
    pub suite_id: String,
}

/// Rows per `INSERT` of [`link_made`]: five parameters each, well under both back ends' limits.
const LINKS_PER_STATEMENT: usize = 500;

/// A row the insert of [`link_made`] added.
#[derive(FromQueryResult)]
struct InsertedLink {
    tenant_id: i64,
    kind: String,
    ats_id: String,
    suite_id: String,
}

/// Writes the bindings of a batch of jobs inside the caller's transaction, with their history:
/// one `INSERT` for the lot, whatever is already there. A binding that is already there is
/// fine (a twin application made the same candidate); one whose ATS or suite id another binding
/// holds is refused and answered, and the binding that holds stands, as with [`link`].
pub async fn link_made(
    db: &impl ConnectionTrait,
    made: &[MadeLink],
) -> Result<Vec<EquivalenceError>, DbErr> {
    let mut refused = Vec::new();
    let mut seen = HashSet::new();
    let mut valid: Vec<&MadeLink> = Vec::with_capacity(made.len());
    for link in made {
        if !(valid_id(&link.ats_id) && valid_id(&link.suite_id)) {
            refused.push(EquivalenceError::InvalidId);
        } else if seen.insert(link) {
            valid.push(link);
        }
    }
    let now = now_ms();
    let mut inserted = HashSet::new();
    for chunk in valid.chunks(LINKS_PER_STATEMENT) {
        for row in insert_new_links(db, chunk, now).await? {
            inserted.insert((row.tenant_id, row.kind, row.ats_id, row.suite_id));
        }
    }
    let is_new = |link: &&MadeLink| {
        let key = (
            link.tenant.0,
            link.kind.as_str().to_owned(),
            link.ats_id.clone(),
            link.suite_id.clone(),
        );
        inserted.contains(&key)
    };
    let (new, not_new): (Vec<&MadeLink>, Vec<&MadeLink>) = valid.into_iter().partition(is_new);
    if !new.is_empty() {
        equivalence_history::Entity::insert_many(new.iter().map(|link| {
            let (ats_id, suite_id) = (&link.ats_id, &link.suite_id);
            history_row(link.tenant, link.kind, ats_id, suite_id, "linked", now)
        }))
        .exec_without_returning(db)
        .await?;
    }
    for link in not_new {
        refused.extend(refusal(db, link).await?);
    }
    Ok(refused)
}

/// `INSERT ... ON CONFLICT DO NOTHING RETURNING`: the rows it added (`$1` is the time).
async fn insert_new_links(
    db: &impl ConnectionTrait,
    links: &[&MadeLink],
    now: i64,
) -> Result<Vec<InsertedLink>, DbErr> {
    let backend = db.get_database_backend();
    let rows: Vec<String> = (0..links.len())
        .map(|n| format!("({}, $1, $1)", param_list(2 + n * 4, 4)))
        .collect();
    let sql = format!(
        "INSERT INTO equivalences (tenant_id, kind, ats_id, suite_id, created_at, synced_at) \
         VALUES {} ON CONFLICT DO NOTHING RETURNING tenant_id, kind, ats_id, suite_id",
        rows.join(", ")
    );
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(1 + links.len() * 4);
    values.push(now.into());
    for link in links {
        values.push(link.tenant.0.into());
        values.push(link.kind.as_str().into());
        values.push(link.ats_id.as_str().into());
        values.push(link.suite_id.as_str().into());
    }
    let statement = Statement::from_sql_and_values(backend, numbered_params(backend, &sql), values);
    InsertedLink::find_by_statement(statement).all(db).await
}

/// Why `link`, which was not inserted, is not bound as asked: nothing when it already is.
async fn refusal(
    db: &impl ConnectionTrait,
    link: &MadeLink,
) -> Result<Option<EquivalenceError>, DbErr> {
    let (tenant, kind) = (link.tenant, link.kind);
    if let Some(existing) = lookup_by_ats(db, tenant, kind, &link.ats_id).await? {
        return Ok(
            (existing.suite_id != link.suite_id).then(|| EquivalenceError::AtsIdTaken {
                kind,
                ats_id: link.ats_id.clone(),
                existing_suite_id: existing.suite_id,
            }),
        );
    }
    Ok(Some(
        match lookup_by_suite(db, tenant, kind, &link.suite_id).await? {
            Some(holder) => EquivalenceError::SuiteIdTaken {
                kind,
                suite_id: link.suite_id.clone(),
                existing_ats_id: holder.ats_id,
            },
            // Unlinked by another writer since the insert (PostgreSQL only: SQLite's writers
            // take turns).
            None => DbErr::Custom("the binding was removed while it was written".to_owned()).into(),
        },
    ))
}

async fn insert_link<C>(
    db: &C,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
    suite_id: &str,
) -> Result<(), DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = now_ms();
    let txn = db.begin().await?;
    equivalence::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(kind.as_str().to_owned()),
        ats_id: Set(ats_id.to_owned()),
        suite_id: Set(suite_id.to_owned()),
        created_at: Set(now),
        synced_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record_history(&txn, tenant, kind, ats_id, suite_id, "linked").await?;
    txn.commit().await
}

async fn record_history(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
    suite_id: &str,
    action: &str,
) -> Result<(), DbErr> {
    history_row(tenant, kind, ats_id, suite_id, action, now_ms())
        .insert(db)
        .await
        .map(|_| ())
}

/// One line of an ATS id's history.
fn history_row(
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
    suite_id: &str,
    action: &str,
    at: i64,
) -> equivalence_history::ActiveModel {
    equivalence_history::ActiveModel {
        tenant_id: Set(tenant.0),
        kind: Set(kind.as_str().to_owned()),
        ats_id: Set(ats_id.to_owned()),
        suite_id: Set(suite_id.to_owned()),
        action: Set(action.to_owned()),
        at: Set(at),
        ..Default::default()
    }
}

pub async fn lookup_by_ats(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
) -> Result<Option<Equivalence>, DbErr> {
    let row = equivalence::Entity::find()
        .filter(equivalence::Column::TenantId.eq(tenant.0))
        .filter(equivalence::Column::Kind.eq(kind.as_str()))
        .filter(equivalence::Column::AtsId.eq(ats_id))
        .one(db)
        .await?;
    Ok(row.and_then(to_equivalence))
}

/// Several lookups by ATS id in one query: the answer holds, for each of `wanted` in order, its
/// equivalence if there is one.
pub async fn lookup_many_by_ats(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    wanted: &[(EntityKind, &str)],
) -> Result<Vec<Option<Equivalence>>, DbErr> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    // `kind IN (..) AND ats_id IN (..)` probes the unique index for each pair on both back ends
    // (an OR of pairs made SQLite walk the tenant's rows); pairs nobody asked for are dropped
    // below.
    let kinds: Vec<&str> = wanted.iter().map(|(kind, _)| kind.as_str()).collect();
    let ats_ids: Vec<&str> = wanted.iter().map(|(_, ats_id)| *ats_id).collect();
    let found: Vec<Equivalence> = equivalence::Entity::find()
        .filter(equivalence::Column::TenantId.eq(tenant.0))
        .filter(equivalence::Column::Kind.is_in(kinds))
        .filter(equivalence::Column::AtsId.is_in(ats_ids))
        .all(db)
        .await?
        .into_iter()
        .filter_map(to_equivalence)
        .collect();
    Ok(wanted
        .iter()
        .map(|(kind, ats_id)| {
            found
                .iter()
                .find(|link| link.kind == *kind && link.ats_id == *ats_id)
                .cloned()
        })
        .collect())
}

pub async fn lookup_by_suite(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    suite_id: &str,
) -> Result<Option<Equivalence>, DbErr> {
    let row = equivalence::Entity::find()
        .filter(equivalence::Column::TenantId.eq(tenant.0))
        .filter(equivalence::Column::Kind.eq(kind.as_str()))
        .filter(equivalence::Column::SuiteId.eq(suite_id))
        .one(db)
        .await?;
    Ok(row.and_then(to_equivalence))
}

/// Records that a linked pair was just synced.
pub async fn touch(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
) -> Result<(), DbErr> {
    equivalence::Entity::update_many()
        .col_expr(equivalence::Column::SyncedAt, now_ms().into())
        .filter(equivalence::Column::TenantId.eq(tenant.0))
        .filter(equivalence::Column::Kind.eq(kind.as_str()))
        .filter(equivalence::Column::AtsId.eq(ats_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// Removes the binding of `ats_id`, answering what was removed (None when there was none).
pub async fn unlink<C>(
    db: &C,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
) -> Result<Option<Equivalence>, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = db.begin().await?;
    let Some(existing) = lookup_by_ats(&txn, tenant, kind, ats_id).await? else {
        return Ok(None);
    };
    equivalence::Entity::delete_many()
        .filter(equivalence::Column::TenantId.eq(tenant.0))
        .filter(equivalence::Column::Kind.eq(kind.as_str()))
        .filter(equivalence::Column::AtsId.eq(ats_id))
        .exec(&txn)
        .await?;
    record_history(&txn, tenant, kind, ats_id, &existing.suite_id, "unlinked").await?;
    txn.commit().await?;
    Ok(Some(existing))
}

/// Forgets the whole history of `ats_id` (an erasure), inside the caller's transaction.
pub async fn forget_history(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
) -> Result<(), DbErr> {
    equivalence_history::Entity::delete_many()
        .filter(equivalence_history::Column::TenantId.eq(tenant.0))
        .filter(equivalence_history::Column::Kind.eq(kind.as_str()))
        .filter(equivalence_history::Column::AtsId.eq(ats_id))
        .exec(db)
        .await
        .map(|_| ())
}

/// The one line an erasure leaves: `erased`, between ids the caller has already anonymised.
pub async fn record_erasure(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    erased_ats_id: &str,
    erased_suite_id: &str,
) -> Result<(), DbErr> {
    equivalence_history::Entity::insert(history_row(
        tenant,
        kind,
        erased_ats_id,
        erased_suite_id,
        "erased",
        now_ms(),
    ))
    .exec(db)
    .await
    .map(|_| ())
}

/// Filters for `list`; every field optional.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub kind: Option<EntityKind>,
    pub ats_id: Option<String>,
    pub suite_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Page {
    pub data: Vec<Equivalence>,
    /// Pass back as `cursor` for the next page; None on the last page.
    pub next_cursor: Option<String>,
}

/// One page of a tenant's equivalences, in creation order.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    filter: &ListFilter,
    limit: u64,
    cursor: Option<i64>,
) -> Result<Page, DbErr> {
    let limit = limit.clamp(1, 1_000);
    let mut query = equivalence::Entity::find().filter(equivalence::Column::TenantId.eq(tenant.0));
    if let Some(kind) = filter.kind {
        query = query.filter(equivalence::Column::Kind.eq(kind.as_str()));
    }
    if let Some(ats_id) = &filter.ats_id {
        query = query.filter(equivalence::Column::AtsId.eq(ats_id));
    }
    if let Some(suite_id) = &filter.suite_id {
        query = query.filter(equivalence::Column::SuiteId.eq(suite_id));
    }
    if let Some(after) = cursor {
        query = query.filter(equivalence::Column::Id.gt(after));
    }
    let mut rows = query
        .order_by_asc(equivalence::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|row| row.id.to_string())
    } else {
        None
    };
    Ok(Page {
        data: rows.into_iter().filter_map(to_equivalence).collect(),
        next_cursor,
    })
}

/// The history of one ATS id, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    kind: EntityKind,
    ats_id: &str,
) -> Result<Vec<HistoryEntry>, DbErr> {
    let rows = equivalence_history::Entity::find()
        .filter(equivalence_history::Column::TenantId.eq(tenant.0))
        .filter(equivalence_history::Column::Kind.eq(kind.as_str()))
        .filter(equivalence_history::Column::AtsId.eq(ats_id))
        .order_by_asc(equivalence_history::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(HistoryEntry {
                kind: row.kind.parse().ok()?,
                ats_id: row.ats_id,
                suite_id: row.suite_id,
                action: row.action,
                at: row.at,
            })
        })
        .collect())
}

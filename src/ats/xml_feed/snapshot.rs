//! The persisted feed snapshot (reference -> content hash) and the poll's staging area. The diff
//! runs in SQL, through keyset-paginated batches, so a poll's memory does not grow with the
//! feed; everything a poll decides commits in one transaction.
//!
//! Delivery ids: an upsert is `xml:{reference}:{hash}:{generation}`, a closing
//! `xml-closed:{reference}:{generation}`; `generation` counts how often the job left the feed, so
//! a job that comes back with its old content is a new event, while re-running a poll (or a
//! webhook and a poll seeing the same change) deduplicates.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, DeriveIden, TransactionTrait};

use super::parser::JobError;
use crate::ats::error::AdapterError;
use crate::ats::poll::PollReport;
use crate::events::{AtsJob, EventBody, InboundEvent, Source};
use crate::ids::TenantId;
use crate::inbox::{NewEvent, Stored, insert_events};
use crate::time::now_ms;

/// Rows read or written per statement during the diff.
const DIFF_BATCH: u64 = 500;

#[derive(Clone, Copy, DeriveIden)]
enum XmlFeedSnapshots {
    Table,
    TenantId,
    Reference,
    ContentHash,
    Closed,
    Generation,
    UpdatedAt,
}

#[derive(Clone, Copy, DeriveIden)]
enum XmlFeedStaging {
    Table,
    TenantId,
    Reference,
    ContentHash,
    Event,
}

/// One feed job waiting for the diff. `content_hash: None` marks a job that is in the feed but
/// could not be read: it is kept as it was.
#[derive(Clone, Debug)]
pub struct StagedJob {
    pub reference: String,
    pub content_hash: Option<String>,
    pub job: Option<AtsJob>,
}

pub async fn clear_staging(db: &impl ConnectionTrait, tenant: TenantId) -> Result<(), DbErr> {
    let delete = Query::delete()
        .from_table(XmlFeedStaging::Table)
        .and_where(Expr::col(XmlFeedStaging::TenantId).eq(tenant.0))
        .to_owned();
    db.execute(&delete).await.map(drop)
}

/// Stages a batch; the first occurrence of a reference in the feed wins.
pub async fn stage(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    jobs: &[StagedJob],
) -> Result<(), DbErr> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert()
        .into_table(XmlFeedStaging::Table)
        .columns([
            XmlFeedStaging::TenantId,
            XmlFeedStaging::Reference,
            XmlFeedStaging::ContentHash,
            XmlFeedStaging::Event,
        ])
        .on_conflict(
            OnConflict::columns([XmlFeedStaging::TenantId, XmlFeedStaging::Reference])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    for job in jobs {
        let event = match &job.job {
            Some(job) => Some(serde_json::to_string(job).map_err(|e| DbErr::Json(e.to_string()))?),
            None => None,
        };
        insert
            .values([
                tenant.0.into(),
                job.reference.clone().into(),
                job.content_hash.clone().into(),
                event.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    db.execute(&insert).await.map(drop)
}

/// Diffs the staged feed against the snapshot, stores the events, updates the snapshot and
/// empties the staging area, in one transaction.
pub async fn commit(
    db: &DatabaseConnection,
    tenant: &crate::tenant::Tenant,
    max_attempts: u32,
    skips: &[JobError],
) -> Result<PollReport, AdapterError> {
    if crate::store::is_postgres(db) {
        // The staging table was just filled: fresh statistics keep the range scans below on
        // their indexes.
        db.execute_unprepared("ANALYZE xml_feed_staging, xml_feed_snapshots")
            .await?;
    }
    let txn = db.begin().await?;
    let mut report = PollReport::default();
    // Reads first (the tables they scan do not change meanwhile), then two set-based writes.
    upsert_changed(&txn, tenant.id, max_attempts, &mut report).await?;
    close_removed(&txn, tenant.id, max_attempts, &mut report).await?;
    mark_closed(&txn, tenant.id).await?;
    write_snapshot(&txn, tenant.id).await?;
    report_skips(&txn, tenant.id, skips, &mut report).await?;
    clear_staging(&txn, tenant.id).await?;
    txn.commit().await?;
    Ok(report)
}

async fn upsert_changed(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    max_attempts: u32,
    report: &mut PollReport,
) -> Result<(), AdapterError> {
    // Plain keyset range scans and primary-key lookups only: their cost does not depend on the
    // planner's view of tables that grew within this very transaction.
    let mut after = String::new();
    loop {
        let select = Query::select()
            .columns([
                XmlFeedStaging::Reference,
                XmlFeedStaging::ContentHash,
                XmlFeedStaging::Event,
            ])
            .from(XmlFeedStaging::Table)
            .and_where(Expr::col(XmlFeedStaging::TenantId).eq(tenant.0))
            .and_where(Expr::col(XmlFeedStaging::Reference).gt(after.as_str()))
            .order_by(XmlFeedStaging::Reference, Order::Asc)
            .limit(DIFF_BATCH)
            .to_owned();
        let rows = txn.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "reference")?;
        let mut staged = Vec::with_capacity(rows.len());
        for row in &rows {
            let hash: Option<String> = row.try_get("", "content_hash")?;
            // A job kept as it was (unreadable this time) is neither new nor changed.
            if let Some(hash) = hash {
                let reference: String = row.try_get("", "reference")?;
                let job: Option<String> = row.try_get("", "event")?;
                staged.push((reference, hash, job));
            }
        }
        let known = snapshot_rows(txn, tenant, staged.iter().map(|(r, _, _)| r.clone())).await?;
        let mut events = Vec::new();
        for (reference, hash, job) in staged {
            let generation = match known.get(&reference) {
                Some(previous) if !previous.closed && previous.hash == hash => continue,
                Some(previous) => {
                    report.changed += 1;
                    previous.generation
                }
                None => {
                    report.new += 1;
                    0
                }
            };
            let job: AtsJob = serde_json::from_str(job.as_deref().unwrap_or("null"))
                .map_err(|e| DbErr::Json(e.to_string()))?;
            let event = InboundEvent {
                source: Source::Poll,
                delivery_id: format!("xml:{reference}:{hash}:{generation}"),
                partner_type: "job.polled".to_owned(),
                occurred_at: None,
                body: EventBody::JobUpserted(job),
            };
            let payload = serde_json::to_string(&event.body).unwrap_or_default();
            events.push(NewEvent::received(tenant, event, payload));
        }
        count(report, insert_events(txn, &events, max_attempts).await?);
    }
}

/// A snapshot row, as the diff needs it.
struct Known {
    hash: String,
    closed: bool,
    generation: i32,
}

async fn snapshot_rows(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    references: impl Iterator<Item = String>,
) -> Result<HashMap<String, Known>, DbErr> {
    let references: Vec<String> = references.collect();
    if references.is_empty() {
        return Ok(HashMap::new());
    }
    let select = Query::select()
        .columns([
            XmlFeedSnapshots::Reference,
            XmlFeedSnapshots::ContentHash,
            XmlFeedSnapshots::Closed,
            XmlFeedSnapshots::Generation,
        ])
        .from(XmlFeedSnapshots::Table)
        .and_where(Expr::col(XmlFeedSnapshots::TenantId).eq(tenant.0))
        .and_where(Expr::col(XmlFeedSnapshots::Reference).is_in(references))
        .to_owned();
    let mut known = HashMap::new();
    for row in txn.query_all(&select).await? {
        known.insert(
            row.try_get("", "reference")?,
            Known {
                hash: row.try_get("", "content_hash")?,
                closed: row.try_get("", "closed")?,
                generation: row.try_get("", "generation")?,
            },
        );
    }
    Ok(known)
}

/// Every readable staged job becomes the snapshot's row for its reference (open, new hash; the
/// generation is kept). One statement.
async fn write_snapshot(txn: &impl ConnectionTrait, tenant: TenantId) -> Result<(), DbErr> {
    let staged = Query::select()
        .column(XmlFeedStaging::TenantId)
        .column(XmlFeedStaging::Reference)
        .column(XmlFeedStaging::ContentHash)
        .expr(Expr::val(false))
        .expr(Expr::val(0))
        .expr(Expr::val(now_ms()))
        .from(XmlFeedStaging::Table)
        .and_where(Expr::col(XmlFeedStaging::TenantId).eq(tenant.0))
        .and_where(Expr::col(XmlFeedStaging::ContentHash).is_not_null())
        .to_owned();
    let insert = Query::insert()
        .into_table(XmlFeedSnapshots::Table)
        .columns([
            XmlFeedSnapshots::TenantId,
            XmlFeedSnapshots::Reference,
            XmlFeedSnapshots::ContentHash,
            XmlFeedSnapshots::Closed,
            XmlFeedSnapshots::Generation,
            XmlFeedSnapshots::UpdatedAt,
        ])
        .select_from(staged)
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([XmlFeedSnapshots::TenantId, XmlFeedSnapshots::Reference])
                .update_columns([
                    XmlFeedSnapshots::ContentHash,
                    XmlFeedSnapshots::Closed,
                    XmlFeedSnapshots::UpdatedAt,
                ])
                .to_owned(),
        )
        .to_owned();
    txn.execute(&insert).await.map(drop)
}

/// Open snapshot rows absent from the feed are closed (and their generation counted). One
/// statement.
async fn mark_closed(txn: &impl ConnectionTrait, tenant: TenantId) -> Result<(), DbErr> {
    let (s, p) = (XmlFeedStaging::Table, XmlFeedSnapshots::Table);
    let still_there = Query::select()
        .expr(Expr::val(1))
        .from(s)
        .and_where(Expr::col((s, XmlFeedStaging::TenantId)).equals((p, XmlFeedSnapshots::TenantId)))
        .and_where(
            Expr::col((s, XmlFeedStaging::Reference)).equals((p, XmlFeedSnapshots::Reference)),
        )
        .to_owned();
    let update = Query::update()
        .table(p)
        .value(XmlFeedSnapshots::Closed, true)
        .value(
            XmlFeedSnapshots::Generation,
            Expr::col(XmlFeedSnapshots::Generation).add(1),
        )
        .value(XmlFeedSnapshots::UpdatedAt, now_ms())
        .and_where(Expr::col((p, XmlFeedSnapshots::TenantId)).eq(tenant.0))
        .and_where(Expr::col((p, XmlFeedSnapshots::Closed)).eq(false))
        .and_where(Expr::exists(still_there).not())
        .to_owned();
    txn.execute(&update).await.map(drop)
}

async fn close_removed(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    max_attempts: u32,
    report: &mut PollReport,
) -> Result<(), AdapterError> {
    let mut after = String::new();
    loop {
        let select = Query::select()
            .columns([XmlFeedSnapshots::Reference, XmlFeedSnapshots::Generation])
            .from(XmlFeedSnapshots::Table)
            .and_where(Expr::col(XmlFeedSnapshots::TenantId).eq(tenant.0))
            .and_where(Expr::col(XmlFeedSnapshots::Reference).gt(after.as_str()))
            .and_where(Expr::col(XmlFeedSnapshots::Closed).eq(false))
            .order_by(XmlFeedSnapshots::Reference, Order::Asc)
            .limit(DIFF_BATCH)
            .to_owned();
        let rows = txn.query_all(&select).await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get("", "reference")?;
        let mut open = Vec::with_capacity(rows.len());
        for row in &rows {
            let reference: String = row.try_get("", "reference")?;
            let generation: i32 = row.try_get("", "generation")?;
            open.push((reference, generation));
        }
        let present = staged_references(txn, tenant, open.iter().map(|(r, _)| r.clone())).await?;
        let mut events = Vec::new();
        for (reference, generation) in open {
            if present.contains(&reference) {
                continue;
            }
            report.removed += 1;
            let event = InboundEvent {
                source: Source::Poll,
                delivery_id: format!("xml-closed:{reference}:{generation}"),
                partner_type: "job.left_feed".to_owned(),
                occurred_at: None,
                body: EventBody::JobClosed {
                    ats_job_id: reference.clone(),
                },
            };
            let payload = serde_json::to_string(&event.body).unwrap_or_default();
            events.push(NewEvent::received(tenant, event, payload));
        }
        count(report, insert_events(txn, &events, max_attempts).await?);
    }
}

async fn staged_references(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    references: impl Iterator<Item = String>,
) -> Result<HashSet<String>, DbErr> {
    let select = Query::select()
        .column(XmlFeedStaging::Reference)
        .from(XmlFeedStaging::Table)
        .and_where(Expr::col(XmlFeedStaging::TenantId).eq(tenant.0))
        .and_where(Expr::col(XmlFeedStaging::Reference).is_in(references.collect::<Vec<_>>()))
        .to_owned();
    let mut present = HashSet::new();
    for row in txn.query_all(&select).await? {
        present.insert(row.try_get("", "reference")?);
    }
    Ok(present)
}

/// Each skipped job becomes an entry of the event log (status `processed`: nothing to apply).
async fn report_skips(
    txn: &impl ConnectionTrait,
    tenant: TenantId,
    skips: &[JobError],
    report: &mut PollReport,
) -> Result<(), AdapterError> {
    let entries: Vec<NewEvent> = skips
        .iter()
        .map(|skip| {
            let text = skip.to_string();
            let event = InboundEvent {
                source: Source::Poll,
                delivery_id: format!("xml-skipped:{}", crate::crypto::sha256_hex(text.as_bytes())),
                partner_type: "liaison.feed_job_skipped".to_owned(),
                occurred_at: None,
                body: EventBody::Ignored,
            };
            let payload = serde_json::json!({
                "error": text,
                "reference": skip.reference,
                "data_id": skip.data_id,
            });
            NewEvent::log_only(tenant, event, payload.to_string())
        })
        .collect();
    count(report, insert_events(txn, &entries, 1).await?);
    // Log entries are not sync events.
    report.stored = report.stored.saturating_sub(entries.len() as u64);
    Ok(())
}

fn count(report: &mut PollReport, outcomes: Vec<Stored>) {
    for outcome in outcomes {
        match outcome {
            Stored::New(_) => report.stored += 1,
            Stored::Duplicate(_) => report.duplicates += 1,
        }
    }
}

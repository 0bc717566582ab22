//! The reconciliation of orders the queue gave up on: an order still waiting for its invitation
//! (`received`) or for the ATS to take its result (`completed`) whose job is a dead letter (the
//! suite or the ATS was down longer than the retry budget) gets that job back with fresh
//! attempts. Run periodically under the poller lease, so an ATS that never retries (Teamtailor)
//! still gets every order it placed carried out.

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::OrderStatus;
use super::store::{place_key, report_key};
use crate::ids::{JobId, OrderId, TenantId};
use crate::queue::{self, JobStatus};
use crate::store::entities::{job, order};
use crate::time::now_ms;

/// Orders looked at in one sweep (the oldest stuck ones first come back next time).
const SWEEP_LIMIT: u64 = 500;

/// Requeues the dead `place_order` / `report_order` jobs of the tenant's unfinished orders.
/// Answers how many went back.
pub async fn requeue_stuck(db: &impl ConnectionTrait, tenant: TenantId) -> Result<u64, DbErr> {
    let unfinished: Vec<(i64, String)> = order::Entity::find()
        .select_only()
        .column(order::Column::Id)
        .column(order::Column::Status)
        .filter(order::Column::TenantId.eq(tenant.0))
        .filter(order::Column::Status.is_in([
            OrderStatus::Received.as_str(),
            OrderStatus::Completed.as_str(),
        ]))
        .limit(SWEEP_LIMIT)
        .into_tuple()
        .all(db)
        .await?;
    let keys: Vec<String> = unfinished
        .iter()
        .map(|(id, status)| job_key(*id, status))
        .collect();
    if keys.is_empty() {
        return Ok(0);
    }
    let dead: Vec<i64> = job::Entity::find()
        .select_only()
        .column(job::Column::Id)
        .filter(job::Column::TenantId.eq(tenant.0))
        .filter(job::Column::Status.eq(JobStatus::Dead.as_str()))
        .filter(job::Column::IdempotencyKey.is_in(keys))
        .into_tuple()
        .all(db)
        .await?;
    if dead.is_empty() {
        return Ok(0);
    }
    let jobs: Vec<JobId> = dead.into_iter().map(JobId).collect();
    queue::requeue_dead(db, &jobs, now_ms()).await
}

/// The job an order in `status` waits on.
fn job_key(id: i64, status: &str) -> String {
    if status == OrderStatus::Completed.as_str() {
        report_key(OrderId(id))
    } else {
        place_key(OrderId(id))
    }
}

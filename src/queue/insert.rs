//! Inserting jobs: the one row builder, for `enqueue` and for the inbox's bulk insert.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, FromQueryResult, Statement, Value};

use super::{NewJob, PENDING};
use crate::ids::JobId;
use crate::store::bulk_insert_sql;

/// The columns a new job sets (the lease and error columns start NULL), in [`NewJob::values`]'s
/// order.
const COLUMNS: [&str; 13] = [
    "tenant_id",
    "event_id",
    "flow",
    "payload",
    "status",
    "attempts",
    "max_attempts",
    "run_at",
    "idempotency_key",
    "ordering_key",
    "created_at",
    "updated_at",
    "trace_parent",
];

/// Enqueueing the same idempotency key twice is a no-op (`uq_jobs_idempotency`).
const ON_CONFLICT: &str = "ON CONFLICT (tenant_id, idempotency_key) DO NOTHING";

impl NewJob {
    /// The new job's values, due at `run_at` or `now`.
    fn values(self, now: i64, trace_parent: Option<String>) -> [Value; COLUMNS.len()] {
        let ordering_key = self
            .ordering_key
            .unwrap_or_else(|| self.idempotency_key.clone());
        [
            self.tenant.0.into(),
            self.event.map(|event| event.0).into(),
            self.flow.into(),
            self.payload.to_string().into(),
            PENDING.into(),
            0_i32.into(),
            (self.max_attempts.max(1) as i32).into(),
            self.run_at.unwrap_or(now).into(),
            self.idempotency_key.into(),
            ordering_key.into(),
            now.into(),
            now.into(),
            trace_parent.into(),
        ]
    }
}

/// One INSERT of `jobs` (each with the `traceparent` of what enqueued it), then `tail`.
fn statement(
    backend: DbBackend,
    jobs: Vec<(NewJob, Option<String>)>,
    now: i64,
    tail: &str,
) -> Statement {
    let sql = bulk_insert_sql(backend, "jobs", &COLUMNS, jobs.len(), tail);
    let values: Vec<Value> = jobs
        .into_iter()
        .flat_map(|(job, trace_parent)| job.values(now, trace_parent))
        .collect();
    Statement::from_sql_and_values(backend, sql, values)
}

/// The one statement that inserts `jobs`, skipping idempotency keys already queued (the inbox's
/// bulk insert: nothing comes back, which spares a row per job).
pub fn jobs_statement(
    backend: DbBackend,
    jobs: Vec<(NewJob, Option<String>)>,
    now: i64,
) -> Statement {
    statement(backend, jobs, now, ON_CONFLICT)
}

#[derive(FromQueryResult)]
struct InsertedJob {
    id: i64,
}

/// Inserts `job`; answers its id, or None when its idempotency key is already queued.
pub async fn insert_job(
    db: &impl ConnectionTrait,
    job: NewJob,
    trace_parent: Option<String>,
    now: i64,
) -> Result<Option<JobId>, DbErr> {
    let backend = db.get_database_backend();
    let tail = format!("{ON_CONFLICT} RETURNING id");
    let inserted =
        InsertedJob::find_by_statement(statement(backend, vec![(job, trace_parent)], now, &tail))
            .one(db)
            .await?;
    Ok(inserted.map(|row| JobId(row.id)))
}

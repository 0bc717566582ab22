use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use liaison::config::QueueSettings;
use liaison::ids::{JobId, TenantId};
use liaison::queue::{self, NewJob};
use liaison::store::entities::{job, job_attempt};
use liaison::sync::{Flow, FlowFuture, Flows, JobContext, JobError, Worker, state};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::Notify;

use crate::helpers::spawn_app;

/// Fails transiently `failures` times, then succeeds; counts runs.
struct Flaky {
    failures: usize,
    runs: Arc<AtomicUsize>,
}

impl Flow for Flaky {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(async move {
            let run = self.runs.fetch_add(1, Ordering::SeqCst);
            context.note_call(format!(
                "POST /v1/things -> {}",
                if run < self.failures { 503 } else { 201 }
            ));
            if run < self.failures {
                Err(JobError::Transient {
                    message: "suite answered 503".to_owned(),
                    retry_after: Some(Duration::ZERO),
                })
            } else {
                Ok(())
            }
        })
    }
}

struct Panics;

impl Flow for Panics {
    fn run<'a>(&'a self, _context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(async move { panic!("bug in a flow") })
    }
}

pub(crate) fn settings() -> QueueSettings {
    QueueSettings {
        base_backoff_ms: 0,
        max_attempts: 3,
        ..QueueSettings::default()
    }
}

pub(crate) fn new_job(tenant: TenantId, flow: &str, key: &str) -> NewJob {
    NewJob {
        tenant,
        event: None,
        flow: flow.to_owned(),
        payload: serde_json::json!({}),
        idempotency_key: key.to_owned(),
        ordering_key: None,
        run_at: None,
        max_attempts: 3,
    }
}

#[tokio::test]
async fn a_transient_failure_is_retried_and_every_attempt_is_logged() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let flows = Flows::new().with(
        "flaky",
        Flaky {
            failures: 2,
            runs: runs.clone(),
        },
    );
    let worker = Worker::new(
        app.db().clone(),
        flows,
        settings(),
        4,
        Arc::new(Notify::new()),
    );
    let id = queue::enqueue(app.db(), new_job(tenant, "flaky", "k"))
        .await
        .expect("enqueue")
        .expect("new");

    worker.drain().await.expect("drain");

    assert_eq!(runs.load(Ordering::SeqCst), 3);
    let row = job::Entity::find_by_id(id.0)
        .one(app.db())
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.status, "done");
    let attempts = job_attempt::Entity::find()
        .filter(job_attempt::Column::JobId.eq(id.0))
        .order_by_asc(job_attempt::Column::Id)
        .all(app.db())
        .await
        .expect("attempts");
    let outcomes: Vec<_> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retrying", "retrying", "succeeded"]);
    assert_eq!(attempts[0].call.as_deref(), Some("POST /v1/things -> 503"));
    assert_eq!(attempts[0].error.as_deref(), Some("suite answered 503"));
}

#[tokio::test]
async fn exhausted_panicking_and_unknown_flows_are_dead_lettered_with_a_reason() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let flows = Flows::new()
        .with(
            "flaky",
            Flaky {
                failures: 99,
                runs: runs.clone(),
            },
        )
        .with("panics", Panics);
    let worker = Worker::new(
        app.db().clone(),
        flows,
        settings(),
        4,
        Arc::new(Notify::new()),
    );
    for (flow, key) in [("flaky", "a"), ("panics", "b"), ("nope", "c")] {
        queue::enqueue(app.db(), new_job(tenant, flow, key))
            .await
            .expect("enqueue");
    }

    worker.drain().await.expect("drain");

    assert_eq!(
        runs.load(Ordering::SeqCst),
        3,
        "max_attempts bounds the retries"
    );
    let rows = job::Entity::find()
        .order_by_asc(job::Column::Id)
        .all(app.db())
        .await
        .expect("rows");
    assert!(rows.iter().all(|row| row.status == "dead"), "{rows:?}");
    assert_eq!(rows[1].last_error.as_deref(), Some("the flow panicked"));
    assert_eq!(rows[2].last_error.as_deref(), Some("no flow named `nope`"));
}

#[tokio::test]
async fn a_running_worker_picks_up_work_and_stops_cleanly() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let flows = Flows::new().with(
        "flaky",
        Flaky {
            failures: 0,
            runs: runs.clone(),
        },
    );
    let wake = Arc::new(Notify::new());
    let worker = Worker::new(app.db().clone(), flows, settings(), 4, wake.clone());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let handle = tokio::spawn(worker.run(shutdown.clone()));

    for n in 0..20 {
        queue::enqueue(app.db(), new_job(tenant, "flaky", &n.to_string()))
            .await
            .expect("enqueue");
    }
    wake.notify_one();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while queue::depth(app.db()).await.expect("depth").done < 20 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker did not finish the jobs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), handle)
        .await
        .expect("stops")
        .expect("joins");
    assert_eq!(runs.load(Ordering::SeqCst), 20);
}

/// Reads the state key `probe` at each run and leaves `run<N>` to be written when done; fails
/// the first run.
struct WritesOnDone {
    db: sea_orm::DatabaseConnection,
    seen: Arc<std::sync::Mutex<Vec<Option<String>>>>,
}

impl Flow for WritesOnDone {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(async move {
            let seen = state::get(&self.db, context.job.tenant, "probe")
                .await
                .map_err(|e| JobError::transient(e.to_string()))?;
            let run = {
                let mut all = self.seen.lock().expect("lock");
                all.push(seen);
                all.len()
            };
            context.put_state_when_done("probe", format!("run{run}"));
            if run == 1 {
                return Err(JobError::Transient {
                    message: "first run fails".to_owned(),
                    retry_after: Some(Duration::ZERO),
                });
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn state_left_for_completion_is_written_only_by_the_run_that_succeeds() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let flows = Flows::new().with(
        "writes",
        WritesOnDone {
            db: app.db().clone(),
            seen: seen.clone(),
        },
    );
    let worker = Worker::new(
        app.db().clone(),
        flows,
        settings(),
        4,
        Arc::new(Notify::new()),
    );
    queue::enqueue(app.db(), new_job(tenant, "writes", "w"))
        .await
        .expect("enqueue");

    worker.drain().await.expect("drain");

    // The failed first run wrote nothing; the second one's value landed with its completion.
    assert_eq!(*seen.lock().expect("lock"), [None, None]);
    let stored = state::get(app.db(), tenant, "probe").await.expect("read");
    assert_eq!(stored.as_deref(), Some("run2"));
}

/// Covers the job named in its payload (`cover`), and counts its runs.
pub(crate) struct Covers {
    pub(crate) runs: Arc<AtomicUsize>,
}

impl Flow for Covers {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            if let Some(other) = context.job.payload["cover"].as_i64() {
                context.cover_when_done([JobId(other)]);
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_job_covered_by_the_one_ahead_of_it_is_done_without_running() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let flows = Flows::new().with("covers", Covers { runs: runs.clone() });
    let worker = Worker::new(
        app.db().clone(),
        flows,
        settings(),
        4,
        Arc::new(Notify::new()),
    );
    let same_entity = |key: &str| NewJob {
        ordering_key: Some("entity".to_owned()),
        ..new_job(tenant, "covers", key)
    };
    let first = queue::enqueue(app.db(), same_entity("first"))
        .await
        .expect("enqueue")
        .expect("new");
    let second = queue::enqueue(app.db(), same_entity("second"))
        .await
        .expect("enqueue")
        .expect("new");
    job::Entity::update_many()
        .col_expr(
            job::Column::Payload,
            Expr::value(serde_json::json!({"cover": second.0}).to_string()),
        )
        .filter(job::Column::Id.eq(first.0))
        .exec(app.db())
        .await
        .expect("name the covered job");

    worker.drain().await.expect("drain");

    assert_eq!(runs.load(Ordering::SeqCst), 1, "the covered job never ran");
    let covered = job::Entity::find_by_id(second.0)
        .one(app.db())
        .await
        .expect("read")
        .expect("row");
    assert_eq!(covered.status, "done");
    let attempts = job_attempt::Entity::find()
        .filter(job_attempt::Column::JobId.eq(second.0))
        .all(app.db())
        .await
        .expect("attempts");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].outcome, queue::COVERED);
    assert_eq!(attempts[0].call, Some(format!("answered by {first}")));
}

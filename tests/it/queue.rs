use std::collections::HashSet;
use std::time::Duration;

use liaison::ids::TenantId;
use liaison::queue::{self, BackoffPolicy, FailOutcome, Failure, NewJob};
use liaison::store;
use liaison::time::now_ms;
use sea_orm::TransactionTrait;
use serde_json::json;

use crate::helpers::spawn_app;

const LEASE: Duration = Duration::from_secs(60);
const BACKOFF: BackoffPolicy = BackoffPolicy {
    base: Duration::from_secs(1),
    max: Duration::from_secs(60),
};

fn job(tenant: TenantId, key: &str) -> NewJob {
    NewJob {
        tenant,
        event: None,
        flow: "test".to_owned(),
        payload: json!({"key": key}),
        idempotency_key: key.to_owned(),
        ordering_key: None,
        run_at: None,
        max_attempts: 3,
    }
}

#[tokio::test]
async fn enqueueing_the_same_key_twice_is_a_no_op() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let first = queue::enqueue(app.db(), job(tenant, "invite:1"))
        .await
        .expect("enqueue");
    let second = queue::enqueue(app.db(), job(tenant, "invite:1"))
        .await
        .expect("enqueue");
    assert!(first.is_some());
    assert_eq!(second, None);
    assert_eq!(queue::depth(app.db()).await.expect("depth").pending, 1);
}

#[tokio::test]
async fn a_job_enqueued_in_a_rolled_back_transaction_does_not_exist() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let txn = app.db().begin().await.expect("begin");
    queue::enqueue(&txn, job(tenant, "k"))
        .await
        .expect("enqueue");
    txn.rollback().await.expect("rollback");
    assert_eq!(queue::depth(app.db()).await.expect("depth").pending, 0);
}

#[tokio::test]
async fn eight_concurrent_claimers_take_each_of_1000_jobs_exactly_once() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    for n in 0..1_000 {
        queue::enqueue(app.db(), job(tenant, &format!("job:{n}")))
            .await
            .expect("enqueue");
    }

    let mut claimers = tokio::task::JoinSet::new();
    for worker in 0..8 {
        // Each claimer has its own pool, as separate processes would.
        let url = app.database.url.clone();
        claimers.spawn(async move {
            let db = store::connect(&url).await.expect("connect");
            let mut taken = Vec::new();
            loop {
                let owner = format!("worker-{worker}/{}", uuid::Uuid::new_v4());
                let batch = queue::claim(&db, &owner, LEASE, 7).await.expect("claim");
                if batch.is_empty() {
                    break;
                }
                for job in batch {
                    assert!(queue::complete(&db, &job).await.expect("complete"));
                    taken.push(job.id);
                }
            }
            taken
        });
    }
    let mut all = Vec::new();
    for taken in claimers.join_all().await {
        all.extend(taken);
    }
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 1_000, "every job was claimed once, none twice");
    assert_eq!(unique.len(), 1_000);
    let depth = queue::depth(app.db()).await.expect("depth");
    assert_eq!((depth.pending, depth.running, depth.done), (0, 0, 1_000));
}

#[tokio::test]
async fn an_expired_lease_makes_a_job_claimable_again_and_fences_the_old_holder() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    queue::enqueue(app.db(), job(tenant, "k"))
        .await
        .expect("enqueue");

    let crashed = queue::claim(app.db(), "crashed", Duration::from_millis(20), 10)
        .await
        .expect("claim");
    assert_eq!(crashed.len(), 1);
    assert!(
        queue::claim(app.db(), "early", LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "leased"
    );

    tokio::time::sleep(Duration::from_millis(40)).await;
    let rescued = queue::claim(app.db(), "rescuer", LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(rescued.len(), 1);
    assert_eq!(rescued[0].id, crashed[0].id);
    assert_eq!(rescued[0].attempt, 2, "the crashed attempt counts");

    assert!(
        !queue::complete(app.db(), &crashed[0])
            .await
            .expect("complete"),
        "old lease is fenced"
    );
    assert!(
        queue::complete(app.db(), &rescued[0])
            .await
            .expect("complete")
    );
}

#[tokio::test]
async fn a_failed_job_goes_back_with_backoff_then_dead_letters_when_attempts_run_out() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let id = queue::enqueue(app.db(), job(tenant, "k"))
        .await
        .expect("enqueue");

    let claimed = queue::claim(app.db(), "w", LEASE, 1)
        .await
        .expect("claim")
        .remove(0);
    let before = now_ms();
    let outcome = queue::fail(
        app.db(),
        &claimed,
        Failure::Transient { not_before: None },
        "503",
        &BACKOFF,
    )
    .await
    .expect("fail");
    let FailOutcome::RetryAt(at) = outcome else {
        panic!("expected a retry, got {outcome:?}")
    };
    assert!(
        at >= before + 500,
        "backed off at least half the base delay"
    );
    assert!(
        queue::claim(app.db(), "w", LEASE, 1)
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );

    // Retry-After pushes the next attempt further than the backoff would.
    make_due(&app, id).await;
    let claimed = queue::claim(app.db(), "w", LEASE, 1)
        .await
        .expect("claim")
        .remove(0);
    let later = now_ms() + 120_000;
    let outcome = queue::fail(
        app.db(),
        &claimed,
        Failure::Transient {
            not_before: Some(later),
        },
        "429",
        &BACKOFF,
    )
    .await
    .expect("fail");
    assert_eq!(outcome, FailOutcome::RetryAt(later));

    make_due(&app, id).await;
    let claimed = queue::claim(app.db(), "w", LEASE, 1)
        .await
        .expect("claim")
        .remove(0);
    assert_eq!(claimed.attempt, 3);
    let outcome = queue::fail(
        app.db(),
        &claimed,
        Failure::Transient { not_before: None },
        "503",
        &BACKOFF,
    )
    .await
    .expect("fail");
    assert_eq!(
        outcome,
        FailOutcome::DeadLettered,
        "the third of three attempts was the last"
    );
    assert_eq!(queue::depth(app.db()).await.expect("depth").dead, 1);
}

#[tokio::test]
async fn a_permanent_failure_dead_letters_at_once() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    queue::enqueue(app.db(), job(tenant, "k"))
        .await
        .expect("enqueue");
    let claimed = queue::claim(app.db(), "w", LEASE, 1)
        .await
        .expect("claim")
        .remove(0);
    let outcome = queue::fail(app.db(), &claimed, Failure::Permanent, "422", &BACKOFF)
        .await
        .expect("fail");
    assert_eq!(outcome, FailOutcome::DeadLettered);
}

#[tokio::test]
async fn jobs_of_one_entity_run_one_at_a_time_in_order() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    for key in ["created", "moved", "completed"] {
        let mut new = job(tenant, key);
        new.ordering_key = Some("application:42".to_owned());
        queue::enqueue(app.db(), new).await.expect("enqueue");
    }
    queue::enqueue(app.db(), job(tenant, "other-entity"))
        .await
        .expect("enqueue");

    let first = queue::claim(app.db(), "w", LEASE, 10).await.expect("claim");
    let keys: Vec<_> = first.iter().map(|j| j.idempotency_key.as_str()).collect();
    assert_eq!(
        keys,
        ["created", "other-entity"],
        "only the head of each entity is due"
    );
    assert!(
        queue::claim(app.db(), "w2", LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );

    for job in &first {
        queue::complete(app.db(), job).await.expect("complete");
    }
    let second = queue::claim(app.db(), "w", LEASE, 10).await.expect("claim");
    assert_eq!(
        second
            .iter()
            .map(|j| j.idempotency_key.as_str())
            .collect::<Vec<_>>(),
        ["moved"]
    );
}

/// Moves a job's next run to now, instead of waiting out its backoff.
async fn make_due(app: &crate::helpers::TestApp, id: Option<liaison::ids::JobId>) {
    use liaison::store::entities::job;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let id = id.expect("job id");
    job::Entity::update_many()
        .col_expr(job::Column::RunAt, Expr::value(now_ms()))
        .filter(job::Column::Id.eq(id.0))
        .exec(app.db())
        .await
        .expect("update");
}

/// The throughput chart's read is a range scan of `ix_job_attempts_started`, not a walk of the
/// whole execution log (on PostgreSQL with sequential scans discouraged, since a small table
/// would be scanned anyway).
#[tokio::test]
async fn the_throughput_chart_reads_the_execution_log_by_its_started_at_index() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    let app = spawn_app().await;
    let db = app.db();
    let backend = db.get_database_backend();
    // Two days of execution log, one attempt a minute, behind one job.
    let tenant = app.add_tenant("acme").await;
    let held = queue::enqueue(db, job(tenant, "held"))
        .await
        .expect("enqueue")
        .expect("new");
    let now = now_ms();
    db.execute_unprepared(&format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2880) \
         INSERT INTO job_attempts (tenant_id, job_id, attempt, started_at, duration_ms, outcome) \
         SELECT {tenant}, {held}, 1, {now} - i * 60000, 5, 'succeeded' FROM n",
        tenant = tenant.0,
        held = held.0,
    ))
    .await
    .expect("seed the log");
    let query = queue::attempts_per_minute_statement(backend, now / 60_000 - 29);
    let txn = db.begin().await.expect("begin");
    let explain = match backend {
        DbBackend::Sqlite => format!("EXPLAIN QUERY PLAN {}", query.sql),
        _ => {
            txn.execute_unprepared("SET LOCAL enable_seqscan = off")
                .await
                .expect("set");
            format!("EXPLAIN {}", query.sql)
        }
    };
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            explain,
            query.values.clone().map(|v| v.0).unwrap_or_default(),
        ))
        .await
        .expect("explain");
    let plan: Vec<String> = rows
        .iter()
        .map(|row| match backend {
            DbBackend::Sqlite => row.try_get::<String>("", "detail").expect("detail"),
            _ => row.try_get::<String>("", "QUERY PLAN").expect("plan"),
        })
        .collect();
    txn.rollback().await.expect("rollback");
    assert!(
        plan.iter()
            .any(|line| line.contains("ix_job_attempts_started")),
        "{}: {plan:#?}",
        query.sql
    );
    assert!(
        !plan
            .iter()
            .any(|line| line.contains("SCAN job_attempts") && !line.contains("INDEX")),
        "{plan:#?}"
    );
}

use liaison::store;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::{TestDb, spawn_app};

const TABLES: [&str; 6] = [
    "tenants",
    "equivalences",
    "equivalence_history",
    "inbox_events",
    "jobs",
    "job_attempts",
];

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_are_idempotent() {
    let database = TestDb::new().await;
    store::migrate(&database.db)
        .await
        .expect("second run is a no-op");
    store::migrate(&database.db)
        .await
        .expect("third run is a no-op");
    assert!(
        Migrator::get_pending_migrations(&database.db)
            .await
            .expect("status")
            .is_empty()
    );
    for table in TABLES {
        let count = database
            .db
            .query_one_raw(Statement::from_string(
                database.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("table exists");
        assert!(count.is_some(), "{table}");
    }
}

/// Every text cell of every table, as the database stores it (what a dump would show).
async fn dump_all_text(db: &sea_orm::DatabaseConnection) -> String {
    let mut dump = String::new();
    for table in TABLES {
        let sql = if db.get_database_backend() == sea_orm::DbBackend::Postgres {
            format!("SELECT CAST(t.* AS TEXT) AS row FROM {table} t")
        } else {
            format!("SELECT * FROM {table}")
        };
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("dump");
        for row in rows {
            for column in row.column_names() {
                if let Ok(text) = row.try_get::<String>("", &column) {
                    dump.push_str(&text);
                    dump.push('\n');
                }
            }
        }
    }
    dump
}

#[tokio::test]
async fn tenant_secrets_are_not_stored_in_clear() {
    let app = spawn_app().await;
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), crate::helpers::tenant_toml("acme")).expect("write");
    let output = app.cli(&["tenant", "apply", file.path().to_str().expect("utf-8")]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let secrets = [
        "gupy-token-acme-S3CRET",
        "gupy-hook-acme-S3CRET",
        "suite-client-acme-S3CRET",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "launch-acme-S3CRET",
    ];
    let dump = dump_all_text(app.db()).await;
    assert!(dump.contains("acme"), "the dump reads the tenant row");
    for secret in secrets {
        assert!(!dump.contains(secret), "{secret} is stored in clear");
    }
    if let Some(file) = &app.database.sqlite_file {
        // The raw bytes too, the write-ahead log included.
        for path in [file.clone(), file.with_extension("db-wal")] {
            let bytes = std::fs::read(&path).unwrap_or_default();
            let raw = String::from_utf8_lossy(&bytes);
            for secret in secrets {
                assert!(!raw.contains(secret), "{secret} is in {}", path.display());
            }
        }
    }
    // And they still open with the master key.
    let tenant = liaison::tenant::find(app.db(), &app.master_key, "acme")
        .await
        .expect("read")
        .expect("exists");
    use secrecy::ExposeSecret;
    assert_eq!(
        tenant
            .config
            .ats
            .token
            .as_ref()
            .map(|s| s.expose_secret().to_owned()),
        Some("gupy-token-acme-S3CRET".to_owned())
    );
}

/// Without the query planner stability guarantee, SQLite re-parses every statement with a bound
/// LIMIT (each sea-orm `.one()`) at each execution: `.cargo/config.toml` builds it in.
#[tokio::test]
async fn the_bundled_sqlite_keeps_prepared_statements_across_bindings() {
    let database = TestDb::new().await;
    if store::is_postgres(&database.db) {
        return;
    }
    let options = database
        .db
        .query_all_raw(Statement::from_string(
            database.db.get_database_backend(),
            "PRAGMA compile_options",
        ))
        .await
        .expect("compile options");
    let options: Vec<String> = options
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect();
    assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
}

/// Writes about `megabytes` MB to a scratch table, in transactions of ~100 KB.
async fn write_megabytes(db: &sea_orm::DatabaseConnection, megabytes: usize) {
    db.execute_unprepared("CREATE TABLE IF NOT EXISTS scratch (id INTEGER PRIMARY KEY, body TEXT)")
        .await
        .expect("scratch table");
    for _ in 0..megabytes * 10 {
        db.execute_unprepared(
            "INSERT INTO scratch (body) SELECT printf('%.1000c', 'x') FROM \
             (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
             SELECT i FROM n)",
        )
        .await
        .expect("insert");
    }
}

// Without the checkpoint task only the safety net (10,000 pages, ~40 MB) would checkpoint, and
// the WAL would hold every write below it.
#[tokio::test]
async fn a_serving_process_checkpoints_the_sqlite_wal_off_the_commit_path() {
    let database = TestDb::new().await;
    let Some(file) = database.sqlite_file.clone() else {
        return; // PostgreSQL has no WAL file of ours to bound.
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    store::checkpoint::spawn(&database.db, &shutdown);
    for _ in 0..12 {
        write_megabytes(&database.db, 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    let wal = std::fs::metadata(file.with_extension("db-wal"))
        .expect("the WAL file")
        .len();
    shutdown.cancel();
    assert!(
        wal < 6 * 1024 * 1024,
        "12 MB written, the WAL holds {wal} bytes: it was not checkpointed"
    );
}

#[tokio::test]
async fn the_hot_writer_sees_and_is_seen_by_the_shared_pool() {
    let database = TestDb::new().await;
    let store::HotWriter::Sqlite(writer) = store::hot_writer(&database.db) else {
        return; // PostgreSQL's hot writer is the pool itself.
    };
    database
        .db
        .execute_unprepared("CREATE TABLE shared_rows (id INTEGER PRIMARY KEY)")
        .await
        .expect("table");
    writer
        .transaction(|session| session.execute(&insert_row(1)))
        .expect("the writer inserts");
    database
        .db
        .execute_unprepared("INSERT INTO shared_rows (id) VALUES (2)")
        .await
        .expect("the pool inserts");
    let seen_by_writer = writer
        .transaction(|session| {
            session.query(
                &Statement::from_string(DbBackend::Sqlite, "SELECT COUNT(*) FROM shared_rows"),
                |row| row.get::<_, i64>(0),
            )
        })
        .expect("count");
    assert_eq!(seen_by_writer, vec![2]);
    assert_eq!(shared_rows(&database).await, vec![1, 2]);
}

#[tokio::test]
async fn a_failed_transaction_of_the_sqlite_writer_leaves_nothing_written() {
    let database = TestDb::new().await;
    let store::HotWriter::Sqlite(writer) = store::hot_writer(&database.db) else {
        return;
    };
    database
        .db
        .execute_unprepared("CREATE TABLE shared_rows (id INTEGER PRIMARY KEY)")
        .await
        .expect("table");
    writer
        .transaction(|session| session.execute(&insert_row(1)))
        .expect("commits");
    // Row 2 goes in, then row 1 again breaks the primary key: the transaction rolls back whole.
    let failed = writer.transaction(|session| {
        session.execute(&insert_row(2))?;
        session.execute(&insert_row(1))
    });
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(shared_rows(&database).await, vec![1]);
    // The connection is usable again.
    writer
        .transaction(|session| session.execute(&insert_row(3)))
        .expect("commits after a failure");
    assert_eq!(shared_rows(&database).await, vec![1, 3]);
}

fn insert_row(id: i64) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "INSERT INTO shared_rows (id) VALUES (?)",
        [id.into()],
    )
}

/// `shared_rows`' ids, as the pool reads them.
async fn shared_rows(database: &TestDb) -> Vec<i64> {
    database
        .db
        .query_all_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT id FROM shared_rows ORDER BY id",
        ))
        .await
        .expect("rows")
        .iter()
        .map(|row| row.try_get::<i64>("", "id").expect("id"))
        .collect()
}

// No checkpoint task runs here: without the writer's own checkpoints between batches only the
// safety net (10,000 pages, ~40 MB) would checkpoint, and the WAL would hold all ~13 MB.
#[tokio::test]
async fn the_inbox_writer_checkpoints_the_sqlite_wal_between_its_batches() {
    use std::sync::Arc;

    use liaison::config::generate_master_key;
    use liaison::crypto::MasterKey;
    use liaison::events::{EventBody, InboundEvent, Source};
    use liaison::inbox::{Inbox, NewEvent};
    use liaison::tenant::{self, TenantConfig};

    let database = TestDb::new().await;
    let Some(file) = database.sqlite_file.clone() else {
        return;
    };
    let key = MasterKey::from_base64(&generate_master_key()).expect("key");
    let config = TenantConfig::from_toml(&crate::helpers::tenant_toml("wal")).expect("tenant");
    let (tenant, _) = tenant::apply(&database.db, &key, &config)
        .await
        .expect("apply");
    let inbox = Inbox::spawn(database.db.clone(), 3, Arc::new(tokio::sync::Notify::new()));
    let payload = "x".repeat(4_000);
    for round in 0..100 {
        let deliveries = (0..32).map(|n| {
            let event = InboundEvent {
                source: Source::Ats,
                delivery_id: format!("delivery-{round}-{n}"),
                partner_type: "job.closed".to_owned(),
                occurred_at: None,
                body: EventBody::JobClosed {
                    ats_job_id: format!("job-{round}-{n}"),
                },
            };
            inbox.store(NewEvent::log_only(tenant, event, payload.clone()))
        });
        for stored in futures::future::join_all(deliveries).await {
            stored.expect("stored");
        }
    }
    let wal = std::fs::metadata(file.with_extension("db-wal"))
        .expect("the WAL file")
        .len();
    assert!(
        wal < 6 * 1024 * 1024,
        "~13 MB stored, the WAL holds {wal} bytes: the writer did not checkpoint"
    );
}

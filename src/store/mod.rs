//! The database: connection, migrations and the entities (one file per table).
//!
//! One code base for SQLite (embedded default, one process) and PostgreSQL (shared by several
//! processes). Queries that differ between the two live next to the concern that needs them
//! (`queue::claim`), never as a second copy of the schema.

pub mod checkpoint;
pub mod entities;
pub mod group_commit;
pub mod sqlite_writer;

use std::time::Duration;

use anyhow::Context as _;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::config::DatabaseUrl;

pub use sea_orm::DatabaseConnection as Db;

/// Page cache per SQLite connection, in KiB (SQLite's default is 2,000): the random pages of the
/// delivery-id index are then found in memory rather than read back from the OS on each insert.
const SQLITE_CACHE_KIB: u32 = 8 * 1024;

/// Every SQLite connection's settings, the pool's and the inbox writer's ([`sqlite_writer`]):
/// WAL, `synchronous=NORMAL`, foreign keys, a page cache of [`SQLITE_CACHE_KIB`], and the
/// automatic checkpoint only as a safety net behind [`checkpoint`]'s.
fn sqlite_pragmas() -> [(&'static str, String); 5] {
    [
        ("journal_mode", "WAL".to_owned()),
        ("synchronous", "NORMAL".to_owned()),
        ("foreign_keys", "ON".to_owned()),
        ("cache_size", format!("-{SQLITE_CACHE_KIB}")),
        (
            "wal_autocheckpoint",
            checkpoint::SAFETY_NET_PAGES.to_string(),
        ),
    ]
}

/// Opens a pool. SQLite runs in WAL mode with `synchronous=NORMAL`: a committed transaction
/// survives a crash of the process (SIGKILL), which is the durability the webhook answer promises.
/// Long-running processes checkpoint the WAL off the commit path ([`checkpoint`]).
pub async fn connect(url: &DatabaseUrl) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.expose().to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            let opts = opts.busy_timeout(Duration::from_secs(30));
            sqlite_pragmas()
                .into_iter()
                .fold(opts, |opts, (name, value)| opts.pragma(name, value))
        });
    if url.is_postgres() {
        options.max_connections(16).min_connections(1);
    } else {
        // SQLite takes one writer at a time; a few connections serve concurrent readers.
        options.max_connections(8).min_connections(1);
    }
    Database::connect(options)
        .await
        .with_context(|| format!("cannot open the database at {url}"))
}

/// Where the process's hot writer (the inbox) writes. Its own SQLite connection also keeps its
/// page cache warm: SQLite empties a connection's cache whenever another connection wrote since
/// it last ran, and a pool hands its connections out in turn.
pub enum HotWriter {
    /// SQLite: a connection of its own, run in the writer's thread ([`sqlite_writer`]).
    Sqlite(sqlite_writer::SqliteWriter),
    /// PostgreSQL: the pool.
    Pool(DatabaseConnection),
}

/// The hot writer for `db`'s database (a SQLite connection opens on first use).
pub fn hot_writer(db: &DatabaseConnection) -> HotWriter {
    if db.get_database_backend() != DbBackend::Sqlite {
        return HotWriter::Pool(db.clone());
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    HotWriter::Sqlite(sqlite_writer::SqliteWriter::new(
        options.get_filename().to_owned(),
    ))
}

/// SQLite lets one connection write at a time; another that tries gets `SQLITE_BUSY` and its
/// busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries, long after the lock was freed. Under
/// load those sleeps added up to seconds per thousand writes. The hot writers of this process
/// take turns here instead, waking as soon as the one before them commits.
static SQLITE_WRITE_TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for this process's turn to write to `db` (SQLite only; PostgreSQL locks rows, not the
/// database). Taken before a transaction begins, never inside one (hence a connection, not any
/// `ConnectionTrait`): a writer holding a pooled connection while it waits could starve the pool,
/// and the turn is not reentrant.
pub async fn write_turn(db: &DatabaseConnection) -> Option<tokio::sync::MutexGuard<'static, ()>> {
    match db.get_database_backend() {
        DbBackend::Sqlite => Some(sqlite_write_turn().await),
        _ => None,
    }
}

/// [`write_turn`] for a writer known to be SQLite's (the inbox's own connection).
pub async fn sqlite_write_turn() -> tokio::sync::MutexGuard<'static, ()> {
    SQLITE_WRITE_TURN.lock().await
}

/// Applies pending migrations (idempotent).
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("cannot apply database migrations")
}

/// A cheap round trip, for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

/// Hand-written SQL for `backend`: written with PostgreSQL's `$1`, `$2`, ...; SQLite numbers its
/// parameters `?1`, `?2`, .... (No statement of ours has a `$` anywhere else.)
pub fn numbered_params(backend: DbBackend, sql: &str) -> String {
    match backend {
        DbBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

/// `$first, ... ` for `count` parameters: an `IN (...)` list in hand-written SQL (see
/// `numbered_params`).
pub fn param_list(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A multi-row `INSERT INTO {table} ({columns}) VALUES (...), (...)` of `rows` rows, its
/// parameters in order (numbered on PostgreSQL), then `tail` (`ON CONFLICT ...`,
/// `RETURNING ...`). The hot bulk inserts use it with values taken, not cloned: sea-orm's `insert_many` builds an active
/// model per row and clones every value again to render the statement.
pub fn bulk_insert_sql(
    backend: DbBackend,
    table: &str,
    columns: &[&str],
    rows: usize,
    tail: &str,
) -> String {
    use std::fmt::Write as _;
    let width = columns.len();
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..width {
            let separator = if column == 0 { "" } else { ", " };
            // Writing to a String cannot fail.
            let _ = match backend {
                DbBackend::Postgres => write!(sql, "{separator}${}", row * width + column + 1),
                // Anonymous: binding looks each numbered `?N` up by name, in a list as long as
                // the statement's parameters (thousands in a batch), which cost the writer ~10%.
                _ => write!(sql, "{separator}?"),
            };
        }
        sql.push(')');
    }
    sql.push(' ');
    sql.push_str(tail);
    sql
}

/// True when the error is a unique-constraint violation (portable across both back ends).
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

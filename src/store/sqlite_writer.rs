//! The inbox's own SQLite connection, run in the group-commit writer's thread.
//!
//! Through sqlx, each statement is a round trip: it goes to the connection's worker thread and
//! its answer comes back, a thread wake-up each way. A batch of the inbox takes four statements
//! (begin, events, jobs, commit), and the profile under `wrk` showed those hand-offs, and sqlx's
//! binding, taking most of the writer's time. Here a rusqlite connection runs them at once on the
//! calling thread, the group-commit writer's own (`store::group_commit`). The statements are the
//! ones `inbox::insert` builds for any back end, so there is still one insert path.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{CachedStatement, Connection, OpenFlags, TransactionBehavior};
use sea_orm::{DbErr, RuntimeErr, Statement, Value};

use super::{checkpoint, sqlite_pragmas};

/// Prepared statements kept (the bulk inserts' shapes vary with the batch's size).
const CACHED_STATEMENTS: usize = 64;

/// The shortest time between two of the writer's checkpoints (`store::checkpoint`). Measured
/// under `wrk` (`docs/webhooks.md`): checkpointing after every batch holds the writer too long
/// (10,500 events/s); every ~20 ms lets the WAL grow enough that one checkpoint shows in the p99.
const CHECKPOINT_SPACING: Duration = Duration::from_millis(5);

/// One SQLite connection for one writer. Opened on first use, like the pool's connections, with
/// the same settings.
#[derive(Debug)]
pub struct SqliteWriter {
    path: PathBuf,
    /// Only the writer's thread uses it; the lock makes the writer `Sync`.
    connection: Mutex<Option<Connection>>,
    checkpoints: checkpoint::Outcomes,
}

/// A transaction of the writer: what its statements run on.
pub struct Session<'c>(&'c Connection);

impl SqliteWriter {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            connection: Mutex::new(None),
            checkpoints: checkpoint::Outcomes::default(),
        }
    }

    /// Checkpoints the WAL (`PASSIVE`) unless this process did in the last [`CHECKPOINT_SPACING`].
    /// Called by the writer between batches, after it answered one: the next batch waits, the
    /// answered one does not.
    pub fn checkpoint_if_due(&self) {
        if !checkpoint::due(CHECKPOINT_SPACING) {
            return;
        }
        let slot = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(connection) = slot.as_ref() else {
            return;
        };
        let outcome = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        self.checkpoints.record(outcome);
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` ... `COMMIT`; nothing stays written when it or the
    /// commit fails. Blocks the calling thread (the writer's own) for the transaction.
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&Session<'_>) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let connection = match &mut *slot {
            Some(connection) => connection,
            empty => empty.insert(open(&self.path).map_err(exec_error)?),
        };
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(exec_error)?;
        let value = work(&Session(&transaction))?;
        // Dropped without a commit, the transaction rolls back.
        transaction.commit().map_err(exec_error)?;
        Ok(value)
    }
}

fn open(path: &PathBuf) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(30))?;
    for (name, value) in sqlite_pragmas() {
        // Some pragmas answer a row (`journal_mode`), others none: step through whatever comes.
        let mut pragma = connection.prepare(&format!("PRAGMA {name} = {value}"))?;
        let mut rows = pragma.raw_query();
        while rows.next()?.is_some() {}
    }
    connection.set_prepared_statement_cache_capacity(CACHED_STATEMENTS);
    Ok(connection)
}

impl Session<'_> {
    /// Runs `statement`, which answers no rows; answers how many rows it changed.
    pub fn execute(&self, statement: &Statement) -> Result<u64, DbErr> {
        self.prepare(statement)
            .and_then(|mut prepared| prepared.raw_execute())
            .map(|changed| changed as u64)
            .map_err(exec_error)
    }

    /// Runs `statement` and reads each row it answers with `read` (columns by position).
    pub fn query<T>(
        &self,
        statement: &Statement,
        mut read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, DbErr> {
        let mut run = || {
            let mut prepared = self.prepare(statement)?;
            let mut rows = prepared.raw_query();
            let mut answer = Vec::new();
            while let Some(row) = rows.next()? {
                answer.push(read(row)?);
            }
            Ok(answer)
        };
        run()
            .map_err(|error: rusqlite::Error| DbErr::Query(RuntimeErr::Internal(error.to_string())))
    }

    /// `statement`, prepared (or taken from the cache) with its values bound.
    fn prepare(&self, statement: &Statement) -> rusqlite::Result<CachedStatement<'_>> {
        let mut prepared = self.0.prepare_cached(&statement.sql)?;
        let values = statement.values.as_ref().map_or(&[][..], |v| &v.0[..]);
        if values.len() != prepared.parameter_count() {
            return Err(rusqlite::Error::InvalidParameterCount(
                values.len(),
                prepared.parameter_count(),
            ));
        }
        for (index, value) in values.iter().enumerate() {
            bind(&mut prepared, index + 1, value)?;
        }
        Ok(prepared)
    }
}

fn exec_error(error: rusqlite::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::Internal(error.to_string()))
}

/// Binds `value` as sqlx stores it in SQLite: integers, reals, text (JSON as its text), blobs.
fn bind(statement: &mut CachedStatement<'_>, index: usize, value: &Value) -> rusqlite::Result<()> {
    match value {
        Value::Bool(v) => statement.raw_bind_parameter(index, v),
        Value::TinyInt(v) => statement.raw_bind_parameter(index, v),
        Value::SmallInt(v) => statement.raw_bind_parameter(index, v),
        Value::Int(v) => statement.raw_bind_parameter(index, v),
        Value::BigInt(v) => statement.raw_bind_parameter(index, v),
        Value::TinyUnsigned(v) => statement.raw_bind_parameter(index, v),
        Value::SmallUnsigned(v) => statement.raw_bind_parameter(index, v),
        Value::Unsigned(v) => statement.raw_bind_parameter(index, v),
        Value::BigUnsigned(v) => {
            let v = v.map(i64::try_from).transpose().map_err(|_| {
                rusqlite::Error::ToSqlConversionFailure("an unsigned above i64::MAX".into())
            })?;
            statement.raw_bind_parameter(index, v)
        }
        Value::Float(v) => statement.raw_bind_parameter(index, v.map(f64::from)),
        Value::Double(v) => statement.raw_bind_parameter(index, v),
        Value::String(v) => statement.raw_bind_parameter(index, v.as_deref()),
        Value::Char(v) => statement.raw_bind_parameter(index, v.map(String::from)),
        Value::Bytes(v) => statement.raw_bind_parameter(index, v.as_deref()),
        Value::Json(v) => statement.raw_bind_parameter(index, v.as_ref().map(|v| v.to_string())),
        other => Err(rusqlite::Error::ToSqlConversionFailure(
            format!("the SQLite writer does not bind {other:?}").into(),
        )),
    }
}

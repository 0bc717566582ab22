//! WAL checkpoints off the commit path (SQLite only).
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit
//! copies the WAL back into the database file and syncs it, and every webhook waiting on it waits
//! too. Instead, the inbox's writer checkpoints in its own thread right after it answered a batch,
//! at most every few milliseconds (`store::sqlite_writer`): the WAL stays small, and no other
//! thread syncs the files while the writer appends to them (measured in `docs/webhooks.md`,
//! "Durability and speed": a checkpoint from another thread stalled the writer's appends for up
//! to 30 ms). A task of each long-running process checkpoints what else was written (the
//! workers'), when no checkpoint ran for a second. The automatic checkpoint stays as a safety net
//! at [`SAFETY_NET_PAGES`], for short-lived commands.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use tokio_util::sync::CancellationToken;

use crate::time::now_ms;

/// `wal_autocheckpoint` of every SQLite connection: about 40 MB of WAL (SQLite's default is 1,000
/// pages, 4 MB). Reached only when nothing else checkpoints.
pub const SAFETY_NET_PAGES: u32 = 10_000;

/// How often the task looks, and how long no checkpoint must have run before it makes one.
const FALLBACK: Duration = Duration::from_secs(1);

/// When this process last checkpointed (ms since the epoch): the task leaves the WAL to the
/// inbox's writer while that one keeps it small.
static LAST_CHECKPOINT_MS: AtomicI64 = AtomicI64::new(0);

/// Records a checkpoint made now.
pub fn checkpointed() {
    LAST_CHECKPOINT_MS.store(now_ms(), Ordering::Relaxed);
}

/// What became of checkpoints: a failure is logged once per streak (the safety net still
/// checkpoints), a success recorded for [`due`].
#[derive(Debug, Default)]
pub struct Outcomes {
    failing: AtomicBool,
}

impl Outcomes {
    pub fn record<E: std::fmt::Display>(&self, outcome: Result<(), E>) {
        match outcome {
            Ok(()) => {
                self.failing.store(false, Ordering::Relaxed);
                checkpointed();
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %error, "cannot checkpoint the SQLite WAL");
                }
            }
        }
    }
}

/// No checkpoint ran in the last `spacing`.
pub fn due(spacing: Duration) -> bool {
    now_ms() - LAST_CHECKPOINT_MS.load(Ordering::Relaxed) >= spacing.as_millis() as i64
}

/// Checkpoints `db` when no checkpoint ran for [`FALLBACK`], until `shutdown` (returns at once on
/// PostgreSQL).
pub async fn run(db: DatabaseConnection, shutdown: CancellationToken) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let outcomes = Outcomes::default();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(FALLBACK) => {}
        }
        if due(FALLBACK) {
            let outcome = db
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await;
            outcomes.record(outcome.map(drop));
        }
    }
}

/// Starts [`run`] for the life of the process's `shutdown`.
pub fn spawn(db: &DatabaseConnection, shutdown: &CancellationToken) {
    if db.get_database_backend() == DbBackend::Sqlite {
        tokio::spawn(run(db.clone(), shutdown.clone()));
    }
}

//! WAL checkpoints off the commit path (SQLite only).
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit
//! copies the WAL back into the database file and syncs it, and every webhook waiting on it waits
//! too. A long-running process checkpoints from a task of its own instead, `PASSIVE` (it never
//! blocks the writer or readers), soon after each of the inbox's commits: many small checkpoints
//! rather than a few large ones, because a large one holds a core long enough to show in the
//! webhooks' p99 (measured in `docs/webhooks.md`, "Durability and speed"). The automatic
//! checkpoint stays as a safety net at [`SAFETY_NET_PAGES`], for short-lived commands and for
//! writers that do not signal.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// `wal_autocheckpoint` of every SQLite connection: about 40 MB of WAL (SQLite's default is 1,000
/// pages, 4 MB). Reached only when nothing else checkpoints.
pub const SAFETY_NET_PAGES: u32 = 10_000;

/// The shortest time between two checkpoints: under load the WAL then holds a few milliseconds of
/// writes when it is checkpointed (measured: 5 ms gave the lowest p99; 250 ms, spikes of 40 ms).
const SPACING: Duration = Duration::from_millis(5);

/// How often the task checkpoints when no commit signalled (the workers' writes).
const FALLBACK: Duration = Duration::from_secs(1);

/// Signalled by the hot writer after each commit (the process has one SQLite database).
static COMMITTED: Notify = Notify::const_new();

/// Tells the checkpoint task that the WAL grew. Cheap: no waiter, no work.
pub fn committed() {
    COMMITTED.notify_one();
}

/// Checkpoints `db` after commits, at most every [`SPACING`], until `shutdown` (returns at once
/// on PostgreSQL).
pub async fn run(db: DatabaseConnection, shutdown: CancellationToken) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = COMMITTED.notified() => {}
            _ = tokio::time::sleep(FALLBACK) => {}
        }
        match db
            .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
            .await
        {
            Ok(_) => failing = false,
            // Once per failure streak: the safety net still checkpoints.
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(error = %error, "cannot checkpoint the SQLite WAL");
            }
            Err(_) => {}
        }
        tokio::time::sleep(SPACING).await;
    }
}

/// Starts [`run`] for the life of the process's `shutdown`.
pub fn spawn(db: &DatabaseConnection, shutdown: &CancellationToken) {
    if db.get_database_backend() == DbBackend::Sqlite {
        tokio::spawn(run(db.clone(), shutdown.clone()));
    }
}

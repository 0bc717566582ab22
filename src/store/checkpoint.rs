//! WAL checkpoints off the commit path (SQLite only).
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that commit
//! copies the WAL back into the database file and syncs it, and every webhook waiting on it waits
//! too (the p99 spikes of `docs/webhooks.md`, "Throughput"). A long-running process checkpoints
//! from a task of its own instead, `PASSIVE` (it never blocks the writer or readers). The automatic
//! checkpoint stays as a safety net at [`SAFETY_NET_PAGES`], for short-lived commands and for a
//! task that falls behind.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use tokio_util::sync::CancellationToken;

/// `wal_autocheckpoint` of every SQLite connection: about 40 MB of WAL (SQLite's default is 1,000
/// pages, 4 MB). Reached only when nothing else checkpoints.
pub const SAFETY_NET_PAGES: u32 = 10_000;

/// How often the task checkpoints: often enough that the WAL stays a few MB under load.
const INTERVAL: Duration = Duration::from_millis(250);

/// Checkpoints `db` every [`INTERVAL`] until `shutdown` (returns at once on PostgreSQL).
pub async fn run(db: DatabaseConnection, shutdown: CancellationToken) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let mut ticks = tokio::time::interval(INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
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
    }
}

/// Starts [`run`] for the life of the process's `shutdown`.
pub fn spawn(db: &DatabaseConnection, shutdown: &CancellationToken) {
    if db.get_database_backend() == DbBackend::Sqlite {
        tokio::spawn(run(db.clone(), shutdown.clone()));
    }
}

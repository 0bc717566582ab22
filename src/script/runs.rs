//! The last runs of each script tenant's functions, with what they logged, for the admin
//! console. A run is kept in memory at once (this process's console shows it) and stored in the
//! database by the next flush (every process's console shows it: a worker's pull on the
//! server's). The webhook path writes no row per delivery: a flusher (`spawn_flusher`) stores
//! the pending runs every `FLUSH_EVERY` in one transaction, the newest `KEPT` of each tenant,
//! and deletes older ones; `pull` flushes at once. The tenant's secrets are blanked from the
//! logs as they are recorded; the console masks the rest (emails, credentials) like payloads.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use secrecy::ExposeSecret;

use crate::ids::TenantId;
use crate::store::entities::script_run;
use crate::tenant::Tenant;

/// Runs kept per tenant (in memory and in the database).
pub const KEPT: usize = 20;
/// How often the flusher stores what is pending.
const FLUSH_EVERY: Duration = Duration::from_millis(250);
/// Runs waiting for a flush, at most (beyond, the oldest are dropped: only the last are shown).
const MAX_PENDING: usize = 2_000;

/// One run of a script function.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    /// When it ended (ms since the epoch).
    pub at: i64,
    pub function: &'static str,
    pub took: Duration,
    /// `Ok(events)`, or the error as the operator reads it.
    pub outcome: Result<usize, String>,
    pub logs: Vec<String>,
}

/// A run as the console shows it, from memory or from the database.
#[derive(Clone, Debug, PartialEq)]
pub struct ShownRun {
    pub run_id: String,
    pub at: i64,
    pub function: String,
    pub took_ms: i64,
    /// `Ok(events)` or the error.
    pub outcome: Result<usize, String>,
    pub logs: Vec<String>,
}

#[derive(Default)]
pub struct RunLog {
    recent: Mutex<HashMap<TenantId, VecDeque<ShownRun>>>,
    pending: Mutex<VecDeque<(TenantId, ShownRun)>>,
}

/// The process's run log.
pub fn run_log() -> &'static RunLog {
    static LOG: OnceLock<RunLog> = OnceLock::new();
    LOG.get_or_init(RunLog::default)
}

impl RunLog {
    pub fn record(&self, tenant: &Tenant, run: RunRecord) {
        let shown = ShownRun {
            run_id: uuid::Uuid::now_v7().simple().to_string(),
            at: run.at,
            function: run.function.to_owned(),
            took_ms: i64::try_from(run.took.as_millis()).unwrap_or(i64::MAX),
            outcome: run.outcome.map_err(|error| blank_secrets(tenant, &error)),
            logs: run.logs.iter().map(|l| blank_secrets(tenant, l)).collect(),
        };
        {
            let mut recent = lock(&self.recent);
            let kept = recent.entry(tenant.id).or_default();
            if kept.len() == KEPT {
                kept.pop_back();
            }
            kept.push_front(shown.clone());
        }
        let mut pending = lock(&self.pending);
        if pending.len() == MAX_PENDING {
            pending.pop_front();
        }
        pending.push_back((tenant.id, shown));
    }

    /// The tenant's last runs in this process, newest first.
    pub fn recent(&self, tenant: TenantId) -> Vec<ShownRun> {
        lock(&self.recent)
            .get(&tenant)
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Stores the pending runs (the newest `KEPT` of each tenant) and deletes each such
    /// tenant's older ones, in one transaction. On failure they are dropped (logged).
    pub async fn flush(&self, db: &DatabaseConnection) {
        let pending: Vec<(TenantId, ShownRun)> = lock(&self.pending).drain(..).collect();
        if pending.is_empty() {
            return;
        }
        if let Err(error) = store(db, pending).await {
            tracing::warn!(error = %error, "cannot store the script runs");
        }
    }
}

async fn store(db: &DatabaseConnection, pending: Vec<(TenantId, ShownRun)>) -> Result<(), DbErr> {
    let mut by_tenant: HashMap<TenantId, Vec<ShownRun>> = HashMap::new();
    for (tenant, run) in pending.into_iter().rev() {
        let runs = by_tenant.entry(tenant).or_default();
        if runs.len() < KEPT {
            runs.push(run);
        }
    }
    let _turn = crate::store::write_turn(db).await;
    let txn = db.begin().await?;
    for (tenant, runs) in by_tenant {
        let rows = runs.into_iter().map(|run| script_run::ActiveModel {
            tenant_id: Set(tenant.0),
            run_id: Set(run.run_id),
            at: Set(run.at),
            function: Set(run.function),
            took_ms: Set(run.took_ms),
            ok: Set(run.outcome.is_ok()),
            outcome: Set(match run.outcome {
                Ok(events) => events.to_string(),
                Err(error) => error,
            }),
            logs: Set(serde_json::to_string(&run.logs).unwrap_or_default()),
            ..Default::default()
        });
        script_run::Entity::insert_many(rows).exec(&txn).await?;
        prune(&txn, tenant).await?;
    }
    txn.commit().await
}

/// Deletes the tenant's runs beyond the newest `KEPT`.
async fn prune(db: &impl ConnectionTrait, tenant: TenantId) -> Result<(), DbErr> {
    let oldest_kept = script_run::Entity::find()
        .filter(script_run::Column::TenantId.eq(tenant.0))
        .order_by_desc(script_run::Column::Id)
        .offset(KEPT as u64 - 1)
        .limit(1)
        .one(db)
        .await?;
    if let Some(oldest_kept) = oldest_kept {
        script_run::Entity::delete_many()
            .filter(script_run::Column::TenantId.eq(tenant.0))
            .filter(script_run::Column::Id.lt(oldest_kept.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The tenant's last runs: the stored ones (every process's) and this process's not stored
/// yet, newest first.
pub async fn last_runs(db: &DatabaseConnection, tenant: TenantId) -> Result<Vec<ShownRun>, DbErr> {
    let stored = script_run::Entity::find()
        .filter(script_run::Column::TenantId.eq(tenant.0))
        .order_by_desc(script_run::Column::At)
        .order_by_desc(script_run::Column::Id)
        .limit(KEPT as u64)
        .all(db)
        .await?;
    let mut runs: Vec<ShownRun> = stored
        .into_iter()
        .map(|row| ShownRun {
            outcome: if row.ok {
                Ok(row.outcome.parse().unwrap_or_default())
            } else {
                Err(row.outcome)
            },
            logs: serde_json::from_str(&row.logs).unwrap_or_default(),
            run_id: row.run_id,
            at: row.at,
            function: row.function,
            took_ms: row.took_ms,
        })
        .collect();
    for run in run_log().recent(tenant) {
        if !runs.iter().any(|r| r.run_id == run.run_id) {
            runs.push(run);
        }
    }
    runs.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| b.run_id.cmp(&a.run_id)));
    runs.truncate(KEPT);
    Ok(runs)
}

/// Stores the process's pending runs every `FLUSH_EVERY`, until `alive` is gone (its owner, the
/// webhook state, was dropped); then a last time.
pub fn spawn_flusher(db: DatabaseConnection, alive: Weak<()>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(FLUSH_EVERY).await;
            run_log().flush(&db).await;
            if alive.upgrade().is_none() {
                return;
            }
        }
    });
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `text` with the tenant's ATS secrets (which the script may print) replaced by `***`.
pub fn blank_secrets(tenant: &Tenant, text: &str) -> String {
    let ats = &tenant.config.ats;
    let mut text = text.to_owned();
    for secret in [&ats.token, &ats.webhook_secret].into_iter().flatten() {
        let secret = secret.expose_secret();
        if secret.len() >= 4 {
            text = text.replace(secret, "***");
        }
    }
    text
}

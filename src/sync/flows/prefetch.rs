//! What a job of `apply_event` starts from: its stored event, its tenant (opened), the last
//! applied version of the event's subject, and what it will look up (`reads`). A claimed batch
//! loads them for all its jobs in a few queries; a job that finds nothing prefetched loads its
//! own starting point in three and looks up the rest as it goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::{DatabaseConnection, DbErr};

use super::db_error;
use super::reads::BatchReads;
use crate::events::InboundEvent;
use crate::ids::{EventId, JobId, TenantId};
use crate::inbox::{self, EventWithVersion};
use crate::queue::ClaimedJob;
use crate::sync::{JobError, state};
use crate::tenant::{Directory, Tenant};

/// A job's starting point.
pub struct Loaded {
    pub event_id: i64,
    pub event: InboundEvent,
    pub tenant: Arc<Tenant>,
    /// When the last applied event of the event's subject occurred, if one was.
    pub applied: Option<i64>,
    /// What the job will look up, when its batch read it.
    pub reads: Arc<BatchReads>,
}

/// Starting points loaded for claimed jobs, taken by each job when it runs.
#[derive(Default)]
pub struct Prefetched(Mutex<HashMap<JobId, Loaded>>);

impl Prefetched {
    pub fn take(&self, job: JobId) -> Option<Loaded> {
        self.lock().remove(&job)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<JobId, Loaded>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loads the starting points of `jobs`. A job whose event or tenant cannot be loaded gets
    /// none, and finds out why when it loads its own.
    pub async fn load(
        &self,
        db: &DatabaseConnection,
        tenants: &Directory,
        jobs: &[&ClaimedJob],
    ) -> Result<(), DbErr> {
        let event_ids: Vec<(JobId, i64)> = jobs
            .iter()
            .filter_map(|job| Some((job.id, event_id_of(job)?)))
            .collect();
        if event_ids.is_empty() {
            return Ok(());
        }
        let events = load_events(db, event_ids.iter().map(|(_, id)| *id)).await?;
        let tenant_ids: Vec<TenantId> =
            events.values().map(|row| TenantId(row.tenant_id)).collect();
        let opened = tenants.by_ids(&tenant_ids).await?;
        let mut ready = Vec::with_capacity(jobs.len());
        for (job, (_, event_id)) in jobs.iter().zip(event_ids) {
            let Some(row) = events.get(&event_id) else {
                continue;
            };
            let Some(tenant) = opened.get(&TenantId(row.tenant_id)) else {
                continue;
            };
            if row.tenant_id != job.tenant.0 {
                continue;
            }
            let Ok(event) = serde_json::from_str::<InboundEvent>(&row.normalized) else {
                continue;
            };
            let applied = row.applied.as_deref().and_then(|v| v.parse().ok());
            let loaded = Loaded {
                event_id,
                event,
                tenant: tenant.clone(),
                applied,
                reads: Arc::default(),
            };
            ready.push((*job, loaded));
        }
        let events: Vec<(&ClaimedJob, &InboundEvent)> = ready
            .iter()
            .map(|(job, loaded)| (*job, &loaded.event))
            .collect();
        let reads = match BatchReads::load(db, &events).await {
            Ok(reads) => Arc::new(reads),
            Err(error) => {
                tracing::warn!(error = %error, "batch reads failed; each job reads its own");
                Arc::default()
            }
        };
        let mut prefetched = self.lock();
        for (job, mut loaded) in ready {
            loaded.reads = reads.clone();
            prefetched.insert(job.id, loaded);
        }
        Ok(())
    }
}

/// The stored event a job applies, named by its payload.
pub fn event_id_of(job: &ClaimedJob) -> Option<i64> {
    job.payload.get("event_id").and_then(|v| v.as_i64())
}

async fn load_events(
    db: &DatabaseConnection,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, EventWithVersion>, DbErr> {
    let ids: Vec<i64> = ids.collect();
    Ok(inbox::events_with_version(db, state::VERSION_PREFIX, &ids)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect())
}

/// A job's starting point read on its own: the event, the tenant, then the version.
pub async fn load_one(
    db: &DatabaseConnection,
    tenants: &Directory,
    job: &ClaimedJob,
) -> Result<Loaded, JobError> {
    let event_id = event_id_of(job).ok_or_else(|| JobError::permanent("the job names no event"))?;
    let row = inbox::find_event(db, EventId(event_id))
        .await
        .map_err(db_error)?
        .ok_or_else(|| JobError::permanent(format!("event evt_{event_id} is gone")))?;
    if row.tenant_id != job.tenant.0 {
        return Err(JobError::permanent("the event belongs to another tenant"));
    }
    let event: InboundEvent = serde_json::from_str(&row.normalized)
        .map_err(|e| JobError::permanent(format!("stored event does not parse: {e}")))?;
    let tenant = open_tenant(tenants, job.tenant).await?;
    let applied = match (event.subject(), event.occurred_at) {
        (Some(subject), Some(_)) => state::applied_version(db, tenant.id, &subject)
            .await
            .map_err(db_error)?,
        _ => None,
    };
    Ok(Loaded {
        event_id,
        event,
        tenant,
        applied,
        reads: Arc::default(),
    })
}

async fn open_tenant(tenants: &Directory, id: TenantId) -> Result<Arc<Tenant>, JobError> {
    match tenants.by_id(id).await {
        Ok(Some(tenant)) => Ok(tenant),
        Ok(None) => Err(JobError::permanent("the tenant is gone")),
        Err(error) => Err(JobError::transient(format!(
            "cannot load tenant: {error:#}"
        ))),
    }
}

//! A script tenant's inputs to `catch`, prepared once per tenant version instead of on every
//! delivery: the program (its SHA-256 computed once) and its `settings` as JSON text, which
//! includes what the last `pull` persisted. The tenant directory hands out a new `Tenant` when
//! `tenant apply` changed it, which makes a new entry here; the persisted part is read again
//! at most every `SETTINGS_TTL` (a `pull` in another process is seen within that delay).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr};
use serde_json::{Map, Value};

use super::{Program, ScriptError};
use crate::ats::poll::read_cursor;
use crate::ats::script::STATE_SOURCE;
use crate::ids::TenantId;
use crate::tenant::Tenant;

/// How long the persisted settings are used before they are read again.
pub const SETTINGS_TTL: Duration = crate::tenant::SLUG_TTL;

/// What a delivery to a script tenant needs from the store and the tenant file.
pub struct Prepared {
    pub program: Program,
    /// `settings` as the script gets it (`script::settings_of`), as JSON text.
    pub settings: Arc<str>,
}

/// Why a tenant's inputs could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Script(#[from] ScriptError),
    #[error("cannot read the script's persisted settings: {0}")]
    Database(#[from] DbErr),
}

struct Entry {
    /// The tenant as opened when this was prepared: another one means `tenant apply` ran.
    tenant: Arc<Tenant>,
    prepared: Arc<Prepared>,
    read_at: Instant,
}

/// The prepared inputs of the process's script tenants. Cheap to clone.
#[derive(Clone, Default)]
pub struct PreparedScripts {
    entries: Arc<Mutex<HashMap<TenantId, Entry>>>,
}

impl PreparedScripts {
    /// The tenant's inputs, from memory when they are still current.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        tenant: &Arc<Tenant>,
    ) -> Result<Arc<Prepared>, PrepareError> {
        if let Some(entry) = self.lock().get(&tenant.id)
            && Arc::ptr_eq(&entry.tenant, tenant)
            && entry.read_at.elapsed() < SETTINGS_TTL
        {
            return Ok(entry.prepared.clone());
        }
        let read_at = Instant::now();
        let persisted = read_cursor(db, tenant.id, STATE_SOURCE)
            .await?
            .and_then(|text| serde_json::from_str::<Map<String, Value>>(&text).ok());
        let program = match self.lock().get(&tenant.id) {
            // The same tenant version: only the persisted settings are read again.
            Some(entry) if Arc::ptr_eq(&entry.tenant, tenant) => entry.prepared.program.clone(),
            _ => super::program_of(tenant)?,
        };
        let prepared = Arc::new(Prepared {
            program,
            settings: super::settings_of(tenant, persisted.as_ref())
                .to_string()
                .into(),
        });
        self.lock().insert(
            tenant.id,
            Entry {
                tenant: tenant.clone(),
                prepared: prepared.clone(),
                read_at,
            },
        );
        Ok(prepared)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

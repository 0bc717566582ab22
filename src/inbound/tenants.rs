//! A small cache of opened tenants, so the webhook hot path does not read and decrypt the
//! tenant on every request. Entries live `TTL`: a `tenant apply` is seen within that delay.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use crate::crypto::MasterKey;
use crate::tenant::{self, Tenant};

const TTL: Duration = Duration::from_secs(5);
/// Beyond this many cached slugs (unknown ones included), the cache starts over.
const MAX_ENTRIES: usize = 10_000;

/// When an entry was read, and the tenant (None: no tenant has that slug).
type Entries = HashMap<String, (Instant, Option<Arc<Tenant>>)>;

#[derive(Clone, Default)]
pub struct TenantCache {
    entries: Arc<Mutex<Entries>>,
}

impl TenantCache {
    /// The tenant named `slug` (None: no such tenant), from the cache or the store.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        key: &MasterKey,
        slug: &str,
    ) -> anyhow::Result<Option<Arc<Tenant>>> {
        if let Some((at, tenant)) = self.lock().get(slug)
            && at.elapsed() < TTL
        {
            return Ok(tenant.clone());
        }
        // Slugs outside the tenant alphabet cannot exist: no query for them.
        let found = if crate::tenant::is_valid_slug(slug) {
            tenant::find(db, key, slug).await?.map(Arc::new)
        } else {
            None
        };
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(slug.to_owned(), (Instant::now(), found.clone()));
        Ok(found)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

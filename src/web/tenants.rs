//! Tenants as pages need them, kept for a few seconds: a page view should not open the tenant's
//! sealed secrets from the database every time (an ATS page may hold many iframes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use crate::crypto::MasterKey;
use crate::tenant::{self, Tenant};

/// How long a tenant's settings are reused before they are read again.
pub const TENANT_TTL: Duration = Duration::from_secs(5);

#[derive(Default)]
pub struct TenantCache {
    tenants: Mutex<HashMap<String, (Instant, Arc<Tenant>)>>,
}

impl TenantCache {
    /// The tenant `slug`, or None when there is no such tenant.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        key: &MasterKey,
        slug: &str,
    ) -> anyhow::Result<Option<Arc<Tenant>>> {
        {
            let tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((at, tenant)) = tenants.get(slug)
                && at.elapsed() < TENANT_TTL
            {
                return Ok(Some(tenant.clone()));
            }
        }
        // Slugs are validated shapes; refuse others before touching the database.
        if !tenant::is_slug(slug) {
            return Ok(None);
        }
        let Some(found) = tenant::find(db, key, slug).await? else {
            return Ok(None);
        };
        let found = Arc::new(found);
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        if tenants.len() > 10_000 {
            tenants.clear();
        }
        tenants.insert(slug.to_owned(), (Instant::now(), found.clone()));
        Ok(Some(found))
    }
}

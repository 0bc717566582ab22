//! What the process-wide ATS adapters need from the application that calls them: the state every
//! Liaison process of a tenant shares through the database (Lever's OAuth grant, its rate
//! budget). The adapters are built once per process; the application (its database) need not be
//! one per process (tests run many), so it is handed to them like `PartnerCalls`: set around
//! each adapter call with `scope`, read with `current`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::crypto::MasterKey;
use crate::suite::auth::{SuiteOAuth, TokenManager, TokenSource};
use crate::suite::error::SuiteError;
use crate::suite::grant_store::{GrantParty, GrantStore};
use crate::tenant::Tenant;

tokio::task_local! {
    static CURRENT: AtsShared;
}

/// One application's shared ATS state. Cheap to clone.
#[derive(Clone)]
pub struct AtsShared {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    master_key: Option<MasterKey>,
    /// How long one process may hold a grant's refresh lease.
    refresh_lease: Duration,
    /// Each tenant's access-token cache per party, with what it was built from.
    tokens: Mutex<HashMap<(i64, GrantParty), BuiltTokens>>,
}

/// A token cache and the fingerprint of the settings it was built from.
type BuiltTokens = (String, Arc<TokenManager>);

impl AtsShared {
    pub fn new(
        db: DatabaseConnection,
        master_key: Option<MasterKey>,
        refresh_lease: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                master_key,
                refresh_lease,
                tokens: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Runs `work` (adapter calls) with `self` as the current shared state.
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// The shared state of the enclosing `scope`, if any.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok()
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    pub fn refresh_lease(&self) -> Duration {
        self.inner.refresh_lease
    }

    /// The tenant's access tokens at `party`, from its grant in the database: one cache per
    /// tenant and party in this application, rebuilt when `fingerprint` (what `oauth` is built
    /// from) changed.
    pub fn tokens(
        &self,
        tenant: &Tenant,
        party: GrantParty,
        fingerprint: String,
        oauth: impl FnOnce() -> Result<SuiteOAuth, SuiteError>,
    ) -> Result<Arc<TokenManager>, SuiteError> {
        let mut tokens = self
            .inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let slot = (tenant.id.0, party);
        if let Some((built_from, manager)) = tokens.get(&slot)
            && *built_from == fingerprint
        {
            return Ok(manager.clone());
        }
        let key = self.inner.master_key.clone().ok_or_else(|| {
            SuiteError::Config("the authorization code needs the master key".to_owned())
        })?;
        let grants = GrantStore::new(
            self.inner.db.clone(),
            key,
            tenant.id,
            tenant.slug(),
            self.inner.refresh_lease,
        )
        .for_party(party);
        let manager = Arc::new(TokenManager::new(TokenSource::AuthorizationCode {
            oauth: oauth()?,
            grants,
        }));
        tokens.insert(slot, (fingerprint, manager.clone()));
        Ok(manager)
    }

    /// Forgets the tenant's cached tokens at `party` (after a new authorisation).
    pub fn forget(&self, tenant_id: i64, party: GrantParty) {
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&(tenant_id, party));
    }
}

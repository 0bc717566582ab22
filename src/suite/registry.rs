//! `SuiteClients`: one `SuiteClient` per tenant, built on first use and kept (with its token
//! cache and limits) by the process. A tenant whose suite settings changed gets a new client.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};

use super::client::{SuiteClient, refresh_lease};
use super::error::SuiteError;
use super::grant_store::GrantStore;
use super::http::build_http_client;
use crate::config::{Settings, SuiteClientSettings};
use crate::crypto::MasterKey;
use crate::health::Side;
use crate::telemetry::PartnerCalls;
use crate::tenant::{SuiteAuth, Tenant};

#[derive(Clone)]
pub struct SuiteClients {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    settings: SuiteClientSettings,
    db: DatabaseConnection,
    master_key: Option<MasterKey>,
    public_url: String,
    /// Each tenant's client records its calls here.
    calls: PartnerCalls,
    /// By slug: the settings fingerprint the client was built from, and the client.
    clients: Mutex<HashMap<String, (String, Arc<SuiteClient>)>>,
}

impl SuiteClients {
    pub fn new(
        settings: &Settings,
        db: DatabaseConnection,
        master_key: Option<MasterKey>,
    ) -> Result<Self, SuiteError> {
        Self::recording(settings, db, master_key, PartnerCalls::disabled())
    }

    /// Like `new`, with every tenant's calls recorded in `calls` (metrics, spans, health).
    pub fn recording(
        settings: &Settings,
        db: DatabaseConnection,
        master_key: Option<MasterKey>,
        calls: PartnerCalls,
    ) -> Result<Self, SuiteError> {
        Ok(Self {
            inner: Arc::new(Inner {
                http: build_http_client(&settings.suite_client)?,
                settings: settings.suite_client.clone(),
                db,
                master_key,
                public_url: settings.public_url.clone(),
                calls,
                clients: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The tenant's client, built on first use.
    pub fn for_tenant(&self, tenant: &Tenant) -> Result<Arc<SuiteClient>, SuiteError> {
        let fingerprint = fingerprint(tenant);
        let mut clients = self
            .inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((built_from, client)) = clients.get(tenant.slug())
            && *built_from == fingerprint
        {
            return Ok(client.clone());
        }
        let grants = match tenant.config.suite.auth {
            SuiteAuth::ClientCredentials => None,
            SuiteAuth::AuthorizationCode => Some(self.grant_store(tenant)?),
        };
        let client = Arc::new(
            SuiteClient::new(
                self.inner.http.clone(),
                tenant.slug(),
                &tenant.config.suite,
                &self.inner.settings,
                grants,
            )?
            .with_recorder(
                self.inner
                    .calls
                    .recorder("suite", Some((tenant.id.0, Side::Suite))),
            ),
        );
        clients.insert(tenant.slug().to_owned(), (fingerprint, client.clone()));
        Ok(client)
    }

    /// Drops the tenant's client (and its cached token), e.g. after a new authorisation.
    pub fn forget(&self, slug: &str) {
        self.inner
            .clients
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(slug);
    }

    pub fn grant_store(&self, tenant: &Tenant) -> Result<GrantStore, SuiteError> {
        let key = self.inner.master_key.clone().ok_or_else(|| {
            SuiteError::Config("authorization_code needs the master key".to_owned())
        })?;
        Ok(GrantStore::new(
            self.inner.db.clone(),
            key,
            tenant.id,
            tenant.slug(),
            self.refresh_lease(),
        ))
    }

    /// The outbound HTTP client (for the OAuth callback's code exchange).
    pub fn http(&self) -> reqwest::Client {
        self.inner.http.clone()
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    /// Where this process records partner calls.
    pub fn calls(&self) -> &PartnerCalls {
        &self.inner.calls
    }

    pub fn refresh_lease(&self) -> std::time::Duration {
        refresh_lease(&self.inner.settings)
    }
}

/// What the client is built from; secrets enter only hashed.
fn fingerprint(tenant: &Tenant) -> String {
    let suite = &tenant.config.suite;
    let mut hasher = Sha256::new();
    for part in [
        suite.base_url.as_str(),
        suite.client_id.as_str(),
        suite
            .client_secret
            .as_ref()
            .map(|s| s.expose_secret())
            .unwrap_or(""),
        match suite.auth {
            SuiteAuth::ClientCredentials => "client_credentials",
            SuiteAuth::AuthorizationCode => "authorization_code",
        },
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    format!("{:x}", hasher.finalize())
}

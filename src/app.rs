//! The HTTP layer's state, `AppState`: what every handler can reach, and the parts the layers
//! below are built from (each gets only its own sub-state or context: `FromRef` for routers,
//! `background()` for the workers and the scheduler). The server itself (`App`) is in
//! `http::server`, re-exported here.

use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::FromRef;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub use crate::http::server::{App, serve_health, shutdown_on_signal};

use crate::ats::Pollers;
use crate::ats::shared::AtsShared;
use crate::config::Settings;
use crate::crypto::{MasterKey, NoMasterKey};
use crate::health::HealthBook;
use crate::suite::SuiteClients;
use crate::suite::callback::CallbackState;
use crate::sync::runtime::Background;
use crate::telemetry::{Metrics, PartnerCalls};
use crate::tenant::Directory;

/// Below this, an `admin_token` is accepted (at least 16) but warned about at start.
pub const RECOMMENDED_ADMIN_TOKEN_LEN: usize = 32;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub master_key: Option<MasterKey>,
    /// The process's one directory of opened tenants (None without a master key: nothing can
    /// be opened then). The webhook path, the pages and the background side share it.
    pub tenants: Option<Directory>,
    pub metrics: Arc<Metrics>,
    /// Connection health, recorded by partner calls and flushed to the database.
    pub health: HealthBook,
    /// Where partner calls are recorded (metrics, spans, health).
    pub partner_calls: PartnerCalls,
    /// One suite client per tenant (token cache, limits).
    pub suite_clients: SuiteClients,
    /// What the ATS adapters share with the tenant's other processes (Lever's OAuth grant).
    pub ats_shared: AtsShared,
    /// The embed pages' session keys and caches.
    pub web: crate::web::WebState,
    pub shutdown: CancellationToken,
    /// Wakes this process's workers when work was just enqueued (they poll otherwise).
    pub wake: Arc<Notify>,
    /// The webhook path: the inbox's group-commit writer and the tenant cache.
    pub inbound: Arc<crate::inbound::InboundState>,
    /// For identity providers (OIDC discovery, tokens, userinfo).
    pub oidc_http: openidconnect::reqwest::Client,
    /// The SSO endpoints' limits and identity-provider caches.
    pub sso: crate::sso::SsoState,
    /// Failed admin-token sign-ins per client (console form and API bearer).
    pub sign_ins: Arc<crate::admin::throttle::SignInThrottle>,
}

impl AppState {
    /// The tenant directory; there is none without a master key.
    pub fn tenants(&self) -> Result<&Directory, NoMasterKey> {
        self.tenants.as_ref().ok_or(NoMasterKey)
    }

    /// The state of a process, with or without an HTTP listener (`liaison worker` has none).
    pub fn build(settings: Settings, db: DatabaseConnection) -> anyhow::Result<Self> {
        let master_key = settings.require_master_key().ok();
        let metrics = Metrics::new();
        let health = HealthBook::new();
        health.spawn_flusher(db.clone());
        let partner_calls = PartnerCalls::new(metrics.clone(), health.clone());
        let suite_clients = SuiteClients::recording(
            &settings,
            db.clone(),
            master_key.clone(),
            partner_calls.clone(),
        )?;
        let ats_shared = AtsShared::new(
            db.clone(),
            master_key.clone(),
            crate::suite::refresh_lease(&settings.suite_client),
        );
        let wake = Arc::new(Notify::new());
        let settings_sso = settings.sso.clone();
        if let Some(token) = &settings.admin_token
            && secrecy::ExposeSecret::expose_secret(token).len() < RECOMMENDED_ADMIN_TOKEN_LEN
        {
            tracing::warn!(
                "`admin_token` is shorter than {RECOMMENDED_ADMIN_TOKEN_LEN} characters: use a \
                 long random one (`head -c 32 /dev/urandom | base64`)"
            );
        }
        let sign_ins = Arc::new(crate::admin::throttle::SignInThrottle::new(
            settings.admin.sign_in_attempts,
            std::time::Duration::from_secs(settings.admin.sign_in_window_seconds),
        ));
        let tenants = master_key
            .clone()
            .map(|key| Directory::new(db.clone(), key));
        let inbound = Arc::new(crate::inbound::InboundState::start(
            db.clone(),
            tenants.clone(),
            settings.queue.max_attempts,
            wake.clone(),
            metrics.clone(),
        ));
        Ok(AppState {
            db,
            suite_clients,
            ats_shared,
            web: crate::web::WebState::new(master_key.as_ref()),
            settings: Arc::new(settings),
            master_key,
            tenants,
            metrics,
            health,
            partner_calls,
            shutdown: CancellationToken::new(),
            wake,
            inbound,
            oidc_http: crate::sso::oidc::http_client(),
            sso: crate::sso::SsoState::new(&settings_sso),
            sign_ins,
        })
    }

    /// What polls and subscription checks run on.
    pub fn pollers(&self) -> Pollers {
        Pollers {
            db: self.db.clone(),
            max_attempts: self.settings.queue.max_attempts,
            partner_calls: self.partner_calls.clone(),
            wake: self.wake.clone(),
            public_url: self.settings.public_url.clone(),
            ats_shared: self.ats_shared.clone(),
        }
    }

    /// What the workers and the scheduler run on; refused without a master key.
    pub fn background(&self) -> anyhow::Result<Background> {
        let tenants = self
            .tenants
            .clone()
            .context("`master_key` is required to run workers")?;
        Ok(Background {
            db: self.db.clone(),
            tenants,
            queue: self.settings.queue.clone(),
            workers: self.settings.workers,
            metrics: self.metrics.clone(),
            health: self.health.clone(),
            suite_clients: self.suite_clients.clone(),
            pollers: self.pollers(),
        })
    }
}

/// A process's state without a listener (`liaison worker`), stopped by `shutdown`.
pub fn process_state(
    settings: Settings,
    db: DatabaseConnection,
    shutdown: CancellationToken,
) -> anyhow::Result<AppState> {
    Ok(AppState {
        shutdown,
        ..AppState::build(settings, db)?
    })
}

impl FromRef<AppState> for CallbackState {
    fn from_ref(state: &AppState) -> Self {
        CallbackState {
            db: state.db.clone(),
            master_key: state.master_key.clone(),
            clients: state.suite_clients.clone(),
            ats_shared: state.ats_shared.clone(),
        }
    }
}

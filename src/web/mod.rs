//! The integration frontend: pages the ATS embeds in iframes (`/embed/...`), their sessions
//! (launch tokens, signed sessions in a partitioned cookie or in the links), CSRF tokens, the
//! security headers, the pages' two languages, and their HTML errors. See `docs/frontend.md`.

pub mod access;
pub mod cache;
pub mod error;
pub mod headers;
pub mod i18n;
pub mod launch;
pub mod pages;
pub mod port;
pub mod session;
pub mod spent;
pub mod suite_source;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::get;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::app::AppState;
use crate::crypto::MasterKey;
use crate::suite::SuiteClients;
use crate::tenant::Tenant;
use cache::PageCache;
use error::PageError;
use pages::{ApplicationData, JobData};
use port::PageSource;
use session::SessionKeys;
use suite_source::SuiteSource;

/// What the pages keep between requests. Cheap to clone.
#[derive(Clone)]
pub struct WebState {
    inner: Arc<Inner>,
}

struct Inner {
    keys: SessionKeys,
    jobs: PageCache<JobData>,
    applications: PageCache<ApplicationData>,
}

impl WebState {
    /// Sessions are signed under a key derived from the master key; without one (nothing can
    /// be served then anyway) a random key is used.
    pub fn new(master_key: Option<&MasterKey>) -> Self {
        Self::with_cache_ttl(master_key, cache::FRESH_FOR)
    }

    /// Like `new`, with suite reads kept fresh for `fresh_for` (tests shorten it).
    pub fn with_cache_ttl(master_key: Option<&MasterKey>, fresh_for: Duration) -> Self {
        let key = master_key.map_or_else(rand::random, |key| {
            key.derive_key("liaison web sessions v1")
        });
        Self {
            inner: Arc::new(Inner {
                keys: SessionKeys::new(key),
                jobs: PageCache::new(fresh_for, cache::MAX_ENTRIES),
                applications: PageCache::new(fresh_for, cache::MAX_ENTRIES),
            }),
        }
    }

    pub fn keys(&self) -> &SessionKeys {
        &self.inner.keys
    }

    pub fn jobs(&self) -> &PageCache<JobData> {
        &self.inner.jobs
    }

    pub fn applications(&self) -> &PageCache<ApplicationData> {
        &self.inner.applications
    }

    /// The suite as the pages read it, for `tenant`.
    pub fn source(
        &self,
        suite_clients: &SuiteClients,
        tenant: &Tenant,
    ) -> Result<Box<dyn PageSource>, PageError> {
        let client = suite_clients
            .for_tenant(tenant)
            .map_err(|error| PageError::Internal(error.into()))?;
        Ok(Box::new(SuiteSource::new(client)))
    }
}

/// Where the stylesheet and script are: `./static` when present (a deployment), else the
/// source tree's.
fn static_dir() -> PathBuf {
    let here = PathBuf::from("static");
    if here.join("liaison.css").is_file() {
        return here;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
}

pub fn router() -> Router<AppState> {
    let assets = ServeDir::new(static_dir());
    Router::new()
        .route(
            "/embed/{tenant}/jobs/{ats_job_id}",
            get(pages::show_job_page),
        )
        .route(
            "/embed/{tenant}/applications/{ats_application_id}",
            get(pages::show_application_page),
        )
        .nest_service(
            "/static",
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ))
                .service(assets),
        )
}

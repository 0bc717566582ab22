//! ATS adapters: one folder per ATS kind, each implementing [`AtsAdapter`], and the registry
//! ([`adapter_for`]). Partner formats stop here: adapters turn deliveries, REST objects and feeds
//! into Liaison's own types (`crate::events`).
//!
//! Adding an ATS = one folder under `src/ats/` implementing the trait + one line in `adapter_for`.

pub mod authorization;
pub mod capabilities;
pub mod error;
pub mod greenhouse_assessment;
pub mod gupy;
pub mod http_client;
pub mod lever;
pub mod poll;
pub mod rate_budget;
pub mod script;
pub mod shared;
pub mod signed_json;
pub mod teamtailor;
pub mod xml_feed;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

pub use capabilities::{
    AtsSubscription, Delivery, OrderReport, OwnReception, PreviewError, PreviewFuture,
    PreviewGuide, ReceptionFuture, SamplePreview, SubscriptionReport, Subscriptions, webhook_url,
};
pub use error::{AdapterError, ParseError};
pub use poll::{PollReport, Pollers, check_subscriptions, poll_once};

use crate::events::{AtsApplication, AtsJob, InboundEvent};
use crate::signature::{Unverified, Verified, VerifyError};
use crate::tenant::{AtsKind, Tenant};

/// What adapters' I/O methods return: boxed, so the trait stays object-safe without a macro.
pub type AdapterFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AdapterError>> + Send + 'a>>;

/// Where an application lives at the ATS (Gupy addresses applications under their job).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationRef {
    pub ats_job_id: String,
    pub ats_application_id: String,
}

/// A result written back on an application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteBack {
    /// Setting a tag the application has already changes nothing (idempotent).
    Tag(String),
    /// NOT idempotent at the ATS: the caller makes sure each comment is posted once. `score`:
    /// the result's average score (0-100) when the comment reports one, for ATSs whose notes
    /// carry a score field (Lever); the others ignore it.
    Comment { text: String, score: Option<u8> },
}

/// What a poll needs: the store (snapshots, cursors, the inbox) and the tenant.
pub struct PollContext<'a> {
    pub db: &'a DatabaseConnection,
    pub tenant: &'a Tenant,
    /// `max_attempts` of the `apply_event` jobs the poll enqueues.
    pub max_attempts: u32,
}

/// One ATS kind.
pub trait AtsAdapter: Send + Sync {
    fn kind(&self) -> AtsKind;

    /// The ATS's name in messages to people (`Gupy`); its kind's name unless it says.
    fn name(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Whether a body sent without `Content-Type` is JSON (Gupy sends only its `clientHeaders`).
    fn json_without_content_type(&self) -> bool {
        false
    }

    /// How this kind's changes reach Liaison.
    fn delivery(&self) -> Delivery;

    /// Whether this kind reads its webhook deliveries itself ([`OwnReception`]: several events,
    /// its own answer); `None`: the route reads them (`verify`, then one event from `parse`).
    fn own_reception(&self) -> Option<&dyn OwnReception> {
        None
    }

    /// Whether results can be written back on applications ([`AtsAdapter::write_back`]).
    fn writes_back(&self) -> bool {
        false
    }

    /// Whether results can be written back for this tenant (a script tenant: when its script
    /// exports `writeBack`).
    fn writes_back_for(&self, tenant: &Tenant) -> bool {
        let _ = tenant;
        self.writes_back()
    }

    /// How often a tenant polls when its configuration does not say; `None`: only when it says.
    fn default_poll_interval(&self) -> Option<Duration> {
        None
    }

    /// The table where the kind keeps a snapshot of the tenant's ATS objects, when it does (the
    /// console counts its rows).
    fn snapshot_table(&self) -> Option<&'static str> {
        None
    }

    /// The tenant's webhook subscriptions, for a kind with a subscription API
    /// ([`Delivery::Subscribed`]).
    fn subscriptions<'a>(
        &'a self,
        tenant: &'a Tenant,
    ) -> Result<Box<dyn Subscriptions + 'a>, AdapterError> {
        let _ = tenant;
        Err(AdapterError::Unsupported {
            kind: self.kind().as_str(),
            operation: "manage webhook subscriptions",
        })
    }

    /// How the console offers [`AtsAdapter::preview`]: its heading and what to paste.
    fn preview_guide(&self) -> PreviewGuide {
        PreviewGuide::default()
    }

    /// What a sample payload would become, read exactly as the kind reads its input (a
    /// delivery by default); nothing is stored or enqueued.
    fn preview<'a>(&'a self, tenant: &'a Tenant, sample: &'a str) -> PreviewFuture<'a> {
        let preview = capabilities::preview_delivery(self, tenant, sample);
        Box::pin(async move { preview })
    }

    /// Checks the delivery's authentication on its raw bytes, in constant time.
    ///
    /// By default nothing verifies: a kind whose ATS calls the partner routes
    /// ([`Delivery::PartnerApi`]) takes no webhooks on `POST /webhooks/{tenant}/ats`.
    fn verify(
        &self,
        tenant: &Tenant,
        delivery: &Unverified,
        now: DateTime<Utc>,
    ) -> Result<(), VerifyError> {
        let _ = (tenant, delivery, now);
        Err(VerifyError::InvalidSignature)
    }

    /// Turns a verified delivery (its body already as JSON: form fields are top-level keys) into
    /// Liaison's event. A payload that is understood but not acted upon is `EventBody::Ignored`.
    fn parse(
        &self,
        tenant: &Tenant,
        delivery: &Verified,
        payload: &serde_json::Value,
    ) -> Result<InboundEvent, ParseError> {
        let _ = (tenant, delivery, payload);
        Err(ParseError::new(match self.delivery() {
            Delivery::PartnerApi { routes } => {
                format!("{} sends its orders to {routes}, not webhooks", self.name())
            }
            _ => format!("{} sends no webhooks", self.name()),
        }))
    }

    /// The job as the ATS has it now (enrichment of a thin webhook, in the worker).
    fn fetch_job<'a>(
        &'a self,
        tenant: &'a Tenant,
        ats_job_id: &'a str,
    ) -> AdapterFuture<'a, AtsJob> {
        let _ = (tenant, ats_job_id);
        unsupported(self.kind(), "fetch a job")
    }

    /// The application as the ATS has it now.
    fn fetch_application<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
    ) -> AdapterFuture<'a, AtsApplication> {
        let _ = (tenant, application);
        unsupported(self.kind(), "fetch an application")
    }

    /// Writes a result (tag or comment) on an application.
    fn write_back<'a>(
        &'a self,
        tenant: &'a Tenant,
        application: &'a ApplicationRef,
        result: &'a WriteBack,
    ) -> AdapterFuture<'a, ()> {
        let _ = (tenant, application, result);
        unsupported(self.kind(), "write tags or comments")
    }

    /// Embedded-assessment kinds: tells the ATS an order's result is ready (Greenhouse: an empty
    /// `PATCH` of the order's URL). Ok once the ATS answered 2xx.
    fn report_order<'a>(
        &'a self,
        tenant: &'a Tenant,
        report: &'a OrderReport,
    ) -> AdapterFuture<'a, ()> {
        let _ = (tenant, report);
        unsupported(self.kind(), "report an order's result")
    }

    /// Polling kinds: finds the changes since the persisted cursor or snapshot, stores them as
    /// `Source::Poll` events and advances the cursor, all in one transaction.
    fn poll<'a>(&'a self, context: &'a PollContext<'a>) -> AdapterFuture<'a, PollReport> {
        let _ = context;
        Box::pin(async { Ok(PollReport::default()) })
    }
}

/// The routes of the kinds whose ATS calls Liaison (`/partners/{ats}/...`), one line per kind;
/// mounted by `partner_api::router`.
pub fn partner_routes() -> Vec<(&'static str, axum::Router<crate::app::AppState>)> {
    vec![
        (
            "/partners/greenhouse",
            greenhouse_assessment::routes::router(),
        ),
        ("/partners/teamtailor", teamtailor::routes::router()),
    ]
}

/// The adapter of an ATS kind: the registry, one line per kind.
pub fn adapter_for(kind: AtsKind) -> Arc<dyn AtsAdapter> {
    let registry = REGISTRY.get_or_init(|| {
        let http = http_client::shared_client();
        Registry {
            gupy: Arc::new(gupy::GupyAdapter::new(http.clone())),
            signed_json: Arc::new(signed_json::SignedJsonAdapter),
            xml_feed: Arc::new(xml_feed::XmlFeedAdapter::new(http.clone())),
            lever: Arc::new(lever::LeverAdapter::new(http.clone())),
            script: Arc::new(script::ScriptAdapter::new(http.clone())),
            greenhouse_assessment: Arc::new(
                greenhouse_assessment::GreenhouseAssessmentAdapter::new(http.clone()),
            ),
            teamtailor: Arc::new(teamtailor::TeamtailorAdapter::new(http.clone())),
        }
    });
    match kind {
        AtsKind::Gupy => registry.gupy.clone(),
        AtsKind::SignedJson => registry.signed_json.clone(),
        AtsKind::XmlFeed => registry.xml_feed.clone(),
        AtsKind::Lever => registry.lever.clone(),
        AtsKind::Script => registry.script.clone(),
        AtsKind::GreenhouseAssessment => registry.greenhouse_assessment.clone(),
        AtsKind::Teamtailor => registry.teamtailor.clone(),
    }
}

/// Built once per process so that every adapter shares one connection pool.
static REGISTRY: OnceLock<Registry> = OnceLock::new();

struct Registry {
    gupy: Arc<dyn AtsAdapter>,
    signed_json: Arc<dyn AtsAdapter>,
    xml_feed: Arc<dyn AtsAdapter>,
    lever: Arc<dyn AtsAdapter>,
    script: Arc<dyn AtsAdapter>,
    greenhouse_assessment: Arc<dyn AtsAdapter>,
    teamtailor: Arc<dyn AtsAdapter>,
}

/// An adapter's answer for an operation its kind does not have.
pub(crate) fn unsupported<'a, T: Send + 'a>(
    kind: AtsKind,
    operation: &'static str,
) -> AdapterFuture<'a, T> {
    Box::pin(async move {
        Err(AdapterError::Unsupported {
            kind: kind.as_str(),
            operation,
        })
    })
}

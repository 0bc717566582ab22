//! Logs, traces and metrics. Logs go to stderr as text or JSON (`--log-format json`), filtered by
//! `LIAISON_LOG` (same syntax as `RUST_LOG`, default `info`). Spans are exported over OTLP when
//! `[telemetry] otlp_endpoint` is set (`trace`). Metrics live in a registry owned by the app (no
//! global recorder), rendered in Prometheus text format at `/metrics`; partner calls are recorded
//! through `calls`. Every metric and span is listed in `docs/observability.md`.

pub mod calls;
pub mod trace;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing_subscriber::EnvFilter;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{LogFormat, TelemetrySettings};
use crate::queue::AttemptOutcome;

pub use calls::{CallRecorder, CallStatus, PartnerCalls};

/// What is logged when `LIAISON_LOG` does not say.
pub const DEFAULT_LOG_FILTER: &str = "info,sea_orm_migration=warn";

/// Installs the global tracing subscriber once per process (later calls are no-ops): logs
/// filtered by `LIAISON_LOG` (else `default_filter`), and the OTLP span exporter when
/// `otlp_endpoint` is set. Keep the answer alive until the process ends: dropping it flushes the
/// spans still buffered.
pub fn init_logging(
    format: LogFormat,
    telemetry: &TelemetrySettings,
    default_filter: &str,
) -> trace::TracingGuard {
    let filter =
        EnvFilter::try_from_env("LIAISON_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let (otel, guard) = match trace::otel_layer(telemetry) {
        Ok(Some((layer, guard))) => (Some(layer), guard),
        Ok(None) => (None, trace::TracingGuard::default()),
        Err(error) => {
            eprintln!("tracing export is off: {error}");
            (None, trace::TracingGuard::default())
        }
    };
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => registry.with(stderr.json().flatten_event(true)).try_init(),
        LogFormat::Text => registry.with(stderr).try_init(),
    };
    guard
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

/// Inbound webhooks by tenant, source (`ats`, `suite`) and outcome (`accepted`, `duplicate`, or
/// the refusal's error code: failed verifications are `invalid_signature`, `missing_signature`,
/// `stale_timestamp`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InboundLabels {
    pub tenant: String,
    // Fixed names: no allocation per request for them.
    pub source: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

/// Finished job attempts by flow and outcome (`succeeded`, `retrying`, `dead`, `lease_lost`,
/// `unrecorded`: `queue::AttemptOutcome`, as in the execution log).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub flow: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FlowLabels {
    pub flow: String,
}

/// One HTTP try to a partner. All static: recording a call allocates nothing.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartnerCallLabels {
    /// `suite`, `gupy`, `xml-feed`, ...
    pub system: &'static str,
    /// The route template (`POST /v1/projects/{id}/invitations`), never a path with ids.
    pub endpoint: &'static str,
    pub status: CallStatus,
}

/// Every metric Liaison exports, registered in one registry.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_request_duration: Family<RequestLabels, Histogram>,
    pub queue_jobs: Family<StatusLabels, Gauge>,
    pub inbound_events: Family<InboundLabels, Counter>,
    pub jobs: Family<JobLabels, Counter>,
    pub job_attempts: Family<FlowLabels, Histogram>,
    pub job_duration: Family<FlowLabels, Histogram>,
    pub partner_calls: Family<PartnerCallLabels, Counter>,
    pub partner_call_duration: Family<PartnerCallLabels, Histogram>,
    pub queue_oldest_pending_age: Gauge<f64, AtomicU64>,
}

impl Metrics {
    pub fn new() -> Arc<Self> {
        let mut registry = Registry::with_prefix("liaison");
        let http_requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            http_requests.clone(),
        );
        let http_request_duration =
            Family::<RequestLabels, Histogram>::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP answer latency, by route and status",
            http_request_duration.clone(),
        );
        let queue_jobs = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "queue_jobs",
            "Jobs in the durable queue, by status (sampled at scrape time)",
            queue_jobs.clone(),
        );
        let inbound_events = Family::<InboundLabels, Counter>::default();
        registry.register(
            "inbound_events",
            "Inbound webhooks, by tenant, source and outcome (accepted, duplicate, error code)",
            inbound_events.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "jobs",
            "Finished job attempts, by flow and outcome",
            jobs.clone(),
        );
        let job_attempts = Family::<FlowLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0])
        });
        registry.register(
            "job_attempts",
            "The attempt number a job attempt finished at, by flow",
            job_attempts.clone(),
        );
        let job_duration = Family::<FlowLabels, Histogram>::new_with_constructor(slow_histogram);
        registry.register(
            "job_duration_seconds",
            "How long a job attempt ran, by flow",
            job_duration.clone(),
        );
        let partner_calls = Family::<PartnerCallLabels, Counter>::default();
        registry.register(
            "partner_calls",
            "HTTP tries to partners (retries included), by system, endpoint and status",
            partner_calls.clone(),
        );
        let partner_call_duration =
            Family::<PartnerCallLabels, Histogram>::new_with_constructor(slow_histogram);
        registry.register(
            "partner_call_duration_seconds",
            "Partner answer latency per try, by system, endpoint and status",
            partner_call_duration.clone(),
        );
        let queue_oldest_pending_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "queue_oldest_pending_age_seconds",
            "How long the oldest due pending job has waited (sampled at scrape time)",
            queue_oldest_pending_age.clone(),
        );
        Arc::new(Self {
            registry,
            inbound_events,
            jobs,
            job_attempts,
            job_duration,
            partner_calls,
            partner_call_duration,
            queue_oldest_pending_age,
            http_requests,
            http_request_duration,
            queue_jobs,
        })
    }

    /// One finished job attempt.
    pub fn record_job(&self, flow: &str, outcome: AttemptOutcome, attempt: u32, took: Duration) {
        self.jobs
            .get_or_create(&JobLabels {
                flow: flow.to_owned(),
                outcome: outcome.as_str(),
            })
            .inc();
        let flow = FlowLabels {
            flow: flow.to_owned(),
        };
        self.job_attempts
            .get_or_create(&flow)
            .observe(f64::from(attempt));
        self.job_duration
            .get_or_create(&flow)
            .observe(took.as_secs_f64());
    }

    /// Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::warn!("cannot encode metrics");
        }
        text
    }
}

/// Partner calls and jobs: from a few milliseconds to a minute.
fn slow_histogram() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ])
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

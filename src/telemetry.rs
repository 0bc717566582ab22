//! Logs and metrics. Logs go to stderr as text or JSON (`--log-format json`), filtered by
//! `LIAISON_LOG` (same syntax as `RUST_LOG`, default `info`). Metrics live in a registry owned by
//! the app (no global recorder), rendered in Prometheus text format at `/metrics`.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// What is logged when `LIAISON_LOG` does not say.
pub const DEFAULT_LOG_FILTER: &str = "info,sea_orm_migration=warn";

/// Installs the global tracing subscriber once per process (later calls are no-ops).
pub fn init_logging(format: LogFormat) {
    init_logging_with(format, DEFAULT_LOG_FILTER);
}

/// Like `init_logging`, with another default filter (`LIAISON_LOG` still wins).
pub fn init_logging_with(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_env("LIAISON_LOG").unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
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
    pub source: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

/// Every metric Liaison exports, registered in one registry.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_request_duration: Family<RequestLabels, Histogram>,
    pub queue_jobs: Family<StatusLabels, Gauge>,
    pub inbound_events: Family<InboundLabels, Counter>,
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
        Arc::new(Self {
            registry,
            inbound_events,
            http_requests,
            http_request_duration,
            queue_jobs,
        })
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

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
    ])
}

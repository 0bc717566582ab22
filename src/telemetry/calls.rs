//! Partner calls: every HTTP try to a partner (retries included) is counted and timed by system,
//! endpoint template and status, gets a `partner_call` span, and updates the tenant's connection
//! health. Recording allocates nothing on success.
//!
//! The suite client holds its recorder (built per tenant by `SuiteClients`). The ATS adapters are
//! process-wide singletons shared by every app in the process, so they find the app's
//! `PartnerCalls` in a task-local scope that the sync engine and the poller set around their ATS
//! work (`PartnerCalls::scope`); outside one, calls are not recorded.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use tracing::Span;

use super::{Metrics, PartnerCallLabels};
use crate::health::{HealthBook, HealthCell, Side};

/// The outcome of one try, as a label: the HTTP status, or `timeout` / `error` when no answer
/// came.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum CallStatus {
    Http(u16),
    Timeout,
    Error,
}

impl CallStatus {
    pub fn of_transport(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else {
            Self::Error
        }
    }

    /// Whether the connection works: the partner answered, and not with a server error, an
    /// authentication refusal or a rate limit. A 404 or 409 is an answer about data.
    pub fn is_healthy(self) -> bool {
        match self {
            Self::Http(status) => status < 500 && !matches!(status, 401 | 403 | 429),
            Self::Timeout | Self::Error => false,
        }
    }
}

impl EncodeLabelValue for CallStatus {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        match self {
            Self::Http(status) => write!(encoder, "{status}"),
            Self::Timeout => encoder.write_str("timeout"),
            Self::Error => encoder.write_str("error"),
        }
    }
}

impl std::fmt::Display for CallStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Http(status) => write!(f, "HTTP {status}"),
            Self::Timeout => f.write_str("timeout"),
            Self::Error => f.write_str("connection error"),
        }
    }
}

tokio::task_local! {
    static CURRENT: PartnerCalls;
}

/// The app's partner-call recording: its metrics and its health book. Cheap to clone.
#[derive(Clone, Default)]
pub struct PartnerCalls {
    inner: Option<Arc<Inner>>,
}

struct Inner {
    metrics: Arc<Metrics>,
    health: HealthBook,
}

impl PartnerCalls {
    pub fn new(metrics: Arc<Metrics>, health: HealthBook) -> Self {
        Self {
            inner: Some(Arc::new(Inner { metrics, health })),
        }
    }

    /// Records nothing (tests and tools that build clients by hand).
    pub fn disabled() -> Self {
        Self::default()
    }

    /// A recorder for `system` calls on behalf of `tenant` (None: metrics only, no health).
    pub fn recorder(&self, system: &'static str, tenant: Option<(i64, Side)>) -> CallRecorder {
        CallRecorder {
            system,
            inner: self.inner.as_ref().map(|inner| {
                Arc::new(Bound {
                    metrics: inner.metrics.clone(),
                    cell: tenant.map(|(id, side)| inner.health.cell(id, side)),
                })
            }),
        }
    }

    /// Runs `work` with `self` as the current recording (for the ATS adapters).
    pub async fn scope<F: Future>(self, work: F) -> F::Output {
        CURRENT.scope(self, work).await
    }

    /// The recording of the enclosing `scope`, or a disabled one.
    pub fn current() -> Self {
        CURRENT.try_with(Clone::clone).unwrap_or_default()
    }
}

/// Records the calls of one system for one tenant. Cheap to clone.
#[derive(Clone)]
pub struct CallRecorder {
    system: &'static str,
    inner: Option<Arc<Bound>>,
}

struct Bound {
    metrics: Arc<Metrics>,
    cell: Option<Arc<HealthCell>>,
}

impl Default for CallRecorder {
    fn default() -> Self {
        Self {
            system: "unknown",
            inner: None,
        }
    }
}

impl CallRecorder {
    /// The span of one try; `status` is filled in by `record`.
    pub fn span(&self, endpoint: &'static str) -> Span {
        tracing::info_span!(
            "partner_call",
            system = self.system,
            endpoint,
            status = tracing::field::Empty,
        )
    }

    /// One finished try.
    pub fn record(
        &self,
        span: &Span,
        endpoint: &'static str,
        status: CallStatus,
        elapsed: Duration,
    ) {
        span.record("status", tracing::field::display(status));
        let Some(inner) = &self.inner else { return };
        let labels = PartnerCallLabels {
            system: self.system,
            endpoint,
            status,
        };
        inner.metrics.partner_calls.get_or_create(&labels).inc();
        inner
            .metrics
            .partner_call_duration
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        if let Some(cell) = &inner.cell {
            if status.is_healthy() {
                cell.ok();
            } else {
                // The template and the status only: never a URL, a body or a header.
                cell.error(format!("{} {endpoint}: {status}", self.system));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_say_whether_the_connection_works() {
        assert!(CallStatus::Http(200).is_healthy());
        assert!(CallStatus::Http(404).is_healthy());
        assert!(!CallStatus::Http(503).is_healthy());
        assert!(!CallStatus::Http(401).is_healthy());
        assert!(!CallStatus::Http(429).is_healthy());
        assert!(!CallStatus::Timeout.is_healthy());
    }

    #[test]
    fn statuses_are_label_values() {
        let metrics = Metrics::new();
        let calls = PartnerCalls::new(metrics.clone(), HealthBook::new());
        let recorder = calls.recorder("suite", None);
        let span = recorder.span("GET /v1/users");
        recorder.record(
            &span,
            "GET /v1/users",
            CallStatus::Http(503),
            Duration::ZERO,
        );
        recorder.record(&span, "GET /v1/users", CallStatus::Timeout, Duration::ZERO);
        let text = metrics.render();
        assert!(text.contains(
            r#"liaison_partner_calls_total{system="suite",endpoint="GET /v1/users",status="503"} 1"#
        ));
        assert!(text.contains(r#"status="timeout"} 1"#));
    }
}

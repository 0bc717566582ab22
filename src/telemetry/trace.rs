//! OpenTelemetry tracing: `tracing` spans exported over OTLP/HTTP (protobuf) when
//! `[telemetry] otlp_endpoint` is set, and the W3C `traceparent` that carries a trace across the
//! job queue and onto partner calls. With export off, nothing here costs more than a lookup that
//! finds no OpenTelemetry layer.
//!
//! Spans leave through the SDK's batch processor, on its own thread with a bounded buffer: a slow
//! or absent collector drops spans, it never blocks or fails a request or a job.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use crate::config::TelemetrySettings;

/// The W3C header name.
pub const TRACEPARENT: &str = "traceparent";

/// How long one export may take before the batch is dropped.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);

/// Flushes and stops the exporter when dropped (at the end of `main`).
#[derive(Default)]
pub struct TracingGuard {
    provider: Option<SdkTracerProvider>,
}

impl TracingGuard {
    /// Sends the spans still buffered (blocking: call it off the async runtime's threads).
    pub fn force_flush(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("cannot flush the last spans: {error}");
        }
    }
}

/// The `tracing` layer that hands spans to the exporter.
pub type OtelLayer<S> =
    tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>;

/// The layer exporting spans, or None when export is off.
pub fn otel_layer<S>(
    settings: &TelemetrySettings,
) -> Result<Option<(OtelLayer<S>, TracingGuard)>, opentelemetry_otlp::ExporterBuildError>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let Some(endpoint) = settings.otlp_endpoint.as_deref() else {
        return Ok(None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(EXPORT_TIMEOUT)
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
            settings.sample_ratio,
        ))))
        .with_resource(
            Resource::builder()
                .with_service_name(settings.service_name.clone())
                .build(),
        )
        .build();
    let tracer = provider.tracer("liaison");
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_tracked_inactivity(false);
    Ok(Some((
        layer,
        TracingGuard {
            provider: Some(provider),
        },
    )))
}

/// The current span's `traceparent`, or None when export is off (or the span is not sampled
/// into a valid context).
pub fn current_traceparent() -> Option<String> {
    traceparent_of(&Span::current())
}

/// `span`'s `traceparent` (`00-<trace id>-<span id>-<flags>`).
pub fn traceparent_of(span: &Span) -> Option<String> {
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    let otel = context.span();
    let span_context = otel.span_context();
    if !span_context.is_valid() {
        return None;
    }
    Some(format!(
        "00-{}-{}-{:02x}",
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    ))
}

/// Makes `span` (not yet entered) a child of the trace `traceparent` names. A malformed or
/// absent value leaves `span` a root: tracing must never fail a job.
pub fn continue_trace(span: &Span, traceparent: Option<&str>) {
    let Some(value) = traceparent else { return };
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), value.to_owned())]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    if parent.span().span_context().is_valid() {
        let _ = span.set_parent(parent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_exporter_there_is_no_traceparent() {
        let span = tracing::info_span!("job");
        assert_eq!(traceparent_of(&span), None);
        continue_trace(&span, Some("not a traceparent"));
    }

    #[test]
    fn export_is_off_by_default() {
        let layer = otel_layer::<tracing_subscriber::Registry>(&TelemetrySettings::default());
        assert!(matches!(layer, Ok(None)));
    }
}

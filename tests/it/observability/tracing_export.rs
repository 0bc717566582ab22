//! Spans reach an OTLP/HTTP collector (a loopback axum server on its own thread and runtime) and
//! one trace runs from the webhook through the queue to the partner calls.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use liaison::config::TelemetrySettings;
use liaison::telemetry::trace::otel_layer;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::sync::world::{World, object_values};

type Received = Arc<Mutex<Vec<Bytes>>>;

/// A collector answering `POST /v1/traces`, with every body it received.
fn spawn_collector() -> (SocketAddr, Received) {
    let received = Received::default();
    let bodies = received.clone();
    let (sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("collector runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            sender
                .send(listener.local_addr().expect("addr"))
                .expect("send");
            let router = Router::new()
                .route(
                    "/v1/traces",
                    post(|State(bodies): State<Received>, body: Bytes| async move {
                        bodies.lock().expect("lock").push(body);
                        ""
                    }),
                )
                .with_state(bodies);
            axum::serve(listener, router).await.expect("serve");
        });
    });
    (address.recv().expect("collector address"), received)
}

struct ExportedSpan {
    name: String,
    trace_id: Vec<u8>,
}

fn decode(bodies: &[Bytes]) -> Vec<ExportedSpan> {
    let mut spans = Vec::new();
    for body in bodies {
        let request = ExportTraceServiceRequest::decode(body.clone()).expect("OTLP protobuf");
        for resource in request.resource_spans {
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push(ExportedSpan {
                        name: span.name,
                        trace_id: span.trace_id,
                    });
                }
            }
        }
    }
    spans
}

// One thread: the test's subscriber (set for this thread only) sees the app's tasks too.
#[tokio::test(flavor = "current_thread")]
async fn one_trace_runs_from_the_webhook_through_the_job_to_the_partner_calls() {
    let (collector, received) = spawn_collector();
    let settings = TelemetrySettings {
        otlp_endpoint: Some(format!("http://{collector}")),
        ..TelemetrySettings::default()
    };
    let (layer, guard) = otel_layer(&settings)
        .expect("exporter")
        .expect("export is on");
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    let _default = tracing::subscriber::set_default(subscriber);

    let world = World::new("tags").await;
    world.publish_job("Data Scientist").await;
    world
        .settle_until("the project", |w| {
            object_values(&w.suite_state()["projects"]).len() == 1
        })
        .await;
    // Flushing blocks until the collector answered: off this thread, which runs the app.
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .expect("flush");

    let bodies = received.lock().expect("lock").clone();
    assert!(!bodies.is_empty(), "the collector received nothing");
    let spans = decode(&bodies);
    let mut traces: HashMap<Vec<u8>, Vec<String>> = HashMap::new();
    for span in spans {
        traces.entry(span.trace_id).or_default().push(span.name);
    }
    let connected = traces.values().any(|names| {
        ["request", "inbox_store", "job", "partner_call"]
            .iter()
            .all(|wanted| names.iter().any(|name| name == wanted))
    });
    assert!(
        connected,
        "no trace joins webhook, job and partner calls: {traces:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_missing_collector_changes_nothing_for_requests() {
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let settings = TelemetrySettings {
        otlp_endpoint: Some(format!("http://{closed}")),
        ..TelemetrySettings::default()
    };
    let (layer, guard) = otel_layer(&settings)
        .expect("exporter")
        .expect("export is on");
    let subscriber = tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO));
    let _default = tracing::subscriber::set_default(subscriber);

    let app = crate::helpers::spawn_app().await;
    for _ in 0..3 {
        assert_eq!(app.get("/healthz").await.status(), 200);
    }
    tokio::task::spawn_blocking(move || drop(guard))
        .await
        .expect("shutdown");
}

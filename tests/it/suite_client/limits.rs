//! Per-tenant limits on outgoing calls, against a tiny suite that counts calls in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use futures::future::join_all;
use liaison::config::SuiteClientSettings;
use liaison::suite::PageRequest;
use serde_json::{Value, json};

use super::{client_for, test_settings};

#[derive(Clone, Default)]
struct Gauge {
    now: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

async fn issue_token() -> Json<Value> {
    Json(json!({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600}))
}

/// Holds each call a little, recording the most calls ever in flight together.
async fn list_users(State(gauge): State<Gauge>) -> Json<Value> {
    let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.peak.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(30)).await;
    gauge.now.fetch_sub(1, Ordering::SeqCst);
    Json(json!({"data": [], "next_cursor": null}))
}

async fn spawn_gauged_suite() -> (String, Gauge) {
    let gauge = Gauge::default();
    let app = Router::new()
        .route("/oauth/token", post(issue_token))
        .route("/v1/users", get(list_users))
        .with_state(gauge.clone());
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), gauge)
}

#[tokio::test]
async fn calls_in_flight_never_exceed_the_concurrency_limit() {
    let (base, gauge) = spawn_gauged_suite().await;
    let settings = SuiteClientSettings {
        max_concurrency: 4,
        ..test_settings()
    };
    let client = client_for(&base, &settings);
    let page = PageRequest::default();

    let results = join_all((0..40).map(|_| client.list_users(&page))).await;

    assert!(results.iter().all(Result::is_ok));
    let peak = gauge.peak.load(Ordering::SeqCst);
    assert!((1..=4).contains(&peak), "peak in flight: {peak}");
}

#[tokio::test]
async fn calls_are_held_to_the_rate_limit() {
    let (base, _) = spawn_gauged_suite().await;
    let settings = SuiteClientSettings {
        requests_per_second: 5,
        ..test_settings()
    };
    let client = client_for(&base, &settings);
    let page = PageRequest::default();

    let started = Instant::now();
    let results = join_all((0..10).map(|_| client.list_users(&page))).await;

    assert!(results.iter().all(Result::is_ok));
    // A burst of 5, then 5 more at 5 per second: at least ~1 s (a lower bound, never flaky).
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
}

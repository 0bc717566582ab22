//! Faults: duplicates, shuffled order, dropped subscriptions, API errors and limits.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use liaison::ats::gupy::payload::{Job, ListEnvelope, WebhookSubscription};
use serde_json::{Value, json};

use super::harness::{Receiver, TOKEN, spawn_sim};

#[tokio::test]
async fn the_duplicate_fault_delivers_each_event_twice_with_the_same_id() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.control(
        "/_sim/faults",
        json!({"duplicate_rate": 1.0}),
        StatusCode::OK,
    )
    .await;
    t.subscribe("job.published", &receiver, json!({})).await;

    t.create_job("A", "published").await;
    t.create_job("B", "published").await;

    let received = receiver.wait_for(4).await;
    let mut ids: Vec<String> = received.iter().map(|r| r.delivery().id).collect();
    ids.sort();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[2], ids[3]);
    assert_ne!(ids[0], ids[2]);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn shuffled_deliveries_all_arrive() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.control("/_sim/faults", json!({"shuffle": true}), StatusCode::OK)
        .await;
    t.subscribe("job.published", &receiver, json!({})).await;
    for i in 0..10 {
        t.create_job(&format!("Job {i}"), "published").await;
    }
    let received = receiver.wait_for(10).await;
    let ids: BTreeSet<String> = received.iter().map(|r| r.delivery().id).collect();
    assert_eq!(ids.len(), 10);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn dropped_subscriptions_silently_stop_deliveries() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe("application.moved", &receiver, json!({})).await;
    let job = t.create_job("Data Scientist", "published").await;
    let app = t.apply(job.id, "maria@example.com").await;

    let dropped = t
        .control("/_sim/webhooks/drop", json!({}), StatusCode::OK)
        .await;
    assert_eq!(dropped["dropped"], 1);
    let list: ListEnvelope<WebhookSubscription> = t.get("/api/v1/webhooks").await;
    assert!(list.results.is_empty());

    t.move_to(app.id, "Video interview").await;
    // A marker delivery, queued after the move: once it arrives, the move would have too.
    t.subscribe("job.published", &receiver, json!({})).await;
    t.create_job("Marker", "published").await;
    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].delivery().event.as_str(), "job.published");
    let state = t.state().await;
    assert_eq!(
        state["world"]["droppedSubscriptions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn the_candidate_id_can_be_omitted_from_deliveries() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.control(
        "/_sim/faults",
        json!({"omit_candidate_id": true}),
        StatusCode::OK,
    )
    .await;
    t.subscribe("application.created", &receiver, json!({}))
        .await;
    let job = t.create_job("Data Scientist", "published").await;
    t.apply(job.id, "maria@example.com").await;

    let received = receiver.wait_for(1).await;
    let candidate = received[0].delivery().data.candidate.expect("candidate");
    assert_eq!(
        (candidate.id, candidate.email.as_str()),
        (None, "maria@example.com")
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn api_faults_inject_errors_and_rate_limits() {
    let t = spawn_sim().await;
    t.control(
        "/_sim/faults",
        json!({"error_rate": 1.0, "status": 503}),
        StatusCode::OK,
    )
    .await;
    let _: Value = t
        .api(
            reqwest::Method::GET,
            "/api/v1/jobs",
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;

    t.control(
        "/_sim/faults",
        json!({"rate_limit_per_minute": 2}),
        StatusCode::OK,
    )
    .await;
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    let limited = t
        .http
        .get(t.url("/api/v1/jobs"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answer");
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    t.control(
        "/_sim/faults",
        json!({"error_rate": 2.0}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    t.control("/_sim/faults", json!({}), StatusCode::OK).await;
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    let state = t.state().await;
    assert_eq!(state["apiCalls"]["GET /api/v1/jobs"], 5);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn added_latency_delays_api_answers() {
    let t = spawn_sim().await;
    t.control("/_sim/faults", json!({"latency_ms": 150}), StatusCode::OK)
        .await;
    let started = std::time::Instant::now();
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    t.sim.stop().await.expect("stops");
}

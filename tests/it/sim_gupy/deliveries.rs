//! Webhook deliveries: exact headers, the contract's body, retries.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::harness::{Receiver, WAIT, spawn_sim};
use crate::support::wait_until;

#[tokio::test]
async fn a_move_is_delivered_with_exactly_the_client_headers_and_the_contract_body() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe(
        "application.moved",
        &receiver,
        json!({"X-Liaison-Token": "s3cret"}),
    )
    .await;
    let job = t.create_job("Data Scientist", "published").await;
    let app = t.apply(job.id, "maria@example.com").await;

    t.move_to(app.id, "Video interview").await;

    let received = receiver.wait_for(1).await;
    let delivery = &received[0];
    // Only the client header, plus HTTP framing: no Content-Type, no Accept, no User-Agent.
    let expected: BTreeSet<String> = ["content-length", "host", "x-liaison-token"]
        .map(String::from)
        .into();
    assert_eq!(delivery.header_names(), expected);
    assert_eq!(delivery.headers["x-liaison-token"], "s3cret");

    let raw: Value = serde_json::from_slice(&delivery.body).expect("JSON");
    let date = raw["date"].as_str().unwrap_or_default();
    assert_eq!(
        (date.len(), date.ends_with('Z'), &date[19..20]),
        (24, true, ".")
    );
    assert_eq!(raw["companyName"], "ACME");
    let body = delivery.delivery();
    assert!(uuid::Uuid::parse_str(&body.id).is_ok());
    assert_eq!(body.event.as_str(), "application.moved");
    assert_eq!(body.data.job.id, job.id);
    let application = body.data.application.expect("application");
    assert_eq!(application.id, app.id);
    assert_eq!(
        application.current_step.map(|s| s.name),
        Some("Video interview".into())
    );
    assert_eq!(
        application.previous_step.map(|s| s.name),
        Some("Screening".into())
    );
    assert_eq!(body.data.candidate.and_then(|c| c.id), app.candidate.id);

    let state = t.state().await;
    assert_eq!(state["deliveries"][0]["status"], "delivered");
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn deliveries_one_after_another_reuse_the_connection() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe(
        "application.moved",
        &receiver,
        json!({"X-Liaison-Token": "s"}),
    )
    .await;
    let job = t.create_job("Data Scientist", "published").await;
    for (n, email) in ["a@example.com", "b@example.com", "c@example.com"]
        .iter()
        .enumerate()
    {
        let app = t.apply(job.id, email).await;
        t.move_to(app.id, "Video interview").await;
        receiver.wait_for(n + 1).await;
    }

    let received = receiver.received();
    let connections: BTreeSet<_> = received.iter().map(|r| r.peer).collect();
    assert_eq!(received.len(), 3);
    assert_eq!(
        connections.len(),
        1,
        "one kept-alive connection: {connections:?}"
    );
    wait_until(WAIT, "three deliveries recorded as delivered", || async {
        let state = t.state().await;
        let delivered = state["deliveries"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["status"] == "delivered")
            .count();
        (delivered == 3).then_some(())
    })
    .await;
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn listed_content_type_is_sent_and_events_reach_only_their_subscribers() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    let headers = json!({"X-Liaison-Token": "s", "Content-Type": "application/json"});
    t.subscribe("application.created", &receiver, headers).await;
    let job = t.create_job("Data Scientist", "published").await;
    t.apply(job.id, "maria@example.com").await;

    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].headers["content-type"], "application/json");
    assert_eq!(received[0].delivery().event.as_str(), "application.created");
    assert_eq!(received.len(), 1, "job.published has no subscriber");
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_accepted() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    receiver.fail_next(&[
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::SERVICE_UNAVAILABLE,
    ]);
    t.subscribe("job.published", &receiver, json!({"X-Liaison-Token": "s"}))
        .await;

    t.create_job("Data Scientist", "published").await;

    let received = receiver.wait_for(3).await;
    let ids: BTreeSet<String> = received.iter().map(|r| r.delivery().id).collect();
    assert_eq!(ids.len(), 1, "retries carry the same event id");
    let state = wait_until(WAIT, "the delivery recorded as delivered", || async {
        let state = t.state().await;
        (state["deliveries"][0]["status"] == "delivered").then_some(state)
    })
    .await;
    let statuses: Vec<&Value> = state["deliveries"][0]["attempts"]
        .as_array()
        .map(|a| a.iter().map(|x| &x["status"]).collect())
        .unwrap_or_default();
    assert_eq!(statuses, [&json!(500), &json!(503), &json!(200)]);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn a_delivery_that_always_fails_is_marked_failed_after_the_schedule() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    receiver.fail_next(&[StatusCode::BAD_GATEWAY; 5]);
    t.subscribe("job.published", &receiver, json!({})).await;

    t.create_job("Data Scientist", "published").await;

    let state = wait_until(WAIT, "the delivery recorded as failed", || async {
        let state = t.state().await;
        (state["deliveries"][0]["status"] == "failed").then_some(state)
    })
    .await;
    // One attempt plus one per retry delay (two in the test schedule).
    assert_eq!(
        state["deliveries"][0]["attempts"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(receiver.received().len(), 3);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn an_unreachable_receiver_is_recorded_as_failed_attempts() {
    let t = spawn_sim().await;
    // A port that was just free: nobody listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hooks", closed.local_addr().expect("addr"));
    drop(closed);
    let body = json!({"action": "job.published", "postbackUrl": url, "clientHeaders": {}});
    let _: Value = t
        .api(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(body),
            StatusCode::CREATED,
        )
        .await;

    t.create_job("Data Scientist", "published").await;

    let state = wait_until(WAIT, "the delivery recorded as failed", || async {
        let state = t.state().await;
        (state["deliveries"][0]["status"] == "failed").then_some(state)
    })
    .await;
    assert!(state["deliveries"][0]["attempts"][0]["error"].is_string());
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn changing_a_job_status_emits_status_changed() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe("job.status_changed", &receiver, json!({}))
        .await;
    let job = t.create_job("Data Scientist", "draft").await;

    let response = t
        .http
        .patch(t.url(&format!("/_sim/jobs/{}", job.id)))
        .json(&json!({"status": "closed", "name": "Data Scientist II"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);

    let received = receiver.wait_for(1).await;
    let delivery = received[0].delivery();
    assert_eq!(delivery.data.job.name, "Data Scientist II");
    assert_eq!(
        delivery.data.job.status,
        Some(liaison::ats::gupy::payload::JobStatus::Closed)
    );
    t.sim.stop().await.expect("stops");
}

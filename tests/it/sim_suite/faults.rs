//! Injected faults: random errors without side effects, and periodic 429s.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::spawn_suite;

#[tokio::test]
async fn injected_errors_answer_the_status_and_change_nothing() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    suite
        .control("/_sim/faults", json!({"error_rate": 1.0, "status": 502}))
        .await;

    let body = json!({"title": "Never created"});
    let answer = suite
        .post(&token, "/v1/projects", body, StatusCode::BAD_GATEWAY)
        .await;

    assert_eq!(answer["error"]["code"], "simulated_fault");
    let state = suite.state().await;
    assert_eq!(state["projects"], json!({}));
    assert_eq!(state["counters"]["faults_injected"], 1);

    suite.control("/_sim/faults", json!({})).await;
    suite.create_project(&token, "job-1").await;
}

#[tokio::test]
async fn every_nth_call_is_rate_limited_with_retry_after() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    suite
        .control("/_sim/faults", json!({"rate_limit_every": 3}))
        .await;

    suite.get(&token, "/v1/projects", StatusCode::OK).await;
    suite.get(&token, "/v1/projects", StatusCode::OK).await;
    let (headers, body) = suite
        .call(
            Method::GET,
            "/v1/projects",
            Some(&token),
            None,
            &[],
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    suite.get(&token, "/v1/projects", StatusCode::OK).await;

    assert_eq!(headers["retry-after"], "1");
    assert_eq!(body["error"]["code"], "rate_limited");
    let state = suite.state().await;
    assert_eq!(state["counters"]["calls"]["GET /v1/projects"], 4);
}

#[tokio::test]
async fn out_of_range_faults_are_refused() {
    let suite = spawn_suite().await;
    let response = suite
        .http
        .post(suite.url("/_sim/faults"))
        .json(&json!({"error_rate": 2.0}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_simulator_stops_when_shut_down() {
    let suite = spawn_suite().await;
    let url = suite.url("/_sim/state");
    suite.http.get(&url).send().await.expect("serving");

    suite.running.shutdown().await.expect("clean shutdown");

    assert!(suite.http.get(&url).send().await.is_err());
}

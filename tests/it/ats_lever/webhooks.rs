//! Every answer of `POST /webhooks/{tenant}/ats` to Lever's deliveries (signature in the body).

use liaison_sim::lever::webhook::{WebhookBody, signature};
use serde_json::{Value, json};

use super::{SIGNATURE_TOKEN, lever_toml};
use crate::helpers::{TestApp, expect_status, spawn_app};
use crate::inbound_support::{apply, inbox, job_count};

async fn lever_app() -> (TestApp, liaison::ids::TenantId) {
    let app = spawn_app().await;
    let toml = lever_toml("acme", "http://127.0.0.1:9/v1", "http://127.0.0.1:9", "");
    let tenant = apply(app.db(), &app.master_key, &toml).await;
    (app, tenant)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn stage_change(triggered_at: i64, key: &str) -> WebhookBody {
    WebhookBody::new(
        "candidateStageChange",
        json!({"opportunityId": "opp-1", "candidateId": "opp-1", "contactId": "c-1",
               "toStageId": "st-2", "fromStageId": "st-1"}),
        triggered_at,
        Some(key),
    )
}

async fn post(app: &TestApp, body: &[u8]) -> reqwest::Response {
    app.client
        .post(app.url("/webhooks/acme/ats"))
        .header("Content-Type", "application/json")
        .header("User-Agent", "Lever-Webhooks")
        .body(body.to_vec())
        .send()
        .await
        .expect("request")
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_signed_stage_change_is_stored_once_as_an_opportunity_to_read() {
    let (app, tenant) = lever_app().await;
    let body = stage_change(now_ms(), SIGNATURE_TOKEN).to_bytes();

    let first = expect_status(post(&app, &body).await, 202).await;
    let again = expect_status(post(&app, &body).await, 200).await;

    assert_eq!(first["status"], "accepted");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["event_id"], first["event_id"]);
    let rows = inbox(app.db(), tenant).await;
    assert_eq!(rows.len(), 1);
    let normalized: Value = serde_json::from_str(&rows[0].normalized).expect("json");
    assert_eq!(
        normalized["body"],
        json!({"type": "application_to_read", "ats_application_id": "opp-1"})
    );
    assert_eq!(job_count(app.db(), tenant).await, 1);
}

#[tokio::test]
async fn a_replay_with_another_id_is_recognised_by_its_signed_token() {
    let (app, tenant) = lever_app().await;
    let original = stage_change(now_ms(), SIGNATURE_TOKEN);
    let mut replay = original.clone();
    replay.id = Some("another-id".to_owned());

    expect_status(post(&app, &original.to_bytes()).await, 202).await;
    let answer = expect_status(post(&app, &replay.to_bytes()).await, 200).await;

    assert_eq!(answer["status"], "duplicate");
    assert_eq!(inbox(app.db(), tenant).await.len(), 1);
}

#[tokio::test]
async fn bad_missing_and_stale_signatures_are_refused_and_nothing_is_stored() {
    let (app, tenant) = lever_app().await;
    let wrong_key = stage_change(now_ms(), "not-the-signature-token").to_bytes();
    let mut tampered = stage_change(now_ms(), SIGNATURE_TOKEN);
    tampered.triggered_at += 1;
    let mut unsigned = stage_change(now_ms(), SIGNATURE_TOKEN);
    unsigned.signature = None;
    let stale = stage_change(now_ms() - 6 * 60 * 1_000, SIGNATURE_TOKEN).to_bytes();
    let future = stage_change(now_ms() + 6 * 60 * 1_000, SIGNATURE_TOKEN).to_bytes();

    for (body, expected) in [
        (wrong_key, "invalid_signature"),
        (tampered.to_bytes(), "invalid_signature"),
        (unsigned.to_bytes(), "missing_signature"),
        (stale, "stale_timestamp"),
        (future, "stale_timestamp"),
        (b"not json at all".to_vec(), "missing_signature"),
    ] {
        let answer = expect_status(post(&app, &body).await, 401).await;
        assert_eq!(
            code(&answer),
            expected,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    assert!(inbox(app.db(), tenant).await.is_empty());
    assert_eq!(job_count(app.db(), tenant).await, 0);
}

#[tokio::test]
async fn the_settings_page_test_request_is_accepted_harmlessly() {
    let (app, tenant) = lever_app().await;
    let body = WebhookBody::test_request(now_ms(), Some(SIGNATURE_TOKEN)).to_bytes();
    assert!(!String::from_utf8_lossy(&body).contains("\"id\""));

    let answer = expect_status(post(&app, &body).await, 202).await;

    assert_eq!(answer["status"], "accepted");
    let rows = inbox(app.db(), tenant).await;
    let normalized: Value = serde_json::from_str(&rows[0].normalized).expect("json");
    assert_eq!(normalized["body"]["type"], "ignored");
}

#[tokio::test]
async fn a_signed_delivery_that_breaks_the_contract_is_malformed() {
    let (app, tenant) = lever_app().await;
    let at = now_ms();
    let token = "t".repeat(48);
    let sign = |event: &str, data: Value| {
        json!({"id": "e1", "event": event, "triggeredAt": at, "token": token,
               "signature": signature(SIGNATURE_TOKEN, &token, at), "data": data})
        .to_string()
    };

    for body in [
        sign("candidateStageChange", json!({"toStageId": "st-2"})),
        sign("candidateStageChange", json!({"opportunityId": 7})),
        json!({"triggeredAt": at, "token": token,
               "signature": signature(SIGNATURE_TOKEN, &token, at)})
        .to_string(),
    ] {
        let answer = expect_status(post(&app, body.as_bytes()).await, 400).await;
        assert_eq!(code(&answer), "malformed_body", "{body}");
    }
    assert!(inbox(app.db(), tenant).await.is_empty());
}

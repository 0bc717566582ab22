//! Outgoing webhooks: signed, delivered to matching subscriptions, retried after failures.

use liaison::signature::standard_webhooks::{WebhookSecret, verify};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Received, TestSuite, spawn_receiver, spawn_suite};

async fn subscribe(suite: &TestSuite, token: &str, url: &str, events: Value) -> WebhookSecret {
    let subscription = suite
        .post(
            token,
            "/v1/webhooks",
            json!({"url": url, "events": events}),
            StatusCode::CREATED,
        )
        .await;
    WebhookSecret::parse(subscription["secret"].as_str().expect("secret")).expect("whsec_ secret")
}

fn assert_verifies(secret: &WebhookSecret, delivery: &Received) {
    let now = chrono::Utc::now().timestamp();
    verify(
        secret,
        &delivery.id,
        &delivery.timestamp,
        &delivery.signature,
        &delivery.body,
        now,
    )
    .expect("signature verifies");
}

async fn completed_invitation(suite: &TestSuite, token: &str) -> String {
    let project = suite.create_project(token, "job-1").await;
    let candidate = suite.create_candidate(token, "ana@example.com").await;
    let invite_path = format!(
        "/v1/projects/{}/invitations",
        project["id"].as_str().expect("id")
    );
    let invitation = suite
        .post(
            token,
            &invite_path,
            json!({"candidate_id": candidate["id"]}),
            StatusCode::CREATED,
        )
        .await;
    let id = invitation["id"].as_str().expect("id").to_owned();
    let reviews =
        json!({"reviews": [{"score": 90, "recommendation": "advance", "comment": "Great"}]});
    suite
        .control(&format!("/_sim/invitations/{id}/complete"), reviews)
        .await;
    id
}

#[tokio::test]
async fn completion_webhooks_arrive_signed() {
    let suite = spawn_suite().await;
    let receiver = spawn_receiver(0).await;
    let token = suite.token().await;
    let secret = subscribe(
        &suite,
        &token,
        &receiver.url,
        json!(["invitation.completed", "review.created"]),
    )
    .await;

    let invitation_id = completed_invitation(&suite, &token).await;

    suite
        .wait_for_state("both deliveries", |state| {
            let delivered = state["deliveries"]
                .as_object()
                .map(|d| d.values().filter(|d| d["status"] == "delivered").count());
            delivered == Some(2)
        })
        .await;
    let received = receiver.all();
    assert_eq!(received.len(), 2);
    for delivery in &received {
        assert_verifies(&secret, delivery);
    }
    let mut types: Vec<String> = received
        .iter()
        .map(|r| r.json()["type"].as_str().expect("type").to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["invitation.completed", "review.created"]);
    let completed = received
        .iter()
        .map(Received::json)
        .find(|b| b["type"] == "invitation.completed")
        .expect("event");
    assert_eq!(completed["data"]["id"], invitation_id.as_str());
    assert_eq!(completed["data"]["status"], "completed");
    assert!(completed["timestamp"].is_string());
    let other = WebhookSecret::generate();
    let now = chrono::Utc::now().timestamp();
    let first = &received[0];
    assert!(
        verify(
            &other,
            &first.id,
            &first.timestamp,
            &first.signature,
            &first.body,
            now
        )
        .is_err()
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_id() {
    let suite = spawn_suite().await;
    let receiver = spawn_receiver(2).await;
    let token = suite.token().await;
    let secret = subscribe(&suite, &token, &receiver.url, json!(["*"])).await;
    let project = suite.create_project(&token, "job-1").await;

    let path = format!("/v1/projects/{}", project["id"].as_str().expect("id"));
    suite
        .patch(&token, &path, json!({"title": "Renamed"}), StatusCode::OK)
        .await;

    let state = suite
        .wait_for_state("the retried delivery", |state| {
            state["deliveries"]
                .as_object()
                .is_some_and(|d| d.values().any(|d| d["status"] == "delivered"))
        })
        .await;
    let delivery = state["deliveries"]
        .as_object()
        .and_then(|d| d.values().next())
        .expect("delivery");
    let statuses: Vec<Value> = delivery["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(500), json!(500), json!(204)]);
    let received = receiver.all();
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.id == received[0].id));
    assert_eq!(received[2].json()["type"], "project.updated");
    assert_eq!(received[2].json()["data"]["title"], "Renamed");
    assert_verifies(&secret, &received[2]);
}

#[tokio::test]
async fn a_delivery_that_keeps_failing_is_marked_failed() {
    let suite = spawn_suite().await;
    let receiver = spawn_receiver(usize::MAX).await;
    let token = suite.token().await;
    subscribe(&suite, &token, &receiver.url, json!(["candidate.deleted"])).await;
    let candidate = suite.create_candidate(&token, "ana@example.com").await;

    let path = format!("/_sim/candidates/{}", candidate["id"].as_str().expect("id"));
    suite
        .http
        .delete(suite.url(&path))
        .send()
        .await
        .expect("erase");

    let state = suite
        .wait_for_state("the delivery to give up", |state| {
            state["deliveries"]
                .as_object()
                .is_some_and(|d| d.values().any(|d| d["status"] == "failed"))
        })
        .await;
    let delivery = state["deliveries"]
        .as_object()
        .and_then(|d| d.values().next())
        .expect("delivery");
    assert_eq!(
        delivery["attempts"].as_array().map(Vec::len),
        Some(3),
        "one try and two retries"
    );
    assert_eq!(
        receiver.all()[0].json()["data"],
        json!({"id": candidate["id"]})
    );
}

#[tokio::test]
async fn subscriptions_can_be_listed_and_deleted() {
    let suite = spawn_suite().await;
    let token = suite.token().await;
    subscribe(&suite, &token, "http://127.0.0.1:9/hook", json!(["*"])).await;
    let listed = suite.get(&token, "/v1/webhooks", StatusCode::OK).await;
    let id = listed["data"][0]["id"].as_str().expect("id").to_owned();

    suite
        .call(
            Method::DELETE,
            &format!("/v1/webhooks/{id}"),
            Some(&token),
            None,
            &[],
            StatusCode::NO_CONTENT,
        )
        .await;

    let listed = suite.get(&token, "/v1/webhooks", StatusCode::OK).await;
    assert_eq!(listed["data"], json!([]));
    let unknown = json!({"url": "http://127.0.0.1:9/hook", "events": ["nope.happened"]});
    suite
        .post(
            &token,
            "/v1/webhooks",
            unknown,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
}

#[tokio::test]
async fn duplicated_and_shuffled_deliveries_all_arrive() {
    let suite = spawn_suite().await;
    let receiver = spawn_receiver(0).await;
    let token = suite.token().await;
    let secret = subscribe(&suite, &token, &receiver.url, json!(["*"])).await;
    suite
        .control(
            "/_sim/faults",
            json!({"duplicate_rate": 1.0, "shuffle": true}),
        )
        .await;

    for i in 0..5 {
        suite
            .call(
                Method::POST,
                "/_sim/events",
                None,
                Some(json!({"type": "user.updated", "data": {"id": format!("usr_{i}")}})),
                &[],
                StatusCode::ACCEPTED,
            )
            .await;
    }

    suite
        .wait_for_state("five duplicated deliveries", |state| {
            state["deliveries"]
                .as_object()
                .is_some_and(|d| d.values().filter(|d| d["duplicates_sent"] == 1).count() == 5)
        })
        .await;
    let received = receiver.all();
    assert_eq!(received.len(), 10);
    let ids: std::collections::BTreeSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 5, "each event twice under one webhook-id");
    for delivery in &received {
        assert_verifies(&secret, delivery);
    }
}

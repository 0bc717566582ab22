use std::time::Duration;

use liaison::events::{EventBody, InboundEvent, Source};
use liaison::ids::{EventId, TenantId};
use liaison::queue::{self, BackoffPolicy, Failure};
use liaison::store::entities::inbox_event;
use liaison::sync;
use liaison::time::now_ms;
use reqwest::Method;
use sea_orm::{ActiveModelTrait, Set};

use crate::helpers::{TestApp, expect_status, spawn_app};

/// Stores an event and its job, as the inbound path does.
async fn store_event(app: &TestApp, tenant: TenantId, delivery: &str) -> EventId {
    let event = InboundEvent {
        source: Source::Ats,
        delivery_id: delivery.to_owned(),
        partner_type: "job.published".to_owned(),
        occurred_at: Some(now_ms()),
        body: EventBody::JobClosed {
            ats_job_id: "1".to_owned(),
        },
    };
    let row = inbox_event::ActiveModel {
        tenant_id: Set(tenant.0),
        source: Set("ats".to_owned()),
        delivery_id: Set(delivery.to_owned()),
        event_type: Set(event.partner_type.clone()),
        subject: Set(event.subject()),
        occurred_at: Set(event.occurred_at),
        status: Set("received".to_owned()),
        payload: Set("{}".to_owned()),
        normalized: Set(serde_json::to_string(&event).expect("json")),
        received_at: Set(now_ms()),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("insert");
    let id = EventId(row.id);
    queue::enqueue(app.db(), sync::job_for_event(tenant, id, &event, 3))
        .await
        .expect("enqueue");
    id
}

async fn dead_letter_all(app: &TestApp) {
    let policy = BackoffPolicy {
        base: Duration::ZERO,
        max: Duration::ZERO,
    };
    // Events of one entity are claimable one at a time: keep going until none is due.
    loop {
        let batch = queue::claim(app.db(), "w", Duration::from_secs(60), 100)
            .await
            .expect("claim");
        if batch.is_empty() {
            break;
        }
        for job in batch {
            queue::fail(
                app.db(),
                &job,
                Failure::Permanent,
                "suite said 422",
                &policy,
            )
            .await
            .expect("fail");
        }
    }
}

#[tokio::test]
async fn a_dead_letter_is_replayed_once_through_the_api() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let event = store_event(&app, tenant, "d1").await;
    dead_letter_all(&app).await;
    assert_eq!(queue::depth(app.db()).await.expect("depth").dead, 1);

    let path = format!("/api/v1/events/{event}/replay");
    let first = expect_status(
        app.admin(Method::POST, &path).send().await.expect("post"),
        202,
    )
    .await;
    assert_eq!(first["status"], "requeued");
    assert_eq!(first["jobs"], 1);
    let second = expect_status(
        app.admin(Method::POST, &path).send().await.expect("post"),
        200,
    )
    .await;
    assert_eq!(second["status"], "already_queued");
    let depth = queue::depth(app.db()).await.expect("depth");
    assert_eq!((depth.pending, depth.dead), (1, 0));

    expect_status(
        app.admin(Method::POST, "/api/v1/events/evt_999999/replay")
            .send()
            .await
            .expect("post"),
        404,
    )
    .await;
    expect_status(
        app.client.post(app.url(&path)).send().await.expect("post"),
        401,
    )
    .await;
}

#[tokio::test]
async fn events_are_listed_per_tenant_with_status_filters() {
    let app = spawn_app().await;
    let acme = app.add_tenant("acme").await;
    let globex = app.add_tenant("globex").await;
    store_event(&app, acme, "a1").await;
    store_event(&app, acme, "a2").await;
    store_event(&app, globex, "g1").await;

    let listed = expect_status(
        app.admin(Method::GET, "/api/v1/tenants/acme/events")
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    let data = listed["data"].as_array().expect("array");
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["delivery_id"], "a2", "newest first");
    assert_eq!(data[0]["type"], "job.published");
    assert!(
        data[0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("evt_"))
    );
    let dead = expect_status(
        app.admin(Method::GET, "/api/v1/tenants/acme/events?status=dead")
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(dead["data"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn all_dead_letters_of_a_tenant_are_replayed_and_other_tenants_untouched() {
    let app = spawn_app().await;
    let acme = app.add_tenant("acme").await;
    let globex = app.add_tenant("globex").await;
    store_event(&app, acme, "a1").await;
    store_event(&app, acme, "a2").await;
    store_event(&app, globex, "g1").await;
    dead_letter_all(&app).await;

    let replayed = expect_status(
        app.admin(Method::POST, "/api/v1/tenants/acme/dead-letters/replay")
            .send()
            .await
            .expect("post"),
        202,
    )
    .await;
    assert_eq!(replayed["jobs"], 2);
    let depth = queue::depth(app.db()).await.expect("depth");
    assert_eq!((depth.pending, depth.dead), (2, 1));
}

#[tokio::test]
async fn the_cli_lists_and_replays_events() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let event = store_event(&app, tenant, "c1").await;
    dead_letter_all(&app).await;

    let listed = app.cli(&["events", "list", "--tenant", "acme", "--status", "received"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&event.to_string()));
    let replay = app.cli(&["events", "replay", &event.to_string()]);
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    assert!(String::from_utf8_lossy(&replay.stdout).contains("back in the queue"));
    let missing = app.cli(&["events", "replay", "evt_424242"]);
    assert_eq!(missing.status.code(), Some(3));
}

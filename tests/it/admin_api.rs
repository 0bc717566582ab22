//! The console's data as JSON under `/api/v1`.

use liaison::queue;
use reqwest::Method;
use serde_json::Value;

use crate::admin_support::{
    EMAIL, PAYLOAD_SECRET, complete_all, dead_letter_all, newest_event, receive_delivery, sign_in,
};
use crate::helpers::{expect_status, spawn_app};

#[tokio::test]
async fn the_new_routes_answer_401_without_the_token() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    for (method, path) in [
        (Method::GET, "/api/v1/tenants/acme"),
        (Method::GET, "/api/v1/events"),
        (Method::GET, "/api/v1/events/evt_1"),
        (Method::GET, "/api/v1/queue"),
        (Method::GET, "/api/v1/tenants/acme/dead-letters"),
        (Method::GET, "/api/v1/bulk-replays/rpl_1"),
        (Method::GET, "/api/v1/tenants/acme/mappings"),
        (Method::POST, "/api/v1/tenants/acme/mappings/preview"),
    ] {
        let response = app
            .client
            .request(method, app.url(path))
            .send()
            .await
            .expect("request");
        let body = expect_status(response, 401).await;
        assert_eq!(body["error"]["code"], "unauthorized", "{path}");
    }
}

#[tokio::test]
async fn an_event_is_served_masked_with_its_jobs_and_attempts() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    receive_delivery(&app, "acme", "api-1").await;
    dead_letter_all(&app).await;
    let event = newest_event(&app, "acme").await;

    let response = app
        .admin(Method::GET, &format!("/api/v1/events/{event}"))
        .send()
        .await
        .expect("get");
    let text = response.text().await.expect("body");
    for raw in [PAYLOAD_SECRET, EMAIL] {
        assert!(!text.contains(raw), "{raw} in {text}");
    }
    let detail: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(detail["tenant"], "acme");
    assert_eq!(
        detail["payload"]["data"]["candidate"]["email"],
        "m***@e***.com"
    );
    assert_eq!(
        detail["normalized"]["body"]["candidate"]["email"],
        "m***@e***.com"
    );
    assert_eq!(detail["jobs"][0]["status"], "dead");
    assert!(
        detail["jobs"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("m***@e***.com"))
    );

    let shown = expect_status(
        app.admin(
            Method::GET,
            &format!("/api/v1/events/{event}?unmask=personal"),
        )
        .send()
        .await
        .expect("get"),
        200,
    )
    .await;
    assert_eq!(shown["payload"]["data"]["candidate"]["email"], EMAIL);
    assert_eq!(shown["payload"]["data"]["api_key"], "***");
    let bad = expect_status(
        app.admin(
            Method::GET,
            &format!("/api/v1/events/{event}?unmask=secrets"),
        )
        .send()
        .await
        .expect("get"),
        400,
    )
    .await;
    assert_eq!(bad["error"]["code"], "invalid_query");
}

#[tokio::test]
async fn events_are_filtered_by_tenant_status_type_and_time() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    app.add_tenant("globex").await;
    receive_delivery(&app, "acme", "f1").await;
    receive_delivery(&app, "globex", "f2").await;
    let get = |path: String| {
        let request = app.admin(Method::GET, &path);
        async move { expect_status(request.send().await.expect("get"), 200).await }
    };
    let all = get("/api/v1/events".into()).await;
    assert_eq!(all["data"].as_array().map(Vec::len), Some(2));
    let acme =
        get("/api/v1/events?tenant=acme&type=application.moved&status=received".into()).await;
    assert_eq!(acme["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(acme["data"][0]["tenant"], "acme");
    let future = get("/api/v1/tenants/acme/events?from=2999-01-01T00:00:00Z".into()).await;
    assert_eq!(future["data"].as_array().map(Vec::len), Some(0));
    let bad = expect_status(
        app.admin(Method::GET, "/api/v1/events?from=soon")
            .send()
            .await
            .expect("get"),
        400,
    )
    .await;
    assert_eq!(bad["error"]["code"], "invalid_time");
    expect_status(
        app.admin(Method::GET, "/api/v1/events?tenant=nope")
            .send()
            .await
            .expect("get"),
        404,
    )
    .await;
}

#[tokio::test]
async fn a_bulk_replay_reports_progress_until_done_and_a_second_one_changes_nothing() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    receive_delivery(&app, "acme", "r1").await;
    receive_delivery(&app, "acme", "r2").await;
    dead_letter_all(&app).await;
    let dead = expect_status(
        app.admin(Method::GET, "/api/v1/tenants/acme/dead-letters")
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(dead["data"].as_array().map(Vec::len), Some(2));

    let started = expect_status(
        app.admin(Method::POST, "/api/v1/tenants/acme/dead-letters/replay")
            .send()
            .await
            .expect("post"),
        202,
    )
    .await;
    assert_eq!(started["jobs"], 2);
    let path = format!(
        "/api/v1/bulk-replays/{}",
        started["bulk_replay_id"].as_str().expect("id")
    );
    let running = expect_status(
        app.admin(Method::GET, &path).send().await.expect("get"),
        200,
    )
    .await;
    assert_eq!(
        (running["pending"].as_i64(), running["finished"].as_bool()),
        (Some(2), Some(false))
    );

    let again = expect_status(
        app.admin(Method::POST, "/api/v1/tenants/acme/dead-letters/replay")
            .send()
            .await
            .expect("post"),
        200,
    )
    .await;
    assert_eq!(again["status"], "nothing_to_replay");
    assert_eq!(queue::depth(app.db()).await.expect("depth").pending, 2);

    complete_all(&app).await;
    let done = expect_status(
        app.admin(Method::GET, &path).send().await.expect("get"),
        200,
    )
    .await;
    assert_eq!(
        (done["done"].as_i64(), done["finished"].as_bool()),
        (Some(2), Some(true))
    );

    let stats = expect_status(
        app.admin(Method::GET, "/api/v1/queue")
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(stats["depth"]["done"], 2);
    assert_eq!(stats["throughput"].as_array().map(Vec::len), Some(30));
}

#[tokio::test]
async fn a_console_session_reads_the_api_and_needs_the_csrf_header_to_change_anything() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    let console = sign_in(&app).await;
    let read = console
        .http
        .get(app.url("/api/v1/tenants/acme"))
        .header("cookie", &console.cookie)
        .send()
        .await
        .expect("get");
    let tenant = expect_status(read, 200).await;
    assert_eq!(tenant["ats_kind"], "gupy");
    assert_eq!(tenant["health"]["suite"]["last_ok_at"], Value::Null);
    assert!(!tenant.to_string().contains("S3CRET"));
    let post = |csrf: Option<&str>| {
        let mut request = console
            .http
            .post(app.url("/api/v1/tenants/acme/dead-letters/replay"))
            .header("cookie", &console.cookie);
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    expect_status(post(None).await.expect("post"), 401).await;
    expect_status(post(Some(&console.csrf)).await.expect("post"), 200).await;
}

#[tokio::test]
async fn the_mappings_preview_parses_a_sample_without_storing_it() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    let mappings = expect_status(
        app.admin(Method::GET, "/api/v1/tenants/acme/mappings")
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(mappings["writeback"]["pass_tag"], "Apto");
    assert_eq!(mappings["roles"]["recruiter"], "manager");

    let sample = crate::inbound_support::gupy_delivery("p-2", "application.moved");
    let preview = expect_status(
        app.admin(Method::POST, "/api/v1/tenants/acme/mappings/preview")
            .json(&sample)
            .send()
            .await
            .expect("post"),
        200,
    )
    .await;
    assert_eq!(
        preview["events"][0]["event"]["body"]["type"],
        "application_changed"
    );
    assert_eq!(preview["events"][0]["subject"], "application:2937132");
    let refused = expect_status(
        app.admin(Method::POST, "/api/v1/tenants/acme/mappings/preview")
            .body("[1, 2")
            .send()
            .await
            .expect("post"),
        400,
    )
    .await;
    assert_eq!(refused["error"]["code"], "invalid_json");
    let events = expect_status(
        app.admin(Method::GET, "/api/v1/tenants/acme/events")
            .send()
            .await
            .expect("get"),
        200,
    )
    .await;
    assert_eq!(events["data"].as_array().map(Vec::len), Some(0));
}

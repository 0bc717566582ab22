use liaison::App;

use crate::helpers::{TestDb, expect_status, spawn_app, test_settings};

#[tokio::test]
async fn health_and_readiness_answer_when_the_database_does() {
    let app = spawn_app().await;
    let health = expect_status(app.get("/healthz").await, 200).await;
    assert_eq!(health["status"], "ok");
    let ready = expect_status(app.get("/readyz").await, 200).await;
    assert_eq!(ready["status"], "ready");
}

#[tokio::test]
async fn readiness_is_503_when_the_database_is_unreachable() {
    let database = TestDb::new().await;
    let settings = test_settings(&database, &liaison::config::generate_master_key());
    let app = App::build_with_db(settings, database.db.clone())
        .await
        .expect("build");
    let address = app.local_addr();
    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn(app.run_until_stopped(shutdown.clone()));

    database.db.clone().close().await.expect("close the pool");
    let response = reqwest::get(format!("http://{address}/readyz"))
        .await
        .expect("get");
    let body = expect_status(response, 503).await;
    assert_eq!(body["error"]["code"], "database_unreachable");
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .expect("get");
    expect_status(health, 200).await;
    shutdown.cancel();
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_and_show_queue_depth() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    app.get("/api/v1/tenants/acme/equivalences").await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    assert!(
        text.contains(
            r#"liaison_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/tenants/{tenant}/equivalences",status="401""#),
        "{text}"
    );
    assert!(text.contains("liaison_http_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"liaison_queue_jobs{status="pending"} 0"#),
        "{text}"
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_unknown_routes_are_json_404() {
    let app = spawn_app().await;
    let response = app.get("/no/such/route").await;
    assert!(response.headers().contains_key("x-request-id"));
    let body = expect_status(response, 404).await;
    assert_eq!(body["error"]["code"], "not_found");
    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .expect("get");
    assert_eq!(echoed.headers()["x-request-id"], "req-123");
}

#[tokio::test]
async fn graceful_shutdown_stops_the_server() {
    let app = spawn_app().await;
    let address = app.address;
    app.stop().await;
    assert!(
        reqwest::get(format!("http://{address}/healthz"))
            .await
            .is_err()
    );
}

/// The webhook routes are a router of their own (their own state): they still pass through the
/// application's layers, request id and metrics, and keep the routing answers.
#[tokio::test]
async fn webhook_routes_carry_the_request_id_and_metrics_of_every_route() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/webhooks/nobody/ats"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert!(response.headers().contains_key("x-request-id"));
    let body = expect_status(response, 404).await;
    assert!(body["error"]["code"].is_string(), "{body}");
    let wrong_method = app.get("/webhooks/nobody/ats").await;
    assert_eq!(wrong_method.status(), 405);
    let text = app.get("/metrics").await.text().await.expect("text");
    assert!(
        text.contains(
            r#"liaison_http_requests_total{method="POST",route="/webhooks/{tenant}/ats",status="404"} 1"#
        ),
        "{text}"
    );
}

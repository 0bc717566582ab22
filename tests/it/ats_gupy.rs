//! The Gupy adapter against the Gupy simulator and wiremock: `tenant connect` (idempotent), the
//! periodic subscription check, deliveries end to end, the listing poll, enrichment, write-back
//! and error classification.

use std::net::SocketAddr;
use std::time::Duration;

use liaison::App;
use liaison::app::AppState;
use liaison::ats::gupy::GupyClient;
use liaison::ats::gupy::subscriptions::{self, SUBSCRIPTION_RESTORED};
use liaison::ats::{AdapterError, ApplicationRef, WriteBack, adapter_for};
use liaison::tenant::AtsKind;
use liaison_sim::gupy::{GupySimConfig, RunningGupySim, spawn};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::helpers::{TestApp, spawn_app, test_settings};
use super::inbound_support::*;
use super::support::wait_until;

const WAIT: Duration = Duration::from_secs(10);

async fn gupy_sim() -> RunningGupySim {
    let config = GupySimConfig {
        retry_schedule: vec![Duration::from_millis(20)],
        delivery_timeout: Duration::from_secs(5),
        ..GupySimConfig::default()
    };
    spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("the simulator starts")
}

async fn control(sim: &RunningGupySim, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .expect("the simulator answers");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.expect("JSON")
}

fn subscriptions_at(sim: &RunningGupySim) -> Vec<Value> {
    sim.state.snapshot()["world"]["subscriptions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A suite simulator for `tenant connect`'s suite half, and the tenant file pointed at it.
async fn suite_sim() -> liaison_sim::suite::RunningSuiteSim {
    liaison_sim::suite::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        liaison_sim::suite::SuiteSimConfig::default(),
    )
    .await
    .expect("suite simulator")
}

fn with_suite(toml: String, suite: &liaison_sim::suite::RunningSuiteSim) -> String {
    toml.replace(
        "base_url = \"http://127.0.0.1:9\"",
        &format!("base_url = \"{}\"", suite.base_url()),
    )
    .replace("suite-client-S3CRET", "liaison-secret")
}

/// `liaison tenant connect` as a real process, with this app's database and public URL (async:
/// the simulator it calls runs on this test's runtime).
async fn connect(app: &TestApp, slug: &str) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["tenant", "connect", slug])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", app.database.url.expose())
        .env("LIAISON_MASTER_KEY", &app.master_key_text)
        .env("LIAISON_PUBLIC_URL", app.url(""))
        .env("LIAISON_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .await
        .expect("run the liaison binary")
}

#[tokio::test]
async fn tenant_connect_registers_the_subscriptions_once() {
    let app = spawn_app().await;
    let sim = gupy_sim().await;
    let suite = suite_sim().await;
    apply(
        app.db(),
        &app.master_key,
        &with_suite(gupy_toml("acme", &sim.url()), &suite),
    )
    .await;

    let first = connect(&app, "acme").await;
    let second = connect(&app, "acme").await;

    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let subscriptions = subscriptions_at(&sim);
    assert_eq!(
        subscriptions.len(),
        subscriptions::ACTIONS.len(),
        "{subscriptions:?}"
    );
    let postback = format!("{}/webhooks/acme/ats", app.url(""));
    for subscription in &subscriptions {
        let text = subscription.to_string();
        assert!(text.contains(&postback), "{text}");
        assert!(
            text.contains(&gupy_secret("acme")),
            "clientHeaders carry the token: {text}"
        );
        assert!(text.contains("application/json"), "{text}");
    }
    let printed = String::from_utf8_lossy(&second.stdout);
    assert!(
        printed.contains("already registered application.moved"),
        "{printed}"
    );
    assert!(
        printed.contains("suite:"),
        "the suite step is reported: {printed}"
    );
    let _ = sim.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_dropped_subscription_is_re_registered_by_the_periodic_check() {
    let app = spawn_app().await;
    let sim = gupy_sim().await;
    let tenant_id = apply(app.db(), &app.master_key, &gupy_toml("acme", &sim.url())).await;
    let tenant = open(app.db(), &app.master_key, "acme").await;
    let client = GupyClient::new(
        reqwest::Client::new(),
        &sim.url(),
        "gupy-token".to_owned().into(),
    );
    let public_url = app.url("");
    subscriptions::ensure_subscriptions(&client, &tenant, &public_url)
        .await
        .expect("connect");

    let calm = subscriptions::check_subscriptions(app.db(), &client, &tenant, &public_url)
        .await
        .expect("check");
    control(&sim, "/_sim/webhooks/drop", json!({})).await;
    assert!(subscriptions_at(&sim).is_empty());
    let restored = subscriptions::check_subscriptions(app.db(), &client, &tenant, &public_url)
        .await
        .expect("check");

    assert!(calm.created.is_empty());
    assert_eq!(restored.created.len(), subscriptions::ACTIONS.len());
    assert_eq!(subscriptions_at(&sim).len(), subscriptions::ACTIONS.len());
    let log: Vec<_> = inbox(app.db(), tenant_id)
        .await
        .into_iter()
        .filter(|row| row.event_type == SUBSCRIPTION_RESTORED)
        .collect();
    assert_eq!(log.len(), subscriptions::ACTIONS.len());
    assert!(
        log.iter()
            .all(|row| row.status == "processed" && row.source == "ats")
    );
    assert_eq!(
        job_count(app.db(), tenant_id).await,
        0,
        "log entries need no job"
    );
    let _ = sim.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn simulator_deliveries_reach_the_inbox_through_the_registered_subscriptions() {
    let app = spawn_app().await;
    let sim = gupy_sim().await;
    let suite = suite_sim().await;
    let tenant_id = apply(
        app.db(),
        &app.master_key,
        &with_suite(gupy_toml("acme", &sim.url()), &suite),
    )
    .await;
    assert!(connect(&app, "acme").await.status.success());

    let job = control(
        &sim,
        "/_sim/jobs",
        json!({"name": "Data Scientist", "status": "published"}),
    )
    .await;
    let application = control(
        &sim,
        &format!("/_sim/jobs/{}/applications", job["id"]),
        json!({"candidate": {"name": "Maria", "lastName": "Silva", "email": "maria@example.com"}}),
    )
    .await;
    control(
        &sim,
        &format!("/_sim/applications/{}/move", application["id"]),
        json!({"step": "Video interview"}),
    )
    .await;

    let rows = wait_until(WAIT, "three stored deliveries", || async {
        let rows = inbox(app.db(), tenant_id).await;
        (rows.len() == 3).then_some(rows)
    })
    .await;
    let types: Vec<&str> = rows.iter().map(|r| r.event_type.as_str()).collect();
    assert!(types.contains(&"job.published"), "{types:?}");
    assert!(types.contains(&"application.created"), "{types:?}");
    assert!(types.contains(&"application.moved"), "{types:?}");
    let _ = sim.stop().await;
    app.stop().await;
}

async fn poll_state(app: &TestApp) -> (App, AppState) {
    let settings = test_settings(&app.database, &app.master_key_text);
    let built = App::build_with_db(settings, app.db().clone())
        .await
        .expect("build");
    let state = built.state().clone();
    (built, state)
}

#[tokio::test]
async fn the_listing_poll_stores_changes_since_its_cursor() {
    let app = spawn_app().await;
    let sim = gupy_sim().await;
    let tenant_id = apply(app.db(), &app.master_key, &gupy_toml("acme", &sim.url())).await;
    let tenant = open(app.db(), &app.master_key, "acme").await;
    let (_app, state) = poll_state(&app).await;
    let job = control(
        &sim,
        "/_sim/jobs",
        json!({"name": "Dev", "status": "published"}),
    )
    .await;
    let mut applications = Vec::new();
    for n in 0..3 {
        let email = format!("c{n}@example.com");
        let created = control(
            &sim,
            &format!("/_sim/jobs/{}/applications", job["id"]),
            json!({"candidate": {"name": "C", "lastName": "N", "email": email}}),
        )
        .await;
        applications.push(created);
    }

    let first = liaison::ats::poll_once(&state.pollers(), &tenant)
        .await
        .expect("poll");
    let quiet = liaison::ats::poll_once(&state.pollers(), &tenant)
        .await
        .expect("poll");
    control(
        &sim,
        &format!("/_sim/applications/{}/move", applications[1]["id"]),
        json!({"step": "Video interview"}),
    )
    .await;
    let moved = liaison::ats::poll_once(&state.pollers(), &tenant)
        .await
        .expect("poll");

    assert_eq!(first.stored, 4, "one job and three applications: {first:?}");
    assert_eq!(quiet.stored, 0, "{quiet:?}");
    assert_eq!(moved.stored, 1, "{moved:?}");
    assert!(first.cursor.is_some());
    let polled: Vec<_> = inbox(app.db(), tenant_id)
        .await
        .into_iter()
        .filter(|r| r.source == "poll")
        .collect();
    assert_eq!(polled.len(), 5);
    let last: Value = serde_json::from_str(&polled[4].normalized).expect("json");
    assert_eq!(
        last["body"]["ats_application_id"],
        applications[1]["id"].to_string()
    );
    assert_eq!(last["body"]["step"], "Video interview");
    assert_eq!(job_count(app.db(), tenant_id).await, 5);
    let _ = sim.stop().await;
    app.stop().await;
}

async fn wiremock_tenant(app: &TestApp, server: &MockServer) -> liaison::tenant::Tenant {
    apply(app.db(), &app.master_key, &gupy_toml("acme", &server.uri())).await;
    open(app.db(), &app.master_key, "acme").await
}

fn gupy_application(id: i64) -> Value {
    json!({"id": id, "status": "in_process", "tags": [],
           "currentStep": {"id": 1, "name": "Video interview", "type": "online"},
           "createdAt": "2026-11-20T13:05:41.118Z", "updatedAt": "2026-11-20T13:05:41.118Z",
           "candidate": {"id": 5, "name": "Maria", "lastName": "Silva", "email": "m@x.io"},
           "job": {"id": 7, "name": "Dev"}})
}

#[tokio::test]
async fn enrichment_reads_a_job_and_finds_an_application_across_pages() {
    let app = spawn_app().await;
    let server = MockServer::start().await;
    let tenant = wiremock_tenant(&app, &server).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/jobs/7"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 7, "name": "Dev", "status": "published", "description": "Build things",
            "addressCity": "Recife", "addressState": "PE", "addressCountry": "Brasil",
            "createdAt": "2026-11-20T13:05:41.118Z", "updatedAt": "2026-11-20T13:05:41.118Z"})))
        .expect(1)
        .mount(&server)
        .await;
    for (page, id) in [("1", 101), ("2", 102)] {
        Mock::given(method("GET"))
            .and(path("/api/v1/jobs/7/applications"))
            .and(query_param("page", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "results": [gupy_application(id)], "totalResults": 2, "page": page.parse::<u64>().unwrap_or(1),
                "totalPages": 2})))
            .expect(1)
            .mount(&server)
            .await;
    }
    let adapter = adapter_for(AtsKind::Gupy);

    let job = adapter.fetch_job(&tenant, "7").await.expect("the job");
    let application = adapter
        .fetch_application(
            &tenant,
            &ApplicationRef {
                ats_job_id: "7".into(),
                ats_application_id: "102".into(),
            },
        )
        .await
        .expect("the application");

    assert!(job.complete);
    assert_eq!(job.description.as_deref(), Some("Build things"));
    assert_eq!(job.location.as_deref(), Some("Recife, PE, Brasil"));
    assert_eq!(application.ats_application_id, "102");
    assert_eq!(application.candidate.email.as_deref(), Some("m@x.io"));
    app.stop().await;
}

#[tokio::test]
async fn write_back_puts_tags_and_posts_comments_and_classifies_failures() {
    let app = spawn_app().await;
    let server = MockServer::start().await;
    let tenant = wiremock_tenant(&app, &server).await;
    let target = ApplicationRef {
        ats_job_id: "7".into(),
        ats_application_id: "101".into(),
    };
    Mock::given(method("PUT"))
        .and(path("/api/v1/jobs/7/applications/101/tags"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "Apto"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/jobs/7/applications/101/comments"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "12"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/jobs/8"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/jobs/9"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let adapter = adapter_for(AtsKind::Gupy);

    adapter
        .write_back(&tenant, &target, &WriteBack::Tag("Apto".into()))
        .await
        .expect("tagged");
    let limited = adapter
        .write_back(
            &tenant,
            &target,
            &WriteBack::Comment {
                text: "Score 80".into(),
                score: None,
            },
        )
        .await;
    let outage = adapter.fetch_job(&tenant, "8").await;
    let refused = adapter.fetch_job(&tenant, "9").await;
    let bad_id = adapter.fetch_job(&tenant, "../admin").await;

    assert!(matches!(
        limited,
        Err(AdapterError::RateLimited { retry_after: Some(d) }) if d == Duration::from_secs(12)
    ));
    assert!(outage.is_err_and(|e| e.is_transient()));
    assert!(matches!(refused, Err(AdapterError::Auth(_))));
    assert!(matches!(bad_id, Err(AdapterError::NotFound(_))));
    app.stop().await;
}

#[tokio::test]
async fn other_kinds_refuse_what_they_cannot_do() {
    let app = spawn_app().await;
    apply(app.db(), &app.master_key, &signed_json_toml("hr", "")).await;
    let tenant = open(app.db(), &app.master_key, "hr").await;
    let outcome = adapter_for(AtsKind::SignedJson)
        .fetch_job(&tenant, "1")
        .await;
    assert!(matches!(outcome, Err(AdapterError::Unsupported { .. })));
    let job_error: liaison::sync::JobError = AdapterError::Transient("x".into()).into();
    assert!(matches!(
        job_error,
        liaison::sync::JobError::Transient { .. }
    ));
    app.stop().await;
}

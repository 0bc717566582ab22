//! Script tenants (`[ats] kind = "script"`): an HrFlow-style `catch` maps Acme's job and
//! application objects end to end to the suite simulator, once despite redelivery and
//! reordering; `verify`, invalid events and failing scripts are refused cleanly; a `pull` pages
//! a loopback listing with a cursor persisted across restarts; each sandbox limit ends in a dead
//! letter with the script's message and line; `liaison script test` prints the events.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use liaison::ats::{AdapterError, poll_once};
use liaison::ids::TenantId;
use liaison::store::entities::inbox_event;
use liaison::sync::runtime;
use liaison::tenant::{self, TenantConfig};
use liaison_sim::suite::{self, SuiteSimConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::helpers::{TestApp, expect_status, spawn_app, spawn_app_with, test_settings};
use super::sync::world::object_values;

pub(super) const ACME_KEY: &str = "acme-key-S3CRET";

pub(super) fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/script"))
}

pub(super) fn script_toml(
    slug: &str,
    script: &str,
    base_url: &str,
    suite: &str,
    settings: &str,
) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Script {slug}"

[ats]
kind = "script"
script = "{script}"
base_url = "{base_url}"
language = "en"

[ats.settings]
key = "{ACME_KEY}"
{settings}

[suite]
base_url = "{suite}"
client_id = "liaison"
client_secret = "liaison-secret"
"#
    )
}

/// Applies a script tenant as `liaison tenant apply` does: its script read from the fixtures.
pub(super) async fn apply_script_tenant(app: &TestApp, toml: &str) -> TenantId {
    let mut config = TenantConfig::from_toml(toml).expect("valid tenant file");
    liaison::script::load::attach_script(&mut config, fixtures()).expect("the script loads");
    tenant::apply(app.db(), &app.master_key, &config)
        .await
        .expect("apply")
        .0
}

/// The `acme.js` tenant with no partner or suite to reach (`127.0.0.1:9`): what tests of
/// reception alone need.
pub(super) async fn apply_offline_acme(app: &TestApp) -> TenantId {
    let toml = script_toml(
        "acme",
        "acme.js",
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
    );
    apply_script_tenant(app, &toml).await
}

pub(super) async fn post(app: &TestApp, slug: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/webhooks/{slug}/ats")))
        .header("X-Acme-Key", key)
        .json(body)
        .send()
        .await
        .expect("post")
}

fn hrflow_job() -> Value {
    json!({
        "job_reference": "af42dd",
        "job_name": "Data scientist",
        "job_url": "https://example.com/careers/af42dd",
        "job_summary": "Models and more",
        "job_address": "1-7 Cours Valmy, 92800 Puteaux",
        "job_latitude": 48.8922598,
        "job_longitude": 2.232953,
        "job_start": "2021-11-12T14:46:56.816369",
        "job_end": "2021-12-24T14:46:56.816369",
        "job_salary_min": 4000,
        "job_salary_max": 5000
    })
}

pub(super) fn application(step: &str, at: &str) -> Value {
    json!({
        "application_reference": "app-1",
        "job_reference": "af42dd",
        "job_name": "Data scientist",
        "step": step,
        "occurred_at": at,
        "candidate_reference": "cand-1",
        "candidate_first_name": "Maria",
        "candidate_last_name": "Silva",
        "candidate_email": "Maria@Example.com"
    })
}

pub(super) async fn events_of(app: &TestApp, tenant: TenantId) -> Vec<inbox_event::Model> {
    inbox_event::Entity::find()
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .order_by_asc(inbox_event::Column::Id)
        .all(app.db())
        .await
        .expect("inbox")
}

#[tokio::test]
async fn a_script_maps_hrflow_jobs_and_applications_to_the_suite_once() {
    let suite = suite::spawn(
        "127.0.0.1:0".parse().expect("addr"),
        SuiteSimConfig::default(),
    )
    .await
    .expect("suite simulator");
    let app = spawn_app_with(|settings| {
        settings.queue.base_backoff_ms = 10;
        settings.queue.max_backoff_seconds = 1;
    })
    .await;
    let toml = script_toml(
        "acme",
        "acme.js",
        "http://127.0.0.1:9",
        &suite.base_url(),
        "",
    );
    let tenant = apply_script_tenant(&app, &toml).await;
    let worker = runtime::worker(&app.state.background().expect("worker"));

    let job = expect_status(post(&app, "acme", ACME_KEY, &hrflow_job()).await, 202).await;
    assert_eq!(job["status"], "accepted");
    let moved = post(
        &app,
        "acme",
        ACME_KEY,
        &application("Video interview", "2026-11-20T14:00:00Z"),
    )
    .await;
    assert_eq!(moved.headers()["x-acme"], "ok", "the script's own answer");
    assert_eq!(
        expect_status(moved, 200).await,
        json!({"received": "app-1"})
    );
    for _ in 0..500 {
        worker.drain().await.expect("drain");
        if object_values(&suite.sim().snapshot()["invitations"]).len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A redelivery is recognised; an older move arriving late changes nothing.
    let again = expect_status(post(&app, "acme", ACME_KEY, &hrflow_job()).await, 200).await;
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["event_id"], job["event_id"]);
    post(
        &app,
        "acme",
        ACME_KEY,
        &application("Video interview", "2026-11-20T14:00:00Z"),
    )
    .await;
    let late = post(
        &app,
        "acme",
        ACME_KEY,
        &application("Screening", "2026-11-20T12:00:00Z"),
    )
    .await;
    assert_eq!(late.status(), 200);
    for _ in 0..20 {
        worker.drain().await.expect("drain");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let state = suite.sim().snapshot();
    let projects = object_values(&state["projects"]);
    assert_eq!(projects.len(), 1, "{state:#}");
    assert_eq!(projects[0]["title"], "Data scientist");
    let invitations = object_values(&state["invitations"]);
    assert_eq!(invitations.len(), 1, "{state:#}");
    assert_eq!(invitations[0]["status"], "sent");
    let stored = events_of(&app, tenant).await;
    assert_eq!(
        stored.len(),
        3,
        "the job, the move, the late move: redeliveries stored once"
    );
    assert!(
        stored.iter().all(|e| e.status == "processed"),
        "{stored:#?}"
    );
    suite.shutdown().await.ok();
    app.stop().await;
}

#[tokio::test]
async fn verify_invalid_events_and_failing_scripts_are_refused_cleanly() {
    let app = spawn_app().await;
    let tenant = apply_offline_acme(&app).await;

    let wrong_key = post(&app, "acme", "guess", &hrflow_job()).await;
    assert_eq!(
        expect_status(wrong_key, 401).await["error"]["code"],
        "invalid_signature"
    );

    let misspelt = expect_status(
        post(&app, "acme", ACME_KEY, &json!({"misspelt": true})).await,
        422,
    )
    .await;
    assert_eq!(misspelt["error"]["code"], "invalid_event");
    let message = misspelt["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("events[0]") && message.contains("`titel`"),
        "{message}"
    );

    let thrown = expect_status(post(&app, "acme", ACME_KEY, &json!({"what": 1})).await, 422).await;
    assert_eq!(thrown["error"]["code"], "script_error");
    let message = thrown["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("unknown Acme payload: what") && message.contains("(line 51)"),
        "{message}"
    );

    // A looping script is stopped at 50 ms; the tenant's next delivery is served after it
    // (other tenants' scripts run on their own threads: `script::lanes`).
    let (looping, other) = (json!({"loop": true}), hrflow_job());
    let looping = post(&app, "acme", ACME_KEY, &looping);
    let other = post(&app, "acme", ACME_KEY, &other);
    let (looping, other) = tokio::join!(looping, other);
    assert_eq!(
        expect_status(looping, 422).await["error"]["code"],
        "script_timeout"
    );
    expect_status(other, 202).await;

    let stored = events_of(&app, tenant).await;
    let dead: Vec<Value> = stored
        .iter()
        .filter(|e| e.status == "dead")
        .map(|e| serde_json::from_str(&e.payload).expect("json"))
        .collect();
    assert_eq!(dead.len(), 3, "one dead letter per failed run: {dead:#?}");
    assert_eq!(dead[1]["line"], 51);
    assert_eq!(dead[1]["logs"][0], "acme sent what from nobody");
    assert_eq!(dead[2]["code"], "script_timeout");
    assert_eq!(
        stored.iter().filter(|e| e.status != "dead").count(),
        1,
        "only the job"
    );
    app.stop().await;
}

/// Acme's job listing: 5 jobs, paged after an id; records each `after` asked for.
pub(super) async fn spawn_listing() -> (String, Arc<Mutex<Vec<u64>>>) {
    #[derive(serde::Deserialize)]
    struct Page {
        after: u64,
        limit: u64,
    }
    async fn jobs(
        State(asked): State<Arc<Mutex<Vec<u64>>>>,
        Query(page): Query<Page>,
    ) -> axum::Json<Value> {
        asked.lock().expect("lock").push(page.after);
        let jobs: Vec<Value> = (page.after + 1..=5)
            .take(page.limit as usize)
            .map(|id| json!({"id": id, "name": format!("Job {id}")}))
            .collect();
        axum::Json(json!({"jobs": jobs}))
    }
    let asked = Arc::new(Mutex::new(Vec::new()));
    let router = Router::new()
        .route("/jobs", get(jobs))
        .with_state(asked.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), asked)
}

async fn poll(app: &TestApp, slug: &str) -> Result<liaison::ats::PollReport, AdapterError> {
    // A fresh app on the same database each time: nothing survives in memory between polls.
    let settings = test_settings(&app.database, &app.master_key_text);
    let built = liaison::App::build_with_db(settings, app.db().clone())
        .await
        .expect("build");
    let state = built.state().clone();
    let tenant = tenant::find(app.db(), &app.master_key, slug)
        .await
        .expect("find")
        .expect("tenant");
    poll_once(&state.pollers(), &tenant).await
}

fn job_ids(rows: &[inbox_event::Model]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.status != "dead")
        .map(|r| {
            let normalized: Value = serde_json::from_str(&r.normalized).expect("json");
            normalized["body"]["ats_job_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_pull_pages_the_listing_with_a_cursor_persisted_across_restarts() {
    let app = spawn_app().await;
    let (listing, asked) = spawn_listing().await;
    let toml = script_toml(
        "acme",
        "pull.js",
        &listing,
        "http://127.0.0.1:9",
        "page_size = 2",
    );
    let tenant = apply_script_tenant(&app, &toml).await;

    for _ in 0..4 {
        poll(&app, "acme").await.expect("poll");
    }

    assert_eq!(*asked.lock().expect("lock"), vec![0, 2, 4, 5]);
    let stored = events_of(&app, tenant).await;
    assert_eq!(job_ids(&stored), ["1", "2", "3", "4", "5"]);
    assert!(stored.iter().all(|e| e.source == "poll"));
    app.stop().await;
}

#[tokio::test]
async fn each_sandbox_limit_of_a_pull_ends_in_a_dead_letter_and_changes_nothing() {
    let app = spawn_app().await;
    let (listing, _) = spawn_listing().await;
    for (mode, code, says) in [
        ("throw", "script_error", "the listing moved (line 7)"),
        (
            "loop",
            "script_timeout",
            "longer than its limit of 10000 ms",
        ),
        ("memory", "script_out_of_memory", "memory limit of 16 MiB"),
        ("elsewhere", "script_error", "is not the tenant's ATS host"),
    ] {
        let slug = format!("acme-{mode}");
        let settings = format!("page_size = 2\nmode = \"{mode}\"");
        let toml = script_toml(&slug, "pull.js", &listing, "http://127.0.0.1:9", &settings);
        let tenant = apply_script_tenant(&app, &toml).await;

        let error = poll(&app, &slug).await.expect_err("refused");
        assert!(error.to_string().contains(says), "{mode}: {error}");

        let stored = events_of(&app, tenant).await;
        assert_eq!(stored.len(), 1, "{mode}: only the dead letter");
        assert_eq!(stored[0].status, "dead");
        let payload: Value = serde_json::from_str(&stored[0].payload).expect("json");
        assert_eq!(payload["code"], code, "{mode}");
        assert_eq!(payload["logs"][0], "after 0 got 2", "{mode}");
        assert!(
            payload["error"].as_str().unwrap_or_default().contains(says),
            "{mode}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn script_test_prints_the_events_of_a_sample_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sample = dir.path().join("sample.json");
    std::fs::write(&sample, hrflow_job().to_string()).expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["script", "test"])
        .arg(fixtures().join("acme.js"))
        .arg("--request")
        .arg(&sample)
        .env("LIAISON_LOG", "warn")
        .current_dir(dir.path())
        .output()
        .expect("run liaison");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: Value = serde_json::from_slice(&output.stdout).expect("JSON events");
    assert_eq!(events[0]["body"]["type"], "job_upserted");
    assert_eq!(events[0]["body"]["ats_job_id"], "af42dd");
    assert_eq!(events[0]["body"]["starts_on"], "2021-11-12");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("console: acme sent job_address,job_end")
    );

    std::fs::write(&sample, json!({"what": 1}).to_string()).expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["script", "test"])
        .arg(fixtures().join("acme.js"))
        .arg("--request")
        .arg(&sample)
        .current_dir(dir.path())
        .output()
        .expect("run liaison");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("(line 51)"));
}

#[tokio::test]
async fn the_console_shows_the_script_its_last_runs_masked_and_tries_it_without_storing() {
    let app = spawn_app().await;
    let tenant = apply_offline_acme(&app).await;
    let moved = application("Video interview", "2026-11-20T14:00:00Z");
    expect_status(post(&app, "acme", ACME_KEY, &moved).await, 200).await;
    let console = super::admin_support::sign_in(&app).await;

    let (status, html) = console.get("/admin/tenants/acme/mappings").await;

    assert_eq!(status, 200, "{html}");
    let source = std::fs::read_to_string(fixtures().join("acme.js")).expect("read");
    assert!(
        html.contains(&liaison::script::source_hash(&source)),
        "the hash"
    );
    assert!(html.contains("acme.js") && html.contains("export { handle as catch }"));
    assert!(
        html.contains("<h2>Try the script</h2>") && !html.contains("Preview a sample"),
        "the script adapter's preview guide"
    );
    assert!(html.contains("1 event(s)"), "the last run: {html}");
    assert!(
        html.contains("acme sent application_reference"),
        "its log: {html}"
    );
    assert!(
        !html.to_lowercase().contains("maria@example.com"),
        "emails masked: {html}"
    );

    let stored = events_of(&app, tenant).await.len();
    let sample = hrflow_job().to_string();
    let (status, html) = console
        .post(
            "/admin/tenants/acme/mappings/preview",
            &[("sample", &sample)],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("job_upserted") && html.contains("job:af42dd"),
        "{html}"
    );
    assert!(html.contains("console: acme sent"), "{html}");
    let (status, html) = console
        .post(
            "/admin/tenants/acme/mappings/preview",
            &[("sample", r#"{"what": 1}"#)],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        html.contains("unknown Acme payload") && html.contains("line 51"),
        "{html}"
    );
    assert_eq!(
        events_of(&app, tenant).await.len(),
        stored,
        "a try stores nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn tenant_apply_stores_the_script_and_refuses_one_that_cannot_run() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(fixtures().join("acme.js"), dir.path().join("acme.js")).expect("copy");
    let file = dir.path().join("acme.toml");
    let toml = script_toml(
        "acme",
        "acme.js",
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
    );
    std::fs::write(&file, &toml).expect("write");

    let output = app.cli(&["tenant", "apply", file.to_str().expect("path")]);

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let source = std::fs::read_to_string(fixtures().join("acme.js")).expect("read");
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains(&liaison::script::source_hash(&source)),
        "{printed}"
    );
    let stored = tenant::find(app.db(), &app.master_key, "acme")
        .await
        .expect("find")
        .expect("tenant");
    assert_eq!(
        stored.config.ats.script_source.as_deref(),
        Some(source.as_str())
    );

    std::fs::write(
        dir.path().join("acme.js"),
        "export function verify() { return true }\nconst b = ;\n",
    )
    .expect("write");
    let output = app.cli(&["tenant", "apply", file.to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(2));
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("SyntaxError") && error.contains("line 2"),
        "{error}"
    );

    std::fs::write(
        dir.path().join("acme.js"),
        "function handle() { return [] }\nexport { handle as catch };\n",
    )
    .expect("write");
    let output = app.cli(&["tenant", "apply", file.to_str().expect("path")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing verifies webhooks"));
    app.stop().await;
}

/// Acme's write API: records each call (its authorization and body); refuses job `closed`.
/// The calls Acme's API received: their `Authorization` and body.
type Calls = Arc<Mutex<Vec<(String, Value)>>>;

async fn spawn_acme_api() -> (String, Calls) {
    async fn tag(
        State(calls): State<Calls>,
        axum::extract::Path(id): axum::extract::Path<String>,
        headers: axum::http::HeaderMap,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::http::StatusCode {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        calls.lock().expect("lock").push((auth, body));
        if id == "gone" {
            axum::http::StatusCode::NOT_FOUND
        } else {
            axum::http::StatusCode::CREATED
        }
    }
    let calls = Arc::new(Mutex::new(Vec::new()));
    let router = Router::new()
        .route("/applications/{id}/tags", axum::routing::post(tag))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), calls)
}

#[tokio::test]
async fn write_back_makes_the_scripts_calls_at_the_ats_host() {
    use liaison::ats::{ApplicationRef, WriteBack, adapter_for};
    use liaison::tenant::AtsKind;
    let app = spawn_app().await;
    let (api, calls) = spawn_acme_api().await;
    let toml = script_toml("acme", "pull.js", &api, "http://127.0.0.1:9", "").replace(
        "language = \"en\"",
        "language = \"en\"\ntoken = \"acme-api-S3CRET\"",
    );
    apply_script_tenant(&app, &toml).await;
    let tenant = tenant::find(app.db(), &app.master_key, "acme")
        .await
        .expect("find")
        .expect("tenant");
    let adapter = adapter_for(AtsKind::Script);
    let application = |id: &str| ApplicationRef {
        ats_job_id: "af42dd".to_owned(),
        ats_application_id: id.to_owned(),
    };

    assert!(adapter.writes_back_for(&tenant));
    adapter
        .write_back(
            &tenant,
            &application("app-1"),
            &WriteBack::Tag("Apto".to_owned()),
        )
        .await
        .expect("written back");
    let refused = adapter
        .write_back(
            &tenant,
            &application("gone"),
            &WriteBack::Tag("Apto".to_owned()),
        )
        .await
        .expect_err("refused");

    assert!(
        refused.to_string().contains("Acme refused the result: 404"),
        "{refused}"
    );
    assert_eq!(
        *calls.lock().expect("lock"),
        vec![
            ("Bearer acme-api-S3CRET".to_owned(), json!({"tag": "Apto"})),
            ("Bearer acme-api-S3CRET".to_owned(), json!({"tag": "Apto"}))
        ]
    );
    let runs = liaison::script::runs::run_log().recent(tenant.id);
    assert_eq!(
        runs[0].logs,
        ["acme answered 404 with token ***"],
        "the token blanked"
    );

    let catch_only = script_toml("other", "acme.js", &api, "http://127.0.0.1:9", "");
    apply_script_tenant(&app, &catch_only).await;
    let other = tenant::find(app.db(), &app.master_key, "other")
        .await
        .expect("find")
        .expect("tenant");
    assert!(
        !adapter.writes_back_for(&other),
        "no writeBack, no write-back"
    );
    app.stop().await;
}

//! Script tenants across processes: the last runs are stored in the database (a `pull` made by a
//! `liaison worker` process shows on the server's console), bounded per tenant; replaying a
//! failed `catch` runs the fixed script on the request its dead letter kept.

use std::time::Duration;

use liaison::store::entities::script_run;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::process::Command;

use super::admin_support::sign_in;
use super::ats_script::{
    ACME_KEY, application, apply_offline_acme, apply_script_tenant, events_of, fixtures, post,
    script_toml, spawn_listing,
};
use super::helpers::{expect_status, spawn_app};
use super::support::wait_until;

#[tokio::test]
async fn a_pull_run_by_a_worker_process_shows_on_the_servers_console() {
    let app = spawn_app().await;
    let (listing, asked) = spawn_listing().await;
    let toml = script_toml(
        "acme",
        "pull.js",
        &listing,
        "http://127.0.0.1:9",
        "page_size = 2",
    )
    .replace(
        "language = \"en\"",
        "language = \"en\"\npoll_interval_s = 3600",
    );
    apply_script_tenant(&app, &toml).await;
    let console = sign_in(&app).await;
    let (_, before) = console.get("/admin/tenants/acme/mappings").await;
    assert!(before.contains("No run yet"), "{before}");

    let mut worker = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .arg("worker")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", app.database.url.expose())
        .env("LIAISON_MASTER_KEY", &app.master_key_text)
        .env("LIAISON_PUBLIC_URL", &app.state.settings.public_url)
        .env("LIAISON_LOG", "error")
        .kill_on_drop(true)
        .spawn()
        .expect("start a worker process");
    wait_until(Duration::from_secs(30), "the worker's pull", || {
        let asked = asked.lock().expect("lock").clone();
        async move { (!asked.is_empty()).then_some(()) }
    })
    .await;
    let html = wait_until(
        Duration::from_secs(10),
        "the pull on the console",
        || async {
            let (_, html) = console.get("/admin/tenants/acme/mappings").await;
            html.contains("<td>pull</td>").then_some(html)
        },
    )
    .await;
    let _ = worker.kill().await;

    assert!(html.contains("2 event(s)"), "the worker's run: {html}");
    assert!(
        html.contains("after 0 got 2"),
        "its log, from the other process: {html}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_stored_runs_of_a_tenant_are_bounded() {
    let app = spawn_app().await;
    let tenant = apply_offline_acme(&app).await;

    for minute in 0..25 {
        let moved = application("Video interview", &format!("2026-11-20T14:{minute:02}:00Z"));
        expect_status(post(&app, "acme", ACME_KEY, &moved).await, 200).await;
    }

    let stored = || async {
        script_run::Entity::find()
            .filter(script_run::Column::TenantId.eq(tenant.0))
            .count(app.db())
            .await
            .expect("count")
    };
    // 25 runs, flushed within a second, of which the newest 20 are kept.
    wait_until(Duration::from_secs(10), "the runs stored", || async {
        (stored().await == liaison::script::runs::KEPT as u64).then_some(())
    })
    .await;
    let (_, html) = sign_in(&app)
        .await
        .get("/admin/tenants/acme/mappings")
        .await;
    assert_eq!(
        html.matches("<td>catch</td>").count(),
        liaison::script::runs::KEPT
    );
    app.stop().await;
}

#[tokio::test]
async fn replaying_a_failed_catch_runs_the_fixed_script_on_the_kept_request() {
    let app = spawn_app().await;
    let toml = script_toml(
        "acme",
        "acme.js",
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
    );
    let tenant = apply_script_tenant(&app, &toml).await;
    let body = json!({"what": "job-7", "title": "Welder"});
    expect_status(post(&app, "acme", ACME_KEY, &body).await, 422).await;
    let dead = events_of(&app, tenant)
        .await
        .into_iter()
        .find(|e| e.event_type == "script.catch.failed")
        .expect("a dead letter");
    let kept: Value = serde_json::from_str(&dead.payload).expect("json");
    assert_eq!(kept["script_request"]["body"], body);
    assert!(
        !dead.payload.contains(ACME_KEY),
        "no credential kept: {}",
        dead.payload
    );
    let console = sign_in(&app).await;

    // Replayed with the same script: it fails again, nothing is stored.
    let (status, location) = console
        .post(&format!("/admin/events/{}/replay", dead.id), &[])
        .await;
    assert_eq!(
        (status, location.contains("recatch_failed")),
        (303, true),
        "{location}"
    );
    assert_eq!(events_of(&app, tenant).await.len(), 1);

    // The script fixed (`tenant apply`), the replay stores its events.
    let dir = tempfile::tempdir().expect("tempdir");
    let source = std::fs::read_to_string(fixtures().join("acme.js")).expect("read");
    let fixed = source.replace(
        "  throw new Error('unknown Acme payload: '",
        "  if (b.what) return [{ type: 'job_upserted', ats_job_id: b.what, title: b.title }];\n  throw new Error('unknown Acme payload: '",
    );
    assert_ne!(fixed, source);
    std::fs::write(dir.path().join("acme.js"), fixed).expect("write");
    let mut config = liaison::tenant::TenantConfig::from_toml(&toml).expect("toml");
    liaison::script::load::attach_script(&mut config, dir.path()).expect("loads");
    liaison::tenant::apply(app.db(), &app.master_key, &config)
        .await
        .expect("apply");

    let (status, location) = console
        .post(&format!("/admin/events/{}/replay", dead.id), &[])
        .await;

    assert_eq!(
        (status, location.contains("recaught")),
        (303, true),
        "{location}"
    );
    let events = events_of(&app, tenant).await;
    let job = events
        .iter()
        .find(|e| e.event_type == "job.upserted")
        .expect("the job, from the replay");
    let normalized: Value = serde_json::from_str(&job.normalized).expect("json");
    assert_eq!(normalized["body"]["ats_job_id"], "job-7");
    assert_eq!(normalized["body"]["title"], "Welder");
    let replayed = events
        .iter()
        .find(|e| e.id == dead.id)
        .expect("the dead letter");
    assert_eq!(replayed.status, "processed");
    // Its events are named as the delivery's would have been: sent again, it is a duplicate.
    let sent = serde_json::to_vec(&body).expect("json");
    assert_eq!(
        job.delivery_id,
        format!("{}:0", liaison::crypto::sha256_hex(&sent))
    );
    app.stop().await;
}

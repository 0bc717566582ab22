//! `liaison master-key rotate | verify | generate`: every sealed secret moves to the new key in one
//! transaction, the application works with the new key afterwards and no longer with the old one,
//! and a rotation that cannot open everything changes nothing.

use std::process::Output;

use liaison::App;
use liaison::config::generate_master_key;
use liaison::crypto::MasterKey;
use liaison::ids::TenantId;
use liaison::sso::logins::{self, LoginKind, PendingLogin};
use liaison::store::entities::{suite_grant, tenant as tenant_row};
use liaison::suite::grant_store::grant_context;
use liaison::tenant;
use sea_orm::{ActiveModelTrait, EntityTrait, QueryOrder, Set};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestApp, expect_status, spawn_app, test_settings};
use crate::inbound_support::{SUITE_SECRET, apply, gupy_delivery, gupy_secret, gupy_toml, now_s};

/// Runs `liaison master-key ...` against the app's database with `current` as the configured key;
/// the new key, when given, travels in a file.
fn master_key_cli(app: &TestApp, current: &str, args: &[&str], new_key: Option<&str>) -> Output {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"));
    command.arg("master-key").args(args);
    if let Some(new_key) = new_key {
        std::fs::write(file.path(), format!("{new_key}\n")).expect("write the key");
        command.arg("--new-key-file").arg(file.path());
    }
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", app.database.url.expose())
        .env("LIAISON_MASTER_KEY", current)
        .env("LIAISON_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the liaison binary")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A tenant with a suite grant and a pending sign-in: one value in every sealed column but one.
async fn seeded_app() -> (TestApp, TenantId) {
    let app = spawn_app().await;
    let tenant = apply(
        app.db(),
        &app.master_key,
        &gupy_toml("acme", "http://127.0.0.1:9"),
    )
    .await;
    let context = grant_context("acme");
    suite_grant::ActiveModel {
        tenant_id: Set(tenant.0),
        sealed_refresh_token: Set(Some(app.master_key.seal(b"refresh-S3CRET", &context))),
        sealed_access_token: Set(Some(app.master_key.seal(b"access-S3CRET", &context))),
        access_expires_at: Set(Some(0)),
        version: Set(1),
        created_at: Set(0),
        updated_at: Set(0),
        ..Default::default()
    }
    .insert(app.db())
    .await
    .expect("insert a grant");
    logins::begin(
        app.db(),
        &app.master_key,
        tenant,
        LoginKind::Oidc,
        &pending_login(),
        10,
    )
    .await
    .expect("begin a sign-in");
    (app, tenant)
}

fn pending_login() -> PendingLogin {
    PendingLogin {
        state: "state-1".to_owned(),
        nonce: Some("nonce-1".to_owned()),
        pkce_verifier: Some("verifier-S3CRET".to_owned()),
        return_to: "/".to_owned(),
    }
}

/// Every sealed column's values, to compare before and after.
async fn sealed_values(app: &TestApp) -> Vec<Option<String>> {
    let mut values: Vec<Option<String>> = tenant_row::Entity::find()
        .order_by_asc(tenant_row::Column::Id)
        .all(app.db())
        .await
        .expect("tenants")
        .into_iter()
        .map(|t| Some(t.sealed_secrets))
        .collect();
    for grant in suite_grant::Entity::find()
        .all(app.db())
        .await
        .expect("grants")
    {
        values.push(grant.sealed_refresh_token);
        values.push(grant.sealed_access_token);
    }
    values
}

/// The same database served again by a fresh app configured with `key`.
async fn restart_with_key(app: TestApp, key: &str) -> TestApp {
    app.shutdown.cancel();
    let _ = app.server.await;
    let mut settings = test_settings(&app.database, key);
    settings.bind = "127.0.0.1:0".to_owned();
    let server = App::build_with_db(settings, app.database.db.clone())
        .await
        .expect("build the app");
    let address = server.local_addr();
    let state = server.state().clone();
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(server.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        database: app.database,
        master_key: MasterKey::from_base64(key).expect("key"),
        master_key_text: key.to_owned(),
        client: app.client,
        shutdown,
        server: handle,
        state,
    }
}

#[tokio::test]
async fn rotation_reseals_every_secret_and_the_app_works_with_the_new_key() {
    let (app, tenant) = seeded_app().await;
    let old_text = app.master_key_text.clone();
    let old = app.master_key.clone();
    let new_text = generate_master_key();
    let new = MasterKey::from_base64(&new_text).expect("key");

    let output = master_key_cli(&app, &old_text, &["rotate"], Some(&new_text));

    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("re-sealed 4 secrets"), "{stdout}");
    assert!(!stdout.contains(&new_text) && !stdout.contains("S3CRET"));
    // The old key opens nothing any more; the new one opens everything.
    assert!(tenant::find(app.db(), &old, "acme").await.is_err());
    let found = tenant::find(app.db(), &new, "acme").await.expect("opens");
    assert!(found.is_some());
    let grant = suite_grant::Entity::find()
        .one(app.db())
        .await
        .expect("grant")
        .expect("a grant");
    let context = grant_context("acme");
    let refresh = grant.sealed_refresh_token.expect("refresh");
    assert!(old.open(&refresh, &context).is_err());
    assert_eq!(
        new.open(&refresh, &context).expect("opens"),
        b"refresh-S3CRET"
    );
    let spent = logins::finish(app.db(), &new, tenant, LoginKind::Oidc, "state-1")
        .await
        .expect("finish");
    assert_eq!(spent, Some(pending_login()));
    let verified = master_key_cli(&app, &new_text, &["verify"], None);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
    let refused = master_key_cli(&app, &old_text, &["verify"], None);
    assert!(!refused.status.success());

    // A process started with the new key verifies both partners' webhooks.
    let app = restart_with_key(app, &new_text).await;
    let body = gupy_delivery("d-1", "application.moved").to_string();
    expect_status(
        app.post_gupy("acme", body.as_bytes(), Some(&gupy_secret("acme")))
            .await,
        202,
    )
    .await;
    let event = json!({"type": "invitation.completed", "timestamp": "2026-11-20T13:05:41Z",
                       "data": {"id": "inv_1", "project_id": "prj_1", "candidate_id": "can_1",
                                "status": "completed"}})
    .to_string();
    expect_status(
        app.post_suite("acme", SUITE_SECRET, "msg_1", now_s(), event.as_bytes())
            .await,
        202,
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn rotation_with_a_wrong_current_key_changes_nothing() {
    let (app, _) = seeded_app().await;
    let before = sealed_values(&app).await;

    let output = master_key_cli(
        &app,
        &generate_master_key(),
        &["rotate"],
        Some(&generate_master_key()),
    );

    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(
        text(&output.stderr).contains("does not open with the current master key"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(sealed_values(&app).await, before);
    assert!(
        tenant::find(app.db(), &app.master_key, "acme")
            .await
            .expect("still opens with the old key")
            .is_some()
    );
    app.stop().await;
}

#[tokio::test]
async fn one_secret_under_another_key_stops_the_whole_rotation() {
    let (app, _) = seeded_app().await;
    // A second tenant sealed under some other key: its row does not open with the current one.
    let stranger = MasterKey::from_base64(&generate_master_key()).expect("key");
    apply(
        app.db(),
        &stranger,
        &gupy_toml("zeta", "http://127.0.0.1:9"),
    )
    .await;
    let before = sealed_values(&app).await;

    let output = master_key_cli(
        &app,
        &app.master_key_text,
        &["rotate"],
        Some(&generate_master_key()),
    );

    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("tenants.sealed_secrets"));
    assert_eq!(sealed_values(&app).await, before, "nothing half-written");
    app.stop().await;
}

#[tokio::test]
async fn rotation_refuses_the_same_key_and_a_malformed_one() {
    let (app, _) = seeded_app().await;
    let key = app.master_key_text.clone();
    let before = sealed_values(&app).await;

    let same = master_key_cli(&app, &key, &["rotate"], Some(&key));
    let malformed = master_key_cli(&app, &key, &["rotate"], Some("c2hvcnQ="));
    let missing = master_key_cli(&app, &key, &["rotate"], None);

    for output in [&same, &malformed, &missing] {
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    }
    assert!(text(&same.stderr).contains("is the current one"));
    assert!(!text(&malformed.stderr).contains("c2hvcnQ"));
    assert_eq!(sealed_values(&app).await, before);
    app.stop().await;
}

#[tokio::test]
async fn generate_prints_a_usable_key() {
    let app = spawn_app().await;
    let output = master_key_cli(&app, &app.master_key_text, &["generate"], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let key = text(&output.stdout);
    assert!(MasterKey::from_base64(key.trim()).is_ok(), "{key}");
    app.stop().await;
}

//! The authorization-code grant: consent, callback, sealed storage, and refresh that is single
//! flight across processes sharing one database.

use futures::future::join_all;
use liaison::config::SuiteClientSettings;
use liaison::crypto::MasterKey;
use liaison::store;
use liaison::store::entities::suite_grant;
use liaison::suite::{
    GrantStore, PageRequest, SuiteClient, SuiteClients, build_http_client, refresh_lease,
};
use liaison::tenant::{self, SuiteAuth, Tenant, TenantConfig};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{TENANT, counter, quick_retries, suite_settings, test_settings};
use crate::helpers::{TestApp, expect_status, spawn_app};
use crate::sim_suite::{CLIENT_SECRET, TestSuite, spawn_suite};

fn tenant_toml(suite_url: &str) -> String {
    format!(
        r#"
slug = "{TENANT}"
name = "Acme Corp"

[ats]
kind = "gupy"
base_url = "http://127.0.0.1:9"
token = "gupy-token"
webhook_secret = "gupy-hook"

[suite]
base_url = "{suite_url}"
auth = "authorization_code"
client_id = "liaison"
client_secret = "{CLIENT_SECRET}"
"#
    )
}

async fn add_tenant(app: &TestApp, suite: &TestSuite) -> Tenant {
    let config = TenantConfig::from_toml(&tenant_toml(&suite.base)).expect("valid tenant");
    tenant::apply(app.db(), &app.master_key, &config)
        .await
        .expect("apply");
    tenant::find(app.db(), &app.master_key, TENANT)
        .await
        .expect("find")
        .expect("tenant")
}

/// Plays the suite admin: opens the consent URL and follows the redirect back to Liaison.
async fn approve(app: &TestApp, suite: &TestSuite, consent_url: &str) -> reqwest::Response {
    let redirect = suite
        .http
        .get(consent_url)
        .send()
        .await
        .expect("consent page");
    assert!(redirect.status().is_redirection(), "{}", redirect.status());
    let location = redirect.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let callback = url::Url::parse(&location).expect("callback URL");
    assert_eq!(callback.path(), format!("/oauth/suite/{TENANT}/callback"));
    let path = format!(
        "{}?{}",
        callback.path(),
        callback.query().unwrap_or_default()
    );
    app.get(&path).await
}

async fn grant_row(app: &TestApp, tenant: &Tenant) -> suite_grant::Model {
    suite_grant::Entity::find()
        .filter(suite_grant::Column::TenantId.eq(tenant.id.0))
        .one(app.db())
        .await
        .expect("query")
        .expect("a stored grant")
}

/// One Liaison "process": its own pool on the shared database and its own client and cache.
async fn process(app: &TestApp, suite: &TestSuite, tenant: &Tenant) -> SuiteClient {
    let settings: SuiteClientSettings = test_settings();
    let db = store::connect(&app.database.url).await.expect("own pool");
    let key = MasterKey::from_base64(&app.master_key_text).expect("key");
    let grants = GrantStore::new(db, key, tenant.id, TENANT, refresh_lease(&settings));
    let http = build_http_client(&settings).expect("http");
    let suite_config = suite_settings(&suite.base, SuiteAuth::AuthorizationCode, CLIENT_SECRET);
    SuiteClient::new(http, TENANT, &suite_config, &settings, Some(grants))
        .expect("client")
        .with_retry_policy(quick_retries(&settings))
}

#[tokio::test]
async fn the_authorization_code_flow_stores_the_refresh_token_sealed() {
    let app = spawn_app().await;
    let suite = spawn_suite().await;
    let tenant = add_tenant(&app, &suite).await;

    let output = app.cli(&["tenant", "authorize-suite", TENANT]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let consent_url = String::from_utf8(output.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert!(consent_url.starts_with(&format!("{}/oauth/authorize?", suite.base)));
    assert!(consent_url.contains("code_challenge_method=S256"));
    let answer = approve(&app, &suite, &consent_url).await;

    assert_eq!(answer.status(), 200);
    assert!(
        answer
            .text()
            .await
            .expect("page")
            .contains("Liaison is authorised")
    );
    let row = grant_row(&app, &tenant).await;
    let sealed = row.sealed_refresh_token.expect("refresh token stored");
    assert!(sealed.starts_with("v1:"));
    let refresh = app
        .master_key
        .open(&sealed, &format!("suite-grant:{TENANT}"))
        .expect("opens with the tenant's context");
    assert!(!refresh.is_empty());
    let state = suite.state().await;
    assert_eq!(
        counter(&state, &["token_requests", "authorization_code"]),
        1
    );

    // The stored grant works, through the app's own registry.
    let settings = crate::helpers::test_settings(&app.database, &app.master_key_text);
    let clients = SuiteClients::new(&settings, app.db().clone(), Some(app.master_key.clone()))
        .expect("registry");
    let client = clients.for_tenant(&tenant).expect("client");
    client
        .list_users(&PageRequest::default())
        .await
        .expect("a call with the grant");
    // The state was single use.
    let replay = approve(&app, &suite, &consent_url).await;
    let body = expect_status(replay, 400).await;
    assert_eq!(body["error"]["code"], "invalid_state");
}

#[tokio::test]
async fn a_callback_with_an_unknown_state_is_refused() {
    let app = spawn_app().await;
    let suite = spawn_suite().await;
    add_tenant(&app, &suite).await;

    let answer = app
        .get(&format!(
            "/oauth/suite/{TENANT}/callback?code=abc&state=forged"
        ))
        .await;
    let body = expect_status(answer, 400).await;
    assert_eq!(body["error"]["code"], "invalid_state");

    let unknown = app
        .get("/oauth/suite/nobody/callback?code=abc&state=x")
        .await;
    let body = expect_status(unknown, 404).await;
    assert_eq!(body["error"]["code"], "unknown_tenant");
}

#[tokio::test]
async fn authorize_suite_refuses_a_client_credentials_tenant() {
    let app = spawn_app().await;
    app.add_tenant("globex").await;

    let output = app.cli(&["tenant", "authorize-suite", "globex"]);

    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("authorization_code"));
}

#[tokio::test]
async fn two_processes_refreshing_at_once_never_reuse_a_refresh_token() {
    let app = spawn_app().await;
    let suite = spawn_suite().await;
    let tenant = add_tenant(&app, &suite).await;
    let key = app.master_key.clone();
    let http = build_http_client(&test_settings()).expect("http");
    let consent =
        liaison::suite::start_authorization(app.db(), &key, &tenant, "http://127.0.0.1:1", http)
            .await
            .expect("consent URL");
    let answer = approve(&app, &suite, consent.as_str()).await;
    assert_eq!(answer.status(), 200);
    let first = process(&app, &suite, &tenant).await;
    let second = process(&app, &suite, &tenant).await;

    let page = PageRequest::default();
    let rounds = 5;
    for _ in 0..rounds {
        suite
            .control("/_sim/tokens/expire", serde_json::json!({}))
            .await;
        let calls = (0..10).flat_map(|_| [first.list_users(&page), second.list_users(&page)]);
        let results = join_all(calls).await;
        for result in results {
            result.expect("every call succeeds");
        }
    }

    let state = suite.state().await;
    assert!(
        !state["counters"]["grant_revoked_for_refresh_reuse"]
            .as_bool()
            .unwrap_or(true)
    );
    assert_eq!(counter(&state, &["refresh_reuse_revocations"]), 0);
    assert_eq!(
        counter(&state, &["token_requests", "refresh_token"]),
        rounds
    );
    let row = grant_row(&app, &tenant).await;
    assert_eq!(row.version, 1 + rounds as i64);
    assert!(row.refreshing_owner.is_none());
    let sealed = row
        .sealed_access_token
        .expect("access token shared through the row");
    let access = key
        .open(&sealed, &format!("suite-grant:{TENANT}"))
        .expect("opens");
    assert!(!sealed.contains(&String::from_utf8_lossy(&access).into_owned()));
}

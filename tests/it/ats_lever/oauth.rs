//! Lever's OAuth2 authorization code: a Lever admin authorises Liaison once (consent URL,
//! callback with `state` checked), calls carry bearer tokens, a token Lever refuses is replaced
//! by one refresh, two processes refreshing at once spend the rotating refresh token once, and
//! a master-key rotation keeps the grant usable.

use liaison::ats::shared::AtsShared;
use liaison::ats::{AdapterError, ApplicationRef, adapter_for};
use liaison::crypto::MasterKey;
use liaison::events::AtsApplication;
use liaison::tenant::{self, AtsKind, Tenant};
use liaison_sim::lever::LeverSimConfig;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use super::LeverWorld;

/// `[ats.lever]` of a tenant using the authorization code at the simulator's OAuth server.
const OAUTH: &str = r#"
auth = "authorization_code"
client_id = "liaison-lever-client"
client_secret = "liaison-lever-secret"
oauth_url = "{lever_sim}"
"#;

/// The simulator refuses the tenant's API key: only bearer tokens get through.
async fn oauth_world() -> LeverWorld {
    oauth_world_with(false).await
}

async fn oauth_world_with(webhooks: bool) -> LeverWorld {
    let sim = LeverSimConfig {
        api_key: "a-key-liaison-does-not-have".to_owned(),
        ..LeverSimConfig::default()
    };
    LeverWorld::with(webhooks, sim, OAUTH).await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// What a Lever admin does: opens the URL Liaison printed and approves (the simulator at once);
/// Lever sends the browser back to Liaison's callback. Answers the callback's URL.
async fn approve(world: &LeverWorld) -> String {
    let url = liaison::ats::lever::oauth::start_authorization(
        world.app.db(),
        &world.app.master_key,
        &world.tenant,
        &world.app.state.settings.public_url,
        reqwest::Client::new(),
    )
    .await
    .expect("the consent URL");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        param("audience").as_deref(),
        Some("https://api.lever.co/v1/")
    );
    assert!(param("scope").is_some_and(|s| s.contains("offline_access")));
    assert_eq!(
        param("redirect_uri"),
        Some(world.app.url("/oauth/ats/acme/callback"))
    );
    let consent = no_redirects().get(url).send().await.expect("consent");
    assert!(consent.status().is_redirection(), "{}", consent.status());
    consent
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a redirect back")
        .to_owned()
}

async fn authorise(world: &LeverWorld) {
    let callback = approve(world).await;
    let answer = no_redirects()
        .get(&callback)
        .send()
        .await
        .expect("callback");
    assert_eq!(answer.status(), 200);
    assert!(
        answer
            .text()
            .await
            .unwrap_or_default()
            .contains("authorised")
    );
}

/// Reads the opportunity through the adapter, within `shared` (one Liaison process's state).
async fn read(
    shared: &AtsShared,
    tenant: &Tenant,
    opportunity: &str,
) -> Result<AtsApplication, AdapterError> {
    let adapter = adapter_for(AtsKind::Lever);
    let application = ApplicationRef {
        ats_job_id: String::new(),
        ats_application_id: opportunity.to_owned(),
    };
    shared
        .clone()
        .scope(adapter.fetch_application(tenant, &application))
        .await
}

fn oauth(world: &LeverWorld) -> Value {
    serde_json::to_value(world.lever.state.oauth_counters()).expect("counters")
}

async fn expire_access_tokens(world: &LeverWorld) {
    world.lever_post("/_sim/oauth/expire", json!({})).await;
}

/// Another Liaison process on the same database: its own token cache, the same grant row.
fn another_process(world: &LeverWorld, key: &MasterKey) -> AtsShared {
    AtsShared::new(
        world.app.db().clone(),
        Some(key.clone()),
        world.app.state.ats_shared.refresh_lease(),
    )
}

#[tokio::test]
async fn a_lever_admin_authorises_liaison_once_and_calls_carry_its_bearer_token() {
    let world = oauth_world().await;
    let opportunity = world.applicant("oauth@example.com").await;
    let shared = &world.app.state.ats_shared;

    let before = read(shared, &world.tenant, &opportunity).await;
    assert!(
        matches!(&before, Err(AdapterError::Auth(m)) if m.contains("authorize-ats")),
        "{before:?}"
    );

    let callback = approve(&world).await;
    let answer = no_redirects()
        .get(&callback)
        .send()
        .await
        .expect("callback");
    assert_eq!(answer.status(), 200);
    // The state is single use: the same callback again is refused, and changes nothing.
    let replay = no_redirects()
        .get(&callback)
        .send()
        .await
        .expect("callback");
    assert_eq!(replay.status(), 400);
    let body: Value = replay.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_state", "{body}");
    // A Lever state does not complete the suite's authorisation either.
    let suite_callback = callback.replace("/oauth/ats/", "/oauth/suite/");
    let crossed = no_redirects()
        .get(&suite_callback)
        .send()
        .await
        .expect("callback");
    assert_eq!(crossed.status(), 400);

    let application = read(shared, &world.tenant, &opportunity)
        .await
        .expect("read with the bearer token");
    assert_eq!(
        application.candidate.email.as_deref(),
        Some("oauth@example.com")
    );
    let counters = oauth(&world);
    assert_eq!(counters["codesExchanged"], 1, "{counters}");
    assert_eq!(counters["refreshes"], 0, "{counters}");
}

#[tokio::test]
async fn a_token_lever_refuses_is_replaced_by_one_refresh_and_the_call_made_again() {
    let world = oauth_world().await;
    let opportunity = world.applicant("expiry@example.com").await;
    authorise(&world).await;
    let shared = &world.app.state.ats_shared;
    read(shared, &world.tenant, &opportunity)
        .await
        .expect("first read");

    expire_access_tokens(&world).await;
    read(shared, &world.tenant, &opportunity)
        .await
        .expect("read after the token expired");
    read(shared, &world.tenant, &opportunity)
        .await
        .expect("read with the new token");

    let counters = oauth(&world);
    assert_eq!(counters["refreshes"], 1, "{counters}");
    assert_eq!(counters["refusedTokens"], 1, "{counters}");
    assert_eq!(counters["refreshReuses"], 0, "{counters}");
}

#[tokio::test]
async fn two_processes_refreshing_at_once_spend_the_refresh_token_once() {
    let world = oauth_world().await;
    let opportunity = world.applicant("race@example.com").await;
    authorise(&world).await;
    let (a, b) = (
        another_process(&world, &world.app.master_key),
        another_process(&world, &world.app.master_key),
    );
    // Both hold the same access token in their caches...
    read(&a, &world.tenant, &opportunity).await.expect("read a");
    read(&b, &world.tenant, &opportunity).await.expect("read b");
    // ...which Lever now refuses: every call of both needs a new one at once.
    expire_access_tokens(&world).await;

    let reads = (0..4)
        .flat_map(|_| [&a, &b])
        .map(|shared| read(shared, &world.tenant, &opportunity));
    let results = futures::future::join_all(reads).await;

    let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failures.is_empty(), "{failures:?}");
    let counters = oauth(&world);
    assert_eq!(counters["refreshes"], 1, "{counters}");
    assert_eq!(counters["refreshReuses"], 0, "{counters}");
    assert_eq!(counters["codesExchanged"], 1, "{counters}");
}

#[tokio::test]
async fn a_master_key_rotation_keeps_the_lever_grant_working() {
    let world = oauth_world().await;
    let opportunity = world.applicant("rotate@example.com").await;
    authorise(&world).await;
    let new_key =
        MasterKey::from_base64(&liaison::config::generate_master_key()).expect("a new key");

    let counts = liaison::rekey::rotate(world.app.db(), &world.app.master_key, &new_key)
        .await
        .expect("rotate");
    let grants = counts
        .0
        .iter()
        .find(|(column, _)| column.name() == "suite_grants.sealed_refresh_token")
        .map(|(_, n)| *n);
    assert_eq!(grants, Some(1), "the Lever grant is re-sealed");

    // A process with the new key opens the grant, and its refresh token still works.
    let tenant = tenant::find(world.app.db(), &new_key, "acme")
        .await
        .expect("find")
        .expect("tenant");
    let rotated = another_process(&world, &new_key);
    expire_access_tokens(&world).await;
    read(&rotated, &tenant, &opportunity)
        .await
        .expect("read after the rotation");
    let counters = oauth(&world);
    assert_eq!(counters["refreshes"], 1, "{counters}");
    assert_eq!(counters["refreshReuses"], 0, "{counters}");
}

#[tokio::test]
async fn authorize_ats_prints_the_consent_url_and_refuses_an_api_key_tenant() {
    let world = oauth_world().await;

    let output = world.app.cli(&["tenant", "authorize-ats", "acme"]);

    assert!(output.status.success(), "{output:?}");
    let url = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        url.starts_with(&format!("{}/authorize?", world.lever.url())),
        "{url}"
    );
    assert!(url.contains("client_id=liaison-lever-client") && url.contains("audience="));
    let api_key_tenant = LeverWorld::new(false).await;
    let refused = api_key_tenant.app.cli(&["tenant", "authorize-ats", "acme"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("authorization_code"));
}

#[tokio::test]
async fn the_worker_reads_and_writes_lever_with_the_grant() {
    let world = oauth_world_with(true).await;
    let opportunity = world.applicant("worker@example.com").await;
    authorise(&world).await;

    world.move_to(&opportunity, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;

    // The invitation note went to Lever as the grant's bearer: the API key would be refused.
    let notes = world.opportunity(&opportunity)["notes"].clone();
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "{notes}");
    let calls = world.lever.state.api_calls();
    assert!(calls["GET /v1/opportunities/{id}"] >= 1, "{calls:?}");
    let counters = oauth(&world);
    assert_eq!(counters["refusedTokens"], 0, "{counters}");
}

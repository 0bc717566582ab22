//! Teamtailor's partner API end to end: the Teamtailor simulator runs triggers (signed webhooks,
//! never retried) and takes the JSON:API PUT of each partner result.

use std::time::Duration;

use liaison::sync::{Worker, runtime};
use liaison::tenant::{self, Tenant, TenantConfig};
use liaison_sim::suite::{self, ProjectIn, ReviewIn, RunningSuiteSim, SuiteSimConfig};
use liaison_sim::teamtailor::{self, Faults, RunningTeamtailorSim, TeamtailorSimConfig};
use secrecy::ExposeSecret as _;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app_with};

const SIGNATURE_SECRET: &str = "tt-signature-secret";
const API_KEY: &str = "tt-partner-api-key";

struct TeamtailorWorld {
    app: TestApp,
    suite: RunningSuiteSim,
    teamtailor: RunningTeamtailorSim,
    tenant: Tenant,
    worker: Worker,
}

impl TeamtailorWorld {
    async fn new() -> Self {
        Self::with("", |_| {}).await
    }

    /// A world whose tenant file ends with `extra` and whose settings `settings` changes.
    async fn with(extra: &str, settings: impl FnOnce(&mut liaison::config::Settings)) -> Self {
        let suite = suite::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            SuiteSimConfig {
                webhook_retry_schedule: vec![Duration::from_millis(50), Duration::from_secs(1)],
                ..SuiteSimConfig::default()
            },
        )
        .await
        .expect("suite simulator");
        let app = spawn_app_with(|s| {
            s.queue.base_backoff_ms = 10;
            s.queue.max_backoff_seconds = 1;
            settings(s);
        })
        .await;
        let teamtailor = teamtailor::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            TeamtailorSimConfig {
                partner_base_url: format!("{}/partners/teamtailor", app.state.settings.public_url),
                signature_secret: SIGNATURE_SECRET.to_owned(),
                api_key: API_KEY.to_owned(),
                ..TeamtailorSimConfig::default()
            },
        )
        .await
        .expect("teamtailor simulator");
        let file = format!(
            r#"
slug = "tt"
name = "Teamtailor customer"
[ats]
kind = "teamtailor"
base_url = "{}"
token = "{API_KEY}"
webhook_secret = "{SIGNATURE_SECRET}"
[suite]
base_url = "{}"
client_id = "liaison"
client_secret = "liaison-secret"
{extra}
"#,
            teamtailor.url(),
            suite.base_url()
        );
        let config = TenantConfig::from_toml(&file).expect("tenant file");
        tenant::apply(app.db(), &app.master_key, &config)
            .await
            .expect("apply");
        let tenant = tenant::find(app.db(), &app.master_key, "tt")
            .await
            .expect("find")
            .expect("tenant");
        let provider_key = liaison::orders::keys::issue(app.db(), &app.master_key, tenant.id)
            .await
            .expect("key");
        liaison::suite::subscription::ensure_suite_subscription(
            app.db(),
            &app.master_key,
            &app.state.suite_clients,
            &tenant,
            &app.state.settings.public_url,
        )
        .await
        .expect("suite subscription");
        teamtailor.update_config(|c| c.provider_key = provider_key.expose_secret().to_owned());
        let worker = runtime::worker(&app.state.background().expect("worker"));
        Self {
            app,
            suite,
            teamtailor,
            tenant,
            worker,
        }
    }

    fn project(&self, title: &str) -> String {
        let input: ProjectIn = serde_json::from_value(json!({"title": title})).expect("project");
        self.suite
            .sim()
            .mutate(|store| store.create_project(input))
            .expect("project")
            .id
    }

    fn invitations(&self) -> Vec<serde_json::Value> {
        crate::sync_world::object_values(&self.suite.sim().snapshot()["invitations"])
    }

    /// The suite answers every call with 503 (`down`), or works again.
    async fn suite_down(&self, down: bool) {
        let rate = if down { 1.0 } else { 0.0 };
        let faults = reqwest::Client::new()
            .post(format!("{}/_sim/faults", self.suite.base_url()))
            .json(&json!({"error_rate": rate, "status": 503}))
            .send()
            .await
            .expect("faults");
        assert!(faults.status().is_success());
    }

    /// The candidate of the invitation takes the interview and a reviewer scores it `score`.
    fn complete_invitation(&self, index: usize, score: u8) {
        let invitation = self.invitations()[index]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let review: ReviewIn = serde_json::from_value(
            json!({"score": score, "recommendation": "advance", "comment": "ok"}),
        )
        .expect("review");
        self.suite
            .sim()
            .complete_invitation(&invitation, vec![review])
            .expect("complete");
    }

    async fn recover(&self) -> liaison::ats::PollReport {
        liaison::ats::poll_once(&self.app.state.pollers(), &self.tenant)
            .await
            .expect("the recovery poll")
    }

    async fn settle_until(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            self.worker.drain().await.expect("drain");
            if done(self) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn teamtailor_webhooks_need_the_provider_key_and_a_fresh_signature() {
    let world = TeamtailorWorld::new().await;
    let test = world.project("Backend engineer");
    let tt = &world.teamtailor;
    let now = chrono::Utc::now().timestamp();

    let stale = tt
        .trigger_with(&test, "a@example.com", Some(now - 301), None, None)
        .await;
    assert_eq!(stale.status, 401, "{}", stale.body);
    assert!(!stale.body.starts_with('{'), "plain text: {}", stale.body);
    let wrong = tt
        .trigger_with(&test, "a@example.com", None, Some("not-the-secret"), None)
        .await;
    assert_eq!(wrong.status, 401);
    let no_key = tt
        .trigger_with(&test, "a@example.com", None, None, Some("not-the-key"))
        .await;
    assert_eq!(no_key.status, 401);
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert!(orders.is_empty(), "nothing stored");

    let (status, config) = tt.config().await;
    assert_eq!(status, 200);
    assert_eq!(config["config"]["fields"][0]["options"][0]["id"], test);
}

#[tokio::test]
async fn a_teamtailor_order_is_stored_before_the_answer_even_with_the_suite_down() {
    let world = TeamtailorWorld::new().await;
    let test = world.project("Backend engineer");
    let faults = reqwest::Client::new()
        .post(format!("{}/_sim/faults", world.suite.base_url()))
        .json(&json!({"error_rate": 1.0, "status": 503}))
        .send()
        .await
        .expect("faults");
    assert!(faults.status().is_success());
    let answer = world.teamtailor.trigger(&test, "ana@example.com").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert_eq!(orders.len(), 1, "committed before the 2xx");
    assert_eq!(orders[0].ats_order_key, answer.partner_result_id);
}

#[tokio::test]
async fn a_teamtailor_order_ends_with_one_put_of_its_result() {
    let world = TeamtailorWorld::new().await;
    let test = world.project("Backend engineer");
    let answer = world.teamtailor.trigger(&test, "ana@example.com").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    world.teamtailor.set_faults(Faults {
        fail_next: 1,
        ..Faults::default()
    });
    let invitation = world.invitations()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let review: ReviewIn =
        serde_json::from_value(json!({"score": 77, "recommendation": "advance", "comment": "ok"}))
            .expect("review");
    world
        .suite
        .sim()
        .complete_invitation(&invitation, vec![review])
        .expect("complete");
    let id = answer.partner_result_id.clone();
    world
        .settle_until("the PUT", |w| {
            w.teamtailor
                .result(&id)
                .is_some_and(|r| r.puts_accepted == 1)
        })
        .await;
    let record = world.teamtailor.result(&id).expect("record");
    assert!(record.refusals.is_empty(), "{:?}", record.refusals);
    assert_eq!(record.status, "completed");
    assert_eq!(record.score, Some(json!(77)));
    assert_eq!(record.puts_received, 2, "one 503, then the one taken");
    assert_eq!(record.auth_schemes, ["Token", "Token"], "the default word");
}

#[tokio::test]
async fn a_teamtailor_order_outlives_a_suite_outage_longer_than_its_retries() {
    let world = TeamtailorWorld::with("", |s| {
        s.queue.max_attempts = 2;
        // Each job attempt makes one call: the queue's retries are the ones under test.
        s.suite_client.max_retries = 0;
    })
    .await;
    let test = world.project("Backend engineer");
    world.suite_down(true).await;
    let answer = world.teamtailor.trigger(&test, "ana@example.com").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let db = world.app.db();
    let tenant = world.tenant.id;
    let mut dead = Vec::new();
    for _ in 0..500 {
        world.worker.drain().await.expect("drain");
        dead = liaison::queue::dead_jobs_of_tenant(db, tenant)
            .await
            .expect("dead jobs");
        if !dead.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(dead.len(), 1, "the queue gave up on placing the order");
    let orders = liaison::orders::list(db, tenant, 10).await.expect("orders");
    assert_eq!(orders[0].status, liaison::orders::OrderStatus::Received);

    world.suite_down(false).await;
    let report = world.recover().await;
    assert_eq!(report.requeued, 1, "{report:?}");
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    world.complete_invitation(0, 64);
    let id = answer.partner_result_id.clone();
    world
        .settle_until("the PUT", |w| {
            w.teamtailor
                .result(&id)
                .is_some_and(|r| r.puts_accepted == 1)
        })
        .await;
    assert_eq!(
        world.teamtailor.result(&id).expect("record").score,
        Some(json!(64))
    );
    assert_eq!(world.recover().await.requeued, 0, "nothing left to requeue");
}

#[tokio::test]
async fn orders_teamtailor_could_not_deliver_are_recovered_from_its_listing() {
    let world = TeamtailorWorld::with(
        "[ats.teamtailor]\npending_results_page_size = 2\nresult_auth = \"Bearer\"",
        |_| {},
    )
    .await;
    let test = world.project("Backend engineer");
    world.teamtailor.set_faults(Faults {
        drop_next_deliveries: 3,
        ..Faults::default()
    });
    let mut lost = Vec::new();
    for n in 0..3 {
        let answer = world
            .teamtailor
            .trigger(&test, &format!("c{n}@example.com"))
            .await;
        assert_eq!(answer.status, 0, "never delivered");
        lost.push(answer.partner_result_id);
    }
    let delivered = world.teamtailor.trigger(&test, "d@example.com").await;
    assert_eq!(delivered.status, 200, "{}", delivered.body);
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert_eq!(orders.len(), 1, "only the delivered one is known");

    let report = world.recover().await;
    assert_eq!(
        (report.seen, report.new, report.duplicates),
        (4, 3, 1),
        "{report:?}"
    );
    assert_eq!(world.teamtailor.listings(), 2, "two pages of two");
    let again = world.recover().await;
    assert_eq!(
        (again.new, again.duplicates),
        (0, 4),
        "idempotent: {again:?}"
    );
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    let mut keys: Vec<_> = orders.iter().map(|o| o.ats_order_key.clone()).collect();
    keys.sort();
    let mut expected = lost.clone();
    expected.push(delivered.partner_result_id.clone());
    expected.sort();
    assert_eq!(keys, expected);

    world
        .settle_until("the invitations", |w| w.invitations().len() == 4)
        .await;
    world.complete_invitation(0, 90);
    world.complete_invitation(1, 90);
    world.complete_invitation(2, 90);
    world.complete_invitation(3, 90);
    world
        .settle_until("every PUT", |w| {
            lost.iter().chain([&delivered.partner_result_id]).all(|id| {
                w.teamtailor
                    .result(id)
                    .is_some_and(|r| r.puts_accepted == 1)
            })
        })
        .await;
    let record = world.teamtailor.result(&lost[0]).expect("record");
    assert_eq!(record.status, "completed");
    assert!(record.refusals.is_empty(), "{:?}", record.refusals);
    assert_eq!(record.auth_schemes, ["Bearer"], "the tenant's word");
    assert_eq!(world.recover().await.seen, 0, "nothing is left unanswered");
}

/// A JWT signed HS256 with `key`, expiring at `exp` (Unix seconds).
fn provider_jwt(key: &str, exp: i64) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"exp": exp, "company-uuid": "co-uuid"}),
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("a JWT")
}

/// A compact JWE (`dir`, `A256GCM`) under the key Teamtailor's example derives from the webhook
/// secret: the first 32 hex characters of its SHA-256, as bytes.
fn provider_jwe(webhook_secret: &str, exp: i64) -> String {
    use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
    use base64::Engine as _;
    use sha2::Digest as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let hex: String = sha2::Sha256::digest(webhook_secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&hex.as_bytes()[..32]).expect("key");
    let header = b64.encode(br#"{"alg":"dir","enc":"A256GCM"}"#);
    let nonce = aes_gcm::Aes256Gcm::generate_nonce(&mut OsRng);
    let claims = json!({"exp": exp}).to_string();
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: claims.as_bytes(),
                aad: header.as_bytes(),
            },
        )
        .expect("sealed");
    let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
    format!(
        "{header}..{}.{}.{}",
        b64.encode(nonce),
        b64.encode(ciphertext),
        b64.encode(tag)
    )
}

/// The status a trigger run gets with `bearer` as the provider key.
async fn trigger_status(world: &TeamtailorWorld, test: &str, bearer: &str) -> u16 {
    world
        .teamtailor
        .trigger_with(test, "ana@example.com", None, None, Some(bearer))
        .await
        .status
}

#[tokio::test]
async fn a_provider_key_jwt_is_accepted_only_where_the_tenant_says_so() {
    let now = chrono::Utc::now().timestamp();
    let plain = TeamtailorWorld::new().await;
    let test = plain.project("Backend engineer");
    let token = provider_jwt(API_KEY, now + 300);
    assert_eq!(
        trigger_status(&plain, &test, &token).await,
        401,
        "plain only"
    );

    let world = TeamtailorWorld::with("[ats.teamtailor]\nprovider_key = \"jwt\"", |_| {}).await;
    let test = world.project("Backend engineer");
    assert_eq!(
        trigger_status(&world, &test, &token).await,
        200,
        "a good JWT"
    );
    let wrong = provider_jwt("not-the-api-key", now + 300);
    assert_eq!(
        trigger_status(&world, &test, &wrong).await,
        401,
        "wrong key"
    );
    let expired = provider_jwt(API_KEY, now - 5);
    assert_eq!(
        trigger_status(&world, &test, &expired).await,
        401,
        "expired"
    );
    let issued = world.teamtailor.trigger(&test, "b@example.com").await;
    assert_eq!(issued.status, 200, "the issued key still works");
    let jwe = provider_jwe(SIGNATURE_SECRET, now + 300);
    assert_eq!(
        trigger_status(&world, &test, &jwe).await,
        401,
        "not the form"
    );
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert_eq!(orders.len(), 2);
}

#[tokio::test]
async fn a_provider_key_jwe_opens_under_the_webhook_secret() {
    let now = chrono::Utc::now().timestamp();
    let world = TeamtailorWorld::with("[ats.teamtailor]\nprovider_key = \"jwe\"", |_| {}).await;
    let test = world.project("Backend engineer");
    let good = provider_jwe(SIGNATURE_SECRET, now + 300);
    assert_eq!(
        trigger_status(&world, &test, &good).await,
        200,
        "a good JWE"
    );
    let wrong = provider_jwe("not-the-secret", now + 300);
    assert_eq!(
        trigger_status(&world, &test, &wrong).await,
        401,
        "wrong key"
    );
    let expired = provider_jwe(SIGNATURE_SECRET, now - 5);
    assert_eq!(
        trigger_status(&world, &test, &expired).await,
        401,
        "expired"
    );
    let orders = liaison::orders::list(world.app.db(), world.tenant.id, 10)
        .await
        .expect("orders");
    assert_eq!(orders.len(), 1);
}

#[tokio::test]
async fn a_tenant_may_turn_the_listing_off_and_keep_the_requeueing() {
    let world =
        TeamtailorWorld::with("[ats.teamtailor]\nlist_pending_results = false", |_| {}).await;
    let test = world.project("Backend engineer");
    world.teamtailor.set_faults(Faults {
        drop_next_deliveries: 1,
        ..Faults::default()
    });
    assert_eq!(
        world
            .teamtailor
            .trigger(&test, "a@example.com")
            .await
            .status,
        0
    );
    let report = world.recover().await;
    assert_eq!((report.seen, report.new), (0, 0), "{report:?}");
    assert_eq!(world.teamtailor.listings(), 0, "never listed");
}

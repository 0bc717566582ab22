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
        let suite = suite::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            SuiteSimConfig {
                webhook_retry_schedule: vec![Duration::from_millis(50), Duration::from_secs(1)],
                ..SuiteSimConfig::default()
            },
        )
        .await
        .expect("suite simulator");
        let app = spawn_app_with(|settings| {
            settings.queue.base_backoff_ms = 10;
            settings.queue.max_backoff_seconds = 1;
        })
        .await;
        let file = format!(
            r#"
slug = "tt"
name = "Teamtailor customer"
[ats]
kind = "teamtailor"
token = "{API_KEY}"
webhook_secret = "{SIGNATURE_SECRET}"
[suite]
base_url = "{}"
client_id = "liaison"
client_secret = "liaison-secret"
"#,
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
        let teamtailor = teamtailor::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            TeamtailorSimConfig {
                partner_base_url: format!("{}/partners/teamtailor", app.state.settings.public_url),
                provider_key: provider_key.expose_secret().to_owned(),
                signature_secret: SIGNATURE_SECRET.to_owned(),
                api_key: API_KEY.to_owned(),
            },
        )
        .await
        .expect("teamtailor simulator");
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
    world.teamtailor.set_faults(Faults { fail_next: 1 });
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
}

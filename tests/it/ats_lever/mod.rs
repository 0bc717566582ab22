//! The Lever adapter against the Lever simulator: every answer to a webhook, the flow from a
//! stage change to an invitation and back as a note and tags, archive and deletion, the rate
//! limit and 429s, and the opportunities poll.

mod chaos;
mod flows;
mod limits;
mod oauth;
mod poll;
mod sim_command;
mod webhooks;

use std::time::Duration;

use liaison::suite::subscription::ensure_suite_subscription;
use liaison::sync::{Worker, runtime};
use liaison::tenant::{self, Tenant, TenantConfig};
use liaison_sim::lever::{self, LeverSimConfig, RunningLeverSim};
use liaison_sim::suite::{self, RunningSuiteSim, SuiteSimConfig};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};
use crate::sync_world::object_values;

pub const SIGNATURE_TOKEN: &str = "lever-signature-token";
pub const PASS: &str = "Video: pass";
pub const FAIL: &str = "Video: fail";

pub fn lever_toml(slug: &str, lever: &str, suite: &str, extra: &str) -> String {
    lever_toml_with(slug, lever, suite, extra, "")
}

/// `lever_settings` goes into `[ats.lever]`.
pub fn lever_toml_with(
    slug: &str,
    lever: &str,
    suite: &str,
    extra: &str,
    lever_settings: &str,
) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Lever {slug}"
[ats]
kind = "lever"
base_url = "{lever}"
token = "lever-api-key"
webhook_secret = "{SIGNATURE_TOKEN}"
interview_step = "Video interview"
{extra}
[ats.lever]
perform_as = "user-liaison"
{lever_settings}
[suite]
base_url = "{suite}"
client_id = "liaison"
client_secret = "liaison-secret"
[writeback]
mode = "both"
pass_tag = "{PASS}"
fail_tag = "{FAIL}"
pass_score = 70
"#
    )
}

pub async fn lever_sim(config: LeverSimConfig) -> RunningLeverSim {
    lever::spawn("127.0.0.1:0".parse().expect("addr"), config)
        .await
        .expect("the Lever simulator starts")
}

/// A Lever tenant between the Lever and suite simulators, with a worker the test drives.
pub struct LeverWorld {
    pub app: TestApp,
    pub suite: RunningSuiteSim,
    pub lever: RunningLeverSim,
    pub tenant: Tenant,
    pub worker: Worker,
    pub http: reqwest::Client,
}

impl LeverWorld {
    /// `webhooks`: whether Lever delivers to Liaison (else the tenant polls).
    pub async fn new(webhooks: bool) -> LeverWorld {
        Self::with(webhooks, LeverSimConfig::default(), "").await
    }

    /// `new`, with the simulator's settings and the tenant's `[ats.lever]` lines given
    /// (`{lever_sim}` in them stands for the simulator's URL).
    pub async fn with(webhooks: bool, sim: LeverSimConfig, lever_settings: &str) -> LeverWorld {
        let suite = suite::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            SuiteSimConfig {
                webhook_retry_schedule: vec![Duration::from_millis(50), Duration::from_millis(200)],
                ..SuiteSimConfig::default()
            },
        )
        .await
        .expect("suite simulator");
        let lever = lever_sim(sim).await;
        let app = spawn_app_with(|settings| {
            settings.queue.base_backoff_ms = 10;
            settings.queue.max_backoff_seconds = 1;
            // As the chaos run's worker processes: a job stores the attempts of the process
            // that enqueued it, and under 20% faults an attempt of several calls fails often.
            settings.queue.max_attempts = 40;
        })
        .await;
        let toml = lever_toml_with(
            "acme",
            &lever.api_url(),
            &suite.base_url(),
            "",
            &lever_settings.replace("{lever_sim}", &lever.url()),
        );
        let config = TenantConfig::from_toml(&toml).expect("tenant file");
        tenant::apply(app.db(), &app.master_key, &config)
            .await
            .expect("apply");
        let tenant = tenant::find(app.db(), &app.master_key, "acme")
            .await
            .expect("find")
            .expect("tenant");
        ensure_suite_subscription(
            app.db(),
            &app.master_key,
            &app.state.suite_clients,
            &tenant,
            &app.state.settings.public_url,
        )
        .await
        .expect("suite subscription");
        if webhooks {
            lever
                .state
                .set_webhook_url(Some(app.url("/webhooks/acme/ats")));
        }
        let worker = runtime::worker(&app.state.background().expect("worker"));
        LeverWorld {
            app,
            suite,
            lever,
            tenant,
            worker,
            http: reqwest::Client::new(),
        }
    }

    pub async fn lever_post(&self, path: &str, body: Value) -> Value {
        post_ok(&self.http, &format!("{}{path}", self.lever.url()), body).await
    }

    pub async fn suite_post(&self, path: &str, body: Value) -> Value {
        post_ok(
            &self.http,
            &format!("{}{path}", self.suite.base_url()),
            body,
        )
        .await
    }

    /// A posting and an opportunity for it, in the first stage: the opportunity's id.
    pub async fn applicant(&self, email: &str) -> String {
        let posting = self
            .lever_post(
                "/_sim/postings",
                json!({"text": "Data Scientist", "location": "Remote", "description": "About"}),
            )
            .await;
        let opportunity = self
            .lever_post(
                "/_sim/opportunities",
                json!({"name": "Maria da Silva", "email": email, "posting": posting["id"]}),
            )
            .await;
        opportunity["id"].as_str().expect("id").to_owned()
    }

    pub async fn move_to(&self, opportunity: &str, stage: &str) {
        self.lever_post(
            &format!("/_sim/opportunities/{opportunity}/stage"),
            json!({"stage": stage}),
        )
        .await;
    }

    pub fn invitations(&self) -> Vec<Value> {
        object_values(&self.suite.sim().snapshot()["invitations"])
    }

    pub fn opportunity(&self, id: &str) -> Value {
        self.lever.state.snapshot()["world"]["opportunities"][id].clone()
    }

    /// Runs the worker until `done` holds, letting the simulators deliver in between.
    pub async fn settle_until(&self, what: &str, done: impl Fn(&LeverWorld) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            self.worker.drain().await.expect("drain");
            if done(self) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for: {what}; Lever: {}",
                self.lever.state.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn post_ok(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let response = http.post(url).json(&body).send().await.expect("simulator");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

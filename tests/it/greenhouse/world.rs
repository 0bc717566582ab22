//! A `greenhouse-assessment` tenant between the Greenhouse and suite simulators.

use std::time::Duration;

use liaison::suite::subscription::ensure_suite_subscription;
use liaison::sync::{Worker, runtime};
use liaison::tenant::{self, Tenant, TenantConfig};
use liaison_sim::greenhouse::{self, GreenhouseSimConfig, RunningGreenhouseSim};
use liaison_sim::suite::{self, ProjectIn, ReviewIn, RunningSuiteSim, SuiteSimConfig};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

pub struct GreenhouseWorld {
    pub app: TestApp,
    pub suite: RunningSuiteSim,
    pub greenhouse: RunningGreenhouseSim,
    pub tenant: Tenant,
    pub key: String,
    pub worker: Worker,
}

pub fn tenant_file(slug: &str, suite: &str) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Greenhouse customer"
[ats]
kind = "greenhouse-assessment"
[suite]
base_url = "{suite}"
client_id = "liaison"
client_secret = "liaison-secret"
"#
    )
}

impl GreenhouseWorld {
    pub async fn new() -> GreenhouseWorld {
        let suite = suite::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            SuiteSimConfig {
                webhook_retry_schedule: vec![
                    Duration::from_millis(50),
                    Duration::from_millis(200),
                    Duration::from_secs(1),
                ],
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
        let (tenant, key) = add_tenant(&app, "acme", &suite.base_url()).await;
        ensure_suite_subscription(
            app.db(),
            &app.master_key,
            &app.state.suite_clients,
            &tenant,
            &app.state.settings.public_url,
        )
        .await
        .expect("suite subscription");
        let greenhouse = greenhouse::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            GreenhouseSimConfig {
                partner_base_url: partner_url(&app),
                key: key.clone(),
                own_url: String::new(),
                trust_pem: None,
            },
        )
        .await
        .expect("greenhouse simulator");
        let worker = runtime::worker(&app.state.background().expect("worker"));
        GreenhouseWorld {
            app,
            suite,
            greenhouse,
            tenant,
            key,
            worker,
        }
    }

    /// A suite project (a test), answered by id.
    pub fn project(&self, title: &str) -> String {
        let input: ProjectIn = serde_json::from_value(json!({"title": title})).expect("project");
        self.suite
            .sim()
            .mutate(|store| store.create_project(input))
            .expect("create project")
            .id
    }

    pub fn archive(&self, project: &str) {
        self.suite
            .sim()
            .mutate(|store| store.archive_project(project))
            .expect("archive project");
    }

    pub fn invitations(&self) -> Vec<Value> {
        crate::sync_world::object_values(&self.suite.sim().snapshot()["invitations"])
    }

    /// A candidate takes the interview and one reviewer scores it.
    pub fn complete(&self, invitation: &str, score: u8) {
        let review: ReviewIn = serde_json::from_value(
            json!({"score": score, "recommendation": "advance", "comment": "clear answers"}),
        )
        .expect("review");
        self.suite
            .sim()
            .complete_invitation(invitation, vec![review])
            .expect("complete");
    }

    /// Runs the worker until `done` holds, letting the simulators deliver in between.
    pub async fn settle_until(&self, what: &str, done: impl Fn(&GreenhouseWorld) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            self.worker.drain().await.expect("drain");
            if done(self) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}; greenhouse: {}",
                self.greenhouse.state.snapshot()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn partner_url(app: &TestApp) -> String {
    format!("{}/partners/greenhouse", app.state.settings.public_url)
}

/// A `greenhouse-assessment` tenant with its issued key.
pub async fn add_tenant(app: &TestApp, slug: &str, suite: &str) -> (Tenant, String) {
    let config = TenantConfig::from_toml(&tenant_file(slug, suite)).expect("tenant file");
    tenant::apply(app.db(), &app.master_key, &config)
        .await
        .expect("apply");
    let tenant = tenant::find(app.db(), &app.master_key, slug)
        .await
        .expect("find")
        .expect("tenant");
    let key = liaison::orders::keys::issue(app.db(), &app.master_key, tenant.id)
        .await
        .expect("issue key");
    (tenant, key.expose_secret().to_owned())
}

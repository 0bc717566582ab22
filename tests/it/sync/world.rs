//! A tenant wired between the two simulators, with a worker driven by the test.

use std::time::Duration;

use liaison::ats::gupy::{GupyClient, subscriptions};
use liaison::ats::http_client::shared_client;
use liaison::suite::subscription::ensure_suite_subscription;
use liaison::sync::{Worker, runtime};
use liaison::tenant::{self, Tenant, TenantConfig};
use liaison_sim::gupy::{self, GupySimConfig, RunningGupySim};
use liaison_sim::suite::{self, RunningSuiteSim, SuiteSimConfig};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};

pub struct World {
    pub app: TestApp,
    pub suite: RunningSuiteSim,
    pub gupy: RunningGupySim,
    pub tenant: Tenant,
    pub worker: Worker,
    pub http: reqwest::Client,
}

pub fn tenant_file(slug: &str, gupy: &str, suite: &str, mode: &str) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Sync test"
[ats]
kind = "gupy"
base_url = "{gupy}"
token = "gupy-token"
webhook_secret = "gupy-hook-secret"
interview_step = "Video interview"
[suite]
base_url = "{suite}"
client_id = "liaison"
client_secret = "liaison-secret"
[writeback]
mode = "{mode}"
pass_score = 70
"#
    )
}

impl World {
    pub async fn new(mode: &str) -> World {
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
        let gupy = gupy::spawn(
            "127.0.0.1:0".parse().expect("addr"),
            GupySimConfig {
                retry_schedule: vec![
                    Duration::from_millis(50),
                    Duration::from_millis(200),
                    Duration::from_secs(1),
                ],
                ..GupySimConfig::default()
            },
        )
        .await
        .expect("gupy simulator");
        let app = spawn_app_with(|settings| {
            settings.queue.base_backoff_ms = 10;
            settings.queue.max_backoff_seconds = 1;
        })
        .await;
        let config =
            TenantConfig::from_toml(&tenant_file("acme", &gupy.url(), &suite.base_url(), mode))
                .expect("tenant file");
        tenant::apply(app.db(), &app.master_key, &config)
            .await
            .expect("apply");
        let tenant = tenant::find(app.db(), &app.master_key, "acme")
            .await
            .expect("find")
            .expect("tenant");
        let public_url = app.state.settings.public_url.clone();

        let client = GupyClient::for_tenant(shared_client(), &tenant).expect("gupy client");
        subscriptions::ensure_subscriptions(&client, &tenant, &public_url)
            .await
            .expect("gupy subscriptions");
        ensure_suite_subscription(
            app.db(),
            &app.master_key,
            &app.state.suite_clients,
            &tenant,
            &public_url,
        )
        .await
        .expect("suite subscription");
        let tenant = tenant::find(app.db(), &app.master_key, "acme")
            .await
            .expect("find")
            .expect("tenant");
        let worker = runtime::worker(&app.state.background().expect("worker"));
        World {
            app,
            suite,
            gupy,
            tenant,
            worker,
            http: reqwest::Client::new(),
        }
    }

    pub async fn gupy_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.gupy.url()))
            .json(&body)
            .send()
            .await
            .expect("gupy");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    pub async fn suite_post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.suite.base_url()))
            .json(&body)
            .send()
            .await
            .expect("suite");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    /// A simulator control call, retried while the simulator's own fault injection refuses it.
    pub async fn suite_post_retrying(&self, path: &str, body: Value) -> Value {
        for _ in 0..50 {
            let response = self
                .http
                .post(format!("{}{path}", self.suite.base_url()))
                .json(&body)
                .send()
                .await
                .expect("suite");
            if response.status().is_success() {
                return response.json().await.unwrap_or(Value::Null);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("{path} kept failing");
    }

    pub async fn publish_job(&self, name: &str) -> i64 {
        let job = self
            .gupy_post(
                "/_sim/jobs",
                json!({"name": name, "description": "About the job", "status": "published"}),
            )
            .await;
        job["id"].as_i64().expect("job id")
    }

    pub async fn apply_to(&self, job: i64, email: &str) -> i64 {
        let application = self
            .gupy_post(
                &format!("/_sim/jobs/{job}/applications"),
                json!({"candidate": {"name": "Maria", "lastName": "Silva", "email": email}}),
            )
            .await;
        application["id"].as_i64().expect("application id")
    }

    pub async fn move_to(&self, application: i64, step: &str) {
        self.gupy_post(
            &format!("/_sim/applications/{application}/move"),
            json!({"step": step}),
        )
        .await;
    }

    pub fn suite_state(&self) -> Value {
        self.suite.sim().snapshot()
    }

    pub fn gupy_state(&self) -> Value {
        self.gupy.state.snapshot()
    }

    pub fn invitations(&self) -> Vec<Value> {
        object_values(&self.suite_state()["invitations"])
    }

    pub fn gupy_application(&self, id: i64) -> Value {
        self.gupy_state()["world"]["applications"][id.to_string()].clone()
    }

    /// The tags of a Gupy application, by name.
    pub fn gupy_tags(&self, id: i64) -> Vec<String> {
        let record = self.gupy_application(id);
        let tags = if record["tags"].is_array() {
            &record["tags"]
        } else {
            &record["application"]["tags"]
        };
        tags.as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().or_else(|| t["name"].as_str()).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A published job, once its suite project exists (the first project of the world).
    pub async fn synced_job(&self, name: &str) -> i64 {
        let job = self.publish_job(name).await;
        self.settle_until("the project", |w| {
            object_values(&w.suite_state()["projects"]).len() == 1
        })
        .await;
        job
    }

    /// A published job, an application to it moved to the interview step, and the invitation
    /// that follows: the application's id and the invitation's.
    pub async fn invited(&self, job_name: &str, email: &str) -> (i64, String) {
        let job = self.publish_job(job_name).await;
        let application = self.apply_to(job, email).await;
        self.move_to(application, "Video interview").await;
        self.settle_until("the invitation", |w| w.invitations().len() == 1)
            .await;
        let invitation_id = self.invitations()[0]["id"].as_str().expect("id").to_owned();
        (application, invitation_id)
    }

    /// Runs the worker until `done` holds, letting the simulators deliver in between.
    pub async fn settle_until(&self, what: &str, done: impl Fn(&World) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            self.worker.drain().await.expect("drain");
            if done(self) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "timed out waiting for: {what}; unfinished jobs: {:#?}; attempts: {:#?}",
                    self.unfinished_jobs().await,
                    self.attempt_notes().await
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl World {
    /// Jobs not done, with their errors: what a timed-out test prints.
    pub async fn unfinished_jobs(&self) -> Vec<(String, String, Option<String>)> {
        use liaison::store::entities::job;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        job::Entity::find()
            .filter(job::Column::Status.ne("done"))
            .all(self.app.db())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|j| (j.idempotency_key, j.status, j.last_error))
            .collect()
    }

    /// The execution log's notes, oldest first.
    pub async fn attempt_notes(&self) -> Vec<String> {
        use liaison::store::entities::job_attempt;
        use sea_orm::{EntityTrait, QueryOrder};
        job_attempt::Entity::find()
            .order_by_asc(job_attempt::Column::Id)
            .all(self.app.db())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|a| format!("job_{} {} {:?} {:?}", a.job_id, a.outcome, a.call, a.error))
            .collect()
    }
}

pub fn object_values(value: &Value) -> Vec<Value> {
    value
        .as_object()
        .map(|map| map.values().cloned().collect())
        .unwrap_or_default()
}

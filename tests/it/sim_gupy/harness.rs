//! The test harness: a simulator on 127.0.0.1:0 with a reqwest client whose calls state the
//! expected status, and a small axum receiver of webhook deliveries.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, StatusCode};
use liaison::ats::gupy::payload::{Application, Job, WebhookDelivery, WebhookSubscription};
use liaison_sim::gupy::{GupySimConfig, RunningGupySim, spawn};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::support::wait_until;

pub const TOKEN: &str = "gupy-token";
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestSim {
    pub sim: RunningGupySim,
    pub http: reqwest::Client,
}

pub async fn spawn_sim() -> TestSim {
    let config = GupySimConfig {
        retry_schedule: vec![Duration::from_millis(20), Duration::from_millis(40)],
        delivery_timeout: Duration::from_secs(2),
        shuffle_window: Duration::from_millis(50),
        ..GupySimConfig::default()
    };
    let sim = spawn(SocketAddr::from(([127, 0, 0, 1], 0)), config)
        .await
        .expect("the simulator starts");
    TestSim {
        sim,
        http: reqwest::Client::new(),
    }
}

impl TestSim {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.url())
    }

    /// An authenticated API call that must answer `expected`.
    pub async fn api<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> T {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status.as_u16(), expected.as_u16(), "{path}: {text}");
        serde_json::from_str(if text.is_empty() { "null" } else { &text }).expect("JSON answer")
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        self.api(reqwest::Method::GET, path, None, StatusCode::OK)
            .await
    }

    /// A `/_sim` control call that must answer `expected`.
    pub async fn control(&self, path: &str, body: Value, expected: StatusCode) -> Value {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status().as_u16(), expected.as_u16(), "{path}");
        response.json().await.expect("JSON answer")
    }

    pub async fn create_job(&self, name: &str, status: &str) -> Job {
        let body = json!({"name": name, "description": "d", "status": status});
        let job = self.control("/_sim/jobs", body, StatusCode::CREATED).await;
        serde_json::from_value(job).expect("a job")
    }

    pub async fn apply(&self, job_id: i64, email: &str) -> Application {
        let body = json!({"candidate": {"name": "Maria", "lastName": "Silva", "email": email}});
        let path = format!("/_sim/jobs/{job_id}/applications");
        serde_json::from_value(self.control(&path, body, StatusCode::CREATED).await).expect("app")
    }

    pub async fn move_to(&self, application_id: i64, step: &str) {
        let path = format!("/_sim/applications/{application_id}/move");
        self.control(&path, json!({"step": step}), StatusCode::OK)
            .await;
    }

    pub async fn subscribe(
        &self,
        action: &str,
        receiver: &Receiver,
        headers: Value,
    ) -> WebhookSubscription {
        let body = json!({
            "action": action, "status": "active", "postbackUrl": receiver.url(),
            "techOwnerName": "Ops", "techOwnerEmail": "ops@example.com", "clientHeaders": headers,
        });
        self.api(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(body),
            StatusCode::CREATED,
        )
        .await
    }

    pub async fn state(&self) -> Value {
        self.http
            .get(self.url("/_sim/state"))
            .send()
            .await
            .expect("state")
            .json()
            .await
            .expect("json")
    }
}

/// A request received by the [`Receiver`].
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The sender's end of the connection the request came on.
    pub peer: SocketAddr,
}

impl Received {
    pub fn delivery(&self) -> WebhookDelivery {
        serde_json::from_slice(&self.body).expect("a Gupy delivery")
    }

    pub fn header_names(&self) -> BTreeSet<String> {
        self.headers.keys().map(|k| k.as_str().to_owned()).collect()
    }
}

/// An axum server on 127.0.0.1:0 that records deliveries and answers the queued statuses
/// (then 200).
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<StatusCode>>>,
}

impl Receiver {
    pub async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let (rec, ans) = (received.clone(), answers.clone());
        let app = axum::Router::new().route(
            "/hooks/gupy",
            axum::routing::post(
                move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                      headers: HeaderMap,
                      body: Bytes| {
                    let (rec, ans) = (rec.clone(), ans.clone());
                    async move {
                        rec.lock().expect("lock").push(Received {
                            headers,
                            body,
                            peer,
                        });
                        ans.lock()
                            .expect("lock")
                            .pop_front()
                            .unwrap_or(StatusCode::OK)
                    }
                },
            ),
        );
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            addr,
            received,
            answers,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/gupy?tenant=acme", self.addr)
    }

    pub fn fail_next(&self, statuses: &[StatusCode]) {
        self.answers.lock().expect("lock").extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        wait_until(WAIT, &format!("{count} deliveries"), || async {
            let all = self.received();
            (all.len() >= count).then_some(all)
        })
        .await
    }
}

//! The suite simulator, driven over real HTTP on loopback.

mod api;
mod faults;
mod oauth;
mod webhooks;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use liaison_sim::suite::{RunningSuiteSim, SuiteSimConfig, spawn};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const CLIENT_ID: &str = "liaison";
pub const CLIENT_SECRET: &str = "liaison-secret";

/// A running simulator and a client whose every call states the status it expects.
pub struct TestSuite {
    pub running: RunningSuiteSim,
    pub http: reqwest::Client,
    pub base: String,
}

pub async fn spawn_suite() -> TestSuite {
    spawn_suite_with(SuiteSimConfig {
        webhook_retry_schedule: vec![Duration::from_millis(50), Duration::from_millis(100)],
        ..SuiteSimConfig::default()
    })
    .await
}

pub async fn spawn_suite_with(config: SuiteSimConfig) -> TestSuite {
    let bind: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let running = spawn(bind, config).await.expect("simulator starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = running.base_url();
    TestSuite {
        running,
        http,
        base,
    }
}

impl TestSuite {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client-credentials access token.
    pub async fn token(&self) -> String {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", CLIENT_ID),
                ("client_secret", CLIENT_SECRET),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Any call: asserts the status and returns the JSON body (`Null` when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
        expected: StatusCode,
    ) -> (reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method.clone(), self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        assert_eq!(status, expected, "{method} {path} answered {text}");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (headers, json)
    }

    pub async fn get(&self, token: &str, path: &str, expected: StatusCode) -> Value {
        self.call(Method::GET, path, Some(token), None, &[], expected)
            .await
            .1
    }

    pub async fn post(&self, token: &str, path: &str, body: Value, expected: StatusCode) -> Value {
        self.call(Method::POST, path, Some(token), Some(body), &[], expected)
            .await
            .1
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value, expected: StatusCode) -> Value {
        self.call(Method::PATCH, path, Some(token), Some(body), &[], expected)
            .await
            .1
    }

    /// `POST` to a `/_sim` control endpoint (no token).
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("control request");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert!(status.is_success(), "{path} answered {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn state(&self) -> Value {
        self.http
            .get(self.url("/_sim/state"))
            .send()
            .await
            .expect("state request")
            .json()
            .await
            .expect("state json")
    }

    /// Polls the state until `done` holds, for at most five seconds.
    pub async fn wait_for_state(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let state = self.state().await;
            if done(&state) {
                return state;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {state:#}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn create_project(&self, token: &str, external_ref: &str) -> Value {
        let body = json!({"external_ref": external_ref, "title": format!("Job {external_ref}"), "language": "pt-BR"});
        self.post(token, "/v1/projects", body, StatusCode::CREATED)
            .await
    }

    pub async fn create_candidate(&self, token: &str, email: &str) -> Value {
        let body =
            json!({"first_name": "Ana", "last_name": "Silva", "email": email, "locale": "pt-BR"});
        self.post(token, "/v1/candidates", body, StatusCode::CREATED)
            .await
    }
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: Vec<u8>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }
}

/// A webhook receiver on loopback that answers 500 to its first `failures` requests.
pub struct Receiver {
    pub url: String,
    pub received: Arc<Mutex<Vec<Received>>>,
    _server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub fn all(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

pub async fn spawn_receiver(failures: usize) -> Receiver {
    use axum::http::HeaderMap;
    let received: Arc<Mutex<Vec<Received>>> = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let mut log = log.lock().expect("lock");
                log.push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body: body.to_vec(),
                });
                if log.len() <= failures {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver {
        url: format!("http://{addr}/hook"),
        received,
        _server: server,
    }
}

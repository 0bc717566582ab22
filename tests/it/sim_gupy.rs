//! The Gupy simulator, driven over real sockets with reqwest: auth, pagination, filters,
//! write-backs, subscriptions and deliveries (received by a small axum server), faults.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use liaison::ats::gupy::payload::{
    Application, Job, ListEnvelope, Step, StepType, WebhookDelivery, WebhookSubscription,
};
use liaison::sim::gupy::{GupySimConfig, RunningGupySim, spawn};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::support::wait_until;

const TOKEN: &str = "gupy-token";
const WAIT: Duration = Duration::from_secs(10);

struct TestSim {
    sim: RunningGupySim,
    http: reqwest::Client,
}

async fn spawn_sim() -> TestSim {
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
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.url())
    }

    /// An authenticated API call that must answer `expected`.
    async fn api<T: DeserializeOwned>(
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

    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        self.api(reqwest::Method::GET, path, None, StatusCode::OK)
            .await
    }

    /// A `/_sim` control call that must answer `expected`.
    async fn control(&self, path: &str, body: Value, expected: StatusCode) -> Value {
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

    async fn create_job(&self, name: &str, status: &str) -> Job {
        let body = json!({"name": name, "description": "d", "status": status});
        let job = self.control("/_sim/jobs", body, StatusCode::CREATED).await;
        serde_json::from_value(job).expect("a job")
    }

    async fn apply(&self, job_id: i64, email: &str) -> Application {
        let body = json!({"candidate": {"name": "Maria", "lastName": "Silva", "email": email}});
        let path = format!("/_sim/jobs/{job_id}/applications");
        serde_json::from_value(self.control(&path, body, StatusCode::CREATED).await).expect("app")
    }

    async fn move_to(&self, application_id: i64, step: &str) {
        let path = format!("/_sim/applications/{application_id}/move");
        self.control(&path, json!({"step": step}), StatusCode::OK)
            .await;
    }

    async fn subscribe(
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

    async fn state(&self) -> Value {
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
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn delivery(&self) -> WebhookDelivery {
        serde_json::from_slice(&self.body).expect("a Gupy delivery")
    }

    fn header_names(&self) -> BTreeSet<String> {
        self.headers.keys().map(|k| k.as_str().to_owned()).collect()
    }
}

/// An axum server on 127.0.0.1:0 that records deliveries and answers the queued statuses
/// (then 200).
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<StatusCode>>>,
}

impl Receiver {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let answers = Arc::new(Mutex::new(VecDeque::new()));
        let (rec, ans) = (received.clone(), answers.clone());
        let app = axum::Router::new().route(
            "/hooks/gupy",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let (rec, ans) = (rec.clone(), ans.clone());
                async move {
                    rec.lock().expect("lock").push(Received { headers, body });
                    ans.lock()
                        .expect("lock")
                        .pop_front()
                        .unwrap_or(StatusCode::OK)
                }
            }),
        );
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

    fn url(&self) -> String {
        format!("http://{}/hooks/gupy?tenant=acme", self.addr)
    }

    fn fail_next(&self, statuses: &[StatusCode]) {
        self.answers.lock().expect("lock").extend(statuses);
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    async fn wait_for(&self, count: usize) -> Vec<Received> {
        wait_until(WAIT, &format!("{count} deliveries"), || async {
            let all = self.received();
            (all.len() >= count).then_some(all)
        })
        .await
    }
}

#[tokio::test]
async fn the_api_requires_the_bearer_token() {
    let t = spawn_sim().await;
    let url = t.url("/api/v1/jobs");
    let no_token = t.http.get(&url).send().await.expect("answer");
    assert_eq!(no_token.status(), 401);
    let wrong = t
        .http
        .get(&url)
        .bearer_auth("nope")
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status(), 401);
    let right: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    assert_eq!(right.total_results, 0);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn jobs_are_paginated_filtered_and_read_one_by_one() {
    let t = spawn_sim().await;
    for i in 0..25 {
        t.create_job(
            &format!("Job {i}"),
            if i % 5 == 0 { "draft" } else { "published" },
        )
        .await;
    }

    let page: ListEnvelope<Job> = t
        .get("/api/v1/jobs?page=2&perPage=15&status=published")
        .await;
    assert_eq!(
        (page.total_results, page.page, page.total_pages),
        (20, 2, 2)
    );
    assert_eq!(page.results.len(), 5);
    assert!(
        page.results
            .iter()
            .all(|j| j.status == liaison::ats::gupy::payload::JobStatus::Published)
    );

    let clamped: ListEnvelope<Job> = t.get("/api/v1/jobs?perPage=500").await;
    assert_eq!((clamped.results.len(), clamped.total_pages), (25, 1));

    let first = &clamped.results[0];
    let one: Job = t.get(&format!("/api/v1/jobs/{}", first.id)).await;
    assert_eq!(&one, first);
    let _: Value = t
        .api(
            reqwest::Method::GET,
            "/api/v1/jobs/1",
            None,
            StatusCode::NOT_FOUND,
        )
        .await;
    let _: Value = t
        .api(
            reqwest::Method::GET,
            "/api/v1/jobs?page=0",
            None,
            StatusCode::BAD_REQUEST,
        )
        .await;
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn every_job_has_default_steps() {
    let t = spawn_sim().await;
    let job = t.create_job("Data Scientist", "published").await;
    let steps: ListEnvelope<Step> = t.get(&format!("/api/v1/jobs/{}/steps", job.id)).await;
    let names: Vec<(&str, StepType)> = steps
        .results
        .iter()
        .map(|s| (s.name.as_str(), s.kind))
        .collect();
    assert_eq!(names[0], ("Screening", StepType::Register));
    assert_eq!(names[1], ("Video interview", StepType::Online));
    assert_eq!(names.last().map(|s| s.1), Some(StepType::Final));
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn applications_are_filtered_ordered_and_paginated() {
    let t = spawn_sim().await;
    let job = t.create_job("Data Scientist", "published").await;
    let other = t.create_job("Other", "published").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(t.apply(job.id, &format!("c{i}@example.com")).await.id);
    }
    t.apply(other.id, "x@example.com").await;
    t.move_to(ids[1], "Video interview").await;
    t.move_to(ids[3], "Video interview").await;

    let base = format!("/api/v1/jobs/{}/applications", job.id);
    let all: ListEnvelope<Application> = t.get(&format!("{base}?order=id%20asc&perPage=2")).await;
    assert_eq!((all.total_results, all.total_pages), (5, 3));
    assert_eq!(
        all.results.iter().map(|a| a.id).collect::<Vec<_>>(),
        ids[..2]
    );
    let desc: ListEnvelope<Application> = t.get(&format!("{base}?order=id%20desc")).await;
    assert_eq!(desc.results[0].id, ids[4]);

    let at_video: ListEnvelope<Application> = t
        .get(&format!(
            "{base}?currentStepName=Video%20interview&status=in_process"
        ))
        .await;
    assert_eq!(
        at_video.results.iter().map(|a| a.id).collect::<Vec<_>>(),
        [ids[1], ids[3]]
    );
    let hired: ListEnvelope<Application> = t.get(&format!("{base}?status=hired")).await;
    assert_eq!(hired.total_results, 0);

    let app = &all.results[0];
    assert_eq!(app.job.id, job.id);
    assert_eq!(app.candidate.email, "c0@example.com");
    assert!(app.candidate.id.is_some());
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn tags_are_idempotent_and_comments_are_not() {
    let t = spawn_sim().await;
    let job = t.create_job("Data Scientist", "published").await;
    let app = t.apply(job.id, "maria@example.com").await;
    let base = format!("/api/v1/jobs/{}/applications/{}", job.id, app.id);

    for _ in 0..2 {
        let tag: Value = t
            .api(
                reqwest::Method::PUT,
                &format!("{base}/tags"),
                Some(json!({"name": "Apto"})),
                StatusCode::OK,
            )
            .await;
        assert_eq!(tag["name"], "Apto");
    }
    for _ in 0..2 {
        let comment: Value = t
            .api(
                reqwest::Method::POST,
                &format!("{base}/comments"),
                Some(json!({"text": "Score 80"})),
                StatusCode::CREATED,
            )
            .await;
        assert!(comment["id"].is_i64());
    }
    // The application belongs to this job only.
    let wrong = format!("/api/v1/jobs/{}/applications/{}/tags", job.id + 1, app.id);
    let _: Value = t
        .api(
            reqwest::Method::PUT,
            &wrong,
            Some(json!({"name": "X"})),
            StatusCode::NOT_FOUND,
        )
        .await;

    let list: ListEnvelope<Application> = t
        .get(&format!("/api/v1/jobs/{}/applications", job.id))
        .await;
    assert_eq!(list.results[0].tags.len(), 1);
    let state = t.state().await;
    let comments = &state["world"]["applications"][app.id.to_string()]["comments"];
    assert_eq!(comments.as_array().map(Vec::len), Some(2));
    assert_eq!(
        state["apiCalls"]["POST /api/v1/jobs/{job_id}/applications/{application_id}/comments"],
        2
    );
    assert_eq!(
        state["apiCalls"]["PUT /api/v1/jobs/{job_id}/applications/{application_id}/tags"],
        3
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn subscriptions_are_created_listed_and_deleted() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    let sub = t
        .subscribe(
            "application.moved",
            &receiver,
            json!({"X-Liaison-Token": "s"}),
        )
        .await;
    assert_eq!(sub.postback_url, receiver.url());
    assert_eq!(sub.status, "active");
    assert!(uuid::Uuid::parse_str(&sub.id).is_ok());

    let list: ListEnvelope<WebhookSubscription> = t.get("/api/v1/webhooks?page=1&perPage=10").await;
    assert_eq!(list.results, vec![sub.clone()]);
    let path = format!("/api/v1/webhooks/{}", sub.id);
    let _: Value = t
        .api(reqwest::Method::DELETE, &path, None, StatusCode::NO_CONTENT)
        .await;
    let _: Value = t
        .api(reqwest::Method::DELETE, &path, None, StatusCode::NOT_FOUND)
        .await;
    let list: ListEnvelope<WebhookSubscription> = t.get("/api/v1/webhooks").await;
    assert!(list.results.is_empty());
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn a_move_is_delivered_with_exactly_the_client_headers_and_the_contract_body() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe(
        "application.moved",
        &receiver,
        json!({"X-Liaison-Token": "s3cret"}),
    )
    .await;
    let job = t.create_job("Data Scientist", "published").await;
    let app = t.apply(job.id, "maria@example.com").await;

    t.move_to(app.id, "Video interview").await;

    let received = receiver.wait_for(1).await;
    let delivery = &received[0];
    // Only the client header, plus HTTP framing: no Content-Type, no Accept, no User-Agent.
    let expected: BTreeSet<String> = ["content-length", "host", "x-liaison-token"]
        .map(String::from)
        .into();
    assert_eq!(delivery.header_names(), expected);
    assert_eq!(delivery.headers["x-liaison-token"], "s3cret");

    let raw: Value = serde_json::from_slice(&delivery.body).expect("JSON");
    let date = raw["date"].as_str().unwrap_or_default();
    assert_eq!(
        (date.len(), date.ends_with('Z'), &date[19..20]),
        (24, true, ".")
    );
    assert_eq!(raw["companyName"], "ACME");
    let body = delivery.delivery();
    assert!(uuid::Uuid::parse_str(&body.id).is_ok());
    assert_eq!(body.event.as_str(), "application.moved");
    assert_eq!(body.data.job.id, job.id);
    let application = body.data.application.expect("application");
    assert_eq!(application.id, app.id);
    assert_eq!(
        application.current_step.map(|s| s.name),
        Some("Video interview".into())
    );
    assert_eq!(
        application.previous_step.map(|s| s.name),
        Some("Screening".into())
    );
    assert_eq!(body.data.candidate.and_then(|c| c.id), app.candidate.id);

    let state = t.state().await;
    assert_eq!(state["deliveries"][0]["status"], "delivered");
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn listed_content_type_is_sent_and_events_reach_only_their_subscribers() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    let headers = json!({"X-Liaison-Token": "s", "Content-Type": "application/json"});
    t.subscribe("application.created", &receiver, headers).await;
    let job = t.create_job("Data Scientist", "published").await;
    t.apply(job.id, "maria@example.com").await;

    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].headers["content-type"], "application/json");
    assert_eq!(received[0].delivery().event.as_str(), "application.created");
    assert_eq!(received.len(), 1, "job.published has no subscriber");
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_accepted() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    receiver.fail_next(&[
        StatusCode::INTERNAL_SERVER_ERROR,
        StatusCode::SERVICE_UNAVAILABLE,
    ]);
    t.subscribe("job.published", &receiver, json!({"X-Liaison-Token": "s"}))
        .await;

    t.create_job("Data Scientist", "published").await;

    let received = receiver.wait_for(3).await;
    let ids: BTreeSet<String> = received.iter().map(|r| r.delivery().id).collect();
    assert_eq!(ids.len(), 1, "retries carry the same event id");
    let state = wait_until(WAIT, "the delivery recorded as delivered", || async {
        let state = t.state().await;
        (state["deliveries"][0]["status"] == "delivered").then_some(state)
    })
    .await;
    let statuses: Vec<&Value> = state["deliveries"][0]["attempts"]
        .as_array()
        .map(|a| a.iter().map(|x| &x["status"]).collect())
        .unwrap_or_default();
    assert_eq!(statuses, [&json!(500), &json!(503), &json!(200)]);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn a_delivery_that_always_fails_is_marked_failed_after_the_schedule() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    receiver.fail_next(&[StatusCode::BAD_GATEWAY; 5]);
    t.subscribe("job.published", &receiver, json!({})).await;

    t.create_job("Data Scientist", "published").await;

    let state = wait_until(WAIT, "the delivery recorded as failed", || async {
        let state = t.state().await;
        (state["deliveries"][0]["status"] == "failed").then_some(state)
    })
    .await;
    // One attempt plus one per retry delay (two in the test schedule).
    assert_eq!(
        state["deliveries"][0]["attempts"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(receiver.received().len(), 3);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn an_unreachable_receiver_is_recorded_as_failed_attempts() {
    let t = spawn_sim().await;
    // A port that was just free: nobody listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hooks", closed.local_addr().expect("addr"));
    drop(closed);
    let body = json!({"action": "job.published", "postbackUrl": url, "clientHeaders": {}});
    let _: Value = t
        .api(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(body),
            StatusCode::CREATED,
        )
        .await;

    t.create_job("Data Scientist", "published").await;

    let state = wait_until(WAIT, "the delivery recorded as failed", || async {
        let state = t.state().await;
        (state["deliveries"][0]["status"] == "failed").then_some(state)
    })
    .await;
    assert!(state["deliveries"][0]["attempts"][0]["error"].is_string());
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn the_duplicate_fault_delivers_each_event_twice_with_the_same_id() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.control(
        "/_sim/faults",
        json!({"duplicate_rate": 1.0}),
        StatusCode::OK,
    )
    .await;
    t.subscribe("job.published", &receiver, json!({})).await;

    t.create_job("A", "published").await;
    t.create_job("B", "published").await;

    let received = receiver.wait_for(4).await;
    let mut ids: Vec<String> = received.iter().map(|r| r.delivery().id).collect();
    ids.sort();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[2], ids[3]);
    assert_ne!(ids[0], ids[2]);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn shuffled_deliveries_all_arrive() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.control("/_sim/faults", json!({"shuffle": true}), StatusCode::OK)
        .await;
    t.subscribe("job.published", &receiver, json!({})).await;
    for i in 0..10 {
        t.create_job(&format!("Job {i}"), "published").await;
    }
    let received = receiver.wait_for(10).await;
    let ids: BTreeSet<String> = received.iter().map(|r| r.delivery().id).collect();
    assert_eq!(ids.len(), 10);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn dropped_subscriptions_silently_stop_deliveries() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe("application.moved", &receiver, json!({})).await;
    let job = t.create_job("Data Scientist", "published").await;
    let app = t.apply(job.id, "maria@example.com").await;

    let dropped = t
        .control("/_sim/webhooks/drop", json!({}), StatusCode::OK)
        .await;
    assert_eq!(dropped["dropped"], 1);
    let list: ListEnvelope<WebhookSubscription> = t.get("/api/v1/webhooks").await;
    assert!(list.results.is_empty());

    t.move_to(app.id, "Video interview").await;
    // A marker delivery, queued after the move: once it arrives, the move would have too.
    t.subscribe("job.published", &receiver, json!({})).await;
    t.create_job("Marker", "published").await;
    let received = receiver.wait_for(1).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].delivery().event.as_str(), "job.published");
    let state = t.state().await;
    assert_eq!(
        state["world"]["droppedSubscriptions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn changing_a_job_status_emits_status_changed() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.subscribe("job.status_changed", &receiver, json!({}))
        .await;
    let job = t.create_job("Data Scientist", "draft").await;

    let response = t
        .http
        .patch(t.url(&format!("/_sim/jobs/{}", job.id)))
        .json(&json!({"status": "closed", "name": "Data Scientist II"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);

    let received = receiver.wait_for(1).await;
    let delivery = received[0].delivery();
    assert_eq!(delivery.data.job.name, "Data Scientist II");
    assert_eq!(
        delivery.data.job.status,
        Some(liaison::ats::gupy::payload::JobStatus::Closed)
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn the_candidate_id_can_be_omitted_from_deliveries() {
    let t = spawn_sim().await;
    let receiver = Receiver::start().await;
    t.control(
        "/_sim/faults",
        json!({"omit_candidate_id": true}),
        StatusCode::OK,
    )
    .await;
    t.subscribe("application.created", &receiver, json!({}))
        .await;
    let job = t.create_job("Data Scientist", "published").await;
    t.apply(job.id, "maria@example.com").await;

    let received = receiver.wait_for(1).await;
    let candidate = received[0].delivery().data.candidate.expect("candidate");
    assert_eq!(
        (candidate.id, candidate.email.as_str()),
        (None, "maria@example.com")
    );
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn api_faults_inject_errors_and_rate_limits() {
    let t = spawn_sim().await;
    t.control(
        "/_sim/faults",
        json!({"error_rate": 1.0, "status": 503}),
        StatusCode::OK,
    )
    .await;
    let _: Value = t
        .api(
            reqwest::Method::GET,
            "/api/v1/jobs",
            None,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;

    t.control(
        "/_sim/faults",
        json!({"rate_limit_per_minute": 2}),
        StatusCode::OK,
    )
    .await;
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    let limited = t
        .http
        .get(t.url("/api/v1/jobs"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("answer");
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    assert!((1..=60).contains(&retry_after), "{retry_after}");

    t.control(
        "/_sim/faults",
        json!({"error_rate": 2.0}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    t.control("/_sim/faults", json!({}), StatusCode::OK).await;
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    let state = t.state().await;
    assert_eq!(state["apiCalls"]["GET /api/v1/jobs"], 5);
    t.sim.stop().await.expect("stops");
}

#[tokio::test]
async fn added_latency_delays_api_answers() {
    let t = spawn_sim().await;
    t.control("/_sim/faults", json!({"latency_ms": 150}), StatusCode::OK)
        .await;
    let started = std::time::Instant::now();
    let _: ListEnvelope<Job> = t.get("/api/v1/jobs").await;
    assert!(started.elapsed() >= Duration::from_millis(150));
    t.sim.stop().await.expect("stops");
}

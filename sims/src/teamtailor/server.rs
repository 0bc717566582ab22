//! The simulator's routes and its calls to the partner.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::wire::{ResultDocument, STATUSES};

#[derive(Clone, Debug, Default)]
pub struct TeamtailorSimConfig {
    /// The partner's `BASE_URL` (Liaison: `{public_url}/partners/teamtailor`).
    pub partner_base_url: String,
    /// The provider key Teamtailor sends as `Authorization: Bearer`.
    pub provider_key: String,
    /// The `Teamtailor-Signature` secret.
    pub signature_secret: String,
    /// The partner API key the partner must use on result calls.
    pub api_key: String,
    /// Where partner results are listed and updated [unverified]; empty:
    /// `/partner/v1/partner-results`.
    pub results_path: String,
    /// The listing's status filter parameter [unverified]; empty: `filter[status]`.
    pub status_filter_param: String,
}

impl TeamtailorSimConfig {
    fn results_path(&self) -> String {
        if self.results_path.is_empty() {
            "/partner/v1/partner-results".to_owned()
        } else {
            self.results_path.trim_end_matches('/').to_owned()
        }
    }

    fn status_filter_param(&self) -> &str {
        if self.status_filter_param.is_empty() {
            "filter[status]"
        } else {
            &self.status_filter_param
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Faults {
    /// The next this-many PUTs answer 503 without effect.
    pub fail_next: u32,
    /// The next this-many trigger runs create their partner result but their webhook never
    /// reaches the partner (Teamtailor does not retry it).
    pub drop_next_deliveries: u32,
}

/// A partner result Teamtailor created for a trigger run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PartnerResultRecord {
    pub id: String,
    pub status: String,
    pub puts_received: u32,
    pub puts_accepted: u32,
    pub score: Option<serde_json::Value>,
    pub url: Option<String>,
    pub refusals: Vec<String>,
    /// The word before the API key on each call the partner made about it (`Token`, `Bearer`).
    pub auth_schemes: Vec<String>,
    /// The candidate, as a JSON:API `candidates` resource's attributes (with `id`).
    #[serde(skip)]
    pub candidate: serde_json::Value,
    /// The trigger's form values.
    #[serde(skip)]
    pub webhook_data: serde_json::Value,
}

/// The partner's answer to a webhook.
#[derive(Clone, Debug)]
pub struct TriggerAnswer {
    pub partner_result_id: String,
    pub status: u16,
    pub body: String,
}

#[derive(Default)]
struct Inner {
    config: Mutex<TeamtailorSimConfig>,
    faults: Mutex<Faults>,
    results: Mutex<BTreeMap<String, PartnerResultRecord>>,
    own_url: Mutex<String>,
    next: Mutex<u64>,
    listings: Mutex<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Clone, Default)]
struct SimState(Arc<Inner>);

async fn receive_result(
    State(state): State<SimState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let config = lock(&state.0.config).clone();
    let mut results = lock(&state.0.results);
    let Some(record) = results.get_mut(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    record.puts_received += 1;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let mut refusals = Vec::new();
    let auth = header("authorization");
    record
        .auth_schemes
        .push(auth.split(' ').next().unwrap_or_default().to_owned());
    if !api_key_matches(auth, &config.api_key) {
        refusals.push("wrong partner API key".to_owned());
    }
    if header("x-api-version") != "20180828" {
        refusals.push("X-Api-Version: 20180828 is required".to_owned());
    }
    if header("content-type") != "application/vnd.api+json" {
        refusals.push("Content-Type must be application/vnd.api+json".to_owned());
    }
    let document: Option<ResultDocument> = serde_json::from_slice(&body).ok();
    match &document {
        None => refusals.push("the body is not a partner-results document".to_owned()),
        Some(document) => {
            let attributes = &document.data.attributes;
            if document.data.kind != "partner-results" || document.data.id != id {
                refusals.push("data.type/id do not match".to_owned());
            }
            if !STATUSES.contains(&attributes.status.as_str()) {
                refusals.push(format!("unknown status {}", attributes.status));
            }
            let score = attributes.assessment.as_ref().and_then(|a| a.score.clone());
            if let Some(score) = &score
                && !score.as_f64().is_some_and(|s| (0.0..=100.0).contains(&s))
            {
                refusals.push(format!("score {score} is outside 0-100"));
            }
        }
    }
    if !refusals.is_empty() {
        record.refusals.extend(refusals);
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    }
    {
        let mut faults = lock(&state.0.faults);
        if faults.fail_next > 0 {
            faults.fail_next -= 1;
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    if let Some(document) = document {
        record.puts_accepted += 1;
        record.status = document.data.attributes.status;
        record.url = document.data.attributes.url;
        record.score = document.data.attributes.assessment.and_then(|a| a.score);
    }
    (StatusCode::OK, axum::Json(json!({"data": {"id": id}}))).into_response()
}

/// The docs show both `Token` and `Bearer` before the partner API key: both are accepted.
fn api_key_matches(authorization: &str, api_key: &str) -> bool {
    authorization == format!("Token {api_key}") || authorization == format!("Bearer {api_key}")
}

/// `GET {results_path}?filter[status]=..&include=candidate&page[number]=..&page[size]=..`: the
/// partner results, oldest first, as a JSON:API page with the candidates included.
async fn list_results(
    State(state): State<SimState>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let config = lock(&state.0.config).clone();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !api_key_matches(auth, &config.api_key) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if headers.get("x-api-version").and_then(|v| v.to_str().ok()) != Some("20180828") {
        return StatusCode::BAD_REQUEST.into_response();
    }
    *lock(&state.0.listings) += 1;
    let status = query.get(config.status_filter_param()).cloned();
    let number: usize = query
        .get("page[number]")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
        .max(1);
    let size: usize = query
        .get("page[size]")
        .and_then(|n| n.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let include = query
        .get("include")
        .is_some_and(|i| i.split(',').any(|part| part == "candidate"));
    let own = lock(&state.0.own_url).clone();
    let results = lock(&state.0.results);
    let matching: Vec<&PartnerResultRecord> = results
        .values()
        .filter(|r| status.as_ref().is_none_or(|s| &r.status == s))
        .collect();
    let page: Vec<&PartnerResultRecord> = matching
        .iter()
        .skip((number - 1) * size)
        .take(size)
        .copied()
        .collect();
    let data: Vec<serde_json::Value> = page
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "type": "partner-results",
                "attributes": {"status": r.status, "webhook-data": r.webhook_data},
                "relationships": {"candidate": {"data":
                    {"type": "candidates", "id": r.candidate["id"].to_string()}}},
                "links": {"self": format!("{own}{}/{}", config.results_path(), r.id)}
            })
        })
        .collect();
    let included: Vec<serde_json::Value> = if include {
        page.iter()
            .map(|r| {
                json!({"type": "candidates", "id": r.candidate["id"].to_string(),
                    "attributes": r.candidate})
            })
            .collect()
    } else {
        Vec::new()
    };
    axum::Json(json!({
        "data": data,
        "included": included,
        "meta": {"record-count": matching.len(), "page-count": matching.len().div_ceil(size)}
    }))
    .into_response()
}

/// A simulator serving on a socket.
pub struct RunningTeamtailorSim {
    pub addr: SocketAddr,
    state: SimState,
    http: reqwest::Client,
    cancel: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

/// `hex(HMAC-SHA256(secret, "{t}.{event_id}"))`.
pub fn sign(secret: &str, t: i64, event_id: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{t}.{event_id}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl RunningTeamtailorSim {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the configuration (the routes stay where they were spawned).
    pub fn update_config(&self, change: impl FnOnce(&mut TeamtailorSimConfig)) {
        change(&mut lock(&self.state.0.config));
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.state.0.faults) = faults;
    }

    pub fn result(&self, id: &str) -> Option<PartnerResultRecord> {
        lock(&self.state.0.results).get(id).cloned()
    }

    /// How many listings of partner results the partner made.
    pub fn listings(&self) -> u64 {
        *lock(&self.state.0.listings)
    }

    /// A trigger run for `email` on `test`, signed at `t` with `secret` (None: now, the
    /// configured secret), with the provider key `bearer` (None: the configured one).
    pub async fn trigger_with(
        &self,
        test: &str,
        email: &str,
        t: Option<i64>,
        secret: Option<&str>,
        bearer: Option<&str>,
    ) -> TriggerAnswer {
        let config = lock(&self.state.0.config).clone();
        let n = {
            let mut next = lock(&self.state.0.next);
            *next += 1;
            *next
        };
        let result_id = format!("00000000-0000-4000-8000-{n:012}");
        let event_id = format!("10000000-0000-4000-8000-{n:012}");
        let update_url = format!(
            "{}{}/{result_id}",
            lock(&self.state.0.own_url),
            config.results_path()
        );
        let candidate = json!({"id": 54_000 + n, "uuid": "c-uuid", "first-name": "Ana",
            "last-name": "Lima", "email": email, "phone": null, "tags": [],
            "job": {"id": 77, "title": "Engineer", "stage-id": 5, "stage": "Interview"}});
        let webhook_data = json!({"test": test});
        lock(&self.state.0.results).insert(
            result_id.clone(),
            PartnerResultRecord {
                id: result_id.clone(),
                status: "sending".to_owned(),
                candidate: candidate.clone(),
                webhook_data: webhook_data.clone(),
                ..PartnerResultRecord::default()
            },
        );
        {
            let mut faults = lock(&self.state.0.faults);
            if faults.drop_next_deliveries > 0 {
                faults.drop_next_deliveries -= 1;
                return TriggerAnswer {
                    partner_result_id: result_id,
                    status: 0,
                    body: "dropped by the simulator".to_owned(),
                };
            }
        }
        let body = json!({
            "partner-event": {
                "id": event_id,
                "webhook-data": webhook_data,
                "partner-result": {"id": result_id, "status": "sending", "update-url": update_url},
                "candidate": candidate
            },
            "company": {"uuid": "co-uuid", "name": "Acme", "url": "https://acme.example"}
        });
        let t = t.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let v1 = sign(secret.unwrap_or(&config.signature_secret), t, &event_id);
        let response = self
            .http
            .post(format!(
                "{}/webhook",
                config.partner_base_url.trim_end_matches('/')
            ))
            .header(
                "authorization",
                format!("Bearer {}", bearer.unwrap_or(&config.provider_key)),
            )
            .header("teamtailor-signature", format!("t={t},v1={v1}"))
            .json(&body)
            .send()
            .await;
        match response {
            Ok(response) => TriggerAnswer {
                partner_result_id: result_id,
                status: response.status().as_u16(),
                body: response.text().await.unwrap_or_default(),
            },
            Err(error) => TriggerAnswer {
                partner_result_id: result_id,
                status: 0,
                body: error.to_string(),
            },
        }
    }

    pub async fn trigger(&self, test: &str, email: &str) -> TriggerAnswer {
        self.trigger_with(test, email, None, None, None).await
    }

    /// `GET /config?job_id=&stage_id=&user_id=`: the trigger form's status and body.
    pub async fn config(&self) -> (u16, serde_json::Value) {
        let config = lock(&self.state.0.config).clone();
        let response = self
            .http
            .get(format!(
                "{}/config?job_id=1&stage_id=2&user_id=3",
                config.partner_base_url.trim_end_matches('/')
            ))
            .header("authorization", format!("Bearer {}", config.provider_key))
            .send()
            .await;
        match response {
            Ok(response) => (
                response.status().as_u16(),
                response.json().await.unwrap_or_default(),
            ),
            Err(_) => (0, serde_json::Value::Null),
        }
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        self.server
            .await
            .context("the Teamtailor simulator task panicked")?
            .context("the Teamtailor simulator server failed")
    }
}

pub async fn spawn(
    bind: SocketAddr,
    config: TeamtailorSimConfig,
) -> anyhow::Result<RunningTeamtailorSim> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the Teamtailor simulator to {bind}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let state = SimState::default();
    let results_path = config.results_path();
    *lock(&state.0.config) = config;
    *lock(&state.0.own_url) = format!("http://{addr}");
    let app = Router::new()
        .route(&results_path, get(list_results))
        .route(&format!("{results_path}/{{id}}"), put(receive_result))
        .with_state(state.clone())
        .into_make_service();
    let cancel = CancellationToken::new();
    let shutdown = cancel.clone().cancelled_owned();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    Ok(RunningTeamtailorSim {
        addr,
        state,
        http: reqwest::Client::new(),
        cancel,
        server,
    })
}

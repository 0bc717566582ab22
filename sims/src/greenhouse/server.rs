//! The simulator's routes: the take-home test URLs the partner PATCHes, and `/_sim` controls.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::client::PartnerClient;
use super::state::{Faults, GreenhouseSimConfig, SimState, lock};
use super::wire::ResponseError;

pub fn router(state: SimState) -> Router {
    Router::new()
        .route(
            "/integrations/testing_partners/take_home_tests/{id}",
            patch(receive_patch),
        )
        .route("/_sim/faults", post(set_faults))
        .route("/_sim/partner", post(set_partner))
        .route("/_sim/list_tests", get(control_list_tests))
        .route("/_sim/send_test", post(control_send_test))
        .route("/_sim/state", get(show_state))
        .with_state(state)
}

fn key_of(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.strip_suffix(':').map(str::to_owned)
}

/// The partner's `PATCH {url}`: the customer's key as Basic username, no body. A PATCH that
/// takes effect makes Greenhouse ask `test_status` (in the background).
async fn receive_patch(
    State(state): State<SimState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let faults = lock(&state.0.faults).clone();
    {
        let mut tests = lock(&state.0.tests);
        let Some(test) = tests.get_mut(&id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        test.patches_received += 1;
        let key = state.config().key;
        if key_of(&headers).as_deref() != Some(key.as_str()) {
            test.refusals.push("wrong or missing Basic key".to_owned());
            return StatusCode::UNAUTHORIZED.into_response();
        }
        if !body.is_empty() {
            test.refusals.push("the PATCH carried a body".to_owned());
            return StatusCode::BAD_REQUEST.into_response();
        }
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    {
        let mut current = lock(&state.0.faults);
        if current.fail_next > 0 {
            current.fail_next -= 1;
            let status = StatusCode::from_u16(current.status.unwrap_or(503))
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return status.into_response();
        }
    }
    let dropped = {
        let mut current = lock(&state.0.faults);
        let drop = current.drop_next > 0;
        current.drop_next = current.drop_next.saturating_sub(1);
        drop
    };
    let interview = {
        let mut tests = lock(&state.0.tests);
        let test = tests.entry(id.clone()).or_default();
        test.patches_effective += 1;
        if !dropped {
            test.patches_accepted += 1;
        }
        test.partner_interview_ids.first().cloned()
    };
    if let Some(interview) = interview {
        let client = PartnerClient::new(state.clone());
        state.0.tasks.spawn(async move {
            read_status(client, id, interview).await;
        });
    }
    if dropped {
        StatusCode::BAD_GATEWAY.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// Greenhouse asks `test_status` after a PATCH and keeps the answer; a malformed one is
/// reported through `response_error`, as Greenhouse does.
async fn read_status(client: PartnerClient, id: String, interview: String) {
    let Ok(status) = client.test_status(&interview).await else {
        return;
    };
    let problems = status.problems();
    if let Some(test) = lock(&client.state.0.tests).get_mut(&id) {
        test.status = Some(status);
    }
    if !problems.is_empty() {
        let report = ResponseError {
            api_call: "test_status".to_owned(),
            errors: problems,
            partner_test_id: None,
            partner_test_name: None,
            partner_interview_id: Some(interview),
            candidate_email: None,
        };
        lock(&client.state.0.response_errors).push(report.clone());
        let _ = client.response_error(&report).await;
    }
}

async fn set_faults(State(state): State<SimState>, Json(faults): Json<Faults>) -> Json<Faults> {
    *lock(&state.0.faults) = faults.clone();
    Json(faults)
}

#[derive(Deserialize)]
struct PartnerIn {
    partner_base_url: String,
    key: String,
}

async fn set_partner(State(state): State<SimState>, Json(partner): Json<PartnerIn>) -> StatusCode {
    state.set_partner(&partner.partner_base_url, &partner.key);
    StatusCode::NO_CONTENT
}

async fn control_list_tests(State(state): State<SimState>) -> Response {
    match PartnerClient::new(state).list_tests().await {
        Ok(tests) => Json(tests).into_response(),
        Err(refused) => (StatusCode::BAD_GATEWAY, refused.to_string()).into_response(),
    }
}

#[derive(Deserialize)]
struct SendIn {
    partner_test_id: String,
    email: String,
    #[serde(default)]
    times: Option<usize>,
}

async fn control_send_test(State(state): State<SimState>, Json(send): Json<SendIn>) -> Response {
    let client = PartnerClient::new(state);
    let (test, answers) = client
        .send_test(&send.partner_test_id, &send.email, send.times.unwrap_or(1))
        .await;
    let answers: Vec<_> = answers
        .into_iter()
        .map(|a| match a {
            Ok(id) => json!({"partner_interview_id": id}),
            Err(refused) => json!({"status": refused.status.as_u16(), "body": refused.body}),
        })
        .collect();
    Json(json!({"test": test, "answers": answers})).into_response()
}

async fn show_state(State(state): State<SimState>) -> Json<serde_json::Value> {
    Json(state.snapshot())
}

/// A simulator serving on a socket.
pub struct RunningGreenhouseSim {
    pub addr: SocketAddr,
    pub state: SimState,
    cancel: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl RunningGreenhouseSim {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Greenhouse's calls to the partner.
    pub fn partner(&self) -> PartnerClient {
        PartnerClient::new(self.state.clone())
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        self.state.0.tasks.close();
        self.state.0.tasks.wait().await;
        self.server
            .await
            .context("the Greenhouse simulator task panicked")?
            .context("the Greenhouse simulator server failed")
    }
}

/// Binds `bind` (port 0 allowed) and serves until stopped.
pub async fn spawn(
    bind: SocketAddr,
    mut config: GreenhouseSimConfig,
) -> anyhow::Result<RunningGreenhouseSim> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the Greenhouse simulator to {bind}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    config.own_url = format!("http://{addr}");
    let state = SimState::new(config);
    let cancel = CancellationToken::new();
    let app = router(state.clone()).into_make_service();
    let shutdown = cancel.clone().cancelled_owned();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    tracing::info!(%addr, "Greenhouse simulator listening");
    Ok(RunningGreenhouseSim {
        addr,
        state,
        cancel,
        server,
    })
}

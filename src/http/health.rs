//! `/healthz` (the process answers), `/readyz` (the database answers) and `/metrics`.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use secrecy::ExposeSecret as _;
use serde_json::json;
use subtle::ConstantTimeEq as _;

use crate::app::AppState;
use crate::error::error_response;
use crate::telemetry::StatusLabels;
use crate::{queue, store};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(show_health))
        .route("/readyz", get(show_readiness))
        .route("/metrics", get(show_metrics))
}

async fn show_health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn show_readiness(State(state): State<AppState>) -> Response {
    if state.shutdown.is_cancelled() {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the process is shutting down",
        );
    }
    if store::ping(&state.db).await {
        Json(json!({"status": "ready"})).into_response()
    } else {
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unreachable",
            "the database does not answer",
        )
    }
}

async fn show_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings.metrics_token
        && !bearer_matches(&headers, token.expose_secret())
    {
        let mut response = error_response(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "metrics need `Authorization: Bearer <metrics_token>`",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    // Queue depth is sampled at scrape time: it is the database's truth, shared by all processes.
    if let Ok(depth) = queue::depth(&state.db).await {
        for (status, count) in depth.counts() {
            state
                .metrics
                .queue_jobs
                .get_or_create(&StatusLabels {
                    status: status.as_str().to_owned(),
                })
                .set(count);
        }
    }
    let now = crate::time::now_ms();
    if let Ok(oldest) = queue::oldest_due_pending(&state.db, now).await {
        let age_ms = oldest.map_or(0, |run_at| (now - run_at).max(0));
        state
            .metrics
            .queue_oldest_pending_age
            .set(age_ms as f64 / 1_000.0);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Whether `Authorization` is `Bearer <token>` (compared in constant time).
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

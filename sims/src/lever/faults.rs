//! Misbehaviour on demand, and the API's guard: every `/v1` call is counted and timed, passes
//! Lever's token bucket (429 with `Retry-After` when empty), then the injected faults, then the
//! Basic `KEY:` or bearer-token check.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::state::{SimState, lock};

/// `POST /_sim/faults` body; omitted fields take their default (no fault).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Probability that a delivery is sent twice (same `id` and `token`).
    pub duplicate_rate: f64,
    /// Deliveries leave in random order.
    pub shuffle: bool,
    /// Probability that an API call answers `status` instead of its result.
    pub error_rate: f64,
    pub status: u16,
    /// The next this many API calls answer 429 with `Retry-After: retry_after_s`.
    pub force_429: u32,
    pub retry_after_s: u64,
    /// Added to every API answer.
    pub latency_ms: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            duplicate_rate: 0.0,
            shuffle: false,
            error_rate: 0.0,
            status: 503,
            force_429: 0,
            retry_after_s: 1,
            latency_ms: 0,
        }
    }
}

/// Draws whether something with probability `rate` happens.
pub fn happens(rate: f64) -> bool {
    rate > 0.0 && rand::rng().random_bool(rate.clamp(0.0, 1.0))
}

/// Lever's error shape.
pub fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn too_many(retry_after_s: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "TooManyRequests",
        "rate limit exceeded",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
    response
}

pub async fn guard_api(
    State(state): State<SimState>,
    path: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let template = path.as_ref().map_or("?", MatchedPath::as_str);
    let config = state.config();
    let limited = {
        let mut traffic = lock(&state.0.traffic);
        *traffic
            .calls
            .entry(format!("{} {template}", request.method()))
            .or_default() += 1;
        let now = Instant::now();
        traffic.arrivals.push_back(now);
        let refill =
            now.duration_since(traffic.refilled_at).as_secs_f64() * config.requests_per_second;
        traffic.tokens = (traffic.tokens + refill).min(config.burst);
        traffic.refilled_at = now;
        let mut faults = lock(&state.0.faults);
        if faults.force_429 > 0 {
            faults.force_429 -= 1;
            traffic.rate_limited += 1;
            Some(faults.retry_after_s)
        } else if traffic.tokens < 1.0 {
            traffic.rate_limited += 1;
            Some(1)
        } else {
            traffic.tokens -= 1.0;
            None
        }
    };
    if let Some(retry_after_s) = limited {
        return too_many(retry_after_s);
    }
    let faults = state.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if happens(faults.error_rate) {
        let status = StatusCode::from_u16(faults.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return error(status, "InjectedFault", "injected failure");
    }
    let authorised = match bearer(request.headers()) {
        Some(token) => lock(&state.0.oauth).accepts(token),
        None => basic_key_matches(request.headers(), &config.api_key),
    };
    if !authorised {
        return error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "missing or wrong API key, or an expired or revoked access token",
        );
    }
    next.run(request).await
}

/// `Authorization: Bearer TOKEN`: the token.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// `Authorization: Basic base64(KEY:)`.
fn basic_key_matches(headers: &HeaderMap, key: &str) -> bool {
    let Some(encoded) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{key}:");
    bool::from(decoded.ct_eq(expected.as_bytes()))
}

//! Misbehaviour on demand: faults on API answers (errors, latency, rate limit) applied by the
//! API middleware, and on deliveries (duplicates, shuffled order) applied when events are
//! emitted. The middleware also counts API calls by route template.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::auth;
use super::error::SimError;
use super::state::{SimState, lock};

const RATE_WINDOW: Duration = Duration::from_secs(60);

/// `POST /_sim/faults` body; omitted fields take their default (no fault).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Probability that a delivery is sent twice (same event `id`).
    pub duplicate_rate: f64,
    /// Deliveries leave in random order.
    pub shuffle: bool,
    /// Probability that an API call answers `status` instead of its result.
    pub error_rate: f64,
    pub status: u16,
    /// Added to every API answer, before the call takes effect.
    pub latency_ms: u64,
    /// Added to every API answer after the call took effect: a client that gives up sooner
    /// sees a timeout although the change was made.
    pub late_answer_ms: u64,
    /// API calls allowed per rolling minute; beyond, 429 with `Retry-After`.
    pub rate_limit_per_minute: Option<u32>,
    /// Deliveries omit `candidate.id` (Gupy may; Liaison falls back to the email).
    pub omit_candidate_id: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            duplicate_rate: 0.0,
            shuffle: false,
            error_rate: 0.0,
            status: 500,
            latency_ms: 0,
            late_answer_ms: 0,
            rate_limit_per_minute: None,
            omit_candidate_id: false,
        }
    }
}

impl Faults {
    pub fn validate(&self) -> Result<(), SimError> {
        let rate = 0.0..=1.0;
        if !rate.contains(&self.duplicate_rate) || !rate.contains(&self.error_rate) {
            return Err(SimError::BadRequest("rates are between 0 and 1".into()));
        }
        if !(400..=599).contains(&self.status) {
            return Err(SimError::BadRequest("status must be 400..=599".into()));
        }
        if self.latency_ms > 60_000 || self.late_answer_ms > 60_000 {
            return Err(SimError::BadRequest(
                "latency_ms and late_answer_ms are at most 60000".into(),
            ));
        }
        Ok(())
    }

    /// Draws whether something with probability `rate` happens.
    pub fn happens(rate: f64) -> bool {
        rate > 0.0 && rand::rng().random_bool(rate.clamp(0.0, 1.0))
    }
}

/// Wraps every `/api/v1` route: count, rate limit, latency, injected error, then auth.
pub async fn guard_api(
    State(state): State<SimState>,
    path: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let template = path.as_ref().map_or("?", MatchedPath::as_str);
    let key = format!("{} {template}", request.method());
    *lock(&state.0.api_calls).entry(key).or_default() += 1;

    let faults = state.faults();
    if let Some(limit) = faults.rate_limit_per_minute
        && let Err(error) = admit(&state, limit)
    {
        return error.into_response();
    }
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    if Faults::happens(faults.error_rate) {
        let status = axum::http::StatusCode::from_u16(faults.status)
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        return SimError::Injected(status).into_response();
    }
    if let Err(error) = auth::check_bearer(request.headers(), &state.0.config.token) {
        return error.into_response();
    }
    let response = next.run(request).await;
    if faults.late_answer_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.late_answer_ms)).await;
    }
    response
}

/// Rolling-window limit: admits the call or says when the oldest call leaves the window.
fn admit(state: &SimState, limit: u32) -> Result<(), SimError> {
    let now = Instant::now();
    let mut recent = lock(&state.0.recent_calls);
    while recent
        .front()
        .is_some_and(|t| now.duration_since(*t) >= RATE_WINDOW)
    {
        recent.pop_front();
    }
    if recent.len() >= limit as usize {
        let wait = recent.front().map_or(RATE_WINDOW, |oldest| {
            RATE_WINDOW.saturating_sub(now.duration_since(*oldest))
        });
        let retry_after_s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        return Err(SimError::RateLimited {
            retry_after_s: retry_after_s.max(1),
        });
    }
    recent.push_back(now);
    Ok(())
}

//! Misbehaviour on demand (`POST /_sim/faults`): random errors, added latency, periodic 429s
//! for `/v1` calls, and duplicated or reordered webhook deliveries.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::SuiteSim;
use super::error::ApiError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fraction (0..=1) of `/v1` calls answered with `status`, without side effects.
    pub error_rate: f64,
    pub status: u16,
    /// Added to every call outside `/_sim`.
    pub latency_ms: u64,
    /// Every Nth `/v1` call answers 429 with `Retry-After: 1`; 0 turns this off.
    pub rate_limit_every: u64,
    /// Fraction (0..=1) of successful webhook deliveries sent a second time.
    pub duplicate_rate: f64,
    /// Deliver webhooks after a random short delay, so they arrive out of order.
    pub shuffle: bool,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            status: 503,
            latency_ms: 0,
            rate_limit_every: 0,
            duplicate_rate: 0.0,
            shuffle: false,
        }
    }
}

impl Faults {
    pub fn validate(&self) -> Result<(), ApiError> {
        let rate_ok = |rate: f64| (0.0..=1.0).contains(&rate);
        if !rate_ok(self.error_rate) || !rate_ok(self.duplicate_rate) {
            return Err(ApiError::invalid_request("rates must be between 0 and 1"));
        }
        if StatusCode::from_u16(self.status).is_err() || self.status < 400 {
            return Err(ApiError::invalid_request(
                "status must be an HTTP error status",
            ));
        }
        Ok(())
    }
}

/// What to do with one `/v1` call.
#[derive(Debug, PartialEq, Eq)]
pub enum Injected {
    RateLimited,
    Error(StatusCode),
}

/// Pure decision for the `call_number`th `/v1` call (1-based), given a uniform `roll` in 0..1.
pub fn decide(faults: &Faults, call_number: u64, roll: f64) -> Option<Injected> {
    if faults.rate_limit_every > 0 && call_number.is_multiple_of(faults.rate_limit_every) {
        return Some(Injected::RateLimited);
    }
    if roll < faults.error_rate {
        let status = StatusCode::from_u16(faults.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Some(Injected::Error(status));
    }
    None
}

/// Middleware for `/v1`, outermost: injected failures happen before auth and before any change.
pub async fn inject_faults(State(sim): State<SuiteSim>, request: Request, next: Next) -> Response {
    let injected = {
        let mut store = sim.store();
        store.counters.v1_calls += 1;
        let roll: f64 = rand::rng().random();
        let injected = decide(&store.faults, store.counters.v1_calls, roll);
        match injected {
            Some(Injected::RateLimited) => store.counters.rate_limited += 1,
            Some(Injected::Error(_)) => store.counters.faults_injected += 1,
            None => {}
        }
        injected
    };
    match injected {
        None => next.run(request).await,
        Some(Injected::RateLimited) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests, retry after the given delay",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Some(Injected::Error(status)) => ApiError::new(
            status,
            "simulated_fault",
            "a fault injected by the simulator",
        )
        .into_response(),
    }
}

/// Middleware for the whole router: adds `latency_ms` to every call except `/_sim` ones.
pub async fn add_latency(State(sim): State<SuiteSim>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/_sim") {
        let latency = sim.store().faults.latency_ms;
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_faults_by_default() {
        assert_eq!(decide(&Faults::default(), 1, 0.0), None);
    }

    #[test]
    fn every_nth_call_is_rate_limited() {
        let faults = Faults {
            rate_limit_every: 3,
            ..Faults::default()
        };
        let limited: Vec<u64> = (1..=9)
            .filter(|n| decide(&faults, *n, 0.9) == Some(Injected::RateLimited))
            .collect();
        assert_eq!(limited, [3, 6, 9]);
    }

    #[test]
    fn rolls_below_the_error_rate_fail_with_the_status() {
        let faults = Faults {
            error_rate: 0.25,
            status: 500,
            ..Faults::default()
        };
        assert_eq!(
            decide(&faults, 1, 0.1),
            Some(Injected::Error(StatusCode::INTERNAL_SERVER_ERROR))
        );
        assert_eq!(decide(&faults, 1, 0.3), None);
    }

    #[test]
    fn out_of_range_settings_are_refused() {
        let bad_rate = Faults {
            error_rate: 1.5,
            ..Faults::default()
        };
        let bad_status = Faults {
            status: 200,
            ..Faults::default()
        };
        assert!(bad_rate.validate().is_err());
        assert!(bad_status.validate().is_err());
        assert!(Faults::default().validate().is_ok());
    }
}

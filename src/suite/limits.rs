//! Per-tenant limits on outgoing calls: at most `max_concurrency` in flight (a semaphore) and at
//! most `requests_per_second` started (a `governor` rate limiter), so Liaison never floods the
//! suite. A permit is taken per attempt, never held across a retry's sleep.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::SuiteClientSettings;

use super::error::SuiteError;

pub struct CallLimits {
    in_flight: Arc<Semaphore>,
    rate: DefaultDirectRateLimiter,
}

impl CallLimits {
    pub fn new(settings: &SuiteClientSettings) -> Self {
        let per_second = NonZeroU32::new(settings.requests_per_second).unwrap_or(NonZeroU32::MIN);
        Self {
            in_flight: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            rate: RateLimiter::direct(Quota::per_second(per_second)),
        }
    }

    /// Waits for a rate-limit cell, then for a free slot; the slot is released on drop.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, SuiteError> {
        self.rate.until_ready().await;
        self.in_flight
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| SuiteError::transient("the suite client is shutting down"))
    }
}

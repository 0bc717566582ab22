//! Lever's rate limit, kept on Liaison's side: a token bucket per tenant (Lever's is per API
//! key: 10 requests per second steady, bursts to 20; Liaison keeps a little below), and a pause after a `429` until its
//! `Retry-After` has passed, so the tenant's other calls in this process do not knock again
//! meanwhile. Per process: several Liaison processes of one tenant share Lever's budget.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::ats::error::AdapterError;
use crate::tenant::LeverSettings;

/// How long a call waits for its turn before it gives up (the job is retried later).
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Cells of Lever's bucket Liaison leaves unused: requests released on time can reach Lever
/// bunched up (network and scheduling jitter), and a bucket filled exactly to Lever's size
/// would then meet an empty one there. Two cells absorb 200 ms of jitter at 10 per second.
const JITTER_MARGIN: u32 = 2;

/// One tenant's bucket and pause.
pub struct TenantLimit {
    quota: (u32, u32),
    rate: DefaultDirectRateLimiter,
    paused_until: Mutex<Option<Instant>>,
}

impl TenantLimit {
    fn new(per_second: u32, burst: u32) -> Self {
        let quota = (per_second, burst);
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.saturating_sub(JITTER_MARGIN)).unwrap_or(NonZeroU32::MIN);
        Self {
            quota,
            rate: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
            paused_until: Mutex::new(None),
        }
    }

    /// Waits for a cell of the bucket. While Lever asked to wait (a 429), answers
    /// `RateLimited` with the time left instead of calling.
    pub async fn acquire(&self) -> Result<(), AdapterError> {
        let left = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .and_then(|until| until.checked_duration_since(Instant::now()));
        if let Some(left) = left.filter(|left| !left.is_zero()) {
            return Err(AdapterError::RateLimited {
                retry_after: Some(left),
            });
        }
        tokio::time::timeout(MAX_WAIT, self.rate.until_ready())
            .await
            .map_err(|_| AdapterError::RateLimited { retry_after: None })
    }

    /// Lever answered 429: no call of this tenant until `retry_after` has passed.
    pub fn pause(&self, retry_after: Option<Duration>) {
        let Some(wait) = retry_after else { return };
        let until = Instant::now() + wait;
        let mut paused = self
            .paused_until
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

/// Every tenant's limit in this process.
#[derive(Default)]
pub struct Limits {
    tenants: Mutex<HashMap<i64, Arc<TenantLimit>>>,
}

impl Limits {
    /// The tenant's limit; a new one when its settings changed.
    pub fn of(&self, tenant_id: i64, settings: &LeverSettings) -> Arc<TenantLimit> {
        let quota = (settings.requests_per_second, settings.burst);
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = tenants
            .entry(tenant_id)
            .or_insert_with(|| Arc::new(TenantLimit::new(quota.0, quota.1)));
        if entry.quota != quota {
            *entry = Arc::new(TenantLimit::new(quota.0, quota.1));
        }
        entry.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_pauses_the_tenant_until_its_retry_after() {
        let limit = TenantLimit::new(10, 20);
        assert!(limit.acquire().await.is_ok());
        limit.pause(Some(Duration::from_secs(7)));
        assert!(matches!(
            limit.acquire().await,
            Err(AdapterError::RateLimited { retry_after: Some(left) })
                if left > Duration::from_secs(6) && left <= Duration::from_secs(7)
        ));
    }

    #[test]
    fn tenants_have_their_own_buckets_and_new_settings_a_new_one() {
        let limits = Limits::default();
        let settings = LeverSettings::default();
        let a = limits.of(1, &settings);
        assert!(Arc::ptr_eq(&a, &limits.of(1, &settings)));
        assert!(!Arc::ptr_eq(&a, &limits.of(2, &settings)));
        let faster = LeverSettings {
            requests_per_second: 50,
            ..settings
        };
        assert!(!Arc::ptr_eq(&a, &limits.of(1, &faster)));
    }
}

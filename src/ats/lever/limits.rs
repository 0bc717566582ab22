//! Lever's rate limit, kept on Liaison's side: a token bucket per tenant (Lever's is per API
//! key: 10 requests per second steady, bursts to 20; Liaison keeps a little below), and a pause
//! after a `429` until its `Retry-After` has passed, so the tenant's other calls in this process
//! do not knock again meanwhile.
//!
//! The bucket is shared by every process of the tenant through the database
//! (`ats::rate_budget`, `[ats.lever] shared_rate_limit`, on by default): a process takes a few
//! requests at a time into a short-lived local stash, so two processes together stay within the
//! one budget Lever grants the key. Without the application's database at hand (tools, the
//! setting off, or the database failing) the bucket is this process's own (`governor`).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::ats::error::AdapterError;
use crate::ats::rate_budget::{SharedBucket, Taken};
use crate::ats::shared::AtsShared;
use crate::tenant::LeverSettings;

/// How many requests a process takes from the shared bucket at once, at least: fewer database
/// writes than requests, while a process holds little of the budget another could use. A fast
/// budget is taken a tenth of a second's worth at a time (`batch`).
const MIN_BATCH: u32 = 3;

/// A tenth of a second of the budget, at least `MIN_BATCH`.
fn batch(per_second: u32) -> u32 {
    (per_second / 10).max(MIN_BATCH)
}

/// How long requests taken from the shared bucket stay usable. Older ones are dropped unused, so
/// a stash never adds a late burst on top of what other processes send meanwhile.
const STASH_LIFETIME: Duration = Duration::from_millis(300);

/// The row of the shared bucket.
const SCOPE: &str = "lever";

/// Requests taken from the shared bucket and not yet used.
#[derive(Default)]
struct Stash {
    left: u32,
    taken_at: Option<Instant>,
}

/// How long a call waits for its turn before it gives up (the job is retried later).
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Cells of Lever's bucket Liaison leaves unused: requests released on time can reach Lever
/// bunched up (network and scheduling jitter), and a bucket filled exactly to Lever's size
/// would then meet an empty one there. Two cells absorb 200 ms of jitter at 10 per second.
const JITTER_MARGIN: u32 = 2;

/// One tenant's bucket and pause.
pub struct TenantLimit {
    tenant_id: i64,
    quota: (u32, u32, bool),
    rate: DefaultDirectRateLimiter,
    /// The shared bucket's requests taken by this process; one task at a time takes more.
    stash: tokio::sync::Mutex<Stash>,
    paused_until: Mutex<Option<Instant>>,
}

impl TenantLimit {
    fn new(tenant_id: i64, per_second: u32, burst: u32, shared: bool) -> Self {
        let quota = (per_second, burst, shared);
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.saturating_sub(JITTER_MARGIN)).unwrap_or(NonZeroU32::MIN);
        Self {
            tenant_id,
            quota,
            rate: RateLimiter::direct(Quota::per_second(per_second).allow_burst(burst)),
            stash: tokio::sync::Mutex::new(Stash::default()),
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
        let (_, _, shared) = self.quota;
        match AtsShared::current().filter(|_| shared) {
            Some(shared) => self.acquire_shared(&shared).await,
            None => tokio::time::timeout(MAX_WAIT, self.rate.until_ready())
                .await
                .map_err(|_| AdapterError::RateLimited { retry_after: None }),
        }
    }

    /// A request from the bucket every process of the tenant shares: from the stash, else a
    /// batch taken from the database (waiting for it to refill when empty).
    async fn acquire_shared(&self, shared: &AtsShared) -> Result<(), AdapterError> {
        let give_up_at = Instant::now() + MAX_WAIT;
        let (per_second, burst, _) = self.quota;
        let bucket = SharedBucket {
            db: shared.db(),
            tenant_id: self.tenant_id,
            scope: SCOPE,
            per_second,
            burst: burst.saturating_sub(JITTER_MARGIN).max(1),
        };
        let mut stash = self.stash.lock().await;
        loop {
            let fresh = stash
                .taken_at
                .is_some_and(|at| at.elapsed() < STASH_LIFETIME);
            if stash.left > 0 && fresh {
                stash.left -= 1;
                return Ok(());
            }
            let taken = match bucket.take(batch(per_second)).await {
                Ok(taken) => taken,
                // The database is busy or away: this process's own bucket meanwhile, rather
                // than failing the call (Lever's 429s are the backstop).
                Err(error) => {
                    tracing::warn!(
                        tenant_id = self.tenant_id,
                        error = %error,
                        "shared rate budget unavailable: limiting this process alone"
                    );
                    drop(stash);
                    return tokio::time::timeout(MAX_WAIT, self.rate.until_ready())
                        .await
                        .map_err(|_| AdapterError::RateLimited { retry_after: None });
                }
            };
            match taken {
                Taken::Granted(n) => {
                    *stash = Stash {
                        left: n,
                        taken_at: Some(Instant::now()),
                    };
                }
                Taken::Wait(wait) => {
                    if Instant::now() + wait > give_up_at {
                        return Err(AdapterError::RateLimited {
                            retry_after: Some(wait),
                        });
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
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
        let quota = (
            settings.requests_per_second,
            settings.burst,
            settings.shared_rate_limit,
        );
        let new = || Arc::new(TenantLimit::new(tenant_id, quota.0, quota.1, quota.2));
        let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = tenants.entry(tenant_id).or_insert_with(new);
        if entry.quota != quota {
            *entry = new();
        }
        entry.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_pauses_the_tenant_until_its_retry_after() {
        let limit = TenantLimit::new(1, 10, 20, false);
        assert!(limit.acquire().await.is_ok());
        limit.pause(Some(Duration::from_secs(7)));
        assert!(matches!(
            limit.acquire().await,
            Err(AdapterError::RateLimited { retry_after: Some(left) })
                if left > Duration::from_secs(6) && left <= Duration::from_secs(7)
        ));
    }

    #[test]
    fn a_fast_budget_is_taken_a_tenth_of_a_second_at_a_time() {
        assert_eq!(batch(10), 3);
        assert_eq!(batch(300), 30);
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

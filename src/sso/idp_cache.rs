//! What Liaison fetches from identity providers (OIDC discovery with its JWKS, SAML metadata),
//! kept in memory per tenant and URL for [`FRESH_FOR`], so sign-in traffic (or a flood of
//! unauthenticated requests) does not turn into one outbound call each. Concurrent misses wait
//! for one fetch. A copy is fetched again early only on demand (an ID token signed with a key the
//! copy does not list), and then at most once per [`REFETCH_AT_MOST_EVERY`]. Failures are not
//! kept. Each process has its own copy.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ids::TenantId;

/// How long a fetched document is used without asking the identity provider again.
pub const FRESH_FOR: Duration = Duration::from_secs(10 * 60);
/// The least time between two fetches of the same document (early refreshes included).
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

struct Entry<T> {
    value: T,
    fetched_at: Instant,
}

type Slot<T> = Arc<tokio::sync::Mutex<Option<Entry<T>>>>;

/// Documents by (tenant, URL): a changed URL (a `tenant apply`) is a new entry.
pub struct IdpCache<T> {
    slots: Mutex<HashMap<(TenantId, String), Slot<T>>>,
}

impl<T> Default for IdpCache<T> {
    fn default() -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> IdpCache<T> {
    fn slot(&self, tenant: TenantId, url: &str) -> Slot<T> {
        let mut slots = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Another URL for the same tenant replaces what was kept for the old one.
        slots.retain(|(id, kept), _| *id != tenant || kept == url);
        slots.entry((tenant, url.to_owned())).or_default().clone()
    }

    /// The kept document when fresh, else fetched now.
    pub async fn get<E, F, Fut>(&self, tenant: TenantId, url: &str, fetch: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.get_at(Instant::now(), tenant, url, FRESH_FOR, fetch)
            .await
    }

    /// The document fetched again, unless the kept copy is less than a minute old (then that
    /// copy: it is as new as Liaison may ask for).
    pub async fn refetch<E, F, Fut>(&self, tenant: TenantId, url: &str, fetch: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.get_at(Instant::now(), tenant, url, REFETCH_AT_MOST_EVERY, fetch)
            .await
    }

    async fn get_at<E, F, Fut>(
        &self,
        now: Instant,
        tenant: TenantId,
        url: &str,
        max_age: Duration,
        fetch: F,
    ) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let slot = self.slot(tenant, url);
        let mut kept = slot.lock().await;
        if let Some(entry) = kept.as_ref()
            && now.saturating_duration_since(entry.fetched_at) < max_age
        {
            return Ok(entry.value.clone());
        }
        let value = fetch().await?;
        *kept = Some(Entry {
            value: value.clone(),
            fetched_at: now,
        });
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn fetch_counted(
        cache: &IdpCache<usize>,
        now: Instant,
        url: &str,
        max_age: Duration,
        count: &AtomicUsize,
    ) -> usize {
        cache
            .get_at(now, TenantId(1), url, max_age, || async {
                Ok::<_, ()>(count.fetch_add(1, Ordering::SeqCst) + 1)
            })
            .await
            .expect("fetched")
    }

    #[tokio::test]
    async fn a_document_is_fetched_once_per_ten_minutes_and_refetched_at_most_once_a_minute() {
        let cache = IdpCache::default();
        let count = AtomicUsize::new(0);
        let start = Instant::now();
        for _ in 0..30 {
            fetch_counted(&cache, start, "https://idp/m", FRESH_FOR, &count).await;
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // An unknown key right after a fetch: the copy is as new as allowed.
        let at = start + Duration::from_secs(30);
        fetch_counted(&cache, at, "https://idp/m", REFETCH_AT_MOST_EVERY, &count).await;
        assert_eq!(count.load(Ordering::SeqCst), 1);
        let at = start + Duration::from_secs(61);
        fetch_counted(&cache, at, "https://idp/m", REFETCH_AT_MOST_EVERY, &count).await;
        fetch_counted(&cache, at, "https://idp/m", REFETCH_AT_MOST_EVERY, &count).await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
        let at = start + Duration::from_secs(61) + FRESH_FOR;
        fetch_counted(&cache, at, "https://idp/m", FRESH_FOR, &count).await;
        assert_eq!(count.load(Ordering::SeqCst), 3);
        // Another URL (the tenant file changed) is fetched at once.
        fetch_counted(&cache, at, "https://idp/other", FRESH_FOR, &count).await;
        assert_eq!(count.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept() {
        let cache: IdpCache<usize> = IdpCache::default();
        let failed = cache
            .get(TenantId(1), "u", || async { Err::<usize, _>("down") })
            .await;
        assert_eq!(failed, Err("down"));
        let fetched = cache
            .get(TenantId(1), "u", || async { Ok::<_, &str>(7) })
            .await;
        assert_eq!(fetched, Ok(7));
    }
}

//! A brief cache of suite reads per tenant and object, so that an ATS page full of iframes asks
//! the suite once, not once per frame. Entries stay fresh for `fresh_for`; after that the next
//! reader refreshes them (one reader per entry at a time: the others wait for its answer).
//! The last good answer is kept: when the suite is unreachable, the page shows it with its age.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::port::SourceError;
use crate::time::now_ms;

/// How long a suite answer is served without asking again.
pub const FRESH_FOR: Duration = Duration::from_secs(30);
/// Bound on entries per cache; the oldest go first.
pub const MAX_ENTRIES: usize = 10_000;

/// What a read gave: fresh data, or the last known data because the suite did not answer.
#[derive(Debug)]
pub enum Cached<T> {
    Fresh(Arc<T>),
    Stale { data: Arc<T>, fetched_at_ms: i64 },
}

impl<T> Cached<T> {
    pub fn data(&self) -> &Arc<T> {
        match self {
            Self::Fresh(data) | Self::Stale { data, .. } => data,
        }
    }
}

struct Entry<T> {
    data: Arc<T>,
    fetched: Instant,
    fetched_at_ms: i64,
}

struct Slot<T> {
    /// Held by the one reader refreshing this entry.
    refresh: tokio::sync::Mutex<()>,
    entry: Mutex<Option<Entry<T>>>,
}

impl<T> Slot<T> {
    fn fresh(&self, fresh_for: Duration) -> Option<Arc<T>> {
        let entry = self.entry.lock().unwrap_or_else(PoisonError::into_inner);
        entry
            .as_ref()
            .filter(|entry| entry.fetched.elapsed() < fresh_for)
            .map(|entry| entry.data.clone())
    }
}

/// Entries by (tenant, key).
type Slots<T> = HashMap<(String, String), Arc<Slot<T>>>;

pub struct PageCache<T> {
    slots: Mutex<Slots<T>>,
    fresh_for: Duration,
    max_entries: usize,
}

impl<T: Send + Sync> PageCache<T> {
    pub fn new(fresh_for: Duration, max_entries: usize) -> Self {
        Self {
            slots: Mutex::new(HashMap::new()),
            fresh_for,
            max_entries,
        }
    }

    fn slot(&self, tenant: &str, key: &str) -> Arc<Slot<T>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(slot) = slots.get(&(tenant.to_owned(), key.to_owned())) {
            return slot.clone();
        }
        if slots.len() >= self.max_entries {
            evict_oldest(&mut slots, self.max_entries / 10 + 1);
        }
        let slot = Arc::new(Slot {
            refresh: tokio::sync::Mutex::new(()),
            entry: Mutex::new(None),
        });
        slots.insert((tenant.to_owned(), key.to_owned()), slot.clone());
        slot
    }

    /// The entry for `key` of `tenant`, fetched with `fetch` when missing or old.
    pub async fn get<F, Fut>(
        &self,
        tenant: &str,
        key: &str,
        fetch: F,
    ) -> Result<Cached<T>, SourceError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, SourceError>>,
    {
        let slot = self.slot(tenant, key);
        if let Some(data) = slot.fresh(self.fresh_for) {
            return Ok(Cached::Fresh(data));
        }
        let _refreshing = slot.refresh.lock().await;
        // Whoever held the lock before us may have just refreshed it.
        if let Some(data) = slot.fresh(self.fresh_for) {
            return Ok(Cached::Fresh(data));
        }
        match fetch().await {
            Ok(value) => {
                let data = Arc::new(value);
                *slot.entry.lock().unwrap_or_else(PoisonError::into_inner) = Some(Entry {
                    data: data.clone(),
                    fetched: Instant::now(),
                    fetched_at_ms: now_ms(),
                });
                Ok(Cached::Fresh(data))
            }
            Err(SourceError::Unreachable(reason)) => {
                let entry = slot.entry.lock().unwrap_or_else(PoisonError::into_inner);
                match entry.as_ref() {
                    Some(entry) => Ok(Cached::Stale {
                        data: entry.data.clone(),
                        fetched_at_ms: entry.fetched_at_ms,
                    }),
                    None => Err(SourceError::Unreachable(reason)),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Forgets one entry (e.g. after an action changed it).
    pub fn forget(&self, tenant: &str, key: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.remove(&(tenant.to_owned(), key.to_owned()));
    }
}

fn evict_oldest<T>(slots: &mut Slots<T>, count: usize) {
    let mut ages: Vec<_> = slots
        .iter()
        .map(|(key, slot)| {
            let entry = slot.entry.lock().unwrap_or_else(PoisonError::into_inner);
            (
                entry.as_ref().map_or(i64::MIN, |e| e.fetched_at_ms),
                key.clone(),
            )
        })
        .collect();
    ages.sort();
    for (_, key) in ages.into_iter().take(count) {
        slots.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting(
        calls: &AtomicUsize,
        answer: Result<u32, SourceError>,
    ) -> impl Future<Output = Result<u32, SourceError>> + '_ {
        calls.fetch_add(1, Ordering::SeqCst);
        async move { answer }
    }

    #[tokio::test]
    async fn a_fresh_entry_is_served_without_asking_again() {
        let cache = PageCache::new(Duration::from_secs(60), 10);
        let calls = AtomicUsize::new(0);
        for _ in 0..3 {
            let got = cache.get("acme", "p1", || counting(&calls, Ok(7))).await;
            assert!(matches!(got, Ok(Cached::Fresh(data)) if *data == 7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn tenants_do_not_share_entries() {
        let cache = PageCache::new(Duration::from_secs(60), 10);
        let calls = AtomicUsize::new(0);
        cache
            .get("acme", "p1", || counting(&calls, Ok(1)))
            .await
            .ok();
        let other = cache.get("globex", "p1", || counting(&calls, Ok(2))).await;
        assert!(matches!(other, Ok(Cached::Fresh(data)) if *data == 2));
    }

    #[tokio::test]
    async fn an_unreachable_suite_gives_the_last_known_data() {
        let cache = PageCache::new(Duration::ZERO, 10);
        let calls = AtomicUsize::new(0);
        cache
            .get("acme", "p1", || counting(&calls, Ok(5)))
            .await
            .ok();
        let down = Err(SourceError::Unreachable("down".into()));
        let got = cache.get("acme", "p1", || counting(&calls, down)).await;
        assert!(matches!(got, Ok(Cached::Stale { data, .. }) if *data == 5));
        let never_seen = Err(SourceError::Unreachable("down".into()));
        let got = cache
            .get("acme", "p2", || counting(&calls, never_seen))
            .await;
        assert!(matches!(got, Err(SourceError::Unreachable(_))));
    }

    #[tokio::test]
    async fn concurrent_readers_share_one_fetch() {
        let cache = Arc::new(PageCache::new(Duration::from_secs(60), 10));
        let calls = Arc::new(AtomicUsize::new(0));
        let readers: Vec<_> = (0..8)
            .map(|_| {
                let (cache, calls) = (cache.clone(), calls.clone());
                tokio::spawn(async move {
                    cache
                        .get("acme", "p1", || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            Ok(1)
                        })
                        .await
                        .is_ok()
                })
            })
            .collect();
        for reader in readers {
            assert!(reader.await.expect("joins"));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_cache_stays_bounded() {
        let cache = PageCache::new(Duration::from_secs(60), 10);
        let calls = AtomicUsize::new(0);
        for i in 0..50 {
            cache
                .get("acme", &format!("p{i}"), || counting(&calls, Ok(i)))
                .await
                .ok();
        }
        assert!(cache.slots.lock().expect("lock").len() <= 10);
    }
}

//! Helpers shared by the integration tests.

use std::future::Future;
use std::time::Duration;

/// Polls `check` every few milliseconds until it returns `Some`, or fails after `limit`.
/// Used where something is truly asynchronous (webhook deliveries), instead of a bare sleep.
pub async fn wait_until<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

//! The retry policy of suite calls, on `backon`: exponential backoff with jitter, bounded in
//! attempts (`max_retries`) and in total time (`max_retry_seconds`). A `Retry-After` is obeyed by
//! sleeping at least that long, unless that would overrun the time budget (then we give up and
//! let the job queue try later). Only transient errors are retried.

use std::future::Future;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable as _};

use crate::config::SuiteClientSettings;

use super::error::SuiteError;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub max_retries: usize,
    pub budget: Duration,
}

impl RetryPolicy {
    pub fn from_settings(settings: &SuiteClientSettings) -> Self {
        Self {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
            max_retries: settings.max_retries,
            budget: Duration::from_secs(settings.max_retry_seconds),
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::default()
            .with_jitter()
            .with_factor(2.0)
            .with_min_delay(self.first_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_total_delay(Some(self.budget))
    }

    /// Runs `attempt` until it succeeds, fails permanently, or the bounds are reached.
    pub async fn run<T, F, Fut>(&self, attempt: F) -> Result<T, SuiteError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SuiteError>>,
    {
        let started = Instant::now();
        let budget = self.budget;
        attempt
            .retry(self.backoff())
            .sleep(tokio::time::sleep)
            .when(SuiteError::is_transient)
            .adjust(move |error, backoff| next_delay(error, backoff, started.elapsed(), budget))
            .notify(|error, delay| {
                tracing::debug!(
                    code = error.code(),
                    delay_ms = delay.as_millis() as u64,
                    "retrying suite call"
                );
            })
            .await
    }
}

/// The delay before the next attempt: the backoff's, stretched to a `Retry-After`; `None` (give
/// up) when the backoff is spent or the wait would overrun the budget.
pub fn next_delay(
    error: &SuiteError,
    backoff: Option<Duration>,
    elapsed: Duration,
    budget: Duration,
) -> Option<Duration> {
    let delay = match (backoff, error) {
        (None, _) => return None,
        (
            Some(backoff),
            SuiteError::RateLimited {
                retry_after: Some(after),
            },
        ) => backoff.max(*after),
        (Some(backoff), _) => backoff,
    };
    (elapsed + delay <= budget).then_some(delay)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_secs(60);

    #[test]
    fn retry_after_stretches_the_backoff() {
        let limited = SuiteError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        };
        let delay = next_delay(
            &limited,
            Some(Duration::from_millis(100)),
            Duration::ZERO,
            BUDGET,
        );
        assert_eq!(delay, Some(Duration::from_secs(2)));
    }

    #[test]
    fn waits_beyond_the_budget_or_the_attempts_give_up() {
        let limited = SuiteError::RateLimited {
            retry_after: Some(Duration::from_secs(30)),
        };
        let elapsed = Duration::from_secs(45);
        assert_eq!(
            next_delay(&limited, Some(Duration::from_millis(1)), elapsed, BUDGET),
            None
        );
        let down = SuiteError::transient("503");
        assert_eq!(next_delay(&down, None, Duration::ZERO, BUDGET), None);
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let policy = RetryPolicy {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
            max_retries: 5,
            budget: BUDGET,
        };
        let mut calls = 0;
        let result: Result<(), SuiteError> = policy
            .run(|| {
                calls += 1;
                async {
                    Err(SuiteError::Permanent {
                        status: 422,
                        code: "invalid".into(),
                        message: String::new(),
                    })
                }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    #[tokio::test]
    async fn transient_errors_are_retried_up_to_the_bound() {
        let policy = RetryPolicy {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            max_retries: 3,
            budget: BUDGET,
        };
        let mut calls = 0;
        let result: Result<(), SuiteError> = policy
            .run(|| {
                calls += 1;
                async { Err(SuiteError::transient("503")) }
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 4);
    }
}

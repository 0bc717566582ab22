//! Retry delays: exponential with "equal jitter", so retries of many jobs that failed together
//! spread out instead of hitting a recovering partner at the same instant.

use std::time::Duration;

/// The delay before attempt `attempt + 1`, after `attempt` (1-based) failures. `jitter` is a
/// number in `[0, 1)`; the delay lies in `[d/2, d)` where `d = base * 2^(attempt-1)`, capped at `max`.
pub fn retry_delay(attempt: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = base.saturating_mul(1u32 << exponent).min(max);
    let jitter = jitter.clamp(0.0, 1.0);
    full / 2 + full.mul_f64(jitter / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(1);
    const MAX: Duration = Duration::from_secs(3_600);

    #[test]
    fn delay_doubles_per_attempt_within_its_jitter_band() {
        assert_eq!(retry_delay(1, BASE, MAX, 0.0), Duration::from_millis(500));
        assert_eq!(retry_delay(2, BASE, MAX, 0.0), Duration::from_secs(1));
        assert_eq!(retry_delay(3, BASE, MAX, 0.0), Duration::from_secs(2));
        assert!(retry_delay(3, BASE, MAX, 0.999) < Duration::from_secs(4));
    }

    #[test]
    fn delay_is_capped_even_for_huge_attempt_counts() {
        assert!(retry_delay(1_000, BASE, MAX, 0.999) <= MAX);
        assert!(retry_delay(1_000, BASE, MAX, 0.0) >= MAX / 2);
    }
}

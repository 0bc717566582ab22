//! Brute-force protection for the admin token, shared by the console's sign-in form and the
//! API's bearer token: each client address may fail `[admin] sign_in_attempts` times per
//! `sign_in_window_seconds`; after that every try from it, right or wrong, is answered 429 with
//! `Retry-After` until its window ends (a right token must not be told apart from a wrong one
//! while the client is throttled, or the limit would not slow a guesser down).
//!
//! Counted in memory, per process, keyed by the client's address (an IPv6 client by its /64,
//! the block one subscriber usually holds): the TCP peer, or behind a reverse proxy listed in
//! `[admin] trusted_proxies` the address that proxy puts in `X-Forwarded-For`. Only failures count: a client that presents the
//! right token is never slowed down. `governor` (used for the suite's limits) was not a fit: its
//! keyed limiters only answer by spending a cell, and here a try must be checked before it is
//! known to have failed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::http::peer::client_bucket;

/// Entries are swept of expired windows when the map grows past this.
const SWEEP_ABOVE: usize = 4_096;

/// A client that must wait before it may try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after: Duration,
}

impl Throttled {
    /// `Retry-After` in whole seconds, rounded up (at least 1).
    pub fn retry_after_seconds(&self) -> u64 {
        self.retry_after.as_millis().div_ceil(1000).max(1) as u64
    }
}

#[derive(Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Failed sign-ins per client address, in fixed windows that start at a client's first failure.
#[derive(Debug)]
pub struct SignInThrottle {
    limit: u32,
    window: Duration,
    clients: Mutex<HashMap<IpAddr, Window>>,
}

impl SignInThrottle {
    pub fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// Refuses a client that already failed `limit` times in its current window.
    pub fn check(&self, client: IpAddr) -> Result<(), Throttled> {
        self.check_at(client, Instant::now())
    }

    /// Counts a failure of `client`; answers whether it is now throttled.
    pub fn record_failure(&self, client: IpAddr) -> Result<(), Throttled> {
        self.record_failure_at(client, Instant::now())
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Result<(), Throttled> {
        let clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        match clients.get(&client_bucket(client)) {
            Some(window) => self.verdict(window, now),
            None => Ok(()),
        }
    }

    fn record_failure_at(&self, client: IpAddr, now: Instant) -> Result<(), Throttled> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() > SWEEP_ABOVE {
            let window = self.window;
            clients.retain(|_, w| now.duration_since(w.started) < window);
        }
        let entry = clients.entry(client_bucket(client)).or_insert(Window {
            started: now,
            failures: 0,
        });
        if now.duration_since(entry.started) >= self.window {
            *entry = Window {
                started: now,
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        self.verdict(entry, now)
    }

    fn verdict(&self, window: &Window, now: Instant) -> Result<(), Throttled> {
        let elapsed = now.duration_since(window.started);
        if window.failures >= self.limit && elapsed < self.window {
            Err(Throttled {
                retry_after: self.window - elapsed,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn the_attempt_after_the_limit_waits_until_the_window_ends() {
        let throttle = SignInThrottle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..2 {
            assert!(throttle.record_failure_at(A, start).is_ok());
        }
        assert!(throttle.check_at(A, start).is_ok());
        let refused = throttle.record_failure_at(A, start).unwrap_err();
        assert_eq!(refused.retry_after_seconds(), 60);
        let later = start + Duration::from_secs(45);
        assert_eq!(
            throttle
                .check_at(A, later)
                .unwrap_err()
                .retry_after_seconds(),
            15
        );
        assert!(
            throttle.check_at(B, later).is_ok(),
            "another client is not held back"
        );
        let after = start + Duration::from_secs(60);
        assert!(throttle.check_at(A, after).is_ok());
        assert!(throttle.record_failure_at(A, after).is_ok(), "a new window");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_slash_64() {
        let one: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        let throttle = SignInThrottle::new(1, Duration::from_secs(60));
        assert!(throttle.record_failure(one).is_err());
        assert!(throttle.check(other).is_err());
        assert!(throttle.check(elsewhere).is_ok());
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert!(throttle.record_failure(mapped).is_err());
        assert!(throttle.check(A).is_err());
    }
}

//! Limits on the unauthenticated SSO endpoints, which write rows and may call the identity
//! provider: at most `[sso] requests_per_minute` sign-in starts and SAML posts per client address
//! (bursts up to the same number; IPv6 addresses count per /64), answered 429 with `Retry-After`
//! beyond that; and at most `[sso] max_pending_logins` unfinished sign-ins per tenant
//! (`logins::begin`). The client address is `http::peer::client_ip`: the connection's peer, or behind a
//! reverse proxy listed in `[admin] trusted_proxies` the address it forwards.

use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::app::AppState;
use crate::config::SsoLimitSettings;
use crate::http::peer::{client_bucket, client_ip};

/// The header that names why a page refused a request, for machines (`sso_rate_limited`...).
pub const ERROR_CODE_HEADER: &str = "x-liaison-error";

/// Past this many tracked addresses, those idle long enough to be back at a full allowance are
/// forgotten.
const TRACKED_ADDRESSES: usize = 10_000;

pub struct SignInLimits {
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    pub max_pending_logins: u64,
}

impl SignInLimits {
    pub fn new(settings: &SsoLimitSettings) -> Self {
        let per_minute = NonZeroU32::new(settings.requests_per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            per_client: RateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            max_pending_logins: settings.max_pending_logins,
        }
    }

    /// Takes one request from `client`'s allowance: Err with how long to wait when it is spent.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let key = client_key(client);
        let outcome = self
            .per_client
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()));
        if self.per_client.len() > TRACKED_ADDRESSES {
            self.per_client.retain_recent();
        }
        outcome
    }
}

/// What one client's allowance is kept under: the IPv4 address, or the IPv6 /64 (one host
/// usually has a whole /64), or one shared key when the peer is unknown.
pub fn client_key(client: Option<IpAddr>) -> IpAddr {
    client.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), client_bucket)
}

/// A request within its client's allowance: as a handler's first argument, it refuses the
/// others (429) before anything else runs.
pub struct WithinLimit;

impl FromRequestParts<AppState> for WithinLimit {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        state
            .sso
            .limits
            .check(Some(client_ip(
                &parts.extensions,
                &parts.headers,
                &state.settings.admin.trusted_proxies(),
            )))
            .map(|()| WithinLimit)
            .map_err(|wait| {
                tracing::warn!(path = %parts.uri.path(), "SSO request refused: client over its rate limit");
                too_many_requests(wait, "sso_rate_limited")
            })
    }
}

/// 429 with `Retry-After` (whole seconds, at least 1) and a machine-readable code.
pub fn too_many_requests(wait: Duration, code: &'static str) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        Html(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Too many requests</title>\
             <link rel=\"stylesheet\" href=\"/static/liaison.css\">\
             <main class=\"liaison\"><section class=\"notice notice-error\" role=\"alert\">\
             <h1>Too many sign-in attempts</h1><p>Please wait a moment and try again.</p>\
             </section></main></html>",
        ),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(ERROR_CODE_HEADER, HeaderValue::from_static(code));
    response
}

/// `response` with its machine-readable refusal code.
pub fn with_code(mut response: Response, code: &'static str) -> Response {
    response
        .headers_mut()
        .insert(ERROR_CODE_HEADER, HeaderValue::from_static(code));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(Some(a)), client_key(Some(b)));
        assert_ne!(client_key(Some(a)), client_key(Some(c)));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            client_key(Some(mapped)),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn a_client_past_its_allowance_is_told_how_long_to_wait() {
        let limits = SignInLimits::new(&SsoLimitSettings {
            requests_per_minute: 3,
            max_pending_logins: 10,
        });
        let one: IpAddr = "192.0.2.1".parse().expect("ip");
        let two: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert!(limits.check(Some(one)).is_ok());
        }
        let wait = limits.check(Some(one)).expect_err("limited");
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            limits.check(Some(two)).is_ok(),
            "another client is not limited"
        );
        let response = too_many_requests(wait, "sso_rate_limited");
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers()[header::RETRY_AFTER].to_str().is_ok());
    }
}

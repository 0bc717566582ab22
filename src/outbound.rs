//! Which addresses Liaison's outbound HTTP clients (ATS, feeds, suite, identity providers) may
//! connect to. Tenant URLs (`ats.base_url`, `suite.base_url`, `sso.issuer`,
//! `sso.idp_metadata_url`) are written by whoever writes tenant files; they must not reach the
//! cloud metadata service or other link-local hosts, nor (with `outbound.deny_private`) the
//! private network.
//!
//! Two checks, one classification ([`TargetPolicy::refusal`]):
//! - every client resolves names through [`GuardedResolver`], which drops refused addresses (a
//!   name whose every address is refused fails to connect), so a DNS name pointing at
//!   169.254.169.254 is refused like the literal;
//! - IP-literal hosts are not resolved by reqwest, so [`check_url`] refuses them where a URL
//!   enters Liaison (`tenant apply`, and the endpoints an OIDC discovery document names).
//!
//! Loopback is always allowed (the simulators, the demo and a sidecar live there).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

/// `[outbound]`: which addresses outbound calls may reach.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TargetPolicy {
    /// Allow link-local addresses (169.254.0.0/16, fe80::/10) and the cloud metadata
    /// addresses (169.254.169.254, fd00:ec2::254, 100.100.100.200). Off by default.
    pub allow_link_local: bool,
    /// Also refuse private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7). Off by
    /// default: partners inside the same private network are common.
    pub deny_private: bool,
}

/// Why an address is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A cloud metadata service address.
    Metadata,
    /// 169.254.0.0/16 or fe80::/10.
    LinkLocal,
    /// 10/8, 172.16/12, 192.168/16, 100.64/10 or fc00::/7 (with `deny_private`).
    Private,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Metadata => "a cloud metadata address",
            Refusal::LinkLocal => "a link-local address",
            Refusal::Private => "a private address",
        })
    }
}

const METADATA_V4: [Ipv4Addr; 2] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
];
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

impl TargetPolicy {
    /// `Some(reason)` when a connection to `ip` is refused under this policy. IPv4-mapped
    /// IPv6 addresses (`::ffff:169.254.169.254`) are judged as the IPv4 address.
    pub fn refusal(&self, ip: IpAddr) -> Option<Refusal> {
        let ip = ip.to_canonical();
        if ip.is_loopback() {
            return None;
        }
        let (metadata, link_local, private) = match ip {
            IpAddr::V4(v4) => {
                let o = v4.octets();
                (
                    METADATA_V4.contains(&v4),
                    v4.is_link_local(),
                    v4.is_private() || (o[0] == 100 && (o[1] & 0xc0) == 64),
                )
            }
            IpAddr::V6(v6) => {
                let first = v6.segments()[0];
                (
                    v6 == METADATA_V6,
                    (first & 0xffc0) == 0xfe80,
                    (first & 0xfe00) == 0xfc00,
                )
            }
        };
        if !self.allow_link_local {
            if metadata {
                return Some(Refusal::Metadata);
            }
            if link_local {
                return Some(Refusal::LinkLocal);
            }
        }
        if self.deny_private && (private || metadata || link_local) {
            return Some(Refusal::Private);
        }
        None
    }

    /// `Some(reason)` when `url`'s host is an IP literal this policy refuses (names are judged
    /// when they are resolved, by [`GuardedResolver`]).
    pub fn url_refusal(&self, url: &url::Url) -> Option<Refusal> {
        let ip = match url.host()? {
            url::Host::Ipv4(v4) => IpAddr::V4(v4),
            url::Host::Ipv6(v6) => IpAddr::V6(v6),
            url::Host::Domain(_) => return None,
        };
        self.refusal(ip)
    }
}

static POLICY: OnceLock<TargetPolicy> = OnceLock::new();

/// Sets the process's policy from the settings; called once at start, before any client is
/// built. Later calls are ignored.
pub fn install(policy: TargetPolicy) {
    let _ = POLICY.set(policy);
}

/// The process's policy (the default until [`install`]).
pub fn policy() -> TargetPolicy {
    POLICY.get().copied().unwrap_or_default()
}

/// A URL whose host is a refused IP literal, under the process's policy.
pub fn check_url(url: &url::Url) -> Result<(), RefusedTarget> {
    match policy().url_refusal(url) {
        Some(reason) => Err(RefusedTarget {
            host: url.host_str().unwrap_or_default().to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

/// A connection Liaison refuses to make.
#[derive(Debug, thiserror::Error)]
#[error("`{host}` is {reason}, which outbound calls may not reach (see outbound.allow_link_local)")]
pub struct RefusedTarget {
    pub host: String,
    pub reason: Refusal,
}

/// Resolves `host` with the system resolver and keeps the addresses `policy` allows. Fails
/// when none is left, naming the host and why.
pub async fn resolve(
    host: &str,
    policy: TargetPolicy,
) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
    filter(host, resolved, policy).map_err(Into::into)
}

/// The addresses of `host` that `policy` allows; an error when there were some and none is
/// allowed.
pub fn filter(
    host: &str,
    addresses: Vec<SocketAddr>,
    policy: TargetPolicy,
) -> Result<Vec<SocketAddr>, RefusedTarget> {
    let mut first_refusal = None;
    let allowed: Vec<SocketAddr> = addresses
        .into_iter()
        .filter(|address| match policy.refusal(address.ip()) {
            Some(reason) => {
                first_refusal.get_or_insert(reason);
                false
            }
            None => true,
        })
        .collect();
    match (allowed.is_empty(), first_refusal) {
        (true, Some(reason)) => Err(RefusedTarget {
            host: host.to_owned(),
            reason,
        }),
        _ => Ok(allowed),
    }
}

/// The DNS resolver of every outbound client: the system resolver, minus refused addresses.
#[derive(Clone, Copy, Debug)]
pub struct GuardedResolver {
    policy: TargetPolicy,
}

impl GuardedResolver {
    /// With the process's policy.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { policy: policy() })
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolve(&host, policy).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

// The OIDC client is `openidconnect`'s reqwest (another major version): same resolver.
impl openidconnect::reqwest::dns::Resolve for GuardedResolver {
    fn resolve(
        &self,
        name: openidconnect::reqwest::dns::Name,
    ) -> openidconnect::reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses = resolve(&host, policy).await?;
            Ok(Box::new(addresses.into_iter()) as openidconnect::reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("ip")
    }

    #[test]
    fn link_local_and_metadata_addresses_are_refused_and_loopback_is_not() {
        let default = TargetPolicy::default();
        for (address, reason) in [
            ("169.254.169.254", Refusal::Metadata),
            ("100.100.100.200", Refusal::Metadata),
            ("fd00:ec2::254", Refusal::Metadata),
            ("::ffff:169.254.169.254", Refusal::Metadata),
            ("169.254.1.2", Refusal::LinkLocal),
            ("fe80::1", Refusal::LinkLocal),
            ("febf::1", Refusal::LinkLocal),
        ] {
            assert_eq!(default.refusal(ip(address)), Some(reason), "{address}");
        }
        for address in [
            "127.0.0.1",
            "::1",
            "10.0.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "fc00::1",
            "93.184.216.34",
            "2606:4700::1",
            "fec0::1",
        ] {
            assert_eq!(default.refusal(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn allow_link_local_and_deny_private_change_the_answer() {
        let open = TargetPolicy {
            allow_link_local: true,
            deny_private: false,
        };
        assert_eq!(open.refusal(ip("169.254.169.254")), None);
        assert_eq!(open.refusal(ip("fe80::1")), None);
        let closed = TargetPolicy {
            allow_link_local: false,
            deny_private: true,
        };
        for address in [
            "10.1.2.3",
            "172.31.255.1",
            "192.168.0.10",
            "100.64.0.1",
            "fd12::1",
        ] {
            assert_eq!(
                closed.refusal(ip(address)),
                Some(Refusal::Private),
                "{address}"
            );
        }
        assert_eq!(closed.refusal(ip("172.32.0.1")), None);
        assert_eq!(closed.refusal(ip("127.0.0.1")), None);
        assert_eq!(
            closed.refusal(ip("169.254.169.254")),
            Some(Refusal::Metadata)
        );
    }

    #[test]
    fn ip_literal_urls_are_judged_and_names_are_left_to_the_resolver() {
        let default = TargetPolicy::default();
        let url = |text: &str| url::Url::parse(text).expect("url");
        assert_eq!(
            default.url_refusal(&url("http://169.254.169.254/latest")),
            Some(Refusal::Metadata)
        );
        assert_eq!(
            default.url_refusal(&url("https://[fe80::1]:8443/")),
            Some(Refusal::LinkLocal)
        );
        assert_eq!(default.url_refusal(&url("http://127.0.0.1:9101")), None);
        assert_eq!(default.url_refusal(&url("http://metadata.internal/")), None);
    }

    #[test]
    fn a_name_resolving_only_to_refused_addresses_fails_and_mixed_answers_are_filtered() {
        let default = TargetPolicy::default();
        let metadata: SocketAddr = "169.254.169.254:0".parse().expect("addr");
        let link_local: SocketAddr = "[fe80::1]:0".parse().expect("addr");
        let public: SocketAddr = "93.184.216.34:0".parse().expect("addr");
        let refused = filter("metadata.test", vec![metadata, link_local], default)
            .expect_err("only refused addresses");
        assert_eq!(refused.host, "metadata.test");
        assert_eq!(refused.reason, Refusal::Metadata);
        assert_eq!(
            filter("mixed.test", vec![metadata, public], default).expect("one allowed"),
            vec![public]
        );
    }

    #[tokio::test]
    async fn the_resolver_keeps_loopback_names() {
        let addresses = resolve("localhost", TargetPolicy::default())
            .await
            .expect("localhost resolves");
        assert!(addresses.iter().all(|a| a.ip().is_loopback()));
        assert!(!addresses.is_empty());
    }
}

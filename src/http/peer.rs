//! The client at the other end of a request, for the limits that count per client (the admin
//! sign-in throttle, the SSO endpoints' rate limit): the TCP peer, which the server records on
//! every request (`PeerAddr`), or, behind a reverse proxy listed in `[admin] trusted_proxies`,
//! the address that proxy forwards.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use ipnet::IpNet;

use crate::app::AppState;

/// The connection's peer, put in each request's extensions by the server (`http::server`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// The key a client is counted under: its address, or the /64 of an IPv6 address (an IPv4
/// address mapped into IPv6 counts as itself).
pub fn client_bucket(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The address of the client that sent a request: the TCP peer, which the server records for
/// every connection (`PeerAddr`), unless that peer is one of `trusted` proxies: then the
/// rightmost `X-Forwarded-For` address that is not a trusted proxy itself (what the nearest
/// untrusted hop connected from; addresses left of it could be made up by the client). A
/// request that did not come through the server (a router called in-process) counts as the
/// unspecified address.
pub fn client_ip(extensions: &Extensions, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<PeerAddr>>()
        .map(|ConnectInfo(PeerAddr(peer))| peer.ip())
        .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The client's address (`client_ip`) as an extractor.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(
            &parts.extensions,
            &parts.headers,
            &state.settings.admin.trusted_proxies(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_from(peer: &str, forwarded: &[&str]) -> (Extensions, HeaderMap) {
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(PeerAddr(
            format!("{peer}:40000").parse().expect("peer"),
        )));
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().expect("header"));
        }
        (extensions, headers)
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let ip = |text: &str| text.parse::<IpAddr>().expect("ip");

        let (e, h) = request_from("192.0.2.7", &["198.51.100.1"]);
        assert_eq!(
            client_ip(&e, &h, &trusted),
            ip("192.0.2.7"),
            "untrusted peer"
        );
        let (e, h) = request_from("10.0.0.2", &["203.0.113.9, 198.51.100.1"]);
        assert_eq!(client_ip(&e, &h, &trusted), ip("198.51.100.1"), "rightmost");
        let (e, h) = request_from("10.0.0.2", &["198.51.100.1", "10.0.0.5"]);
        assert_eq!(
            client_ip(&e, &h, &trusted),
            ip("198.51.100.1"),
            "two proxies"
        );
        let (e, h) = request_from("10.0.0.2", &[]);
        assert_eq!(client_ip(&e, &h, &trusted), ip("10.0.0.2"), "no header");
        let (e, h) = request_from("10.0.0.2", &["198.51.100.1, garbage"]);
        assert_eq!(client_ip(&e, &h, &trusted), ip("10.0.0.2"), "malformed");
        let (e, h) = request_from("10.0.0.2", &["198.51.100.1"]);
        assert_eq!(client_ip(&e, &h, &[]), ip("10.0.0.2"), "nothing trusted");
    }
}

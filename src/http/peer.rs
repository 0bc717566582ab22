//! The address of the client at the other end of the connection, for per-client limits.
//! Behind a reverse proxy this is the proxy's address (forwarding headers are not trusted).

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::extract::connect_info::Connected;
use axum::http::Extensions;
use axum::serve::IncomingStream;
use tokio::net::TcpListener;

use super::tls::TlsListener;

/// The connection's peer, put in each request's extensions by the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for PeerAddr {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Self(*stream.remote_addr())
    }
}

/// The peer's IP address, when the request came through Liaison's server (not in `oneshot`
/// tests).
pub fn peer_ip(extensions: &Extensions) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<PeerAddr>>()
        .map(|ConnectInfo(PeerAddr(address))| address.ip())
}

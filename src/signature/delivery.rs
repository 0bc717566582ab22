//! A delivery as received, in two states: `Unverified` (headers and raw body bytes, as read from
//! the socket) and `Verified` (its authentication checked). Parsing and normalisation take a
//! `Verified`, which only `Unverified::verify` makes, so an unchecked body cannot reach them.

use axum::http::HeaderMap;
use bytes::Bytes;

use super::error::VerifyError;

/// Headers and raw body of a delivery whose origin is not established yet.
#[derive(Debug, Clone)]
pub struct Unverified {
    headers: HeaderMap,
    body: Bytes,
}

/// A delivery whose authentication was checked on its raw bytes.
#[derive(Debug, Clone)]
pub struct Verified {
    headers: HeaderMap,
    body: Bytes,
}

impl Unverified {
    pub fn new(headers: HeaderMap, body: Bytes) -> Self {
        Self { headers, body }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The raw body bytes, exactly as received (never a re-serialised body).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Runs `check` on this delivery; on success it becomes `Verified`.
    pub fn verify(
        self,
        check: impl FnOnce(&Unverified) -> Result<(), VerifyError>,
    ) -> Result<Verified, VerifyError> {
        check(&self)?;
        Ok(Verified {
            headers: self.headers,
            body: self.body,
        })
    }
}

impl Verified {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every header (a script tenant's `request.headers`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// For tests and pollers, whose data did not come through a signed channel.
    pub fn trusted(headers: HeaderMap, body: Bytes) -> Self {
        Self { headers, body }
    }
}

/// A header's value when present and visible ASCII; a header sent twice reads as its first value.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

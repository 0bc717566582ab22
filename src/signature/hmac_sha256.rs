//! The `signed-json` scheme: `X-Liaison-Signature: sha256=<hex HMAC-SHA256>` over the raw
//! body, or over `"{timestamp}.{body}"` when `X-Liaison-Timestamp` (Unix seconds) is sent, in
//! which case the timestamp must be within five minutes of now, in either direction.
//!
//! An optional second version (a compatible extension of the contract),
//! `X-Liaison-Signature: v2=<hex HMAC-SHA256 of "{delivery}.{timestamp}.{body}">`, also covers
//! `X-Liaison-Delivery`, and requires it and the timestamp: only then is the sender's delivery id
//! authenticated, and only then is it used to recognise a duplicate (see `ats::signed_json`).

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use super::error::VerifyError;

pub const SIGNATURE_HEADER: &str = "X-Liaison-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Liaison-Timestamp";
/// How far a signed timestamp may be from the receiver's clock (replay window).
pub const TOLERANCE: TimeDelta = TimeDelta::minutes(5);

const PREFIX: &str = "sha256=";
const V2_PREFIX: &str = "v2=";

/// The signed headers of a delivery, as received.
#[derive(Clone, Copy, Debug, Default)]
pub struct SignedHeaders<'a> {
    pub signature: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub delivery: Option<&'a str>,
}

/// Which signature verified: only `V2` covers the delivery id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `sha256=`: the body, or `"{timestamp}.{body}"`.
    V1,
    /// `v2=`: `"{delivery}.{timestamp}.{body}"`.
    V2,
}

/// The scheme an `X-Liaison-Signature` value claims (what verified, once verification passed).
pub fn scheme_of(signature: &str) -> Scheme {
    if signature.trim().starts_with(V2_PREFIX) {
        Scheme::V2
    } else {
        Scheme::V1
    }
}

/// The value of `X-Liaison-Signature` in the `v2` form, over `"{delivery}.{timestamp}.{body}"`.
pub fn sign_v2(secret: &[u8], delivery: &str, timestamp: &str, body: &[u8]) -> String {
    let tag = mac_v2(secret, delivery, timestamp, body)
        .finalize()
        .into_bytes();
    format!("{V2_PREFIX}{}", to_hex(&tag))
}

/// Verifies either scheme and says which one verified. A `v2` signature without
/// `X-Liaison-Delivery` or `X-Liaison-Timestamp` is invalid.
pub fn verify_delivery(
    secret: &[u8],
    headers: SignedHeaders<'_>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Scheme, VerifyError> {
    let header = headers.signature.ok_or(VerifyError::MissingSignature)?;
    let Some(hex) = header.trim().strip_prefix(V2_PREFIX) else {
        return verify(secret, Some(header), headers.timestamp, body, now).map(|()| Scheme::V1);
    };
    let expected = from_hex(hex).ok_or(VerifyError::InvalidSignature)?;
    let (Some(delivery), Some(timestamp)) = (headers.delivery, headers.timestamp) else {
        return Err(VerifyError::InvalidSignature);
    };
    let timestamp = timestamp.trim();
    mac_v2(secret, delivery.trim(), timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| VerifyError::InvalidSignature)?;
    check_fresh(timestamp, now)?;
    Ok(Scheme::V2)
}

fn mac_v2(secret: &[u8], delivery: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(delivery.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

type HmacSha256 = Hmac<Sha256>;

/// The value of `X-Liaison-Signature` for `body` (and `timestamp`, when one is sent).
pub fn sign(secret: &[u8], timestamp: Option<&str>, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("{PREFIX}{}", to_hex(&tag))
}

/// Verifies a delivery on its raw bytes. The MAC is checked first, in constant time, so that a
/// forged request learns nothing about the receiver's clock; then the timestamp's freshness.
pub fn verify(
    secret: &[u8],
    signature_header: Option<&str>,
    timestamp_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    let header = signature_header.ok_or(VerifyError::MissingSignature)?;
    let hex = header
        .trim()
        .strip_prefix(PREFIX)
        .ok_or(VerifyError::InvalidSignature)?;
    let expected = from_hex(hex).ok_or(VerifyError::InvalidSignature)?;
    let timestamp = timestamp_header.map(str::trim);
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| VerifyError::InvalidSignature)?;
    match timestamp {
        None => Ok(()),
        Some(value) => check_fresh(value, now),
    }
}

fn mac(secret: &[u8], timestamp: Option<&str>, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this constructor cannot fail.
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    if let Some(ts) = timestamp {
        mac.update(ts.as_bytes());
        mac.update(b".");
    }
    mac.update(body);
    mac
}

fn check_fresh(timestamp: &str, now: DateTime<Utc>) -> Result<(), VerifyError> {
    let seconds: i64 = timestamp.parse().map_err(|_| VerifyError::StaleTimestamp)?;
    let sent = DateTime::<Utc>::from_timestamp(seconds, 0).ok_or(VerifyError::StaleTimestamp)?;
    let skew = (now - sent).abs();
    if skew <= TOLERANCE {
        Ok(())
    } else {
        Err(VerifyError::StaleTimestamp)
    }
}

/// Lower-case hex, as written in the header.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Hex in either case; `None` on odd length or a non-hex digit.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digits = text.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| Some((hex_digit(pair[0])? << 4) | hex_digit(pair[1])?))
        .collect()
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &[u8] = b"whsec-test";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(seconds, 0).unwrap_or_default()
    }

    #[test]
    fn matches_a_known_vector() {
        // RFC 4231 test case 2.
        let sig = sign(b"Jefe", None, b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_signed_body_verifies_without_timestamp() {
        let body = br#"{"type":"job.created"}"#;
        let sig = sign(SECRET, None, body);
        assert_eq!(verify(SECRET, Some(&sig), None, body, at(0)), Ok(()));
    }

    #[test]
    fn upper_case_hex_and_surrounding_spaces_are_accepted() {
        let body = b"{}";
        let sig = sign(SECRET, None, body);
        let upper = format!("  sha256={} ", sig[PREFIX.len()..].to_uppercase());
        assert_eq!(verify(SECRET, Some(&upper), None, body, at(0)), Ok(()));
    }

    #[test]
    fn a_timestamped_signature_verifies_within_five_minutes_both_ways() {
        let body = b"{}";
        let sig = sign(SECRET, Some("1000000"), body);
        for now in [1_000_000 - 300, 1_000_000, 1_000_000 + 300] {
            assert_eq!(
                verify(SECRET, Some(&sig), Some("1000000"), body, at(now)),
                Ok(())
            );
        }
        for now in [1_000_000 - 301, 1_000_000 + 301] {
            assert_eq!(
                verify(SECRET, Some(&sig), Some("1000000"), body, at(now)),
                Err(VerifyError::StaleTimestamp)
            );
        }
    }

    #[test]
    fn the_timestamp_is_covered_by_the_mac() {
        let body = b"{}";
        let sig = sign(SECRET, Some("1000000"), body);
        assert_eq!(
            verify(SECRET, Some(&sig), Some("1000001"), body, at(1_000_000)),
            Err(VerifyError::InvalidSignature)
        );
        // A signature made without timestamp does not verify once one is added.
        let plain = sign(SECRET, None, body);
        assert_eq!(
            verify(SECRET, Some(&plain), Some("1000000"), body, at(1_000_000)),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn a_malformed_timestamp_is_stale() {
        let sig = sign(SECRET, Some("yesterday"), b"{}");
        assert_eq!(
            verify(SECRET, Some(&sig), Some("yesterday"), b"{}", at(0)),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn missing_and_malformed_headers_are_reported() {
        assert_eq!(
            verify(SECRET, None, None, b"{}", at(0)),
            Err(VerifyError::MissingSignature)
        );
        for bad in ["", "sha256=", "sha256=abc", "sha1=00", "sha256=zz", "00ff"] {
            assert_eq!(
                verify(SECRET, Some(bad), None, b"{}", at(0)),
                Err(VerifyError::InvalidSignature),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_wrong_secret_does_not_verify() {
        let sig = sign(b"other", None, b"{}");
        assert_eq!(
            verify(SECRET, Some(&sig), None, b"{}", at(0)),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn a_v2_signature_covers_the_delivery_id_and_needs_the_timestamp() {
        let body = b"{}";
        let sig = sign_v2(SECRET, "dlv-1", "1000000", body);
        let headers = |delivery, timestamp| SignedHeaders {
            signature: Some(&sig),
            timestamp,
            delivery,
        };
        assert_eq!(
            verify_delivery(
                SECRET,
                headers(Some("dlv-1"), Some("1000000")),
                body,
                at(1_000_000)
            ),
            Ok(Scheme::V2)
        );
        for (delivery, timestamp) in [
            (Some("dlv-2"), Some("1000000")),
            (None, Some("1000000")),
            (Some("dlv-1"), None),
        ] {
            assert_eq!(
                verify_delivery(SECRET, headers(delivery, timestamp), body, at(1_000_000)),
                Err(VerifyError::InvalidSignature),
                "{delivery:?} {timestamp:?}"
            );
        }
        assert_eq!(
            verify_delivery(
                SECRET,
                headers(Some("dlv-1"), Some("1000000")),
                body,
                at(1_000_400)
            ),
            Err(VerifyError::StaleTimestamp)
        );
        let v1 = sign(SECRET, None, body);
        let plain = SignedHeaders {
            signature: Some(&v1),
            timestamp: None,
            delivery: Some("dlv-1"),
        };
        assert_eq!(verify_delivery(SECRET, plain, body, at(0)), Ok(Scheme::V1));
    }

    proptest! {
        #[test]
        fn arbitrary_headers_and_bodies_never_panic(
            secret in proptest::collection::vec(any::<u8>(), 0..64),
            signature in proptest::option::of(".{0,80}"),
            timestamp in proptest::option::of(".{0,24}"),
            body in proptest::collection::vec(any::<u8>(), 0..256),
            now in any::<i32>(),
        ) {
            let _ = verify(&secret, signature.as_deref(), timestamp.as_deref(), &body, at(i64::from(now)));
        }

        #[test]
        fn a_mutated_body_never_verifies(
            body in proptest::collection::vec(any::<u8>(), 1..256),
            index in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let sig = sign(SECRET, Some("1000"), &body);
            let mut mutated = body.clone();
            let i = index.index(mutated.len());
            mutated[i] ^= flip;
            prop_assert_eq!(
                verify(SECRET, Some(&sig), Some("1000"), &mutated, at(1000)),
                Err(VerifyError::InvalidSignature)
            );
            prop_assert_eq!(verify(SECRET, Some(&sig), Some("1000"), &body, at(1000)), Ok(()));
        }

        #[test]
        fn a_mutated_signature_never_verifies(
            body in proptest::collection::vec(any::<u8>(), 0..128),
            index in any::<prop::sample::Index>(),
            replacement in "[0-9a-f]",
        ) {
            let sig = sign(SECRET, None, &body);
            let hex_start = PREFIX.len();
            let i = hex_start + index.index(sig.len() - hex_start);
            let mut mutated = sig.clone();
            mutated.replace_range(i..=i, &replacement);
            prop_assume!(mutated != sig);
            prop_assert_eq!(
                verify(SECRET, Some(&mutated), None, &body, at(0)),
                Err(VerifyError::InvalidSignature)
            );
        }
    }
}

//! Standard Webhooks (<https://www.standardwebhooks.com/>) signing and verification.
//!
//! Pure functions only: callers pass the header values, the raw body and the current time.
//! The signed content is `"{webhook-id}.{webhook-timestamp}.{body}"`, the MAC is HMAC-SHA256
//! keyed with the base64-decoded part of a `whsec_...` secret, and the header carries one or
//! more space-separated `v1,<base64 MAC>` entries (several during a secret rotation).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// How far a `webhook-timestamp` may be from now, in either direction, before it is refused.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

const SECRET_PREFIX: &str = "whsec_";
const SIGNATURE_VERSION: &str = "v1";

/// A webhook signing secret: `whsec_` followed by base64 key bytes.
///
/// Debug output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    encoded: String,
    key: Vec<u8>,
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`; the prefix is optional, as in the reference libraries.
    pub fn parse(secret: &str) -> Result<Self, VerifyError> {
        let base64_part = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        let key = STANDARD
            .decode(base64_part)
            .map_err(|_| VerifyError::MalformedSecret)?;
        if key.is_empty() {
            return Err(VerifyError::MalformedSecret);
        }
        Ok(Self {
            encoded: format!("{SECRET_PREFIX}{base64_part}"),
            key,
        })
    }

    /// A fresh secret: `whsec_` + base64 of 24 random bytes.
    pub fn generate() -> Self {
        let mut key = vec![0u8; 24];
        rand::rng().fill_bytes(&mut key);
        Self {
            encoded: format!("{SECRET_PREFIX}{}", STANDARD.encode(&key)),
            key,
        }
    }

    /// The `whsec_...` text, for handing the secret to its owner. Never log it.
    pub fn expose(&self) -> &str {
        &self.encoded
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("webhook secret is not whsec_ followed by base64")]
    MalformedSecret,
    #[error("no v1 signature in the webhook-signature header")]
    MissingSignature,
    #[error("webhook-timestamp is not a Unix time in seconds")]
    MalformedTimestamp,
    #[error("webhook-timestamp is more than five minutes away from now")]
    StaleTimestamp,
    #[error("no signature matches")]
    InvalidSignature,
}

/// The `webhook-signature` header value for one message: `v1,<base64 MAC>`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mac = compute_mac(secret, msg_id, &timestamp.to_string(), body);
    format!("{SIGNATURE_VERSION},{}", STANDARD.encode(mac))
}

/// Checks a delivery: the timestamp is within [`TOLERANCE_SECONDS`] of `now` (Unix seconds)
/// and at least one `v1` entry of `signature_header` is the MAC of the raw `body`.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let sent_at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::MalformedTimestamp)?;
    if now.abs_diff(sent_at) > TOLERANCE_SECONDS.unsigned_abs() {
        return Err(VerifyError::StaleTimestamp);
    }

    let candidates: Vec<&str> = signature_header
        .split_whitespace()
        .filter_map(|entry| entry.split_once(','))
        .filter(|(version, _)| *version == SIGNATURE_VERSION)
        .map(|(_, signature)| signature)
        .collect();
    if candidates.is_empty() {
        return Err(VerifyError::MissingSignature);
    }

    let expected = compute_mac(secret, msg_id, timestamp.trim(), body);
    // Check every candidate so the time taken does not reveal which one matched.
    let matched = candidates
        .iter()
        .filter_map(|candidate| STANDARD.decode(candidate).ok())
        .fold(false, |found, provided| {
            found | bool::from(provided.as_slice().ct_eq(expected.as_slice()))
        });
    if matched {
        Ok(())
    } else {
        Err(VerifyError::InvalidSignature)
    }
}

fn compute_mac(secret: &WebhookSecret, msg_id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty MAC anyway
    // rather than panic, which can never verify.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&secret.key) else {
        return Vec::new();
    };
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).expect("valid secret")
    }

    fn verify_at(
        secret: &WebhookSecret,
        header: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), VerifyError> {
        verify(secret, MSG_ID, &TIMESTAMP.to_string(), header, body, now)
    }

    #[test]
    fn signing_matches_the_published_vector() {
        assert_eq!(sign(&secret(), MSG_ID, TIMESTAMP, BODY), EXPECTED);
    }

    #[test]
    fn the_published_vector_verifies() {
        assert_eq!(verify_at(&secret(), EXPECTED, BODY, TIMESTAMP), Ok(()));
    }

    #[test]
    fn another_secret_fails() {
        let other = WebhookSecret::generate();
        assert_eq!(
            verify_at(&other, EXPECTED, BODY, TIMESTAMP),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn a_tampered_body_fails() {
        assert_eq!(
            verify_at(&secret(), EXPECTED, br#"{"test": 2432232315}"#, TIMESTAMP),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn a_stale_timestamp_fails() {
        let now = TIMESTAMP + TOLERANCE_SECONDS + 1;
        assert_eq!(
            verify_at(&secret(), EXPECTED, BODY, now),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn a_future_timestamp_fails() {
        let now = TIMESTAMP - TOLERANCE_SECONDS - 1;
        assert_eq!(
            verify_at(&secret(), EXPECTED, BODY, now),
            Err(VerifyError::StaleTimestamp)
        );
    }

    #[test]
    fn timestamps_at_the_edge_of_the_tolerance_pass() {
        for now in [TIMESTAMP - TOLERANCE_SECONDS, TIMESTAMP + TOLERANCE_SECONDS] {
            assert_eq!(verify_at(&secret(), EXPECTED, BODY, now), Ok(()));
        }
    }

    #[test]
    fn one_matching_signature_among_several_passes() {
        let header = format!("v1,bm90IHRoZSByaWdodCBtYWM= v2,whatever {EXPECTED} v1a,xyz");
        assert_eq!(verify_at(&secret(), &header, BODY, TIMESTAMP), Ok(()));
    }

    #[test]
    fn a_header_without_v1_entries_is_missing_a_signature() {
        for header in ["", "   ", "v2,abc", "garbage"] {
            assert_eq!(
                verify_at(&secret(), header, BODY, TIMESTAMP),
                Err(VerifyError::MissingSignature),
                "header {header:?}"
            );
        }
    }

    #[test]
    fn a_non_numeric_timestamp_is_malformed() {
        assert_eq!(
            verify(&secret(), MSG_ID, "yesterday", EXPECTED, BODY, TIMESTAMP),
            Err(VerifyError::MalformedTimestamp)
        );
    }

    #[test]
    fn malformed_secrets_are_refused() {
        for bad in ["whsec_", "whsec_not base64!", ""] {
            assert_eq!(
                WebhookSecret::parse(bad),
                Err(VerifyError::MalformedSecret),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_prefix_is_optional_when_parsing() {
        let bare = WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
        assert_eq!(bare, secret());
        assert_eq!(bare.expose(), SECRET);
    }

    #[test]
    fn generated_secrets_hold_24_bytes_and_round_trip() {
        let generated = WebhookSecret::generate();
        assert!(generated.expose().starts_with("whsec_"));
        let parsed = WebhookSecret::parse(generated.expose()).expect("valid");
        assert_eq!(parsed.key.len(), 24);
        assert_eq!(parsed, generated);
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let shown = format!("{:?}", secret());
        assert!(!shown.contains("MfKQ9r8"), "{shown}");
    }
}

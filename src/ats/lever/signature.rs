//! Lever's webhook signature, carried in the body: `signature = hex(HMAC-SHA256(key = the
//! signature token from Lever's settings, msg = token + triggeredAt))`, `triggeredAt` as its
//! decimal milliseconds. Only those two fields are signed: the rest of the body is a hint the
//! flow checks against Lever's API.

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use crate::signature::VerifyError;
use crate::signature::hmac_sha256::{from_hex, to_hex};

type HmacSha256 = Hmac<Sha256>;

/// The signed fields of a delivery, as sent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedFields {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    triggered_at: Option<serde_json::Number>,
    #[serde(default)]
    signature: Option<String>,
}

/// `hex(HMAC-SHA256(secret, token + triggered_at))`.
pub fn sign(secret: &[u8], token: &str, triggered_at: &str) -> String {
    to_hex(&mac(secret, token, triggered_at).finalize().into_bytes())
}

fn mac(secret: &[u8], token: &str, triggered_at: &str) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(token.as_bytes());
    mac.update(triggered_at.as_bytes());
    mac
}

/// Verifies a delivery's raw body. The MAC is compared first, in constant time, so a forgery
/// learns nothing of the receiver's clock; then `triggeredAt` must be within `tolerance` of
/// `now`. A body that is not a JSON object with these fields carries no signature.
pub fn verify(
    secret: &[u8],
    body: &[u8],
    tolerance: TimeDelta,
    now: DateTime<Utc>,
) -> Result<(), VerifyError> {
    let fields: SignedFields =
        serde_json::from_slice(body).map_err(|_| VerifyError::MissingSignature)?;
    let (Some(token), Some(triggered_at), Some(signature)) =
        (fields.token, fields.triggered_at, fields.signature)
    else {
        return Err(VerifyError::MissingSignature);
    };
    if secret.is_empty() {
        // No signature token configured: nothing can be verified, so nothing is accepted.
        return Err(VerifyError::InvalidSignature);
    }
    let expected = from_hex(signature.trim()).ok_or(VerifyError::InvalidSignature)?;
    // The number as it was written (a JSON integer), which is what Lever signed.
    let triggered_text = triggered_at.to_string();
    mac(secret, &token, &triggered_text)
        .verify_slice(&expected)
        .map_err(|_| VerifyError::InvalidSignature)?;
    let sent = triggered_at
        .as_i64()
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .ok_or(VerifyError::StaleTimestamp)?;
    if (now - sent).abs() <= tolerance {
        Ok(())
    } else {
        Err(VerifyError::StaleTimestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &[u8] = b"lever-signature-token";

    fn body(token: &str, at: i64, signature: &str) -> Vec<u8> {
        json!({"id": "e1", "event": "candidateStageChange", "triggeredAt": at,
               "token": token, "signature": signature, "data": {}})
        .to_string()
        .into_bytes()
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_431_454_330_072).expect("time")
    }

    #[test]
    fn a_signed_fresh_delivery_verifies_and_anything_else_is_refused() {
        let at = 1_431_454_330_072;
        let good = sign(SECRET, "tok", &at.to_string());
        let five = TimeDelta::minutes(5);
        assert_eq!(verify(SECRET, &body("tok", at, &good), five, now()), Ok(()));
        assert_eq!(
            verify(SECRET, &body("tok", at, &good.to_uppercase()), five, now()),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, &body("tok2", at, &good), five, now()),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(b"other", &body("tok", at, &good), five, now()),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(SECRET, &body("tok", at, "zz"), five, now()),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(b"", &body("tok", at, &good), five, now()),
            Err(VerifyError::InvalidSignature)
        );
        let later = now() + TimeDelta::minutes(6);
        assert_eq!(
            verify(SECRET, &body("tok", at, &good), five, later),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(
            verify(SECRET, b"not json", five, now()),
            Err(VerifyError::MissingSignature)
        );
        let unsigned = json!({"token": "tok", "triggeredAt": at}).to_string();
        assert_eq!(
            verify(SECRET, unsigned.as_bytes(), five, now()),
            Err(VerifyError::MissingSignature)
        );
    }
}

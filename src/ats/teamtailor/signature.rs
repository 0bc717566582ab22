//! `Teamtailor-Signature: t=<unix seconds>,v1=<hex>[,v0=<hex>]`, where
//! `v1 = hex(HMAC-SHA256(secret, "<t>.<partner-event id>"))`: the body is not signed, so the
//! event id the MAC covers is the one the order is read from. `t` must be within the window.

use hmac::{Hmac, Mac};

use crate::signature::VerifyError;

pub const HEADER: &str = "teamtailor-signature";
/// Teamtailor suggests five minutes.
pub const WINDOW_SECONDS: i64 = 300;

/// `v1` for `timestamp` and `event_id`.
pub fn sign(secret: &[u8], timestamp: i64, event_id: &str) -> String {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{timestamp}.{event_id}").as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks the header against `event_id` at `now` (unix seconds), in constant time.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    event_id: &str,
    now: i64,
) -> Result<(), VerifyError> {
    let header = header.ok_or(VerifyError::MissingSignature)?;
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1.push(value.to_owned()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::StaleTimestamp)?;
    if (now - timestamp).abs() > WINDOW_SECONDS {
        return Err(VerifyError::StaleTimestamp);
    }
    if v1.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("{timestamp}.{event_id}").as_bytes());
    let expected = mac.finalize().into_bytes();
    let matches = v1.iter().any(|candidate| {
        decode_hex(candidate).is_some_and(|bytes| {
            use subtle::ConstantTimeEq as _;
            bytes.ct_eq(expected.as_slice()).into()
        })
    });
    if matches {
        Ok(())
    } else {
        Err(VerifyError::InvalidSignature)
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_over_the_event_id_within_the_window_verifies() {
        let v1 = sign(b"secret", 1_000, "evt-1");
        let header = format!("t=1000,v1={v1},v0=abc");
        assert_eq!(verify(b"secret", Some(&header), "evt-1", 1_100), Ok(()));
        assert_eq!(
            verify(b"secret", Some(&header), "evt-2", 1_100),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(b"other", Some(&header), "evt-1", 1_100),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(b"secret", Some(&header), "evt-1", 1_000 + 301),
            Err(VerifyError::StaleTimestamp)
        );
        assert_eq!(
            verify(b"secret", None, "evt-1", 1_000),
            Err(VerifyError::MissingSignature)
        );
    }
}

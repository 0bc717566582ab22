//! Standard Webhooks signing (<https://www.standardwebhooks.com/>), as `contracts/suite-api.md`
//! says the suite signs its deliveries: the secret is `whsec_` + base64 of 24 random bytes, the
//! MAC is HMAC-SHA256 over `"{webhook-id}.{webhook-timestamp}.{body}"` keyed with the decoded
//! bytes, and `webhook-signature` is `v1,<base64 MAC>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::Sha256;

const PREFIX: &str = "whsec_";

/// A fresh subscription secret: `whsec_` + base64 of 24 random bytes.
pub fn generate_secret() -> String {
    let mut key = [0u8; 24];
    rand::rng().fill_bytes(&mut key);
    format!("{PREFIX}{}", STANDARD.encode(key))
}

/// Why a stored secret cannot sign.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("webhook secret is not whsec_ followed by base64")]
pub struct MalformedSecret;

/// The `webhook-signature` value of one delivery.
pub fn sign(
    secret: &str,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, MalformedSecret> {
    let encoded = secret.strip_prefix(PREFIX).unwrap_or(secret);
    let key = STANDARD.decode(encoded).map_err(|_| MalformedSecret)?;
    if key.is_empty() {
        return Err(MalformedSecret);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| MalformedSecret)?;
    mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signing_matches_the_published_vector() {
        let signature = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Ok("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn generated_secrets_hold_24_bytes() {
        let secret = generate_secret();
        let key = STANDARD
            .decode(secret.trim_start_matches(PREFIX))
            .expect("base64");
        assert_eq!(key.len(), 24);
        for bad in ["whsec_", "whsec_not base64!"] {
            assert_eq!(sign(bad, "m", 1, b""), Err(MalformedSecret));
        }
    }
}

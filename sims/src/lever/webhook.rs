//! Lever's webhook body and its signature, from the contract: the signature is in the body,
//! over `token + triggeredAt` (the decimal milliseconds), keyed by the signature token.

use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

/// A delivery as Lever sends it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookBody {
    /// Absent in the settings page's test request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub event: String,
    pub triggered_at: i64,
    pub token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub data: Value,
}

/// `hex(HMAC-SHA256(key = signature_token, msg = token + triggered_at))`.
pub fn signature(signature_token: &str, token: &str, triggered_at: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(signature_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(token.as_bytes());
    mac.update(triggered_at.to_string().as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 48 random characters, as Lever's `token`.
pub fn random_token() -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

impl WebhookBody {
    /// A delivery of `event` with `data`, signed with `signature_token` (unsigned when `None`).
    pub fn new(event: &str, data: Value, triggered_at: i64, signature_token: Option<&str>) -> Self {
        let token = random_token();
        Self {
            id: Some(uuid::Uuid::new_v4().to_string()),
            event: event.to_owned(),
            signature: signature_token.map(|key| signature(key, &token, triggered_at)),
            triggered_at,
            token,
            data,
        }
    }

    /// The settings page's test request: no `id`, `data: {}`.
    pub fn test_request(triggered_at: i64, signature_token: Option<&str>) -> Self {
        Self {
            id: None,
            data: Value::Object(Default::default()),
            ..Self::new(
                "candidateStageChange",
                Value::Null,
                triggered_at,
                signature_token,
            )
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_token_and_time() {
        // printf 'abc1431454330072' | openssl dgst -sha256 -hmac key
        assert_eq!(
            signature("key", "abc", 1_431_454_330_072),
            "bc45d26da1c5119ba269cbaab0618c942d8aa624d9fb897d16cc095ba7d2f296"
        );
    }
}

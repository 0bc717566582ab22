//! The provider key as a token (`[ats.teamtailor] provider_key`, contract §3.1 b, unverified):
//! Teamtailor's activation example verifies a JWT signed HS256 with the partner API key, while
//! its `partner-activations` page describes a compact JWE (`dir`, `A256GCM`) under a key derived
//! from the webhook secret. A token names no tenant, so each Teamtailor tenant that accepts the
//! form tries its own key; the first it verifies for is the tenant. Either form must carry an
//! `exp` in the future. Pure: the caller passes the clock.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::Digest as _;

use crate::tenant::ProviderKeyForm;

/// How a bearer credential looks: compact JWS has three parts, compact JWE five.
pub fn form_of(token: &str) -> ProviderKeyForm {
    match token.split('.').count() {
        3 => ProviderKeyForm::Jwt,
        5 => ProviderKeyForm::Jwe,
        _ => ProviderKeyForm::Plain,
    }
}

/// Whether `token` is a JWT signed HS256 with `api_key`, with an `exp` after `now` (seconds).
pub fn jwt_verifies(token: &str, api_key: &[u8], now: i64) -> bool {
    // Only HS256; the header's `alg` is never trusted. Time is checked against `now` below.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(api_key),
        &validation,
    )
    .is_ok_and(|data| unexpired(&data.claims, now))
}

/// The JWE key Teamtailor's example derives from the webhook secret: the first 32 characters of
/// the hex SHA-256 of the secret, as bytes (32 bytes: an AES-256 key).
pub fn jwe_key(webhook_secret: &[u8]) -> [u8; 32] {
    let digest = sha2::Sha256::digest(webhook_secret);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let mut key = [0u8; 32];
    key.copy_from_slice(&hex.as_bytes()[..32]);
    key
}

/// Whether `token` is a compact JWE (`alg: dir`, `enc: A256GCM`) under `key` whose claims have
/// an `exp` after `now` (seconds).
pub fn jwe_verifies(token: &str, key: &[u8; 32], now: i64) -> bool {
    decrypt_jwe(token, key).is_some_and(|claims| unexpired(&claims, now))
}

fn decrypt_jwe(token: &str, key: &[u8; 32]) -> Option<serde_json::Value> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, encrypted_key, iv, ciphertext, tag] = parts.as_slice() else {
        return None;
    };
    let header_json: serde_json::Value = serde_json::from_slice(&b64.decode(header).ok()?).ok()?;
    if header_json["alg"] != "dir" || header_json["enc"] != "A256GCM" || !encrypted_key.is_empty() {
        return None;
    }
    let iv = b64.decode(iv).ok()?;
    if iv.len() != 12 {
        return None;
    }
    let mut sealed = b64.decode(ciphertext).ok()?;
    sealed.extend(b64.decode(tag).ok()?);
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    // RFC 7516 §5.1: the additional data is the ASCII of the encoded protected header.
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&iv),
            Payload {
                msg: &sealed,
                aad: header.as_bytes(),
            },
        )
        .ok()?;
    serde_json::from_slice(&plain).ok()
}

fn unexpired(claims: &serde_json::Value, now: i64) -> bool {
    claims["exp"].as_i64().is_some_and(|exp| exp > now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::AeadCore as _;
    use jsonwebtoken::{EncodingKey, Header};

    fn jwt(key: &[u8], exp: i64) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"exp": exp, "company": "c"}),
            &EncodingKey::from_secret(key),
        )
        .expect("a token")
    }

    fn jwe(key: &[u8; 32], claims: &serde_json::Value) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"dir","enc":"A256GCM"}"#);
        let nonce = Aes256Gcm::generate_nonce(&mut aes_gcm::aead::OsRng);
        let sealed = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
            .encrypt(
                &nonce,
                Payload {
                    msg: claims.to_string().as_bytes(),
                    aad: header.as_bytes(),
                },
            )
            .expect("sealed");
        let (ciphertext, tag) = sealed.split_at(sealed.len() - 16);
        format!(
            "{header}..{}.{}.{}",
            b64.encode(nonce),
            b64.encode(ciphertext),
            b64.encode(tag)
        )
    }

    #[test]
    fn a_jwt_verifies_under_its_key_until_it_expires() {
        let token = jwt(b"api-key", 1_000);
        assert_eq!(form_of(&token), ProviderKeyForm::Jwt);
        assert!(jwt_verifies(&token, b"api-key", 999));
        assert!(!jwt_verifies(&token, b"api-key", 1_000), "expired");
        assert!(!jwt_verifies(&token, b"other-key", 999), "wrong key");
        assert_eq!(form_of("abc123"), ProviderKeyForm::Plain);
    }

    #[test]
    fn a_jwe_opens_under_the_key_derived_from_the_webhook_secret() {
        let key = jwe_key(b"secret");
        let token = jwe(&key, &serde_json::json!({"exp": 1_000}));
        assert_eq!(form_of(&token), ProviderKeyForm::Jwe);
        assert!(jwe_verifies(&token, &key, 999));
        assert!(!jwe_verifies(&token, &key, 1_000), "expired");
        assert!(!jwe_verifies(&token, &jwe_key(b"other"), 999), "wrong key");
        let no_exp = jwe(&key, &serde_json::json!({"sub": "x"}));
        assert!(!jwe_verifies(&no_exp, &key, 0), "exp is required");
    }
}

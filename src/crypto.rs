//! Secrets at rest: AES-256-GCM under the configured `master_key`.
//!
//! A sealed value is `v1:` + base64(nonce || ciphertext || tag). The associated data names what the
//! value belongs to (for example `tenant:acme`), so a ciphertext copied onto another row fails to
//! open instead of decrypting as the wrong tenant's secret.

use std::fmt;

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

const VERSION_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the master key must be 32 bytes, base64-encoded")]
    BadKey,
    #[error("a sealed secret is not in Liaison's format")]
    Malformed,
    #[error("a sealed secret does not open with this master key (wrong key or altered data)")]
    Undecryptable,
}

/// Something that needs the master key (opening a tenant) was asked of a process that has none;
/// each surface answers it in its own way (the API 503 `unavailable`, pages and the console 500).
#[derive(Debug, thiserror::Error)]
#[error("no master key configured")]
pub struct NoMasterKey;

/// The 32-byte key that seals every secret Liaison stores.
#[derive(Clone)]
pub struct MasterKey(Key<Aes256Gcm>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    pub fn from_base64(text: &str) -> Result<Self, CryptoError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| CryptoError::BadKey)?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
        Ok(Self(bytes.into()))
    }

    /// A 32-byte key for one purpose (e.g. signing web sessions), derived with HMAC-SHA256 so
    /// that every process sharing the master key derives the same one and the master key itself
    /// is never used for two things.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether two keys are the same (in constant time).
    pub fn is_same_as(&self, other: &MasterKey) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let cipher = Aes256Gcm::new(&self.0);
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext,
            aad: context.as_bytes(),
        };
        // Encryption with a valid key and a fresh nonce cannot fail for inputs under 64 GiB.
        let ciphertext = cipher.encrypt(&nonce, payload).unwrap_or_default();
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        format!("{VERSION_PREFIX}{}", STANDARD.encode(sealed))
    }

    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, CryptoError> {
        let encoded = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(CryptoError::Malformed)?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| CryptoError::Malformed)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        Aes256Gcm::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Undecryptable)
    }
}

/// The SHA-256 of `bytes` in lower-case hex: how single-use codes, spent tokens and unsigned
/// bodies are stored and compared without keeping them in clear.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest as _, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::generate_master_key;

    fn key() -> MasterKey {
        MasterKey::from_base64(&generate_master_key()).expect("valid key")
    }

    #[test]
    fn sealed_secret_opens_with_its_key_and_context() {
        let key = key();
        let sealed = key.seal(b"gupy-token-123", "tenant:acme");
        assert!(!sealed.contains("gupy-token-123"));
        assert_eq!(
            key.open(&sealed, "tenant:acme").expect("opens"),
            b"gupy-token-123"
        );
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let key = key();
        assert_ne!(key.seal(b"x", "c"), key.seal(b"x", "c"));
    }

    #[test]
    fn wrong_key_context_or_tampering_is_refused() {
        let key = key();
        let sealed = key.seal(b"secret", "tenant:acme");
        assert_eq!(
            self::key().open(&sealed, "tenant:acme"),
            Err(CryptoError::Undecryptable)
        );
        assert_eq!(
            key.open(&sealed, "tenant:other"),
            Err(CryptoError::Undecryptable)
        );
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(key.open(&tampered, "tenant:acme").is_err());
        assert_eq!(
            key.open("plain", "tenant:acme"),
            Err(CryptoError::Malformed)
        );
    }

    #[test]
    fn key_must_be_32_bytes() {
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").err(),
            Some(CryptoError::BadKey)
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").err(),
            Some(CryptoError::BadKey)
        );
    }
}

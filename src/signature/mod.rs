//! Signing and verifying webhook payloads, one module per scheme.

pub mod delivery;
pub mod error;
pub mod hmac_sha256;
pub mod shared_token;
pub mod standard_webhooks;

pub use delivery::{Unverified, Verified};
pub use error::VerifyError;

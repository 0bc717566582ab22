//! Verification of inbound webhook authentication, one module per scheme.

pub mod error;
pub mod hmac_sha256;
pub mod shared_token;

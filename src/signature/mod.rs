//! Signing and verifying webhook payloads.

pub mod standard_webhooks;

//! The security review's findings (`shared/reviews/security-2026-12.md`), one module per area. Each
//! test names its finding and fails without the fix.

mod admin;
mod embed;
mod inbound;
mod sso;
mod users;

//! Security findings: sso.

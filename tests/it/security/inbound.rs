//! Security findings: inbound.

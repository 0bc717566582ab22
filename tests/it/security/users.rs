//! Security findings: users.

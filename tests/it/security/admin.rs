//! Security findings: admin.

//! Idempotency keys derived from the business operation: the same operation (tenant, kind of
//! action, subject) always sends the same `Idempotency-Key`, across retries, replays and process
//! restarts, so the suite never creates a second object for it.

use sha2::{Digest as _, Sha256};

/// A business operation: `OperationKey::new("acme", "invite", "application-123")`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OperationKey {
    tenant: String,
    operation: String,
    subject: String,
}

impl OperationKey {
    pub fn new(
        tenant: impl Into<String>,
        operation: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            operation: operation.into(),
            subject: subject.into(),
        }
    }

    /// The header value: a readable operation name plus a SHA-256 of the whole key, well under
    /// the suite's 255 characters whatever the subject's length.
    pub fn header_value(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [&self.tenant, &self.operation, &self.subject] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        let digest = hasher.finalize();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let name: String = self
            .operation
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
            .take(40)
            .collect();
        format!("liaison-{name}-{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_operation_gives_the_same_short_key() {
        let key = OperationKey::new("acme", "invite", "app-1".repeat(200));
        let again = OperationKey::new("acme", "invite", "app-1".repeat(200));
        assert_eq!(key.header_value(), again.header_value());
        assert!(key.header_value().len() <= 255);
        assert!(key.header_value().starts_with("liaison-invite-"));
    }

    #[test]
    fn tenant_operation_and_subject_all_count() {
        let base = OperationKey::new("acme", "invite", "1").header_value();
        assert_ne!(
            base,
            OperationKey::new("globex", "invite", "1").header_value()
        );
        assert_ne!(
            base,
            OperationKey::new("acme", "candidate", "1").header_value()
        );
        assert_ne!(
            base,
            OperationKey::new("acme", "invite", "2").header_value()
        );
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            OperationKey::new("t", "ab", "c").header_value(),
            OperationKey::new("t", "a", "bc").header_value()
        );
    }
}

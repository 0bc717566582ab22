//! The outcome of a failed webhook authentication check, shared by every scheme.

/// Why an inbound delivery was not authenticated. Each variant maps to one error code of
/// `contracts/connector.md` (answered with 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the authentication header is missing")]
    MissingSignature,
    #[error("the signature does not match the body")]
    InvalidSignature,
    #[error("the timestamp is missing, malformed or outside the tolerance")]
    StaleTimestamp,
}

impl VerifyError {
    /// The snake_case code used in JSON error bodies.
    pub fn code(self) -> &'static str {
        match self {
            Self::MissingSignature => "missing_signature",
            Self::InvalidSignature => "invalid_signature",
            Self::StaleTimestamp => "stale_timestamp",
        }
    }
}

/// The Standard Webhooks checks report in the same three codes: a missing header or `v1` entry is
/// `missing_signature`, a malformed or out-of-window timestamp is `stale_timestamp`, and a
/// mismatch (or a tenant secret that does not parse) is `invalid_signature`.
impl From<super::standard_webhooks::VerifyError> for VerifyError {
    fn from(error: super::standard_webhooks::VerifyError) -> Self {
        use super::standard_webhooks::VerifyError as Sw;
        match error {
            Sw::MissingSignature => Self::MissingSignature,
            Sw::MalformedTimestamp | Sw::StaleTimestamp => Self::StaleTimestamp,
            Sw::MalformedSecret | Sw::InvalidSignature => Self::InvalidSignature,
        }
    }
}

//! Gupy's only proof of origin: a static header (`X-Liaison-Token`) set through the
//! subscription's `clientHeaders`, compared with the tenant's secret in constant time.

use subtle::ConstantTimeEq;

pub use super::error::VerifyError;

/// The header Liaison asks Gupy to send with every delivery.
pub const TOKEN_HEADER: &str = "X-Liaison-Token";

/// Checks the received header value against the expected secret.
///
/// The comparison runs in time independent of where the values differ (`subtle`); only the
/// lengths may leak, which says nothing useful about a random secret.
pub fn verify(secret: &[u8], token_header: Option<&str>) -> Result<(), VerifyError> {
    let token = token_header.ok_or(VerifyError::MissingSignature)?;
    if secret.is_empty() {
        // An unset secret must never accept the empty header.
        return Err(VerifyError::InvalidSignature);
    }
    if bool::from(token.as_bytes().ct_eq(secret)) {
        Ok(())
    } else {
        Err(VerifyError::InvalidSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_right_token_verifies() {
        assert_eq!(verify(b"s3cret", Some("s3cret")), Ok(()));
    }

    #[test]
    fn a_missing_header_is_reported_as_missing() {
        assert_eq!(verify(b"s3cret", None), Err(VerifyError::MissingSignature));
    }

    #[test]
    fn a_wrong_or_truncated_token_is_invalid() {
        assert_eq!(
            verify(b"s3cret", Some("s3cre")),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(b"s3cret", Some("S3cret")),
            Err(VerifyError::InvalidSignature)
        );
        assert_eq!(
            verify(b"s3cret", Some("")),
            Err(VerifyError::InvalidSignature)
        );
    }

    #[test]
    fn an_empty_secret_accepts_nothing() {
        assert_eq!(verify(b"", Some("")), Err(VerifyError::InvalidSignature));
    }

    proptest! {
        #[test]
        fn only_the_exact_secret_verifies(secret in "[ -~]{1,40}", token in "[ -~]{0,40}") {
            let result = verify(secret.as_bytes(), Some(&token));
            prop_assert_eq!(result.is_ok(), token == secret);
        }
    }
}

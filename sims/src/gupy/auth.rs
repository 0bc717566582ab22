//! Bearer token check of the API (Gupy answers 401 to a wrong token).

use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

use super::error::SimError;

pub fn check_bearer(headers: &HeaderMap, token: &str) -> Result<(), SimError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(SimError::Unauthorized)?;
    if bool::from(presented.trim().as_bytes().ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        Err(SimError::Unauthorized)
    }
}

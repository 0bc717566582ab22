//! Partner request bodies: JSON only (415), within the 1 MiB limit (413), matching the
//! contract's type (400).

use axum::body::Body;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use super::PartnerApiError;

/// A JSON body within the limit, or 415 / 413 / 400.
pub async fn json_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Body,
) -> Result<T, PartnerApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        });
    if !is_json {
        return Err(PartnerApiError::UnsupportedMediaType);
    }
    let bytes = crate::inbound::body::read_limited(headers, body).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        PartnerApiError::malformed(format!("the body does not match the contract: {e}"))
    })
}

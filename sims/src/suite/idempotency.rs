//! `Idempotency-Key` on every `POST`: the same key with the same request within 24 hours
//! replays the first response and changes nothing; a different request gets 422
//! `idempotency_key_reused`. Keys are scoped per OAuth client.

use std::collections::HashMap;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use super::SuiteSim;
use super::error::ApiError;
use super::grants::Principal;

pub const HEADER: &str = "idempotency-key";
pub const MAX_KEY_LEN: usize = 255;
const RETENTION_HOURS: i64 = 24;
const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default)]
pub struct IdempotencyStore {
    entries: HashMap<(String, String), Entry>,
}

#[derive(Debug, Clone)]
struct Entry {
    fingerprint: [u8; 32],
    stored_at: DateTime<Utc>,
    /// `None` while the first request is still being handled.
    response: Option<StoredResponse>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub status: StatusCode,
    pub content_type: Option<HeaderValue>,
    pub body: Bytes,
}

#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// First use (or expired): handle the request, then call [`IdempotencyStore::finish`].
    Fresh,
    Replay(StoredResponse),
    Reused,
    InProgress,
}

impl IdempotencyStore {
    pub fn begin(
        &mut self,
        scope: &str,
        key: &str,
        fingerprint: [u8; 32],
        now: DateTime<Utc>,
    ) -> Lookup {
        let slot = (scope.to_owned(), key.to_owned());
        let retention = chrono::Duration::hours(RETENTION_HOURS);
        match self.entries.get(&slot) {
            Some(entry) if now - entry.stored_at < retention => {
                if entry.fingerprint != fingerprint {
                    Lookup::Reused
                } else {
                    entry
                        .response
                        .clone()
                        .map_or(Lookup::InProgress, Lookup::Replay)
                }
            }
            _ => {
                let entry = Entry {
                    fingerprint,
                    stored_at: now,
                    response: None,
                };
                self.entries.insert(slot, entry);
                Lookup::Fresh
            }
        }
    }

    /// Stores the first response, or forgets the key (`None`) so a retry can run afresh.
    pub fn finish(&mut self, scope: &str, key: &str, response: Option<StoredResponse>) {
        let slot = (scope.to_owned(), key.to_owned());
        match response {
            Some(response) => {
                if let Some(entry) = self.entries.get_mut(&slot) {
                    entry.response = Some(response);
                }
            }
            None => {
                self.entries.remove(&slot);
            }
        }
    }
}

/// Same method, path and body. JSON bodies are compared by value, so key order and spacing do
/// not matter.
pub fn fingerprint(method: &Method, path: &str, body: &[u8]) -> [u8; 32] {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| serde_json::to_vec(&value).ok())
        .unwrap_or_else(|| body.to_vec());
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(&canonical);
    hasher.finalize().into()
}

/// Middleware for `/v1` (inside the bearer check, which provides the client scope).
pub async fn honour_idempotency_key(
    State(sim): State<SuiteSim>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER).cloned() else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(key) if !key.is_empty() && key.len() <= MAX_KEY_LEN => key.to_owned(),
        _ => {
            return ApiError::invalid_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters"
            ))
            .into_response();
        }
    };
    let scope = request
        .extensions()
        .get::<Principal>()
        .map(|principal| principal.client_id.clone())
        .unwrap_or_default();
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::invalid_request("body too large or unreadable").into_response();
    };
    let print = fingerprint(&parts.method, parts.uri.path(), &body);

    let lookup = sim
        .store()
        .idempotency
        .begin(&scope, &key, print, Utc::now());
    match lookup {
        Lookup::Fresh => {}
        Lookup::Replay(stored) => {
            sim.store().counters.idempotent_replays += 1;
            return replay(stored);
        }
        Lookup::Reused => {
            return ApiError::unprocessable(
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            )
            .into_response();
        }
        Lookup::InProgress => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still being handled",
            )
            .into_response();
        }
    }

    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, MAX_BODY_BYTES).await.unwrap_or_default();
    // Server errors are not final answers: let a retry with the same key run again.
    let stored = (!parts.status.is_server_error()).then(|| StoredResponse {
        status: parts.status,
        content_type: parts.headers.get(header::CONTENT_TYPE).cloned(),
        body: body.clone(),
    });
    sim.store().idempotency.finish(&scope, &key, stored);
    Response::from_parts(parts, Body::from(body))
}

fn replay(stored: StoredResponse) -> Response {
    let mut response = (stored.status, stored.body).into_response();
    if let Some(content_type) = stored.content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredResponse {
        StoredResponse {
            status: StatusCode::CREATED,
            content_type: None,
            body: Bytes::from_static(b"{}"),
        }
    }

    #[test]
    fn json_bodies_compare_by_value() {
        let a = fingerprint(&Method::POST, "/v1/candidates", br#"{"a": 1, "b": 2}"#);
        let b = fingerprint(&Method::POST, "/v1/candidates", br#"{"b":2,"a":1}"#);
        let c = fingerprint(&Method::POST, "/v1/projects", br#"{"b":2,"a":1}"#);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn a_key_replays_reuses_and_expires() {
        let mut store = IdempotencyStore::default();
        let now = Utc::now();
        let print = fingerprint(&Method::POST, "/v1/x", b"{}");
        let other = fingerprint(&Method::POST, "/v1/x", b"{\"a\":1}");
        assert_eq!(store.begin("liaison", "k", print, now), Lookup::Fresh);
        assert_eq!(store.begin("liaison", "k", print, now), Lookup::InProgress);
        store.finish("liaison", "k", Some(stored()));
        assert_eq!(
            store.begin("liaison", "k", print, now),
            Lookup::Replay(stored())
        );
        assert_eq!(store.begin("liaison", "k", other, now), Lookup::Reused);
        assert_eq!(
            store.begin("another-client", "k", other, now),
            Lookup::Fresh
        );
        let tomorrow = now + chrono::Duration::hours(25);
        assert_eq!(store.begin("liaison", "k", other, tomorrow), Lookup::Fresh);
    }

    #[test]
    fn a_forgotten_key_runs_again() {
        let mut store = IdempotencyStore::default();
        let now = Utc::now();
        let print = fingerprint(&Method::POST, "/v1/x", b"{}");
        assert_eq!(store.begin("liaison", "k", print, now), Lookup::Fresh);
        store.finish("liaison", "k", None);
        assert_eq!(store.begin("liaison", "k", print, now), Lookup::Fresh);
    }
}

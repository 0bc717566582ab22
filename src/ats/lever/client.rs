//! Lever's REST API (`contracts/ats-partners.md` §2): opportunities, postings, notes and tags,
//! under the tenant's rate limit. Every status is classified in `http_client::classify`; a 429
//! also pauses the tenant's calls until its `Retry-After`. Calls authenticate with the API key
//! (Basic) or an OAuth access token (Bearer); a token Lever refuses (401) is replaced once and
//! the call made again.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use super::limits::TenantLimit;
use super::oauth::grant_error;
use super::payload::{ListEnvelope, NoteRequest, One, Opportunity, Posting, TagsRequest};
use crate::ats::error::AdapterError;
use crate::ats::http_client::{classify, transport_error};
use crate::health::Side;
use crate::suite::auth::{AccessToken, TokenManager};
use crate::telemetry::trace::{TRACEPARENT, traceparent_of};
use crate::telemetry::{CallStatus, PartnerCalls};

/// Lever's largest page.
pub const PAGE_SIZE: u32 = 100;

/// What opportunities are read with: their stage's name and their applications' postings.
const EXPAND: [(&str, &str); 2] = [("expand", "stage"), ("expand", "applications")];

/// How calls authenticate.
#[derive(Clone)]
pub enum Credentials {
    /// Basic `KEY:`.
    ApiKey(SecretString),
    /// Bearer tokens from the tenant's OAuth grant.
    Bearer(Arc<TokenManager>),
}

/// A Lever API client for one tenant.
#[derive(Clone)]
pub struct LeverClient {
    pub(super) http: reqwest::Client,
    pub(super) base_url: String,
    pub(super) credentials: Credentials,
    pub(super) perform_as: String,
    pub(super) limit: Arc<TenantLimit>,
    pub(super) tenant_id: i64,
    pub(super) timeout: Option<Duration>,
}

impl std::fmt::Debug for LeverClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeverClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl LeverClient {
    pub async fn get_opportunity(&self, id: &str) -> Result<Opportunity, AdapterError> {
        let path = format!("/opportunities/{}", segment(id)?);
        let one: One<Opportunity> = self
            .call(
                "GET /opportunities/{id}",
                Method::GET,
                &path,
                &EXPAND,
                None::<&()>,
            )
            .await?;
        Ok(one.data)
    }

    pub async fn get_posting(&self, id: &str) -> Result<Posting, AdapterError> {
        let path = format!("/postings/{}", segment(id)?);
        let one: One<Posting> = self
            .call("GET /postings/{id}", Method::GET, &path, &[], None::<&()>)
            .await?;
        Ok(one.data)
    }

    /// One page of the opportunities updated at or after `since_ms`, from `offset` (the
    /// previous page's `next`).
    pub async fn list_opportunities(
        &self,
        since_ms: i64,
        offset: Option<&str>,
    ) -> Result<ListEnvelope<Opportunity>, AdapterError> {
        let mut query: Vec<(&str, String)> =
            EXPAND.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        query.push(("updated_at_start", since_ms.to_string()));
        query.push(("limit", PAGE_SIZE.to_string()));
        if let Some(offset) = offset {
            query.push(("offset", offset.to_owned()));
        }
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.call(
            "GET /opportunities",
            Method::GET,
            "/opportunities",
            &query,
            None::<&()>,
        )
        .await
    }

    /// A note on the opportunity, written as the tenant's `perform_as` user. Not idempotent.
    pub async fn add_note(
        &self,
        opportunity: &str,
        value: &str,
        score: Option<u8>,
    ) -> Result<(), AdapterError> {
        let path = format!("/opportunities/{}/notes", segment(opportunity)?);
        let body = NoteRequest {
            value,
            secret: false,
            notify_followers: false,
            score,
        };
        self.send("POST /opportunities/{id}/notes", &path, &body)
            .await
    }

    /// Adds a tag (Lever's tags are additive: adding one the opportunity has changes nothing).
    pub async fn add_tag(&self, opportunity: &str, tag: &str) -> Result<(), AdapterError> {
        let path = format!("/opportunities/{}/addTags", segment(opportunity)?);
        self.send(
            "POST /opportunities/{id}/addTags",
            &path,
            &TagsRequest { tags: [tag] },
        )
        .await
    }

    pub async fn remove_tag(&self, opportunity: &str, tag: &str) -> Result<(), AdapterError> {
        let path = format!("/opportunities/{}/removeTags", segment(opportunity)?);
        self.send(
            "POST /opportunities/{id}/removeTags",
            &path,
            &TagsRequest { tags: [tag] },
        )
        .await
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<T, AdapterError> {
        let what = format!("{method} {path}");
        let response = self.request(endpoint, method, path, query, body).await?;
        response
            .json::<T>()
            .await
            .map_err(|e| transport_error(e, &what))
    }

    /// A write, made as the `perform_as` user.
    async fn send<B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        path: &str,
        body: &B,
    ) -> Result<(), AdapterError> {
        let query = [("perform_as", self.perform_as.as_str())];
        self.request(endpoint, Method::POST, path, &query, Some(body))
            .await
            .map(drop)
    }

    /// One call, classified; with a bearer token Lever refused (401), once more with a new one.
    async fn request<B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
    ) -> Result<reqwest::Response, AdapterError> {
        let what = format!("{method} {path}");
        let token = match &self.credentials {
            Credentials::ApiKey(_) => None,
            Credentials::Bearer(tokens) => Some(tokens.token().await.map_err(grant_error)?),
        };
        let mut response = self
            .send_once(endpoint, method.clone(), path, query, body, token.as_ref())
            .await?;
        if response.status() == reqwest::StatusCode::UNAUTHORIZED
            && let (Credentials::Bearer(tokens), Some(refused)) = (&self.credentials, &token)
        {
            let fresh = tokens
                .token_after_rejection(refused)
                .await
                .map_err(grant_error)?;
            response = self
                .send_once(endpoint, method, path, query, body, Some(&fresh))
                .await?;
        }
        let classified = classify(response.status(), response.headers(), &what);
        if let Err(AdapterError::RateLimited { retry_after }) = &classified {
            self.limit.pause(*retry_after);
        }
        classified?;
        Ok(response)
    }

    /// One HTTP exchange, after the tenant's rate limit lets it through; recorded (metrics,
    /// `partner_call` span, connection health) under `endpoint`, its route template.
    async fn send_once<B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&B>,
        token: Option<&AccessToken>,
    ) -> Result<reqwest::Response, AdapterError> {
        self.limit.acquire().await?;
        let calls = PartnerCalls::current().recorder("lever", Some((self.tenant_id, Side::Ats)));
        let span = calls.span(endpoint);
        let what = format!("{method} {path}");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .query(query);
        request = match (&self.credentials, token) {
            (_, Some(token)) => request.bearer_auth(token.secret().expose_secret()),
            (Credentials::ApiKey(key), None) => request.basic_auth(key.expose_secret(), Some("")),
            (Credentials::Bearer(_), None) => request,
        };
        if let Some(traceparent) = traceparent_of(&span) {
            request = request.header(TRACEPARENT, traceparent);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        let started = Instant::now();
        let sent = request.send().instrument(span.clone()).await;
        let status = match &sent {
            Ok(response) => CallStatus::Http(response.status().as_u16()),
            Err(error) => CallStatus::of_transport(error),
        };
        calls.record(&span, endpoint, status, started.elapsed());
        sent.map_err(|e| transport_error(e, &what))
    }
}

/// An id placed in a path: Lever's ids are UUIDs; anything else is refused (no path tricks).
fn segment(id: &str) -> Result<&str, AdapterError> {
    if !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        Ok(id)
    } else {
        Err(AdapterError::NotFound(format!("`{id}` is not a Lever id")))
    }
}

//! Gupy's REST API (`contracts/gupy.md`): jobs, applications, tags, comments and webhook
//! subscriptions, with pagination. Every status is classified in `http_client::classify`.

use std::time::{Duration, Instant};

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use super::payload::{
    Application, CommentRequest, Job, ListEnvelope, TagRequest, WebhookSubscription,
    WebhookSubscriptionRequest,
};
use crate::ats::error::AdapterError;
use crate::ats::http_client::{classify, transport_error};
use crate::health::Side;
use crate::telemetry::trace::{TRACEPARENT, traceparent_of};
use crate::telemetry::{CallStatus, PartnerCalls};
use crate::tenant::Tenant;

/// Gupy's largest page (*assumed* in the contract).
pub const PER_PAGE: u64 = 100;
/// A listing longer than this many pages is refused rather than read for ever.
const MAX_PAGES: u64 = 10_000;

/// A Gupy API client for one tenant.
#[derive(Clone)]
pub struct GupyClient {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
    /// Whose connection health the calls update (None for a client built by hand).
    tenant_id: Option<i64>,
    /// The tenant's `ats.request_timeout_ms`, when it sets one (else the client's own bounds).
    timeout: Option<Duration>,
}

impl std::fmt::Debug for GupyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GupyClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl GupyClient {
    pub fn new(http: reqwest::Client, base_url: &str, token: SecretString) -> Self {
        Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
            tenant_id: None,
            timeout: None,
        }
    }

    /// Bounds every call to `timeout`, from sending the request to the end of the answer.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client for a `gupy` tenant (its `ats.base_url` and `ats.token`).
    pub fn for_tenant(http: reqwest::Client, tenant: &Tenant) -> Result<Self, AdapterError> {
        let ats = &tenant.config.ats;
        let base_url = ats
            .base_url
            .as_deref()
            .ok_or_else(|| AdapterError::Config("ats.base_url is not set".to_owned()))?;
        let token = ats
            .token
            .clone()
            .ok_or_else(|| AdapterError::Config("ats.token is not set".to_owned()))?;
        let timeout = ats.request_timeout_ms.map(Duration::from_millis);
        Ok(Self {
            tenant_id: Some(tenant.id.0),
            ..Self::new(http, base_url, token)
        }
        .with_timeout(timeout))
    }

    pub async fn get_job(&self, job_id: &str) -> Result<Job, AdapterError> {
        let path = format!("/api/v1/jobs/{}", segment(job_id)?);
        self.call(
            "GET /api/v1/jobs/{id}",
            Method::GET,
            &path,
            &[],
            None::<&()>,
        )
        .await
    }

    /// One page of a job's applications, oldest id first.
    pub async fn list_applications(
        &self,
        job_id: &str,
        page: u64,
    ) -> Result<ListEnvelope<Application>, AdapterError> {
        let path = format!("/api/v1/jobs/{}/applications", segment(job_id)?);
        let query = page_query(page);
        let mut query: Vec<(&str, String)> = query.to_vec();
        query.push(("order", "id asc".to_owned()));
        self.call(
            "GET /api/v1/jobs/{id}/applications",
            Method::GET,
            &path,
            &query,
            None::<&()>,
        )
        .await
    }

    pub async fn list_jobs(&self, page: u64) -> Result<ListEnvelope<Job>, AdapterError> {
        self.call(
            "GET /api/v1/jobs",
            Method::GET,
            "/api/v1/jobs",
            &page_query(page),
            None::<&()>,
        )
        .await
    }

    /// Gupy has no single-application endpoint: the job's applications are read page by page
    /// (ordered by id, so the search stops once past the wanted id).
    pub async fn find_application(
        &self,
        job_id: &str,
        application_id: &str,
    ) -> Result<Application, AdapterError> {
        let wanted: i64 = application_id
            .parse()
            .map_err(|_| AdapterError::NotFound(format!("application {application_id}")))?;
        let mut page = 1;
        loop {
            let list = self.list_applications(job_id, page).await?;
            let past = list.results.last().is_some_and(|a| a.id > wanted);
            if let Some(found) = list.results.into_iter().find(|a| a.id == wanted) {
                return Ok(found);
            }
            if past || page >= list.total_pages.min(MAX_PAGES) {
                return Err(AdapterError::NotFound(format!(
                    "application {application_id} of job {job_id}"
                )));
            }
            page += 1;
        }
    }

    pub async fn put_tag(
        &self,
        job_id: &str,
        application_id: &str,
        tag: &str,
    ) -> Result<(), AdapterError> {
        let path = format!(
            "/api/v1/jobs/{}/applications/{}/tags",
            segment(job_id)?,
            segment(application_id)?
        );
        let body = TagRequest {
            name: tag.to_owned(),
        };
        self.send(
            "PUT /api/v1/jobs/{id}/applications/{id}/tags",
            Method::PUT,
            &path,
            Some(&body),
        )
        .await
    }

    pub async fn post_comment(
        &self,
        job_id: &str,
        application_id: &str,
        text: &str,
    ) -> Result<(), AdapterError> {
        let path = format!(
            "/api/v1/jobs/{}/applications/{}/comments",
            segment(job_id)?,
            segment(application_id)?
        );
        let body = CommentRequest {
            text: text.to_owned(),
        };
        self.send(
            "POST /api/v1/jobs/{id}/applications/{id}/comments",
            Method::POST,
            &path,
            Some(&body),
        )
        .await
    }

    pub async fn list_webhooks(&self) -> Result<Vec<WebhookSubscription>, AdapterError> {
        collect_pages(|page| async move {
            self.call(
                "GET /api/v1/webhooks",
                Method::GET,
                "/api/v1/webhooks",
                &page_query(page),
                None::<&()>,
            )
            .await
        })
        .await
    }

    pub async fn create_webhook(
        &self,
        request: &WebhookSubscriptionRequest,
    ) -> Result<WebhookSubscription, AdapterError> {
        self.call(
            "POST /api/v1/webhooks",
            Method::POST,
            "/api/v1/webhooks",
            &[],
            Some(request),
        )
        .await
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<(), AdapterError> {
        let path = format!("/api/v1/webhooks/{}", segment(id)?);
        self.send(
            "DELETE /api/v1/webhooks/{id}",
            Method::DELETE,
            &path,
            None::<&()>,
        )
        .await
    }

    async fn call<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, AdapterError> {
        let what = format!("{method} {path}");
        let response = self.request(endpoint, method, path, query, body).await?;
        response
            .json::<T>()
            .await
            .map_err(|e| transport_error(e, &what))
    }

    async fn send<B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<(), AdapterError> {
        self.request(endpoint, method, path, &[], body)
            .await
            .map(drop)
    }

    /// One call, recorded (metrics, `partner_call` span, connection health) under `endpoint`,
    /// its route template.
    async fn request<B: Serialize + ?Sized>(
        &self,
        endpoint: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<reqwest::Response, AdapterError> {
        let calls =
            PartnerCalls::current().recorder("gupy", self.tenant_id.map(|id| (id, Side::Ats)));
        let span = calls.span(endpoint);
        let what = format!("{method} {path}");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(self.token.expose_secret())
            .query(query);
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
        let response = sent.map_err(|e| transport_error(e, &what))?;
        classify(response.status(), response.headers(), &what)?;
        Ok(response)
    }
}

fn page_query(page: u64) -> [(&'static str, String); 2] {
    [
        ("page", page.to_string()),
        ("perPage", PER_PAGE.to_string()),
    ]
}

/// An id placed in a path: Gupy's ids are integers, anything else is refused (no path tricks).
fn segment(id: &str) -> Result<&str, AdapterError> {
    if !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(id)
    } else {
        Err(AdapterError::NotFound(format!("`{id}` is not a Gupy id")))
    }
}

/// Reads every page of a listing (pages from 1 to `totalPages`).
pub async fn collect_pages<T, F, Fut>(mut fetch: F) -> Result<Vec<T>, AdapterError>
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = Result<ListEnvelope<T>, AdapterError>>,
{
    let mut all = Vec::new();
    let mut page = 1;
    loop {
        let list = fetch(page).await?;
        let last = list.total_pages.min(MAX_PAGES);
        let empty = list.results.is_empty();
        all.extend(list.results);
        if empty || page >= last {
            return Ok(all);
        }
        page += 1;
    }
}

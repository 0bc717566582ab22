//! `SuiteClient`: one tenant's connection to the suite. Every call goes through `execute`:
//! retry policy -> (token, limits, one attempt; on `invalid_token` one fresh token and one more
//! attempt) -> typed answer. The typed endpoint methods live in `calls/`.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::ExposeSecret as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{Instrument as _, instrument};

use super::auth::{AccessToken, SuiteOAuth, TokenManager, TokenSource};
use super::error::{SuiteError, classify};
use super::grant_store::GrantStore;
use super::idempotency::OperationKey;
use super::limits::CallLimits;
use super::retry::RetryPolicy;
use super::types::{Created, Page, PageRequest};
use crate::config::SuiteClientSettings;
use crate::telemetry::trace::{TRACEPARENT, traceparent_of};
use crate::telemetry::{CallRecorder, CallStatus};
use crate::tenant::{SuiteAuth, SuiteSettings};

/// The page size `list_all_*` walks with (the contract's maximum).
const FULL_PAGE: u8 = 100;
/// A guard against a suite that hands out cursors forever.
const MAX_PAGES: usize = 10_000;

pub struct SuiteClient {
    tenant: String,
    base: url::Url,
    http: reqwest::Client,
    tokens: TokenManager,
    limits: CallLimits,
    retry: RetryPolicy,
    /// Counts, times and traces every try (`telemetry::calls`).
    calls: CallRecorder,
}

impl fmt::Debug for SuiteClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuiteClient")
            .field("tenant", &self.tenant)
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// One request, described once and sent as many times as the retry policy allows.
pub(crate) struct Call {
    method: Method,
    /// The route template, for logs: `"POST /v1/projects/{id}/invitations"`.
    endpoint: &'static str,
    segments: Vec<String>,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    idempotency_key: Option<String>,
}

impl Call {
    pub(crate) fn new(method: Method, endpoint: &'static str, segments: &[&str]) -> Self {
        Self {
            method,
            endpoint,
            segments: segments.iter().map(|s| (*s).to_owned()).collect(),
            query: Vec::new(),
            body: None,
            idempotency_key: None,
        }
    }

    pub(crate) fn json(mut self, body: &impl Serialize) -> Result<Self, SuiteError> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| SuiteError::Config(format!("cannot encode the request: {e}")))?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// POSTs carry the operation's key, so retries and replays create nothing twice.
    pub(crate) fn idempotent(mut self, key: &OperationKey) -> Self {
        self.idempotency_key = Some(key.header_value());
        self
    }

    /// Adds the non-empty fields of `filter` (a flat struct) to the query string.
    pub(crate) fn query(mut self, filter: &impl Serialize) -> Self {
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(filter) {
            for (name, value) in fields {
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                self.query.push((name, text));
            }
        }
        self
    }
}

/// A 2xx answer's body.
pub(crate) struct Answer {
    body: bytes::Bytes,
}

impl Answer {
    pub(crate) fn parse<T: DeserializeOwned>(&self) -> Result<T, SuiteError> {
        // Only the error's position, never its text: it may quote personal data.
        serde_json::from_slice(&self.body).map_err(|e| {
            SuiteError::InvalidResponse(format!(
                "{:?} error at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }
}

impl SuiteClient {
    /// A client for one tenant. Authorization-code tenants need their `GrantStore`.
    pub fn new(
        http: reqwest::Client,
        tenant_slug: &str,
        suite: &SuiteSettings,
        settings: &SuiteClientSettings,
        grants: Option<GrantStore>,
    ) -> Result<Self, SuiteError> {
        let base = url::Url::parse(&suite.base_url)
            .map_err(|_| SuiteError::Config("suite.base_url is not a URL".to_owned()))?;
        let oauth = SuiteOAuth::new(http.clone(), suite)?;
        let source = match (suite.auth, grants) {
            (SuiteAuth::ClientCredentials, _) => TokenSource::ClientCredentials(oauth),
            (SuiteAuth::AuthorizationCode, Some(grants)) => {
                TokenSource::AuthorizationCode { oauth, grants }
            }
            (SuiteAuth::AuthorizationCode, None) => {
                return Err(SuiteError::Config(
                    "authorization_code needs the database and the master key".to_owned(),
                ));
            }
        };
        Ok(Self {
            tenant: tenant_slug.to_owned(),
            base,
            http,
            tokens: TokenManager::new(source),
            limits: CallLimits::new(settings),
            retry: RetryPolicy::from_settings(settings),
            calls: CallRecorder::default(),
        })
    }

    /// Records every try in `calls` (metrics, spans, connection health).
    pub fn with_recorder(mut self, calls: CallRecorder) -> Self {
        self.calls = calls;
        self
    }

    /// Replaces the retry policy (tests and benchmarks).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// Sends `call` under the retry policy and answers its 2xx body.
    #[instrument(skip_all, fields(tenant = %self.tenant, endpoint = call.endpoint))]
    pub(crate) async fn execute(&self, call: Call) -> Result<Answer, SuiteError> {
        let result = self.retry.run(|| self.attempt_authorised(&call)).await;
        match &result {
            // Answers a caller expects and handles: not worth a warning.
            Err(error @ (SuiteError::NotFound { .. } | SuiteError::AlreadyExists { .. })) => {
                tracing::debug!(code = error.code(), "suite call answered");
            }
            Err(error) => tracing::warn!(code = error.code(), "suite call failed"),
            Ok(_) => {}
        }
        result
    }

    /// `execute` + parse.
    pub(crate) async fn fetch<T: DeserializeOwned>(&self, call: Call) -> Result<T, SuiteError> {
        self.execute(call).await?.parse()
    }

    /// A create: the new object, or the id of the one already holding the unique value.
    pub(crate) async fn create<T: DeserializeOwned>(
        &self,
        call: Call,
    ) -> Result<Created<T>, SuiteError> {
        match self.fetch(call).await {
            Ok(object) => Ok(Created::New(object)),
            Err(SuiteError::AlreadyExists { existing_id, .. }) => {
                Ok(Created::Existing { existing_id })
            }
            Err(error) => Err(error),
        }
    }

    /// Every item of a list, page after page.
    pub(crate) async fn collect_pages<T: DeserializeOwned>(
        &self,
        make_call: impl Fn() -> Call,
    ) -> Result<Vec<T>, SuiteError> {
        let mut items = Vec::new();
        let mut seen = HashSet::new();
        let mut page = PageRequest {
            limit: Some(FULL_PAGE),
            cursor: None,
        };
        for _ in 0..MAX_PAGES {
            let answer: Page<T> = self.fetch(make_call().query(&page)).await?;
            items.extend(answer.data);
            match answer.next_cursor {
                None => return Ok(items),
                Some(cursor) if !seen.insert(cursor.clone()) => {
                    return Err(SuiteError::InvalidResponse(
                        "the suite repeated a list cursor".to_owned(),
                    ));
                }
                Some(cursor) => page.cursor = Some(cursor),
            }
        }
        Err(SuiteError::InvalidResponse(
            "the list did not end within the page limit".to_owned(),
        ))
    }

    async fn attempt_authorised(&self, call: &Call) -> Result<Answer, SuiteError> {
        let token = self.tokens.token().await?;
        match self.attempt(call, &token).await {
            Err(error) if error.is_invalid_token() => {
                let fresh = self.tokens.token_after_rejection(&token).await?;
                self.attempt(call, &fresh).await
            }
            other => other,
        }
    }

    /// One try, recorded once the partner answered (or did not), the wait for a slot excluded.
    async fn attempt(&self, call: &Call, token: &AccessToken) -> Result<Answer, SuiteError> {
        let _slot = self.limits.acquire().await?;
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| SuiteError::Config("suite.base_url cannot have a path".to_owned()))?
            .pop_if_empty()
            .extend(&call.segments);
        let span = self.calls.span(call.endpoint);
        let started = Instant::now();
        let (status, result) = self
            .send(call, url, token, &span)
            .instrument(span.clone())
            .await;
        self.calls
            .record(&span, call.endpoint, status, started.elapsed());
        result
    }

    async fn send(
        &self,
        call: &Call,
        url: url::Url,
        token: &AccessToken,
        span: &tracing::Span,
    ) -> (CallStatus, Result<Answer, SuiteError>) {
        match self.send_once(call, url, token, span).await {
            Ok((status, answer)) => (CallStatus::Http(status.as_u16()), answer),
            Err(error) => (
                CallStatus::of_transport(&error),
                Err(SuiteError::from_transport(error)),
            ),
        }
    }

    /// The request and its answer; a transport failure is the outer error.
    async fn send_once(
        &self,
        call: &Call,
        url: url::Url,
        token: &AccessToken,
        span: &tracing::Span,
    ) -> Result<(reqwest::StatusCode, Result<Answer, SuiteError>), reqwest::Error> {
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .bearer_auth(token.secret().expose_secret());
        if let Some(traceparent) = traceparent_of(span) {
            request = request.header(TRACEPARENT, traceparent);
        }
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        if status.is_success() {
            Ok((status, Ok(Answer { body })))
        } else {
            Ok((status, Err(classify(status, &headers, &body))))
        }
    }
}

/// How long the cross-process refresh lease lasts for these settings: one token request, twice
/// over, plus a margin.
pub fn refresh_lease(settings: &SuiteClientSettings) -> Duration {
    Duration::from_millis(settings.request_timeout_ms * 2 + settings.connect_timeout_ms)
        + Duration::from_secs(5)
}

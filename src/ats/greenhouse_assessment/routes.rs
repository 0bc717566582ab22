//! Greenhouse's Assessment Partner API (`contracts/ats-partners.md` §1.1): `list_tests`,
//! `send_test`, `test_status`, `response_error`, authenticated by `Authorization: Basic
//! base64(<key>:)` with the key Liaison issued the tenant (`liaison tenant issue-key`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;

use super::normalize::{order_of, status_of};
use super::payload::{
    ResponseErrorRequest, SendTestRequest, SendTestResponse, TestResponse, TestStatusQuery,
    TestStatusResponse,
};
use crate::app::AppState;
use crate::ids::OrderId;
use crate::orders::{self, catalogue};
use crate::partner_api::{PartnerApiError, json_body};
use crate::tenant::{AtsKind, Tenant};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/list_tests", get(list_tests))
        .route("/send_test", post(send_test))
        .route("/test_status", get(test_status))
        .route("/response_error", post(receive_response_error))
}

/// The tenant whose key the request carries (a `greenhouse-assessment` tenant).
pub struct GreenhouseTenant(pub Arc<Tenant>);

/// The key of `Authorization: Basic base64(<key>:<anything>)`.
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split_once(':').map_or(text.as_str(), |(user, _)| user);
    // Greenhouse keys are under 171 characters; anything longer is not one of ours.
    (!key.is_empty() && key.len() < 171).then(|| key.to_owned())
}

impl FromRequestParts<AppState> for GreenhouseTenant {
    type Rejection = PartnerApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PartnerApiError> {
        let key = presented_key(&parts.headers).ok_or(PartnerApiError::Unauthorized)?;
        let (Some(master_key), Ok(tenants)) = (&state.master_key, state.tenants()) else {
            return Err(PartnerApiError::Unavailable(
                "no master key configured".to_owned(),
            ));
        };
        let id = orders::keys::authenticate(&state.db, master_key, &key)
            .await?
            .ok_or(PartnerApiError::Unauthorized)?;
        let tenant = tenants
            .by_id(id)
            .await
            .map_err(|e| PartnerApiError::Unavailable(format!("{e:#}")))?
            .filter(|t| t.config.ats.kind == AtsKind::GreenhouseAssessment)
            .ok_or(PartnerApiError::Unauthorized)?;
        Ok(Self(tenant))
    }
}

#[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
async fn list_tests(
    State(state): State<AppState>,
    GreenhouseTenant(tenant): GreenhouseTenant,
) -> Result<Json<Vec<TestResponse>>, PartnerApiError> {
    let suite = state
        .suite_clients
        .for_tenant(&tenant)
        .map_err(|e| PartnerApiError::Unavailable(format!("the suite: {e}")))?;
    let tests = catalogue::tests(&suite, &tenant)
        .await
        .map_err(|e| PartnerApiError::Unavailable(format!("the suite: {e}")))?;
    Ok(Json(
        tests
            .into_iter()
            .map(|test| TestResponse {
                partner_test_id: test.id,
                partner_test_name: test.name,
            })
            .collect(),
    ))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
async fn send_test(
    State(state): State<AppState>,
    GreenhouseTenant(tenant): GreenhouseTenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<SendTestResponse>, PartnerApiError> {
    let request: SendTestRequest = json_body(&headers, body).await?;
    let order = order_of(&request).map_err(|e| PartnerApiError::BadRequest {
        code: "invalid_order",
        message: e.to_string(),
    })?;
    let placed = orders::place(
        &state.db,
        tenant.id,
        &order,
        state.settings.queue.max_attempts,
    )
    .await?;
    if placed.new {
        state.wake.notify_waiters();
    }
    tracing::info!(order = %placed.id, new = placed.new, "greenhouse order");
    Ok(Json(SendTestResponse {
        partner_interview_id: placed.id.to_string(),
    }))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
async fn test_status(
    State(state): State<AppState>,
    GreenhouseTenant(tenant): GreenhouseTenant,
    query: Result<Query<TestStatusQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TestStatusResponse>, PartnerApiError> {
    let Query(query) = query.map_err(|_| PartnerApiError::BadRequest {
        code: "missing_parameter",
        message: "`partner_interview_id` is required".to_owned(),
    })?;
    let unknown = || PartnerApiError::NotFound("no such interview".to_owned());
    let id: OrderId = query.partner_interview_id.parse().map_err(|_| unknown())?;
    let order = orders::find(&state.db, tenant.id, id)
        .await?
        .ok_or_else(unknown)?;
    Ok(Json(status_of(&order)))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
async fn receive_response_error(
    State(state): State<AppState>,
    GreenhouseTenant(tenant): GreenhouseTenant,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, PartnerApiError> {
    let report: serde_json::Value = json_body(&headers, body).await?;
    let parsed: ResponseErrorRequest = serde_json::from_value(report.clone()).map_err(|e| {
        PartnerApiError::malformed(format!("the body does not match the contract: {e}"))
    })?;
    tracing::warn!(
        api_call = %parsed.api_call,
        errors = ?parsed.errors,
        "Greenhouse reports an error in one of Liaison's answers"
    );
    orders::reports::record(&state.db, tenant.id, &parsed.api_call, &report).await?;
    Ok(Json(serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, value.parse().expect("header"));
        headers
    }

    #[test]
    fn the_key_is_the_basic_username() {
        // base64("0d031d8227eafa61dc375a6c2e067e24:")
        let headers = basic("Basic MGQwMzFkODIyN2VhZmE2MWRjMzc1YTZjMmUwNjdlMjQ6");
        assert_eq!(
            presented_key(&headers).as_deref(),
            Some("0d031d8227eafa61dc375a6c2e067e24")
        );
        assert_eq!(presented_key(&basic("Bearer abc")), None);
        assert_eq!(presented_key(&basic("Basic !!!")), None);
        assert_eq!(presented_key(&HeaderMap::new()), None);
    }
}

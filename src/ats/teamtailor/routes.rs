//! Teamtailor's partner API (`contracts/ats-partners.md` §3.1): `GET /config` (the trigger form:
//! a select of the tenant's tests), `POST /webhook` (the order, committed before the 2xx since
//! Teamtailor never retries) and `GET /activation`, authenticated by `Authorization: Bearer
//! <provider key>` (the key Liaison issued the tenant, or a token made from the tenant's
//! secrets when `[ats.teamtailor] provider_key` says so: `provider_key`). Webhook refusals are
//! plain text, which Teamtailor shows its user.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret as _;

use super::normalize::{config_of, order_of};
use super::payload::{ConfigResponse, WebhookRequest};
use super::{provider_key, signature};
use crate::app::AppState;
use crate::ids::TenantId;
use crate::orders::{self, catalogue};
use crate::partner_api::{PartnerApiError, json_body};
use crate::tenant::{self, AtsKind, Directory, ProviderKeyForm, Tenant};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config", get(show_config))
        .route("/activation", get(show_activation))
        .route("/webhook", post(receive_order))
}

/// The tenant whose provider key the request carries (a `teamtailor` tenant).
pub struct TeamtailorTenant(pub Arc<Tenant>);

impl FromRequestParts<AppState> for TeamtailorTenant {
    type Rejection = PartnerApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, PartnerApiError> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|k| !k.is_empty() && k.len() < 4096)
            .ok_or(PartnerApiError::Unauthorized)?;
        let (Some(master_key), Ok(tenants)) = (&state.master_key, state.tenants()) else {
            return Err(PartnerApiError::Unavailable(
                "no master key configured".to_owned(),
            ));
        };
        let id = match orders::keys::authenticate(&state.db, master_key, key).await? {
            Some(id) => id,
            None => tenant_of_token(&state.db, tenants, key)
                .await?
                .ok_or(PartnerApiError::Unauthorized)?,
        };
        let tenant = tenants
            .by_id(id)
            .await
            .map_err(|e| PartnerApiError::Unavailable(format!("{e:#}")))?
            .filter(|t| t.config.ats.kind == AtsKind::Teamtailor)
            .ok_or(PartnerApiError::Unauthorized)?;
        Ok(Self(tenant))
    }
}

/// The tenant a provider key in token form (`[ats.teamtailor] provider_key = "jwt" | "jwe"`)
/// verifies for: each Teamtailor tenant that accepts the form tries its own key.
async fn tenant_of_token(
    db: &sea_orm::DatabaseConnection,
    tenants: &Directory,
    token: &str,
) -> Result<Option<TenantId>, PartnerApiError> {
    let form = provider_key::form_of(token);
    if form == ProviderKeyForm::Plain {
        return Ok(None);
    }
    let ids = tenant::ids_of_kind(db, AtsKind::Teamtailor).await?;
    let mut candidates: Vec<Arc<Tenant>> = tenants.by_ids(&ids).await?.into_values().collect();
    candidates.sort_by_key(|t| t.id.0);
    let now = chrono::Utc::now().timestamp();
    let verifies = |tenant: &Tenant| {
        let ats = &tenant.config.ats;
        let secret = |s: &Option<secrecy::SecretString>| {
            s.as_ref()
                .map(|s| s.expose_secret().as_bytes().to_vec())
                .unwrap_or_default()
        };
        match form {
            ProviderKeyForm::Jwt => provider_key::jwt_verifies(token, &secret(&ats.token), now),
            ProviderKeyForm::Jwe => {
                let key = provider_key::jwe_key(&secret(&ats.webhook_secret));
                provider_key::jwe_verifies(token, &key, now)
            }
            ProviderKeyForm::Plain => false,
        }
    };
    Ok(candidates
        .iter()
        .filter(|t| t.config.ats.teamtailor.provider_key == form)
        .find(|t| verifies(t))
        .map(|t| t.id))
}

#[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
async fn show_config(
    State(state): State<AppState>,
    TeamtailorTenant(tenant): TeamtailorTenant,
) -> Result<Json<ConfigResponse>, PartnerApiError> {
    let suite = state
        .suite_clients
        .for_tenant(&tenant)
        .map_err(|e| PartnerApiError::Unavailable(format!("the suite: {e}")))?;
    let tests = catalogue::tests(&suite, &tenant)
        .await
        .map_err(|e| PartnerApiError::Unavailable(format!("the suite: {e}")))?;
    Ok(Json(config_of(tests)))
}

/// Nothing to fill in at activation: the provider key already names the tenant.
async fn show_activation(TeamtailorTenant(_): TeamtailorTenant) -> Json<serde_json::Value> {
    Json(serde_json::json!({"config": {"fields": []}}))
}

/// A refusal as Teamtailor shows it: the status and a plain-text message.
fn plain(error: PartnerApiError) -> Response {
    let (status, _) = error.status_and_code();
    (status, error.to_string()).into_response()
}

#[tracing::instrument(skip_all)]
async fn receive_order(
    State(state): State<AppState>,
    tenant: Result<TeamtailorTenant, PartnerApiError>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let placed = async {
        let TeamtailorTenant(tenant) = tenant?;
        let request: WebhookRequest = json_body(&headers, body).await?;
        let secret = tenant
            .config
            .ats
            .webhook_secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes().to_vec())
            .unwrap_or_default();
        let header = headers
            .get(signature::HEADER)
            .and_then(|v| v.to_str().ok());
        signature::verify(
            &secret,
            header,
            &request.partner_event.id,
            chrono::Utc::now().timestamp(),
        )
        .map_err(|_| PartnerApiError::Unauthorized)?;
        let order = order_of(&request).map_err(|message| PartnerApiError::BadRequest {
            code: "invalid_order",
            message,
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
        tracing::info!(tenant = %tenant.slug(), order = %placed.id, new = placed.new, "teamtailor order");
        Ok::<_, PartnerApiError>(placed)
    }
    .await;
    match placed {
        Ok(placed) => Json(serde_json::json!({"order_id": placed.id.to_string()})).into_response(),
        Err(error) => plain(error),
    }
}

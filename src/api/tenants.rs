//! `GET /api/v1/tenants`: the tenants, without secrets.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::AdminAuth;
use crate::app::AppState;
use crate::error::ApiError;
use crate::tenant;

pub fn router() -> Router<AppState> {
    Router::new().route("/tenants", get(list_tenants))
}

async fn list_tenants(
    _: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let tenants = tenant::list(&state.db).await?;
    Ok(Json(json!({ "data": tenants })))
}

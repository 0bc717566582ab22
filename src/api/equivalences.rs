//! `/api/v1/tenants/{tenant}/equivalences`: read and edit the equivalence table.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{AdminAuth, TenantPath};
use crate::app::AppState;
use crate::equivalence::{self, EntityKind, EquivalenceError, LinkOutcome, ListFilter};
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::time::to_rfc3339;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/tenants/{tenant}/equivalences",
            get(list_equivalences)
                .put(put_equivalence)
                .delete(delete_equivalence),
        )
        .route(
            "/tenants/{tenant}/equivalences/history",
            get(show_equivalence_history),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    kind: Option<String>,
    ats_id: Option<String>,
    suite_id: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

#[derive(Serialize)]
struct EquivalenceOut {
    kind: EntityKind,
    ats_id: String,
    suite_id: String,
    created_at: String,
    synced_at: String,
}

impl From<equivalence::Equivalence> for EquivalenceOut {
    fn from(row: equivalence::Equivalence) -> Self {
        Self {
            kind: row.kind,
            ats_id: row.ats_id,
            suite_id: row.suite_id,
            created_at: to_rfc3339(row.created_at),
            synced_at: to_rfc3339(row.synced_at),
        }
    }
}

fn parse_kind(text: &str) -> Result<EntityKind, ApiError> {
    text.parse()
        .map_err(|e: equivalence::UnknownKind| ApiError::bad_request("invalid_kind", e.to_string()))
}

async fn list_equivalences(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let filter = ListFilter {
        kind: query.kind.as_deref().map(parse_kind).transpose()?,
        ats_id: query.ats_id,
        suite_id: query.suite_id,
    };
    let cursor = query
        .cursor
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| ApiError::bad_request("invalid_cursor", "cursor is not valid"))
        })
        .transpose()?;
    let page = equivalence::list(
        &state.db,
        tenant.id,
        &filter,
        query.limit.unwrap_or(100),
        cursor,
    )
    .await?;
    let data: Vec<EquivalenceOut> = page.data.into_iter().map(Into::into).collect();
    Ok(Json(json!({"data": data, "next_cursor": page.next_cursor})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivalenceIn {
    kind: String,
    ats_id: String,
    suite_id: String,
}

async fn put_equivalence(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EquivalenceIn>,
) -> Result<Response, ApiError> {
    let kind = parse_kind(&body.kind)?;
    let outcome = equivalence::link(&state.db, tenant.id, kind, &body.ats_id, &body.suite_id)
        .await
        .map_err(|error| match error {
            EquivalenceError::AtsIdTaken { .. } | EquivalenceError::SuiteIdTaken { .. } => {
                ApiError::Conflict {
                    code: "equivalence_conflict",
                    message: error.to_string(),
                }
            }
            EquivalenceError::InvalidId => ApiError::bad_request("invalid_id", error.to_string()),
            EquivalenceError::Db(db) => db.into(),
        })?;
    let row = equivalence::lookup_by_ats(&state.db, tenant.id, kind, &body.ats_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("the equivalence was removed meanwhile".to_owned()))?;
    let status = match outcome {
        LinkOutcome::Created => StatusCode::CREATED,
        LinkOutcome::AlreadyLinked => StatusCode::OK,
    };
    Ok((status, Json(EquivalenceOut::from(row))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneQuery {
    kind: String,
    ats_id: String,
}

async fn delete_equivalence(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OneQuery>,
) -> Result<StatusCode, ApiError> {
    let kind = parse_kind(&query.kind)?;
    match equivalence::unlink(&state.db, tenant.id, kind, &query.ats_id).await? {
        Some(_) => Ok(StatusCode::NO_CONTENT),
        None => Err(ApiError::NotFound(format!(
            "no {kind} equivalence for ATS id `{}`",
            query.ats_id
        ))),
    }
}

async fn show_equivalence_history(
    _: AdminAuth,
    TenantPath(tenant): TenantPath,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<OneQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let kind = parse_kind(&query.kind)?;
    let entries = equivalence::history(&state.db, tenant.id, kind, &query.ats_id).await?;
    let data: Vec<_> = entries
        .into_iter()
        .map(|entry| {
            json!({
                "kind": entry.kind,
                "ats_id": entry.ats_id,
                "suite_id": entry.suite_id,
                "action": entry.action,
                "at": to_rfc3339(entry.at),
            })
        })
        .collect();
    Ok(Json(json!({ "data": data })))
}

//! `GET /oauth/suite/{tenant}/callback` and `GET /oauth/ats/{tenant}/callback`: where the
//! suite (or Lever) sends the admin back after consent. Thin: resolve the tenant, hand `state`
//! and `code` to the party's `complete_authorization`, answer a small page, or an error in the
//! contract's JSON shape.

use axum::Router;
use axum::extract::{FromRef, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use sea_orm::DatabaseConnection;

use super::SuiteClients;
use super::auth::{AuthorizationError, complete_authorization};
use super::grant_store::GrantParty;
use crate::ats::shared::AtsShared;
use crate::crypto::MasterKey;
use crate::error::error_response;
use crate::tenant;

/// The callback's state (an axum sub-state of the application's, via `FromRef`).
#[derive(Clone)]
pub struct CallbackState {
    pub db: DatabaseConnection,
    /// None: Liaison has no key to store grants with, and the callback answers 503.
    pub master_key: Option<MasterKey>,
    pub clients: SuiteClients,
    /// Lever's token caches, forgotten after a new authorisation.
    pub ats_shared: AtsShared,
}

pub fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    CallbackState: FromRef<S>,
{
    Router::new()
        .route(
            "/oauth/suite/{tenant}/callback",
            get(complete_suite_authorization),
        )
        .route(
            "/oauth/ats/{tenant}/callback",
            get(complete_ats_authorization),
        )
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn complete_suite_authorization(
    State(state): State<CallbackState>,
    Path(slug): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    complete(state, GrantParty::Suite, slug, query).await
}

async fn complete_ats_authorization(
    State(state): State<CallbackState>,
    Path(slug): Path<String>,
    Query(query): Query<CallbackQuery>,
) -> Response {
    complete(state, GrantParty::Ats, slug, query).await
}

async fn complete(
    state: CallbackState,
    party: GrantParty,
    slug: String,
    query: CallbackQuery,
) -> Response {
    let Some(key) = state.master_key.as_ref() else {
        return error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "master_key_missing",
            "Liaison has no master key to store the grant with",
        );
    };
    let tenant = match tenant::find(&state.db, key, &slug).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => {
            return error_response(
                StatusCode::NOT_FOUND,
                "unknown_tenant",
                &format!("unknown tenant `{slug}`"),
            );
        }
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot load tenant");
            return error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "internal error",
            );
        }
    };
    if let Some(denied) = query.error {
        return failure(AuthorizationError::Denied(denied));
    }
    let (Some(code), Some(oauth_state)) = (query.code, query.state) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "invalid_callback",
            "the callback needs `code` and `state`",
        );
    };
    let clients = &state.clients;
    let outcome = match party {
        GrantParty::Suite => {
            complete_authorization(
                &state.db,
                key,
                &tenant,
                clients.http(),
                &oauth_state,
                &code,
                clients.refresh_lease(),
            )
            .await
        }
        GrantParty::Ats => {
            crate::ats::authorization::complete(
                &state.db,
                key,
                &tenant,
                crate::ats::http_client::shared_client(),
                (&oauth_state, &code),
                state.ats_shared.refresh_lease(),
            )
            .await
        }
    };
    match outcome {
        Ok(()) => {
            clients.forget(&slug);
            state.ats_shared.forget(tenant.id.0, party);
            Html(format!(
                "<!doctype html><title>Liaison</title><p>Liaison is authorised for tenant \
                 <b>{}</b>. You can close this window.</p>",
                html_escape(&tenant.config.name)
            ))
            .into_response()
        }
        Err(error) => failure(error),
    }
}

fn failure(error: AuthorizationError) -> Response {
    let status = match &error {
        AuthorizationError::Suite(suite) if suite.is_transient() => StatusCode::BAD_GATEWAY,
        AuthorizationError::Suite(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::BAD_REQUEST,
    };
    tracing::warn!(code = error.code(), "authorisation failed");
    error_response(status, error.code(), &error.to_string())
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

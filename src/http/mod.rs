//! The HTTP surface: one router per concern merged here, and the middleware every route shares
//! (request ids, tracing, metrics, body limit, panic guard).

mod health;
mod middleware;
pub mod peer;
pub mod server;
pub mod tls;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::error::error_response;

/// Bodies above this are refused with 413 `body_too_large` (the contract's limit).
pub const BODY_LIMIT: usize = 1024 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `/healthz`, `/readyz` and `/metrics` alone: what `liaison worker --health-bind` serves.
pub fn health_router(state: AppState) -> Router {
    health::router().with_state(state)
}

pub fn router(state: AppState) -> Router {
    // The webhook routes hold only their own state, one reference count: a router's state is
    // cloned for each request, and the whole application state is a few dozen of them.
    let webhooks = crate::inbound::router().with_state(state.inbound.clone());
    let metrics = state.metrics.clone();
    let application = Router::new()
        .merge(health::router())
        .merge(crate::partner_api::router())
        .nest("/api/v1", crate::api::router())
        .merge(crate::admin::router())
        .merge(crate::suite::callback::router())
        .merge(crate::web::router())
        .merge(crate::sso::router())
        .fallback(not_found)
        .with_state(state);
    Router::new()
        .merge(webhooks)
        .merge(application)
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            middleware::record_metrics,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(middleware::make_span))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    Duration::from_secs(30),
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such route")
}

//! The admin JSON API under `/api/v1`, behind `Authorization: Bearer <admin_token>`.
//! One router per resource, merged here.

mod admin_data;
mod auth;
mod equivalences;
mod events;
mod tenants;

pub use auth::{AdminAuth, TenantPath};

use axum::Router;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(tenants::router())
        .merge(equivalences::router())
        .merge(events::router())
        .merge(admin_data::router())
}

//! The admin console under `/admin`: server-rendered pages (askama), signed in with the admin
//! token or the admin SSO tenant, every form CSRF-protected. The same data is served as JSON by
//! `crate::api`; both read it through `data`. See `docs/admin.md`.

pub mod auth;
pub mod data;
mod equivalences;
mod events;
mod mappings;
mod orders;
mod page;
mod queue;
pub mod sessions;
mod sso;
mod tenants;
pub mod throttle;

pub use auth::{Admin, AdminSession, start_session};
pub use page::AdminError;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(tenants::show_tenants_page))
        .route(
            "/admin/login",
            get(auth::show_login_page).post(auth::sign_in_with_token),
        )
        .route("/admin/logout", post(auth::sign_out))
        .route("/admin/sso/finish", get(sso::finish_admin_sso))
        .route("/admin/tenants/{tenant}", get(tenants::show_tenant_page))
        .route(
            "/admin/tenants/{tenant}/subscriptions/check",
            post(tenants::check_subscriptions_now),
        )
        .route(
            "/admin/tenants/{tenant}/mappings",
            get(mappings::show_mappings_page),
        )
        .route(
            "/admin/tenants/{tenant}/orders",
            get(orders::show_orders_page),
        )
        .route(
            "/admin/tenants/{tenant}/mappings/preview",
            post(mappings::preview_sample),
        )
        .route(
            "/admin/tenants/{tenant}/dead-letters/replay",
            post(events::replay_dead_letters),
        )
        .route(
            "/admin/equivalences",
            get(equivalences::show_equivalences_page),
        )
        .route(
            "/admin/equivalences/history",
            get(equivalences::show_history_page),
        )
        .route("/admin/events", get(events::show_events_page))
        .route("/admin/events/{id}", get(events::show_event_page))
        .route("/admin/events/{id}/replay", post(events::replay_event))
        .route("/admin/replays/{id}", get(events::show_replay_page))
        .route("/admin/queue", get(queue::show_queue_page))
}

//! The router and a running instance of the simulator.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::faults::guard_api;
use super::state::{LeverSimConfig, SimState};
use super::{api, control, oauth};

/// All routes: `/v1` (Basic or bearer auth, rate limit, faults, counted), the OAuth server
/// (`/authorize`, `/oauth/token`) and `/_sim` (controls).
pub fn router(state: SimState) -> Router {
    let api = Router::new()
        .route("/v1/opportunities", get(api::list_opportunities))
        .route("/v1/opportunities/{id}", get(api::get_opportunity))
        .route("/v1/opportunities/{id}/notes", post(api::add_note))
        .route("/v1/opportunities/{id}/addTags", post(api::add_tags))
        .route("/v1/opportunities/{id}/removeTags", post(api::remove_tags))
        .route("/v1/postings/{id}", get(api::get_posting))
        .route("/v1/stages", get(api::list_stages))
        .route_layer(from_fn_with_state(state.clone(), guard_api));
    let controls = Router::new()
        .route("/_sim/postings", post(control::create_posting))
        .route("/_sim/opportunities", post(control::create_opportunity))
        .route(
            "/_sim/opportunities/{id}",
            axum::routing::delete(control::delete_opportunity),
        )
        .route(
            "/_sim/opportunities/{id}/stage",
            post(control::move_opportunity),
        )
        .route(
            "/_sim/opportunities/{id}/archive",
            post(control::archive_opportunity),
        )
        .route("/_sim/faults", post(control::set_faults))
        .route("/_sim/webhook", post(control::set_webhook))
        .route("/_sim/state", get(control::show_state));
    let oauth = Router::new()
        .route("/authorize", get(oauth::authorize))
        .route("/oauth/authorize", get(oauth::authorize))
        .route("/oauth/token", post(oauth::issue_token))
        .route("/_sim/oauth/expire", post(oauth::expire_access_tokens));
    api.merge(controls).merge(oauth).with_state(state)
}

/// A simulator serving on a socket.
pub struct RunningLeverSim {
    pub addr: SocketAddr,
    pub state: SimState,
    cancel: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl RunningLeverSim {
    /// `http://ADDR/v1`, the base URL to configure as the tenant's `ats.base_url`.
    pub fn api_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://ADDR`, where the `/_sim` controls are.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and delivering, and waits for both.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        self.state.0.tasks.close();
        self.state.0.tasks.wait().await;
        self.server
            .await
            .context("the Lever simulator task panicked")?
            .context("the Lever simulator server failed")
    }
}

/// Binds `bind` (port 0 allowed) and serves until the returned handle is stopped.
pub async fn spawn(bind: SocketAddr, config: LeverSimConfig) -> anyhow::Result<RunningLeverSim> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the Lever simulator to {bind}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let state = SimState::new(config);
    let cancel = state.0.cancel.clone();
    let app = router(state.clone()).into_make_service();
    let shutdown = cancel.clone().cancelled_owned();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    tracing::info!(%addr, "Lever simulator listening");
    Ok(RunningLeverSim {
        addr,
        state,
        cancel,
        server,
    })
}

//! The router and a running instance of the simulator.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post, put};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::GupySimConfig;
use super::faults::guard_api;
use super::state::SimState;
use super::{api, control, requisition, webhooks};

/// All routes: `/api/v1` (bearer auth, faults, counted) and `/_sim` (controls).
pub fn router(state: SimState) -> Router {
    let api = Router::new()
        .route("/api/v1/jobs", get(api::list_jobs))
        .route("/api/v1/jobs/{job_id}", get(api::get_job))
        .route("/api/v1/jobs/{job_id}/steps", get(api::list_steps))
        .route(
            "/api/v1/jobs/{job_id}/applications",
            get(api::list_applications),
        )
        .route(
            "/api/v1/jobs/{job_id}/applications/{application_id}/tags",
            put(api::put_tag),
        )
        .route(
            "/api/v1/jobs/{job_id}/applications/{application_id}/comments",
            post(api::post_comment),
        )
        .route(
            "/api/v1/webhooks",
            post(webhooks::create_webhook).get(webhooks::list_webhooks),
        )
        .route(
            "/api/v1/webhooks/{id}",
            axum::routing::delete(webhooks::delete_webhook),
        )
        .route_layer(from_fn_with_state(state.clone(), guard_api));
    let controls = Router::new()
        .route("/_sim/jobs", post(control::create_job))
        .route("/_sim/jobs/{job_id}", patch(control::change_job))
        .route(
            "/_sim/jobs/{job_id}/applications",
            post(control::create_application),
        )
        .route(
            "/_sim/applications/{application_id}/move",
            post(control::move_application),
        )
        .route("/_sim/faults", post(control::set_faults))
        .route("/_sim/webhooks/drop", post(control::drop_webhooks))
        .route("/_sim/state", get(control::show_state))
        .route(
            "/_sim/requisitions/{job_id}",
            get(requisition::show_requisition),
        );
    api.merge(controls).with_state(state)
}

/// A simulator serving on a socket.
pub struct RunningGupySim {
    pub addr: SocketAddr,
    pub state: SimState,
    cancel: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
}

impl RunningGupySim {
    /// `http://ADDR`, the base URL to configure as the tenant's `ats.base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn cancel_token(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Stops accepting requests and delivering webhooks, and waits for both.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.cancel.cancel();
        self.state.0.tasks.close();
        self.state.0.tasks.wait().await;
        self.server
            .await
            .context("the Gupy simulator task panicked")?
            .context("the Gupy simulator server failed")
    }
}

/// Binds `bind` (port 0 allowed) and serves until the returned handle is stopped.
pub async fn spawn(bind: SocketAddr, config: GupySimConfig) -> anyhow::Result<RunningGupySim> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("binding the Gupy simulator to {bind}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    let state = SimState::new(config);
    let cancel = state.cancel_token();
    let app = router(state.clone()).into_make_service();
    let shutdown = cancel.clone().cancelled_owned();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
    });
    tracing::info!(%addr, "Gupy simulator listening");
    Ok(RunningGupySim {
        addr,
        state,
        cancel,
        server,
    })
}

//! The routes embedded-assessment ATSs call (`/partners/{ats}/...`): one set per ATS for every
//! tenant, the tenant chosen by the credential Liaison issued it. Handlers are thin: they
//! authenticate (an extractor), read the body, and call `orders`.

mod body;
mod error;
pub mod greenhouse;
pub mod teamtailor;

use axum::Router;

use crate::app::AppState;

pub use error::PartnerApiError;

pub fn router() -> Router<AppState> {
    Router::new()
        .nest("/partners/greenhouse", greenhouse::router())
        .nest("/partners/teamtailor", teamtailor::router())
}

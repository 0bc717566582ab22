//! The routes embedded-assessment ATSs call (`/partners/{ats}/...`): one set per ATS for every
//! tenant, the tenant chosen by the credential Liaison issued it. Each kind keeps its routes in
//! its own folder (`ats::<kind>::routes`, listed by `ats::partner_routes`); what they share lives
//! here: the JSON body reader and the refusals. Handlers are thin: they authenticate (an
//! extractor), read the body, and call `orders`.

mod body;
mod error;

use axum::Router;

use crate::app::AppState;

pub use body::json_body;
pub use error::PartnerApiError;

pub fn router() -> Router<AppState> {
    crate::ats::partner_routes()
        .into_iter()
        .fold(Router::new(), |router, (prefix, routes)| {
            router.nest(prefix, routes)
        })
}

//! The flow both embed pages share: resolve the tenant, require a session, look the ATS id up in
//! the equivalence table, read the suite through the page's cache, pick the page's state, render
//! it and answer with the page headers. A page supplies only what differs ([`EmbedPage`]).
//! A launch (`?launch=`, spent once) answers `303` to the same page without it, the session in
//! the cookie and, for a frame whose browser keeps no cookie, a one-time hand-off code (`?h=`):
//! a reload never presents the launch token again.

use std::future::Future;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use super::{PageState, path_segment, respond, state_now};
use crate::app::AppState;
use crate::equivalence::{self, EntityKind};
use crate::web::WebState;
use crate::web::access::{
    AccessQuery, PageAccess, Target, now_s, require_session, resolve_tenant, with_handoff,
};
use crate::web::cache::PageCache;
use crate::web::error::PageError;
use crate::web::headers::page_headers;
use crate::web::i18n::Strings;
use crate::web::port::{PageSource, SourceError};

/// What every embed page template gets besides its own view.
pub struct Shell<'a> {
    pub t: &'static Strings,
    pub lang: &'static str,
    /// "Open in suite": `/open/{tenant}/{path}/{ats id}`, posted with the session in the body.
    pub open_url: String,
    pub tenant: &'a str,
    pub session: &'a str,
    pub csrf: String,
}

/// One embed page, named by the data it caches (`JobData`, `ApplicationData`).
pub trait EmbedPage: Sized + Send + Sync + 'static {
    /// The path segment after the tenant: `/embed/{tenant}/{PATH}/{ats id}`.
    const PATH: &'static str;
    /// What the ATS id in the path names.
    const KIND: EntityKind;

    /// The page's cache.
    fn cache(web: &WebState) -> &PageCache<Self>;

    /// Reads the page's data for the linked suite object `suite_id`.
    fn fetch<'a>(
        source: &'a dyn PageSource,
        suite_id: &'a str,
    ) -> impl Future<Output = Result<Self, SourceError>> + Send + 'a;

    /// The page's HTML for `state`.
    fn render(shell: Shell<'_>, state: &PageState<Self>) -> String;
}

impl<T> PageState<T> {
    /// The template's view of this state, and the age of stale data.
    pub fn view<'a, V>(
        &'a self,
        not_synced: V,
        missing: V,
        ready: impl FnOnce(&'a T) -> V,
    ) -> (V, Option<i64>) {
        match self {
            PageState::NotSynced => (not_synced, None),
            PageState::Missing => (missing, None),
            PageState::Ready {
                data,
                stale_minutes,
            } => (ready(data), *stale_minutes),
        }
    }
}

/// `GET /embed/{slug}/{P::PATH}/{ats_id}`.
pub async fn show_embed_page<P: EmbedPage>(
    state: &AppState,
    slug: &str,
    ats_id: &str,
    query: &AccessQuery,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(state, slug).await?;
    let segment = path_segment(ats_id);
    let here = format!("/embed/{slug}/{}/{segment}", P::PATH);
    let target = Target::page(&here, P::PATH, ats_id);
    let access = require_session(state, tenant, query, headers, target).await?;
    if query.launch.is_some() {
        return Ok(after_launch(state, &access, &here));
    }
    let tenant = &access.tenant;
    let link = equivalence::lookup_by_ats(&state.db, tenant.id, P::KIND, ats_id).await?;
    let read = match &link {
        Some(link) => {
            let source = state.web.source(&state.suite_clients, tenant)?;
            let suite_id = link.suite_id.as_str();
            Some(
                P::cache(&state.web)
                    .get(tenant.slug(), suite_id, || {
                        P::fetch(source.as_ref(), suite_id)
                    })
                    .await,
            )
        }
        None => None,
    };
    let context = access.context.clone();
    let page_state = state_now(link.is_some(), read, || PageError::Unavailable { context })?;
    let shell = Shell {
        t: access.locale().strings(),
        lang: access.locale().tag(),
        open_url: format!("/open/{slug}/{}/{segment}", P::PATH),
        tenant: tenant.slug(),
        session: &access.token,
        csrf: state.web.keys().csrf_token(&access.session),
    };
    let body = P::render(shell, &page_state);
    Ok(respond(&access, body))
}

/// The answer to a launch: `303` to the page itself without the launch token. A new session
/// goes with its cookie and a one-time hand-off code (for a frame that keeps no cookie); a
/// browser that presented a spent token with its own live cookie just goes on with the cookie.
fn after_launch(state: &AppState, access: &PageAccess, here: &str) -> Response {
    let mut headers = page_headers(&access.context.frame_ancestors);
    let mut location = here.to_owned();
    if let Some(cookie) = access.set_cookie.as_deref() {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
        let code = state.web.keys().handoff(&access.session, now_s());
        location = with_handoff(here, &code);
    }
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    (StatusCode::SEE_OTHER, headers).into_response()
}

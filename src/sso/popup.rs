//! The popup into the suite: `/open/{tenant}/jobs/{id}` and `/applications/{id}`. With a
//! session (SSO or launch; without one, off to SSO sign-in and back here), it finds or creates
//! the person's suite user (bound to the session's ATS user id, see `sync::flows::users`), asks
//! the suite for a one-time login URL for the linked project or invitation page, and sends the
//! browser there; a person whose suite account cannot be theirs gets a 403 page with a code. The
//! pages' "Open in suite" button `POST`s the session and its CSRF token in the form's body (never
//! in the popup's URL) and gets a page that moves on to the login URL (a redirect after a form
//! post would break the page's CSP `form-action 'self'`); `GET` serves the return from SSO
//! sign-in (the session in the cookie) and older links.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::equivalence::{self, EntityKind};
use crate::sync::JobError;
use crate::sync::flows::users::{UserError, ensure_user};
use crate::sync::partners::SuiteAdapter;
use crate::web::access::{AccessQuery, Target, require_session, resolve_tenant};
use crate::web::error::{PageError, PageQuery, render};
use crate::web::headers::page_headers;
use crate::web::i18n::Strings;
use crate::web::pages::path_segment;
use crate::web::port::{PageSource as _, SourceError};
use crate::web::session::random_id;
use crate::web::suite_source::SuiteSource;

pub async fn open_job(
    State(state): State<AppState>,
    Path((slug, ats_job_id)): Path<(String, String)>,
    PageQuery(query): PageQuery<AccessQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    open_in_suite(
        state,
        slug,
        EntityKind::Job,
        ats_job_id,
        query,
        headers,
        None,
    )
    .await
}

/// The "Open in suite" form: the session (else the cookie's) and its CSRF token.
#[derive(Debug, Deserialize)]
pub struct OpenForm {
    #[serde(default)]
    s: Option<String>,
    #[serde(default)]
    csrf: String,
}

impl OpenForm {
    fn split(self) -> (AccessQuery, Option<String>) {
        let query = AccessQuery {
            s: self.s,
            ..AccessQuery::default()
        };
        (query, Some(self.csrf))
    }
}

pub async fn post_open_job(
    State(state): State<AppState>,
    Path((slug, ats_job_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<OpenForm>,
) -> Result<Response, PageError> {
    let (query, csrf) = form.split();
    open_in_suite(
        state,
        slug,
        EntityKind::Job,
        ats_job_id,
        query,
        headers,
        csrf,
    )
    .await
}

pub async fn post_open_application(
    State(state): State<AppState>,
    Path((slug, ats_application_id)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<OpenForm>,
) -> Result<Response, PageError> {
    let (query, csrf) = form.split();
    let kind = EntityKind::Application;
    open_in_suite(state, slug, kind, ats_application_id, query, headers, csrf).await
}

/// After a posted "Open in suite": on to the one-time login URL.
#[derive(Template)]
#[template(path = "pages/opening.html")]
struct OpeningPage<'a> {
    t: &'static Strings,
    lang: &'static str,
    url: &'a str,
}

pub async fn open_application(
    State(state): State<AppState>,
    Path((slug, ats_application_id)): Path<(String, String)>,
    PageQuery(query): PageQuery<AccessQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    open_in_suite(
        state,
        slug,
        EntityKind::Application,
        ats_application_id,
        query,
        headers,
        None,
    )
    .await
}

/// The suite web app's page for a linked object.
pub fn suite_path(kind: EntityKind, suite_id: &str) -> String {
    match kind {
        EntityKind::Job => format!("/projects/{}", path_segment(suite_id)),
        _ => format!("/invitations/{}", path_segment(suite_id)),
    }
}

#[tracing::instrument(skip_all, fields(tenant = %slug, kind = %kind))]
async fn open_in_suite(
    state: AppState,
    slug: String,
    kind: EntityKind,
    ats_id: String,
    query: AccessQuery,
    headers: HeaderMap,
    csrf: Option<String>,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(&state, &slug).await?;
    let segment = if kind == EntityKind::Job {
        "jobs"
    } else {
        "applications"
    };
    let here = format!("/open/{slug}/{segment}/{}", path_segment(&ats_id));
    let target = Target::page(&here, segment, &ats_id);
    let access = match require_session(&state, tenant, &query, &headers, target).await {
        Ok(access) => access,
        Err(PageError::Unauthorized { context, .. } | PageError::Denied { context, .. })
            if context.sso =>
        {
            let back: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
            return Ok(Redirect::to(&format!("/sso/{slug}/login?return_to={back}")).into_response());
        }
        Err(error) => return Err(error),
    };
    let posted = csrf.is_some();
    if let Some(csrf) = csrf
        && !state.web.keys().check_csrf(&access.session, &csrf)
    {
        return Err(PageError::Forbidden {
            context: access.context,
            reason: "missing or wrong CSRF token".to_owned(),
        });
    }
    let tenant = &access.tenant;
    let link = equivalence::lookup_by_ats(&state.db, tenant.id, kind, &ats_id)
        .await?
        .ok_or_else(|| PageError::NotFound {
            context: access.context.clone(),
        })?;
    let client = state
        .suite_clients
        .for_tenant(tenant)
        .map_err(|error| PageError::Internal(error.into()))?;
    let users = SuiteAdapter::new(client.clone());
    let session = &access.session;
    let unavailable = || PageError::Unavailable {
        context: access.context.clone(),
    };
    // The suite user is the one linked to the session's ATS user id; the email only names a user
    // Liaison creates for them (`sync::flows::users`). A refusal is final: no other lookup.
    let user_id = ensure_user(
        &state.db,
        tenant,
        &users,
        &session.sub,
        &session.email,
        &session.display_name(),
        session.role.as_deref(),
    )
    .await
    .map_err(|error| match error {
        UserError::Refused(refusal) => PageError::Refused {
            context: access.context.clone(),
            status: StatusCode::FORBIDDEN,
            code: refusal.code(),
            reason: refusal.to_string(),
        },
        UserError::Failed(JobError::Transient { message, .. }) => {
            tracing::warn!(error = %message, "the suite user could not be resolved");
            unavailable()
        }
        UserError::Failed(error) => PageError::Internal(anyhow::anyhow!(error)),
    })?;
    let redirect_path = suite_path(kind, &link.suite_id);
    let attempt = format!("{}:{redirect_path}:{}", session.sid, random_id());
    let login_url = SuiteSource::new(client)
        .login_url(&attempt, &user_id, &redirect_path)
        .await
        .map_err(|error| match error {
            SourceError::Unreachable(_) => unavailable(),
            other => PageError::Internal(anyhow::anyhow!(other)),
        })?;
    tracing::info!(suite_user = %user_id, "opening the suite");
    if posted {
        let page = OpeningPage {
            t: access.locale().strings(),
            lang: access.locale().tag(),
            url: &login_url,
        };
        let headers = page_headers(&access.context.frame_ancestors);
        return Ok((headers, Html(render(&page))).into_response());
    }
    let mut response = Redirect::to(&login_url).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response_headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

//! The mappings page: how the tenant's deliveries are read (signed-json field pointers), written
//! back (tags or comment) and whose roles map to what, with a preview of what a sample payload
//! would become (parsed by the tenant's adapter; nothing stored).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Admin;
use super::data::preview::{Preview, preview};
use super::page::{AdminError, Chrome, html};
use super::tenants::open_tenant;
use crate::app::AppState;
use crate::tenant::{Tenant, WritebackSettings};

#[derive(Template)]
#[template(path = "admin/mappings.html")]
struct MappingsPage {
    chrome: Option<Chrome>,
    slug: String,
    ats_kind: String,
    interview_step: String,
    language: String,
    writeback: WritebackSettings,
    writeback_mode: String,
    roles: Vec<(String, String)>,
    fields: Vec<(String, String)>,
    sample: String,
    result: Option<String>,
    problems: Vec<String>,
    error: Option<String>,
}

fn page(admin: &Admin, tenant: &Tenant, sample: String) -> MappingsPage {
    let config = &tenant.config;
    MappingsPage {
        chrome: Some(admin.chrome("tenants")),
        slug: tenant.slug().to_owned(),
        ats_kind: config.ats.kind.as_str().to_owned(),
        interview_step: config.ats.interview_step.clone(),
        language: config.ats.language.clone().unwrap_or_default(),
        writeback_mode: format!("{:?}", config.writeback.mode).to_lowercase(),
        writeback: config.writeback.clone(),
        roles: config
            .roles
            .iter()
            .map(|(a, s)| (a.to_owned(), s.as_str().to_owned()))
            .collect(),
        fields: config
            .ats
            .fields
            .iter()
            .map(|(f, p)| (f.clone(), p.clone()))
            .collect(),
        sample,
        result: None,
        problems: Vec::new(),
        error: None,
    }
}

/// `GET /admin/tenants/{tenant}/mappings`.
pub async fn show_mappings_page(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AdminError> {
    let tenant = open_tenant(&state, &slug).await?;
    Ok(html(&page(&admin, &tenant, String::new())))
}

#[derive(Debug, Deserialize)]
pub struct PreviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    sample: String,
}

/// `POST /admin/tenants/{tenant}/mappings/preview`: a sample the adapter refuses is answered 400
/// with the reason on the page.
pub async fn preview_sample(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Form(form): Form<PreviewForm>,
) -> Result<Response, AdminError> {
    admin.check_csrf(&form.csrf)?;
    let tenant = open_tenant(&state, &slug).await?;
    let mut view = page(&admin, &tenant, form.sample.clone());
    match preview(&tenant, &form.sample).await {
        Ok(Preview { events, problems }) => {
            view.result = Some(serde_json::to_string_pretty(&events).unwrap_or_default());
            view.problems = problems;
            Ok(html(&view))
        }
        Err(error) => {
            view.error = Some(error.to_string());
            Ok((StatusCode::BAD_REQUEST, html(&view)).into_response())
        }
    }
}

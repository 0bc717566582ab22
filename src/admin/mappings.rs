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
use super::data::masking::{Reveal, mask_text};
use super::data::preview::{Preview, preview};
use super::page::{AdminError, Chrome, html};
use super::tenants::open_tenant;
use crate::app::AppState;
use crate::ats::PreviewGuide;
use crate::script::runs::ShownRun;
use crate::tenant::{Tenant, WritebackSettings};

#[derive(Template)]
#[template(path = "admin/mappings.html")]
struct MappingsPage {
    chrome: Option<Chrome>,
    slug: String,
    ats_kind: String,
    preview_guide: PreviewGuide,
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
    script: Option<ScriptView>,
}

/// A script tenant's script: which version runs, and its last runs in this process.
struct ScriptView {
    file: String,
    sha256: String,
    source: String,
    runs: Vec<RunView>,
}

struct RunView {
    at: String,
    function: String,
    took_ms: i64,
    ok: bool,
    outcome: String,
    logs: Vec<String>,
}

/// A script tenant's last runs, every process's (none for other kinds).
async fn last_runs(state: &AppState, tenant: &Tenant) -> Result<Vec<ShownRun>, AdminError> {
    if tenant.config.ats.script_source.is_none() {
        return Ok(Vec::new());
    }
    Ok(crate::script::runs::last_runs(&state.db, tenant.id).await?)
}

fn script_view(tenant: &Tenant, runs: Vec<ShownRun>) -> Option<ScriptView> {
    let ats = &tenant.config.ats;
    let source = ats.script_source.clone()?;
    let runs = runs
        .into_iter()
        .map(|run| RunView {
            at: crate::time::to_rfc3339(run.at),
            function: run.function,
            took_ms: run.took_ms,
            ok: run.outcome.is_ok(),
            outcome: match &run.outcome {
                Ok(events) => format!("{events} event(s)"),
                Err(error) => mask_text(error, Reveal::Nothing),
            },
            // Logged lines are shown like payloads: personal data and credentials masked.
            logs: run
                .logs
                .iter()
                .map(|l| mask_text(l, Reveal::Nothing))
                .collect(),
        })
        .collect();
    Some(ScriptView {
        file: ats.script.clone().unwrap_or_else(|| "(inline)".to_owned()),
        sha256: crate::script::source_hash(&source),
        source,
        runs,
    })
}

fn page(admin: &Admin, tenant: &Tenant, sample: String, runs: Vec<ShownRun>) -> MappingsPage {
    let config = &tenant.config;
    MappingsPage {
        chrome: Some(admin.chrome("tenants")),
        slug: tenant.slug().to_owned(),
        ats_kind: config.ats.kind.as_str().to_owned(),
        preview_guide: crate::ats::adapter_for(config.ats.kind).preview_guide(),
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
        script: script_view(tenant, runs),
    }
}

/// `GET /admin/tenants/{tenant}/mappings`.
pub async fn show_mappings_page(
    admin: Admin,
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AdminError> {
    let tenant = open_tenant(&state, &slug).await?;
    let runs = last_runs(&state, &tenant).await?;
    Ok(html(&page(&admin, &tenant, String::new(), runs)))
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
    let runs = last_runs(&state, &tenant).await?;
    let mut view = page(&admin, &tenant, form.sample.clone(), runs);
    match preview(&tenant, &form.sample).await {
        Ok(Preview { events, problems }) => {
            view.result = Some(serde_json::to_string_pretty(&events).unwrap_or_default());
            view.problems = problems
                .iter()
                .map(|p| mask_text(p, Reveal::Nothing))
                .collect();
            Ok(html(&view))
        }
        Err(error) => {
            view.error = Some(error.to_string());
            Ok((StatusCode::BAD_REQUEST, html(&view)).into_response())
        }
    }
}

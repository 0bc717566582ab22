//! Projects and their interview questions.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::NaiveDate;
use serde::Deserialize;

use super::SuiteSim;
use super::error::{ApiError, ApiJson, ApiQuery, double_option};
use super::model::{Project, ProjectStatus, Question, now};
use super::pagination::{Page, PageQuery, paginate};
use super::state::Store;

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route("/v1/projects", post(create_project).get(list_projects))
        .route("/v1/projects/{id}", get(get_project).patch(update_project))
        .route("/v1/projects/{id}/archive", post(archive_project))
        .route(
            "/v1/projects/{id}/questions",
            get(list_questions).put(replace_questions),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectIn {
    pub external_ref: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub language: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    #[serde(default, deserialize_with = "double_option")]
    pub external_ref: Option<Option<String>>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub language: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub starts_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    pub ends_on: Option<Option<NaiveDate>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProjectFilter {
    pub external_ref: Option<String>,
    pub status: Option<ProjectStatus>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionIn {
    pub text: String,
    pub thinking_seconds: Option<u32>,
    pub answer_seconds: Option<u32>,
    pub retakes: Option<u32>,
}

const DEFAULT_LANGUAGE: &str = "en";
const DEFAULT_THINKING_SECONDS: u32 = 30;
const DEFAULT_ANSWER_SECONDS: u32 = 120;

impl Store {
    pub fn project(&self, id: &str) -> Result<&Project, ApiError> {
        self.projects
            .get(id)
            .ok_or_else(|| ApiError::not_found("project", id))
    }

    fn project_with_ref(&self, external_ref: &str) -> Option<&Project> {
        self.projects
            .values()
            .find(|p| p.external_ref.as_deref() == Some(external_ref))
    }

    fn ensure_ref_free(
        &self,
        external_ref: Option<&str>,
        except: Option<&str>,
    ) -> Result<(), ApiError> {
        match external_ref.and_then(|r| self.project_with_ref(r)) {
            Some(existing) if Some(existing.id.as_str()) != except => Err(ApiError::conflict(
                "external_ref_taken",
                "a project already has this external_ref",
                &existing.id,
            )),
            _ => Ok(()),
        }
    }

    pub fn create_project(&mut self, input: ProjectIn) -> Result<Project, ApiError> {
        validate_title(&input.title)?;
        validate_dates(input.starts_on, input.ends_on)?;
        self.ensure_ref_free(input.external_ref.as_deref(), None)?;
        let at = now();
        let project = Project {
            id: self.next_id("prj"),
            external_ref: input.external_ref,
            title: input.title,
            description: input.description.unwrap_or_default(),
            location: input.location.unwrap_or_default(),
            language: input
                .language
                .unwrap_or_else(|| DEFAULT_LANGUAGE.to_owned()),
            status: ProjectStatus::Open,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
            created_at: at,
            updated_at: at,
        };
        self.projects.insert(project.id.clone(), project.clone());
        self.questions.insert(project.id.clone(), Vec::new());
        Ok(project)
    }

    /// Applies a patch; emits `project.updated` only when something changed.
    pub fn update_project(&mut self, id: &str, patch: ProjectPatch) -> Result<Project, ApiError> {
        let mut project = self.project(id)?.clone();
        if let Some(external_ref) = &patch.external_ref {
            self.ensure_ref_free(external_ref.as_deref(), Some(id))?;
        }
        let before = serde_json::to_value(&project).unwrap_or_default();
        if let Some(external_ref) = patch.external_ref {
            project.external_ref = external_ref;
        }
        if let Some(title) = patch.title {
            validate_title(&title)?;
            project.title = title;
        }
        if let Some(description) = patch.description {
            project.description = description;
        }
        if let Some(location) = patch.location {
            project.location = location;
        }
        if let Some(language) = patch.language {
            project.language = language;
        }
        if let Some(starts_on) = patch.starts_on {
            project.starts_on = starts_on;
        }
        if let Some(ends_on) = patch.ends_on {
            project.ends_on = ends_on;
        }
        validate_dates(project.starts_on, project.ends_on)?;
        if serde_json::to_value(&project).unwrap_or_default() != before {
            project.updated_at = now();
            self.projects.insert(project.id.clone(), project.clone());
            self.emit_object("project.updated", &project);
        }
        Ok(project)
    }

    /// Archives a project; archiving twice is fine and emits nothing the second time.
    pub fn archive_project(&mut self, id: &str) -> Result<Project, ApiError> {
        let project = self
            .projects
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("project", id))?;
        if project.status == ProjectStatus::Archived {
            return Ok(project.clone());
        }
        project.status = ProjectStatus::Archived;
        project.updated_at = now();
        let project = project.clone();
        self.emit_object("project.archived", &project);
        Ok(project)
    }

    pub fn replace_questions(
        &mut self,
        project_id: &str,
        input: Vec<QuestionIn>,
    ) -> Result<Vec<Question>, ApiError> {
        self.project(project_id)?;
        if input.iter().any(|q| q.text.trim().is_empty()) {
            return Err(ApiError::invalid_request("every question needs a text"));
        }
        let mut questions = Vec::with_capacity(input.len());
        for (index, question) in input.into_iter().enumerate() {
            questions.push(Question {
                id: self.next_id("qst"),
                position: u32::try_from(index + 1).unwrap_or(u32::MAX),
                text: question.text,
                thinking_seconds: question
                    .thinking_seconds
                    .unwrap_or(DEFAULT_THINKING_SECONDS),
                answer_seconds: question.answer_seconds.unwrap_or(DEFAULT_ANSWER_SECONDS),
                retakes: question.retakes.unwrap_or(0),
            });
        }
        self.questions
            .insert(project_id.to_owned(), questions.clone());
        Ok(questions)
    }
}

fn validate_title(title: &str) -> Result<(), ApiError> {
    if title.trim().is_empty() {
        return Err(ApiError::invalid_request("title must not be empty"));
    }
    Ok(())
}

fn validate_dates(
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
) -> Result<(), ApiError> {
    match (starts_on, ends_on) {
        (Some(start), Some(end)) if end < start => {
            Err(ApiError::invalid_request("ends_on is before starts_on"))
        }
        _ => Ok(()),
    }
}

async fn create_project(
    State(sim): State<SuiteSim>,
    ApiJson(input): ApiJson<ProjectIn>,
) -> Result<(StatusCode, Json<Project>), ApiError> {
    let project = sim.mutate(|store| store.create_project(input))?;
    Ok((StatusCode::CREATED, Json(project)))
}

async fn list_projects(
    State(sim): State<SuiteSim>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<ProjectFilter>,
) -> Result<Json<Page<Project>>, ApiError> {
    let projects = sim.mutate(|store| {
        Ok(store
            .projects
            .values()
            .filter(|p| filter.external_ref.is_none() || p.external_ref == filter.external_ref)
            .filter(|p| filter.status.is_none_or(|status| p.status == status))
            .cloned()
            .collect())
    })?;
    Ok(Json(paginate(projects, &page)?))
}

async fn get_project(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(sim.mutate(|store| store.project(&id).cloned())?))
}

async fn update_project(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ProjectPatch>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(sim.mutate(|store| store.update_project(&id, patch))?))
}

async fn archive_project(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Project>, ApiError> {
    Ok(Json(sim.mutate(|store| store.archive_project(&id))?))
}

async fn list_questions(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<Question>>, ApiError> {
    let questions = sim.mutate(|store| {
        store.project(&id)?;
        Ok(store.questions.get(&id).cloned().unwrap_or_default())
    })?;
    Ok(Json(paginate(questions, &page)?))
}

async fn replace_questions(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<Vec<QuestionIn>>,
) -> Result<Json<Page<Question>>, ApiError> {
    let questions = sim.mutate(|store| store.replace_questions(&id, input))?;
    // The whole new list, in the list shape, whatever its length.
    Ok(Json(Page {
        data: questions,
        next_cursor: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(external_ref: Option<&str>) -> ProjectIn {
        ProjectIn {
            external_ref: external_ref.map(str::to_owned),
            title: "Backend engineer".to_owned(),
            description: None,
            location: None,
            language: Some("pt-BR".to_owned()),
            starts_on: None,
            ends_on: None,
        }
    }

    #[test]
    fn a_taken_external_ref_conflicts_with_the_existing_id() {
        let mut store = Store::default();
        let first = store.create_project(input(Some("job-1"))).expect("created");
        let error = store
            .create_project(input(Some("job-1")))
            .expect_err("conflict");
        assert_eq!(error.code, "external_ref_taken");
        assert_eq!(error.existing_id.as_deref(), Some(first.id.as_str()));
    }

    #[test]
    fn an_unchanged_patch_emits_nothing() {
        let mut store = Store::default();
        let project = store.create_project(input(None)).expect("created");
        let patch = ProjectPatch {
            title: Some(project.title.clone()),
            ..ProjectPatch::default()
        };
        store.update_project(&project.id, patch).expect("patched");
        assert!(store.events.is_empty());
        let patch = ProjectPatch {
            title: Some("Staff engineer".into()),
            ..ProjectPatch::default()
        };
        store.update_project(&project.id, patch).expect("patched");
        assert_eq!(store.events.len(), 1);
    }

    #[test]
    fn archiving_twice_emits_once() {
        let mut store = Store::default();
        let project = store.create_project(input(None)).expect("created");
        store.archive_project(&project.id).expect("archived");
        let again = store.archive_project(&project.id).expect("archived again");
        assert_eq!(again.status, ProjectStatus::Archived);
        assert_eq!(store.events.len(), 1);
    }

    #[test]
    fn questions_are_replaced_in_position_order() {
        let mut store = Store::default();
        let project = store.create_project(input(None)).expect("created");
        let text = |t: &str| QuestionIn {
            text: t.into(),
            thinking_seconds: None,
            answer_seconds: Some(60),
            retakes: None,
        };
        store
            .replace_questions(&project.id, vec![text("a")])
            .expect("put");
        let questions = store
            .replace_questions(&project.id, vec![text("b"), text("c")])
            .expect("put");
        let positions: Vec<(u32, &str)> = questions
            .iter()
            .map(|q| (q.position, q.text.as_str()))
            .collect();
        assert_eq!(positions, [(1, "b"), (2, "c")]);
        assert_eq!(store.questions[&project.id].len(), 2);
    }
}

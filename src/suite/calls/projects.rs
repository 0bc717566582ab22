//! `/v1/projects` and their questions.

use reqwest::Method;

use crate::suite::client::{Call, SuiteClient};
use crate::suite::error::SuiteError;
use crate::suite::idempotency::OperationKey;
use crate::suite::types::{
    CreateProjectRequest, Created, Page, PageRequest, ProjectFilter, ProjectResponse,
    QuestionRequest, QuestionResponse, UpdateProjectRequest,
};

impl SuiteClient {
    /// `POST /v1/projects`; a taken `external_ref` answers `Created::Existing`.
    pub async fn create_project(
        &self,
        key: &OperationKey,
        project: &CreateProjectRequest,
    ) -> Result<Created<ProjectResponse>, SuiteError> {
        let call = Call::new(Method::POST, "POST /v1/projects", &["v1", "projects"])
            .json(project)?
            .idempotent(key);
        self.create(call).await
    }

    /// `GET /v1/projects`, one page.
    pub async fn list_projects(
        &self,
        filter: &ProjectFilter,
        page: &PageRequest,
    ) -> Result<Page<ProjectResponse>, SuiteError> {
        let call = Call::new(Method::GET, "GET /v1/projects", &["v1", "projects"])
            .query(filter)
            .query(page);
        self.fetch(call).await
    }

    /// `GET /v1/projects`, every page.
    pub async fn list_all_projects(
        &self,
        filter: &ProjectFilter,
    ) -> Result<Vec<ProjectResponse>, SuiteError> {
        self.collect_pages(|| {
            Call::new(Method::GET, "GET /v1/projects", &["v1", "projects"]).query(filter)
        })
        .await
    }

    /// `GET /v1/projects/{id}`.
    pub async fn get_project(&self, id: &str) -> Result<ProjectResponse, SuiteError> {
        let call = Call::new(
            Method::GET,
            "GET /v1/projects/{id}",
            &["v1", "projects", id],
        );
        self.fetch(call).await
    }

    /// `PATCH /v1/projects/{id}`.
    pub async fn update_project(
        &self,
        id: &str,
        patch: &UpdateProjectRequest,
    ) -> Result<ProjectResponse, SuiteError> {
        let call = Call::new(
            Method::PATCH,
            "PATCH /v1/projects/{id}",
            &["v1", "projects", id],
        )
        .json(patch)?;
        self.fetch(call).await
    }

    /// `POST /v1/projects/{id}/archive`; archiving twice is fine, so the key is derived here.
    pub async fn archive_project(&self, id: &str) -> Result<ProjectResponse, SuiteError> {
        let key = OperationKey::new(self.tenant(), "archive-project", id);
        let call = Call::new(
            Method::POST,
            "POST /v1/projects/{id}/archive",
            &["v1", "projects", id, "archive"],
        )
        .idempotent(&key);
        self.fetch(call).await
    }

    /// `GET /v1/projects/{id}/questions`, every page, in `position` order.
    pub async fn list_questions(
        &self,
        project_id: &str,
    ) -> Result<Vec<QuestionResponse>, SuiteError> {
        self.collect_pages(|| {
            Call::new(
                Method::GET,
                "GET /v1/projects/{id}/questions",
                &["v1", "projects", project_id, "questions"],
            )
        })
        .await
    }

    /// `PUT /v1/projects/{id}/questions`: replaces them all.
    pub async fn replace_questions(
        &self,
        project_id: &str,
        questions: &[QuestionRequest],
    ) -> Result<Vec<QuestionResponse>, SuiteError> {
        let call = Call::new(
            Method::PUT,
            "PUT /v1/projects/{id}/questions",
            &["v1", "projects", project_id, "questions"],
        )
        .json(&questions)?;
        let page: Page<QuestionResponse> = self.fetch(call).await?;
        Ok(page.data)
    }
}

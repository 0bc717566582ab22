//! `/v1/candidates`.

use reqwest::Method;

use crate::suite::client::{Call, SuiteClient};
use crate::suite::error::SuiteError;
use crate::suite::idempotency::OperationKey;
use crate::suite::types::{
    CandidateFilter, CandidateResponse, CreateCandidateRequest, Created, Page, PageRequest,
    UpdateCandidateRequest,
};

impl SuiteClient {
    /// `POST /v1/candidates`; a taken email answers `Created::Existing`.
    pub async fn create_candidate(
        &self,
        key: &OperationKey,
        candidate: &CreateCandidateRequest,
    ) -> Result<Created<CandidateResponse>, SuiteError> {
        let call = Call::new(Method::POST, "POST /v1/candidates", &["v1", "candidates"])
            .json(candidate)?
            .idempotent(key);
        self.create(call).await
    }

    /// `GET /v1/candidates`, one page.
    pub async fn list_candidates(
        &self,
        filter: &CandidateFilter,
        page: &PageRequest,
    ) -> Result<Page<CandidateResponse>, SuiteError> {
        let call = Call::new(Method::GET, "GET /v1/candidates", &["v1", "candidates"])
            .query(filter)
            .query(page);
        self.fetch(call).await
    }

    /// `GET /v1/candidates`, every page.
    pub async fn list_all_candidates(
        &self,
        filter: &CandidateFilter,
    ) -> Result<Vec<CandidateResponse>, SuiteError> {
        self.collect_pages(|| {
            Call::new(Method::GET, "GET /v1/candidates", &["v1", "candidates"]).query(filter)
        })
        .await
    }

    /// `GET /v1/candidates/{id}`.
    pub async fn get_candidate(&self, id: &str) -> Result<CandidateResponse, SuiteError> {
        let call = Call::new(
            Method::GET,
            "GET /v1/candidates/{id}",
            &["v1", "candidates", id],
        );
        self.fetch(call).await
    }

    /// `PATCH /v1/candidates/{id}`.
    pub async fn update_candidate(
        &self,
        id: &str,
        patch: &UpdateCandidateRequest,
    ) -> Result<CandidateResponse, SuiteError> {
        let call = Call::new(
            Method::PATCH,
            "PATCH /v1/candidates/{id}",
            &["v1", "candidates", id],
        )
        .json(patch)?;
        self.fetch(call).await
    }
}

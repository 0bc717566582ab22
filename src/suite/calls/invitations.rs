//! Invitations, their reviews and result.

use reqwest::Method;

use crate::suite::client::{Call, SuiteClient};
use crate::suite::error::SuiteError;
use crate::suite::idempotency::OperationKey;
use crate::suite::types::{
    CreateInvitationRequest, Created, InvitationFilter, InvitationResponse,
    InvitationResultResponse, Page, PageRequest, ReviewResponse,
};

impl SuiteClient {
    /// `POST /v1/projects/{id}/invitations`; a live invitation of that candidate to that project
    /// answers `Created::Existing` (`already_invited`).
    pub async fn create_invitation(
        &self,
        key: &OperationKey,
        project_id: &str,
        invitation: &CreateInvitationRequest,
    ) -> Result<Created<InvitationResponse>, SuiteError> {
        let call = Call::new(
            Method::POST,
            "POST /v1/projects/{id}/invitations",
            &["v1", "projects", project_id, "invitations"],
        )
        .json(invitation)?
        .idempotent(key);
        self.create(call).await
    }

    /// `GET /v1/projects/{id}/invitations`, one page.
    pub async fn list_invitations(
        &self,
        project_id: &str,
        filter: &InvitationFilter,
        page: &PageRequest,
    ) -> Result<Page<InvitationResponse>, SuiteError> {
        let call = Call::new(
            Method::GET,
            "GET /v1/projects/{id}/invitations",
            &["v1", "projects", project_id, "invitations"],
        )
        .query(filter)
        .query(page);
        self.fetch(call).await
    }

    /// `GET /v1/projects/{id}/invitations`, every page.
    pub async fn list_all_invitations(
        &self,
        project_id: &str,
        filter: &InvitationFilter,
    ) -> Result<Vec<InvitationResponse>, SuiteError> {
        self.collect_pages(|| {
            Call::new(
                Method::GET,
                "GET /v1/projects/{id}/invitations",
                &["v1", "projects", project_id, "invitations"],
            )
            .query(filter)
        })
        .await
    }

    /// `GET /v1/invitations/{id}`.
    pub async fn get_invitation(&self, id: &str) -> Result<InvitationResponse, SuiteError> {
        let call = Call::new(
            Method::GET,
            "GET /v1/invitations/{id}",
            &["v1", "invitations", id],
        );
        self.fetch(call).await
    }

    /// `POST /v1/invitations/{id}/cancel`; cancelling is final, so the key is derived here.
    pub async fn cancel_invitation(&self, id: &str) -> Result<InvitationResponse, SuiteError> {
        let key = OperationKey::new(self.tenant(), "cancel-invitation", id);
        let call = Call::new(
            Method::POST,
            "POST /v1/invitations/{id}/cancel",
            &["v1", "invitations", id, "cancel"],
        )
        .idempotent(&key);
        self.fetch(call).await
    }

    /// `GET /v1/invitations/{id}/reviews`, every page.
    pub async fn list_reviews(
        &self,
        invitation_id: &str,
    ) -> Result<Vec<ReviewResponse>, SuiteError> {
        self.collect_pages(|| {
            Call::new(
                Method::GET,
                "GET /v1/invitations/{id}/reviews",
                &["v1", "invitations", invitation_id, "reviews"],
            )
        })
        .await
    }

    /// `GET /v1/invitations/{id}/result`.
    pub async fn get_result(
        &self,
        invitation_id: &str,
    ) -> Result<InvitationResultResponse, SuiteError> {
        let call = Call::new(
            Method::GET,
            "GET /v1/invitations/{id}/result",
            &["v1", "invitations", invitation_id, "result"],
        );
        self.fetch(call).await
    }
}

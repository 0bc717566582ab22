//! `/v1/users` and `/v1/sessions` (one-time login links).

use reqwest::Method;

use crate::suite::client::{Call, SuiteClient};
use crate::suite::error::SuiteError;
use crate::suite::idempotency::OperationKey;
use crate::suite::types::{
    CreateSessionRequest, CreateUserRequest, Created, Page, PageRequest, SessionResponse,
    UpdateUserRequest, UserResponse,
};

impl SuiteClient {
    /// `POST /v1/users`; a taken email answers `Created::Existing`.
    pub async fn create_user(
        &self,
        key: &OperationKey,
        user: &CreateUserRequest,
    ) -> Result<Created<UserResponse>, SuiteError> {
        let call = Call::new(Method::POST, "POST /v1/users", &["v1", "users"])
            .json(user)?
            .idempotent(key);
        self.create(call).await
    }

    /// `GET /v1/users`, one page.
    pub async fn list_users(&self, page: &PageRequest) -> Result<Page<UserResponse>, SuiteError> {
        let call = Call::new(Method::GET, "GET /v1/users", &["v1", "users"]).query(page);
        self.fetch(call).await
    }

    /// `GET /v1/users`, every page.
    pub async fn list_all_users(&self) -> Result<Vec<UserResponse>, SuiteError> {
        self.collect_pages(|| Call::new(Method::GET, "GET /v1/users", &["v1", "users"]))
            .await
    }

    /// `GET /v1/users/{id}`.
    pub async fn get_user(&self, id: &str) -> Result<UserResponse, SuiteError> {
        let call = Call::new(Method::GET, "GET /v1/users/{id}", &["v1", "users", id]);
        self.fetch(call).await
    }

    /// `PATCH /v1/users/{id}`.
    pub async fn update_user(
        &self,
        id: &str,
        patch: &UpdateUserRequest,
    ) -> Result<UserResponse, SuiteError> {
        let call =
            Call::new(Method::PATCH, "PATCH /v1/users/{id}", &["v1", "users", id]).json(patch)?;
        self.fetch(call).await
    }

    /// `POST /v1/sessions`: a one-time login URL. A replay answers the first (already used)
    /// link, so the key must name this one login attempt (e.g. the SSO session and its time),
    /// not just the user.
    pub async fn create_session(
        &self,
        key: &OperationKey,
        session: &CreateSessionRequest,
    ) -> Result<SessionResponse, SuiteError> {
        let call = Call::new(Method::POST, "POST /v1/sessions", &["v1", "sessions"])
            .json(session)?
            .idempotent(key);
        self.fetch(call).await
    }
}

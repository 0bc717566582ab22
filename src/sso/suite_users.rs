//! The user half of `SuitePort` on the suite client, so the popup can call
//! `sync::flows::users::ensure_user`. Only the three user calls are served; the sync engine's
//! own adapter (`sync::partners`, in progress on main) will replace this one when it lands.

use std::sync::Arc;

use crate::suite::{self, OperationKey, SuiteClient, SuiteError};
use crate::sync::ports::{
    CandidateSpec, InvitationState, PartnerError, PortFuture, ProjectSpec, ProjectState,
    ResultState, SuitePort, UserState,
};

pub struct SuiteUsers {
    client: Arc<SuiteClient>,
}

impl SuiteUsers {
    pub fn new(client: Arc<SuiteClient>) -> Self {
        Self { client }
    }
}

fn partner_error(error: SuiteError) -> PartnerError {
    match error {
        SuiteError::NotFound { message } => PartnerError::NotFound(message),
        error if error.is_transient() => PartnerError::Transient {
            message: error.to_string(),
            retry_after: None,
        },
        error => PartnerError::Permanent(error.to_string()),
    }
}

fn role(name: &str) -> suite::Role {
    match name {
        "admin" => suite::Role::Admin,
        "manager" => suite::Role::Manager,
        _ => suite::Role::Reviewer,
    }
}

fn role_name(role: suite::Role) -> &'static str {
    match role {
        suite::Role::Admin => "admin",
        suite::Role::Manager => "manager",
        suite::Role::Reviewer => "reviewer",
    }
}

fn user_state(user: suite::UserResponse) -> UserState {
    UserState {
        id: user.id,
        email: user.email,
        role: role_name(user.role).to_owned(),
        active: user.active,
    }
}

fn not_served<'a, T: Send + 'a>(what: &str) -> PortFuture<'a, T> {
    let message = format!("{what} is not available to the SSO popup");
    Box::pin(async move { Err(PartnerError::Permanent(message)) })
}

impl SuitePort for SuiteUsers {
    fn find_user(&self, email: &str) -> PortFuture<'_, Option<UserState>> {
        let email = email.to_lowercase();
        Box::pin(async move {
            let users = self.client.list_all_users().await.map_err(partner_error)?;
            Ok(users
                .into_iter()
                .find(|user| user.email.to_lowercase() == email)
                .map(user_state))
        })
    }

    fn create_user(
        &self,
        op_key: &str,
        email: &str,
        name: &str,
        role_name: &str,
    ) -> PortFuture<'_, UserState> {
        let key = OperationKey::new(self.client.tenant(), "create_user", op_key);
        let request = suite::CreateUserRequest {
            email: email.to_owned(),
            name: name.to_owned(),
            role: role(role_name),
        };
        Box::pin(async move {
            match self
                .client
                .create_user(&key, &request)
                .await
                .map_err(partner_error)?
            {
                suite::Created::New(user) => Ok(user_state(user)),
                // Someone created the same person meanwhile: read theirs.
                suite::Created::Existing { existing_id } => {
                    let users = self.client.list_all_users().await.map_err(partner_error)?;
                    users
                        .into_iter()
                        .find(|user| user.id == existing_id)
                        .map(user_state)
                        .ok_or(PartnerError::NotFound(existing_id))
                }
            }
        })
    }

    fn set_user_role(&self, id: &str, role_name: &str) -> PortFuture<'_, UserState> {
        let id = id.to_owned();
        let patch = suite::UpdateUserRequest {
            role: Some(role(role_name)),
            ..Default::default()
        };
        Box::pin(async move {
            self.client
                .update_user(&id, &patch)
                .await
                .map(user_state)
                .map_err(partner_error)
        })
    }

    fn find_project(&self, _: &str) -> PortFuture<'_, Option<ProjectState>> {
        not_served("find_project")
    }
    fn create_project(&self, _: &str, _: &ProjectSpec) -> PortFuture<'_, String> {
        not_served("create_project")
    }
    fn update_project(&self, _: &str, _: &ProjectSpec) -> PortFuture<'_, ()> {
        not_served("update_project")
    }
    fn archive_project(&self, _: &str) -> PortFuture<'_, ()> {
        not_served("archive_project")
    }
    fn find_candidate(&self, _: Option<&str>, _: &str) -> PortFuture<'_, Option<String>> {
        not_served("find_candidate")
    }
    fn create_candidate(&self, _: &str, _: &CandidateSpec) -> PortFuture<'_, String> {
        not_served("create_candidate")
    }
    fn invite(&self, _: &str, _: &str, _: &str) -> PortFuture<'_, InvitationState> {
        not_served("invite")
    }
    fn invitation(&self, _: &str) -> PortFuture<'_, InvitationState> {
        not_served("invitation")
    }
    fn cancel_invitation(&self, _: &str) -> PortFuture<'_, ()> {
        not_served("cancel_invitation")
    }
    fn result(&self, _: &str) -> PortFuture<'_, ResultState> {
        not_served("result")
    }
}

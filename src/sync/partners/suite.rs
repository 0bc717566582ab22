//! The suite client seen through the sync engine's `SuitePort`.

use std::sync::Arc;

use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use crate::domain::Role;
use crate::suite::{
    CreateCandidateRequest, CreateInvitationRequest, CreateProjectRequest, CreateUserRequest,
    InvitationResponse, OperationKey, PageRequest, ProjectFilter, ProjectStatus, SuiteClient,
    SuiteError, UpdateProjectRequest, UpdateUserRequest, UserResponse,
};
use crate::sync::ports::{
    CandidateSpec, CreatedUser, InvitationState, PartnerError, PortFuture, ProjectSpec,
    ProjectState, ResultState, SuitePort, UserState,
};

pub struct SuiteAdapter {
    client: Arc<SuiteClient>,
}

impl SuiteAdapter {
    pub fn new(client: Arc<SuiteClient>) -> Self {
        Self { client }
    }

    /// The operation key of a create. The body's hash is part of it, so that a create whose data
    /// changed since an earlier attempt is a new request (never a 422 `idempotency_key_reused`);
    /// the suite's own uniqueness (external ref, email, live invitation) still answers the
    /// existing object with a 409 `existing_id`.
    fn key(&self, op_key: &str, body: &impl serde::Serialize) -> OperationKey {
        let json = serde_json::to_vec(body).unwrap_or_default();
        let digest = Sha256::digest(&json);
        let short: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let (operation, subject) = op_key.split_once(':').unwrap_or((op_key, ""));
        OperationKey::new(
            self.client.tenant(),
            operation,
            format!("{subject}:{short}"),
        )
    }
}

/// A suite failure as the sync engine sees it, by [`SuiteError::retry_later`].
pub fn partner_error(error: SuiteError) -> PartnerError {
    match error {
        SuiteError::RateLimited { retry_after } => PartnerError::Transient {
            message: "the suite is rate limiting Liaison".to_owned(),
            retry_after,
        },
        SuiteError::NotFound { message } => PartnerError::NotFound(message),
        error if error.retry_later() => PartnerError::Transient {
            message: error.to_string(),
            retry_after: None,
        },
        other => PartnerError::Permanent(other.to_string()),
    }
}

fn date(text: &Option<String>) -> Option<NaiveDate> {
    text.as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn invitation_state(invitation: InvitationResponse) -> InvitationState {
    InvitationState {
        status: invitation.status.into(),
        id: invitation.id,
        project_id: invitation.project_id,
        candidate_id: invitation.candidate_id,
        interview_url: Some(invitation.interview_url),
        created_at: invitation.created_at,
    }
}

fn user_state(user: UserResponse) -> UserState {
    UserState {
        id: user.id,
        email: user.email,
        role: user.role.into(),
        active: user.active,
    }
}

impl SuitePort for SuiteAdapter {
    fn find_project(&self, external_ref: &str) -> PortFuture<'_, Option<ProjectState>> {
        let filter = ProjectFilter {
            external_ref: Some(external_ref.to_owned()),
            status: None,
        };
        Box::pin(async move {
            let page = self
                .client
                .list_projects(&filter, &PageRequest::default())
                .await
                .map_err(partner_error)?;
            Ok(page.data.into_iter().next().map(|p| ProjectState {
                archived: p.status == ProjectStatus::Archived,
                id: p.id,
            }))
        })
    }

    fn create_project(&self, op_key: &str, spec: &ProjectSpec) -> PortFuture<'_, String> {
        let request = CreateProjectRequest {
            external_ref: Some(spec.external_ref.clone()),
            title: spec.title.clone(),
            description: spec.description.clone(),
            location: spec.location.clone(),
            language: spec.language.clone(),
            starts_on: date(&spec.starts_on),
            ends_on: date(&spec.ends_on),
        };
        let key = self.key(op_key, &request);
        Box::pin(async move {
            let created = self
                .client
                .create_project(&key, &request)
                .await
                .map_err(partner_error)?;
            Ok(created.id().to_owned())
        })
    }

    fn update_project(&self, id: &str, spec: &ProjectSpec) -> PortFuture<'_, ()> {
        let request = UpdateProjectRequest {
            title: Some(spec.title.clone()),
            description: Some(spec.description.clone()),
            location: Some(spec.location.clone()),
            language: Some(spec.language.clone()),
            starts_on: Some(date(&spec.starts_on)),
            ends_on: Some(date(&spec.ends_on)),
            ..Default::default()
        };
        let id = id.to_owned();
        Box::pin(async move {
            self.client
                .update_project(&id, &request)
                .await
                .map_err(partner_error)?;
            Ok(())
        })
    }

    fn archive_project(&self, id: &str) -> PortFuture<'_, ()> {
        let id = id.to_owned();
        Box::pin(async move {
            self.client
                .archive_project(&id)
                .await
                .map_err(partner_error)?;
            Ok(())
        })
    }

    fn create_candidate(&self, op_key: &str, spec: &CandidateSpec) -> PortFuture<'_, String> {
        let request = CreateCandidateRequest {
            external_ref: spec.external_ref.clone(),
            first_name: spec.first_name.clone(),
            last_name: spec.last_name.clone(),
            email: spec.email.clone(),
            phone: spec.phone.clone(),
            locale: spec.locale.clone(),
        };
        let key = self.key(op_key, &request);
        Box::pin(async move {
            let created = self
                .client
                .create_candidate(&key, &request)
                .await
                .map_err(partner_error)?;
            Ok(created.id().to_owned())
        })
    }

    fn invite(
        &self,
        op_key: &str,
        project_id: &str,
        candidate_id: &str,
    ) -> PortFuture<'_, InvitationState> {
        let request = CreateInvitationRequest {
            candidate_id: candidate_id.to_owned(),
            expires_at: None,
        };
        let key = self.key(op_key, &(project_id, &request));
        let project_id = project_id.to_owned();
        Box::pin(async move {
            let created = self
                .client
                .create_invitation(&key, &project_id, &request)
                .await
                .map_err(partner_error)?;
            let invitation = match created {
                crate::suite::Created::New(invitation) => invitation,
                crate::suite::Created::Existing { existing_id } => self
                    .client
                    .get_invitation(&existing_id)
                    .await
                    .map_err(partner_error)?,
            };
            Ok(invitation_state(invitation))
        })
    }

    fn invitation(&self, id: &str) -> PortFuture<'_, InvitationState> {
        let id = id.to_owned();
        Box::pin(async move {
            let invitation = self
                .client
                .get_invitation(&id)
                .await
                .map_err(partner_error)?;
            Ok(invitation_state(invitation))
        })
    }

    fn cancel_invitation(&self, id: &str) -> PortFuture<'_, ()> {
        let id = id.to_owned();
        Box::pin(async move {
            self.client
                .cancel_invitation(&id)
                .await
                .map_err(partner_error)?;
            Ok(())
        })
    }

    fn result(&self, invitation_id: &str) -> PortFuture<'_, ResultState> {
        let id = invitation_id.to_owned();
        Box::pin(async move {
            let result = self.client.get_result(&id).await.map_err(partner_error)?;
            Ok(ResultState {
                invitation_id: result.invitation_id,
                status: serde_json::to_value(result.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                average_score: result.average_score,
                recommendation: result
                    .recommendation
                    .and_then(|r| serde_json::to_value(r).ok())
                    .and_then(|v| v.as_str().map(str::to_owned)),
                review_count: result.review_count,
                review_url: Some(result.review_url),
            })
        })
    }

    fn user(&self, id: &str) -> PortFuture<'_, UserState> {
        let id = id.to_owned();
        Box::pin(async move {
            let user = self.client.get_user(&id).await.map_err(partner_error)?;
            Ok(user_state(user))
        })
    }

    fn create_user(
        &self,
        op_key: &str,
        email: &str,
        name: &str,
        role: Role,
    ) -> PortFuture<'_, CreatedUser> {
        let request = CreateUserRequest {
            email: email.to_owned(),
            name: name.to_owned(),
            role: role.into(),
        };
        let key = self.key(op_key, &request);
        Box::pin(async move {
            match self
                .client
                .create_user(&key, &request)
                .await
                .map_err(partner_error)?
            {
                crate::suite::Created::New(user) => Ok(CreatedUser::New(user_state(user))),
                crate::suite::Created::Existing { existing_id } => {
                    Ok(CreatedUser::Existing { id: existing_id })
                }
            }
        })
    }

    fn set_user_role(&self, id: &str, role: Role) -> PortFuture<'_, UserState> {
        let request = UpdateUserRequest {
            role: Some(role.into()),
            ..Default::default()
        };
        let id = id.to_owned();
        Box::pin(async move {
            let user = self
                .client
                .update_user(&id, &request)
                .await
                .map_err(partner_error)?;
            Ok(user_state(user))
        })
    }
}

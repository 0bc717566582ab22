//! Invitations, their reviews and results, and the simulated life of an interview (start,
//! completion with reviews, expiry).

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SuiteSim;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::model::{
    Invitation, InvitationStatus, ProjectStatus, Recommendation, Review, Role, Timestamp, User, now,
};
use super::pagination::{Page, PageQuery, paginate};
use super::state::Store;

const DEFAULT_VALIDITY_DAYS: i64 = 7;

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route(
            "/v1/projects/{id}/invitations",
            post(create_invitation).get(list_invitations),
        )
        .route("/v1/invitations/{id}", get(get_invitation))
        .route("/v1/invitations/{id}/cancel", post(cancel_invitation))
        .route("/v1/invitations/{id}/reviews", get(list_reviews))
        .route("/v1/invitations/{id}/result", get(get_result))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvitationIn {
    pub candidate_id: String,
    pub expires_at: Option<Timestamp>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InvitationFilter {
    pub status: Option<InvitationStatus>,
}

/// One simulated review, as `POST /_sim/invitations/{id}/complete` takes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    pub score: u8,
    pub recommendation: Recommendation,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Serialize)]
pub struct InvitationResult {
    pub invitation_id: String,
    pub status: InvitationStatus,
    pub average_score: Option<f64>,
    pub recommendation: Option<Recommendation>,
    pub review_count: usize,
    pub review_url: String,
}

impl Store {
    pub fn invitation(&self, id: &str) -> Result<&Invitation, ApiError> {
        self.invitations
            .get(id)
            .ok_or_else(|| ApiError::not_found("invitation", id))
    }

    pub fn create_invitation(
        &mut self,
        project_id: &str,
        input: InvitationIn,
        public_url: &str,
    ) -> Result<Invitation, ApiError> {
        if self.project(project_id)?.status == ProjectStatus::Archived {
            return Err(ApiError::unprocessable(
                "project_archived",
                "the project is archived",
            ));
        }
        if !self.candidates.contains_key(&input.candidate_id) {
            return Err(ApiError::unprocessable(
                "unknown_candidate",
                format!("no candidate {}", input.candidate_id),
            ));
        }
        let pair = (project_id.to_owned(), input.candidate_id.clone());
        let live = self
            .indexes
            .invitations_by_pair
            .get(&pair)
            .into_iter()
            .flatten()
            .filter_map(|id| self.invitations.get(id))
            .find(|i| i.status.is_live());
        if let Some(live) = live {
            return Err(ApiError::conflict(
                "already_invited",
                "the candidate has a live invitation to this project",
                &live.id,
            ));
        }
        let at = now();
        let expires_at = input
            .expires_at
            .unwrap_or(at + chrono::Duration::days(DEFAULT_VALIDITY_DAYS));
        if expires_at <= at {
            return Err(ApiError::invalid_request(
                "expires_at must be in the future",
            ));
        }
        let id = self.next_id("inv");
        let invitation = Invitation {
            interview_url: format!("{public_url}/interview/{id}"),
            id,
            project_id: project_id.to_owned(),
            candidate_id: input.candidate_id,
            status: InvitationStatus::Sent,
            expires_at,
            completed_at: None,
            created_at: at,
            updated_at: at,
        };
        self.expiry_horizon = self.expiry_horizon.map(|h| h.min(invitation.expires_at));
        self.indexes
            .invitations_by_pair
            .entry(pair)
            .or_default()
            .push(invitation.id.clone());
        self.invitations
            .insert(invitation.id.clone(), invitation.clone());
        Ok(invitation)
    }

    /// Moves an invitation to `status` and emits the matching `invitation.*` event.
    fn transition(
        &mut self,
        id: &str,
        status: InvitationStatus,
        event_type: &str,
    ) -> Result<Invitation, ApiError> {
        let invitation = self
            .invitations
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("invitation", id))?;
        let at = now();
        invitation.status = status;
        invitation.updated_at = at;
        if status == InvitationStatus::Completed {
            invitation.completed_at = Some(at);
        }
        let invitation = invitation.clone();
        self.emit_object(event_type, &invitation);
        Ok(invitation)
    }

    /// Expires live invitations past their `expires_at`; called before every state access.
    pub fn expire_due_invitations(&mut self, at: Timestamp) {
        if self.expiry_horizon.is_some_and(|horizon| at < horizon) {
            return;
        }
        let due: Vec<String> = self
            .invitations
            .values()
            .filter(|i| i.status.is_live() && i.expires_at <= at)
            .map(|i| i.id.clone())
            .collect();
        for id in due {
            let _ = self.transition(&id, InvitationStatus::Expired, "invitation.expired");
        }
        self.expiry_horizon = Some(
            self.invitations
                .values()
                .filter(|i| i.status.is_live())
                .map(|i| i.expires_at)
                .min()
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        );
    }

    /// Cancels a live invitation; cancelling twice is fine.
    pub fn cancel_invitation(&mut self, id: &str) -> Result<Invitation, ApiError> {
        let invitation = self.invitation(id)?;
        match invitation.status {
            InvitationStatus::Cancelled => Ok(invitation.clone()),
            status if status.is_live() => {
                self.transition(id, InvitationStatus::Cancelled, "invitation.cancelled")
            }
            _ => Err(ApiError::unprocessable(
                "invalid_state",
                "only a sent or started invitation can be cancelled",
            )),
        }
    }

    /// The candidate opens the interview.
    pub fn start_invitation(&mut self, id: &str) -> Result<Invitation, ApiError> {
        let invitation = self.invitation(id)?;
        match invitation.status {
            InvitationStatus::Started => Ok(invitation.clone()),
            InvitationStatus::Sent => {
                self.transition(id, InvitationStatus::Started, "invitation.started")
            }
            _ => Err(ApiError::unprocessable(
                "invalid_state",
                "the invitation is not live",
            )),
        }
    }

    /// The candidate finishes and simulated reviewers rate the interview. On an already
    /// completed invitation this only adds reviews.
    pub fn complete_invitation(
        &mut self,
        id: &str,
        reviews: Vec<ReviewIn>,
    ) -> Result<(Invitation, Vec<Review>), ApiError> {
        if reviews.iter().any(|r| r.score > 100) {
            return Err(ApiError::invalid_request("score must be between 0 and 100"));
        }
        let current = self.invitation(id)?.clone();
        let invitation = match current.status {
            InvitationStatus::Completed => current,
            status if status.is_live() => {
                self.transition(id, InvitationStatus::Completed, "invitation.completed")?
            }
            _ => {
                return Err(ApiError::unprocessable(
                    "invalid_state",
                    "the invitation is not live",
                ));
            }
        };
        let mut created = Vec::with_capacity(reviews.len());
        for (index, review) in reviews.into_iter().enumerate() {
            let reviewer_id = self.simulated_reviewer(index + 1);
            let at = now();
            let review = Review {
                id: self.next_id("rev"),
                invitation_id: id.to_owned(),
                reviewer_id,
                score: review.score,
                recommendation: review.recommendation,
                comment: review.comment,
                created_at: at,
                updated_at: at,
            };
            self.indexes
                .reviews_by_invitation
                .entry(review.invitation_id.clone())
                .or_default()
                .push(review.id.clone());
            self.reviews.insert(review.id.clone(), review.clone());
            self.emit_object("review.created", &review);
            created.push(review);
        }
        Ok((invitation, created))
    }

    /// The id of reviewer number `n`, a user created on first need.
    fn simulated_reviewer(&mut self, n: usize) -> String {
        let email = format!("reviewer{n}@suite.example");
        if let Some(user) = self.users.values().find(|u| u.email == email) {
            return user.id.clone();
        }
        let user = User {
            id: self.next_id("usr"),
            email,
            name: format!("Reviewer {n}"),
            role: Role::Reviewer,
            active: true,
        };
        let id = user.id.clone();
        self.users.insert(id.clone(), user);
        id
    }

    /// The invitation's reviews, in id order.
    pub fn reviews_of(&self, invitation_id: &str) -> Vec<Review> {
        let mut reviews: Vec<Review> = self
            .indexes
            .reviews_by_invitation
            .get(invitation_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.reviews.get(id))
            .cloned()
            .collect();
        reviews.sort_by(|a, b| a.id.cmp(&b.id));
        reviews
    }

    pub fn result_of(
        &self,
        invitation_id: &str,
        public_url: &str,
    ) -> Result<InvitationResult, ApiError> {
        let invitation = self.invitation(invitation_id)?;
        let reviews = self.reviews_of(invitation_id);
        let average_score = (!reviews.is_empty()).then(|| {
            reviews.iter().map(|r| f64::from(r.score)).sum::<f64>() / reviews.len() as f64
        });
        Ok(InvitationResult {
            invitation_id: invitation.id.clone(),
            status: invitation.status,
            average_score,
            recommendation: majority(reviews.iter().map(|r| r.recommendation)),
            review_count: reviews.len(),
            review_url: format!("{public_url}/invitations/{invitation_id}/reviews"),
        })
    }
}

/// The recommendation given more often than any other; `None` without reviews or on a tie.
pub fn majority(recommendations: impl Iterator<Item = Recommendation>) -> Option<Recommendation> {
    let mut counts: HashMap<Recommendation, usize> = HashMap::new();
    for recommendation in recommendations {
        *counts.entry(recommendation).or_default() += 1;
    }
    let best = counts.values().copied().max()?;
    let mut leaders = counts.into_iter().filter(|(_, count)| *count == best);
    match (leaders.next(), leaders.next()) {
        (Some((leader, _)), None) => Some(leader),
        _ => None,
    }
}

async fn create_invitation(
    State(sim): State<SuiteSim>,
    Path(project_id): Path<String>,
    ApiJson(input): ApiJson<InvitationIn>,
) -> Result<(StatusCode, Json<Invitation>), ApiError> {
    let public_url = sim.public_url().to_owned();
    let invitation =
        sim.mutate(|store| store.create_invitation(&project_id, input, &public_url))?;
    Ok((StatusCode::CREATED, Json(invitation)))
}

async fn list_invitations(
    State(sim): State<SuiteSim>,
    Path(project_id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<InvitationFilter>,
) -> Result<Json<Page<Invitation>>, ApiError> {
    let invitations = sim.mutate(|store| {
        store.project(&project_id)?;
        Ok(store
            .invitations
            .values()
            .filter(|i| i.project_id == project_id)
            .filter(|i| filter.status.is_none_or(|status| i.status == status))
            .cloned()
            .collect())
    })?;
    Ok(Json(paginate(invitations, &page)?))
}

async fn get_invitation(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Invitation>, ApiError> {
    Ok(Json(sim.mutate(|store| store.invitation(&id).cloned())?))
}

async fn cancel_invitation(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Invitation>, ApiError> {
    Ok(Json(sim.mutate(|store| store.cancel_invitation(&id))?))
}

async fn list_reviews(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Json<Page<Review>>, ApiError> {
    let reviews = sim.mutate(|store| {
        store.invitation(&id)?;
        Ok(store.reviews_of(&id))
    })?;
    Ok(Json(paginate(reviews, &page)?))
}

async fn get_result(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<InvitationResult>, ApiError> {
    let public_url = sim.public_url().to_owned();
    Ok(Json(sim.mutate(|store| store.result_of(&id, &public_url))?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Recommendation::{Advance, Hold, Reject};

    #[test]
    fn majority_needs_a_single_leader() {
        assert_eq!(majority([].into_iter()), None);
        assert_eq!(
            majority([Advance, Advance, Reject].into_iter()),
            Some(Advance)
        );
        assert_eq!(majority([Advance, Hold].into_iter()), None);
        assert_eq!(
            majority([Hold, Advance, Hold, Reject].into_iter()),
            Some(Hold)
        );
    }
}

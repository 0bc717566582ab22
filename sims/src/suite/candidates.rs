//! Candidates, unique by email (compared case-insensitively).

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::SuiteSim;
use super::error::{ApiError, ApiJson, ApiQuery, double_option};
use super::model::{Candidate, now};
use super::pagination::{Page, PageQuery, paginate};
use super::state::Store;

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route(
            "/v1/candidates",
            post(create_candidate).get(list_candidates),
        )
        .route(
            "/v1/candidates/{id}",
            get(get_candidate).patch(update_candidate),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidateIn {
    pub external_ref: Option<String>,
    pub first_name: String,
    pub last_name: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidatePatch {
    #[serde(default, deserialize_with = "double_option")]
    pub external_ref: Option<Option<String>>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    pub locale: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CandidateFilter {
    pub email: Option<String>,
    pub external_ref: Option<String>,
}

const DEFAULT_LOCALE: &str = "en";

/// The minimal shape check a real API does: something@something.
pub fn looks_like_email(email: &str) -> bool {
    matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !email.contains(char::is_whitespace))
}

impl Store {
    pub fn candidate(&self, id: &str) -> Result<&Candidate, ApiError> {
        self.candidates
            .get(id)
            .ok_or_else(|| ApiError::not_found("candidate", id))
    }

    fn ensure_candidate_email_free(
        &self,
        email: &str,
        except: Option<&str>,
    ) -> Result<(), ApiError> {
        let existing = self
            .indexes
            .candidates_by_email
            .get(&email.to_lowercase())
            .into_iter()
            .flatten()
            .filter_map(|id| self.candidates.get(id))
            .find(|c| Some(c.id.as_str()) != except);
        match existing {
            Some(existing) => Err(ApiError::conflict(
                "email_taken",
                "a candidate already has this email",
                &existing.id,
            )),
            None => Ok(()),
        }
    }

    pub fn create_candidate(&mut self, input: CandidateIn) -> Result<Candidate, ApiError> {
        if input.first_name.trim().is_empty() {
            return Err(ApiError::invalid_request("first_name must not be empty"));
        }
        if !looks_like_email(&input.email) {
            return Err(ApiError::invalid_request("email is not an email address"));
        }
        self.ensure_candidate_email_free(&input.email, None)?;
        let at = now();
        let candidate = Candidate {
            id: self.next_id("cand"),
            external_ref: input.external_ref,
            first_name: input.first_name,
            last_name: input.last_name.unwrap_or_default(),
            email: input.email,
            phone: input.phone,
            locale: input.locale.unwrap_or_else(|| DEFAULT_LOCALE.to_owned()),
            created_at: at,
            updated_at: at,
        };
        self.indexes.add_candidate(&candidate.email, &candidate.id);
        self.candidates
            .insert(candidate.id.clone(), candidate.clone());
        Ok(candidate)
    }

    /// Applies a patch; emits `candidate.updated` only when something changed.
    pub fn update_candidate(
        &mut self,
        id: &str,
        patch: CandidatePatch,
    ) -> Result<Candidate, ApiError> {
        let mut candidate = self.candidate(id)?.clone();
        if let Some(email) = &patch.email {
            if !looks_like_email(email) {
                return Err(ApiError::invalid_request("email is not an email address"));
            }
            self.ensure_candidate_email_free(email, Some(id))?;
        }
        let before = serde_json::to_value(&candidate).unwrap_or_default();
        if let Some(external_ref) = patch.external_ref {
            candidate.external_ref = external_ref;
        }
        if let Some(first_name) = patch.first_name {
            candidate.first_name = first_name;
        }
        if let Some(last_name) = patch.last_name {
            candidate.last_name = last_name;
        }
        if let Some(email) = patch.email {
            candidate.email = email;
        }
        if let Some(phone) = patch.phone {
            candidate.phone = phone;
        }
        if let Some(locale) = patch.locale {
            candidate.locale = locale;
        }
        if serde_json::to_value(&candidate).unwrap_or_default() != before {
            candidate.updated_at = now();
            if let Some(old) = self
                .candidates
                .insert(candidate.id.clone(), candidate.clone())
            {
                self.indexes.remove_candidate(&old.email, &old.id);
            }
            self.indexes.add_candidate(&candidate.email, &candidate.id);
            self.emit_object("candidate.updated", &candidate);
        }
        Ok(candidate)
    }
}

async fn create_candidate(
    State(sim): State<SuiteSim>,
    ApiJson(input): ApiJson<CandidateIn>,
) -> Result<(StatusCode, Json<Candidate>), ApiError> {
    let candidate = sim.mutate(|store| store.create_candidate(input))?;
    Ok((StatusCode::CREATED, Json(candidate)))
}

async fn list_candidates(
    State(sim): State<SuiteSim>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<CandidateFilter>,
) -> Result<Json<Page<Candidate>>, ApiError> {
    let candidates = sim.mutate(|store| {
        Ok(store
            .candidates
            .values()
            .filter(|c| {
                filter
                    .email
                    .as_deref()
                    .is_none_or(|e| c.email.eq_ignore_ascii_case(e))
            })
            .filter(|c| filter.external_ref.is_none() || c.external_ref == filter.external_ref)
            .cloned()
            .collect())
    })?;
    Ok(Json(paginate(candidates, &page)?))
}

async fn get_candidate(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<Candidate>, ApiError> {
    Ok(Json(sim.mutate(|store| store.candidate(&id).cloned())?))
}

async fn update_candidate(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<CandidatePatch>,
) -> Result<Json<Candidate>, ApiError> {
    Ok(Json(
        sim.mutate(|store| store.update_candidate(&id, patch))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(email: &str) -> CandidateIn {
        CandidateIn {
            external_ref: None,
            first_name: "Ana".into(),
            last_name: Some("Silva".into()),
            email: email.into(),
            phone: None,
            locale: Some("pt-BR".into()),
        }
    }

    #[test]
    fn emails_are_unique_regardless_of_case() {
        let mut store = Store::default();
        let first = store
            .create_candidate(input("ana@example.com"))
            .expect("created");
        let error = store
            .create_candidate(input("ANA@example.com"))
            .expect_err("conflict");
        assert_eq!(error.code, "email_taken");
        assert_eq!(error.existing_id, Some(first.id));
    }

    #[test]
    fn patching_onto_another_candidates_email_conflicts() {
        let mut store = Store::default();
        let ana = store
            .create_candidate(input("ana@example.com"))
            .expect("created");
        let bia = store
            .create_candidate(input("bia@example.com"))
            .expect("created");
        let patch = CandidatePatch {
            email: Some("ana@example.com".into()),
            ..CandidatePatch::default()
        };
        let error = store
            .update_candidate(&bia.id, patch)
            .expect_err("conflict");
        assert_eq!(error.existing_id, Some(ana.id));
    }

    #[test]
    fn email_shapes() {
        assert!(looks_like_email("a@b.co"));
        for bad in ["", "a", "@b.co", "a@b", "a b@c.de"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}

//! Suite users (admins, managers, reviewers). One admin exists from the start: the person who
//! approves the authorization code grant on the consent page.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

use super::SuiteSim;
use super::candidates::looks_like_email;
use super::error::{ApiError, ApiJson, ApiQuery};
use super::model::{Role, User};
use super::pagination::{Page, PageQuery, paginate};
use super::state::Store;

pub const SEEDED_ADMIN_EMAIL: &str = "admin@suite.example";

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route("/v1/users", get(list_users).post(create_user))
        .route("/v1/users/{id}", get(get_user).patch(update_user))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserIn {
    pub email: String,
    pub name: String,
    pub role: Role,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UserFilter {
    pub email: Option<String>,
}

impl Store {
    pub fn seed_admin(&mut self) {
        let user = User {
            id: self.next_id("usr"),
            email: SEEDED_ADMIN_EMAIL.to_owned(),
            name: "Suite Admin".to_owned(),
            role: Role::Admin,
            active: true,
        };
        self.users.insert(user.id.clone(), user);
    }

    /// The user who approves consent requests: the first active admin.
    pub fn consenting_user_id(&self) -> Option<String> {
        self.users
            .values()
            .find(|u| u.role == Role::Admin && u.active)
            .map(|u| u.id.clone())
    }

    pub fn user(&self, id: &str) -> Result<&User, ApiError> {
        self.users
            .get(id)
            .ok_or_else(|| ApiError::not_found("user", id))
    }

    pub fn create_user(&mut self, input: UserIn) -> Result<User, ApiError> {
        if !looks_like_email(&input.email) {
            return Err(ApiError::invalid_request("email is not an email address"));
        }
        if let Some(existing) = self
            .users
            .values()
            .find(|u| u.email.eq_ignore_ascii_case(&input.email))
        {
            return Err(ApiError::conflict(
                "email_taken",
                "a user already has this email",
                &existing.id,
            ));
        }
        let user = User {
            id: self.next_id("usr"),
            email: input.email,
            name: input.name,
            role: input.role,
            active: true,
        };
        self.users.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    /// Applies a patch; emits `user.updated` only when something changed.
    pub fn update_user(&mut self, id: &str, patch: UserPatch) -> Result<User, ApiError> {
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("user", id))?;
        let before = user.clone();
        if let Some(name) = patch.name {
            user.name = name;
        }
        if let Some(role) = patch.role {
            user.role = role;
        }
        if let Some(active) = patch.active {
            user.active = active;
        }
        let user = user.clone();
        let changed =
            user.name != before.name || user.role != before.role || user.active != before.active;
        if changed {
            self.emit_object("user.updated", &user);
        }
        Ok(user)
    }
}

async fn create_user(
    State(sim): State<SuiteSim>,
    ApiJson(input): ApiJson<UserIn>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let user = sim.mutate(|store| store.create_user(input))?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn list_users(
    State(sim): State<SuiteSim>,
    ApiQuery(page): ApiQuery<PageQuery>,
    ApiQuery(filter): ApiQuery<UserFilter>,
) -> Result<Json<Page<User>>, ApiError> {
    let users = sim.mutate(|store| {
        Ok(store
            .users
            .values()
            .filter(|u| {
                filter
                    .email
                    .as_deref()
                    .is_none_or(|e| u.email.eq_ignore_ascii_case(e))
            })
            .cloned()
            .collect())
    })?;
    Ok(Json(paginate(users, &page)?))
}

async fn get_user(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(sim.mutate(|store| store.user(&id).cloned())?))
}

async fn update_user(
    State(sim): State<SuiteSim>,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(sim.mutate(|store| store.update_user(&id, patch))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeded_admin_consents() {
        let mut store = Store::default();
        store.seed_admin();
        let id = store.consenting_user_id().expect("an admin");
        assert_eq!(store.users[&id].email, SEEDED_ADMIN_EMAIL);
    }

    #[test]
    fn a_taken_email_conflicts() {
        let mut store = Store::default();
        store.seed_admin();
        let input = UserIn {
            email: SEEDED_ADMIN_EMAIL.to_uppercase(),
            name: "Other".into(),
            role: Role::Manager,
        };
        let error = store.create_user(input).expect_err("conflict");
        assert_eq!(error.code, "email_taken");
        assert!(error.existing_id.is_some());
    }
}

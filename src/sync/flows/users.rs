//! The suite user of the person in a session (the popup into the suite).
//!
//! A person is the session's ATS user id (`sub`: the ATS's user id for a launch, `sso:<subject>`
//! for an SSO sign-in, the subject being unique within the tenant's one identity provider), and
//! their suite user is the one the `user` equivalence binds to that id. An email is only a claim
//! (an ATS may let people type their own): it names a suite user only when Liaison creates that
//! user now, for this ATS user, or when it links for the first time a user Liaison itself created
//! earlier (recorded in `sync_state` as `created-user:<id>`). Any other suite user with that email,
//! whatever its case, is someone else's account (or the suite's own): refused, never taken.
//!
//! Roles only go up: a session whose ATS role maps to a more powerful suite role raises the suite
//! user to it; a lower mapped role, an unmapped one or none changes nothing, so a role given in the
//! suite is never taken away by opening it. A new user gets the mapped role, else the least one.

use sea_orm::{DatabaseConnection, TransactionTrait as _};

use super::db_error;
use crate::domain::Role;
use crate::equivalence::{self, EntityKind, EquivalenceError};
use crate::sync::JobError;
use crate::sync::keys::{OpKey, StateKey};
use crate::sync::ports::{CreatedUser, PartnerError, SuitePort};
use crate::sync::state;
use crate::tenant::Tenant;

/// Why a person gets no suite login. Each has a stable code the refusal page shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountRefusal {
    /// A suite user already has the email, and Liaison did not create it: not this person's to
    /// take by email.
    #[error("a suite user Liaison did not create already has this email")]
    EmailTaken,
    /// The suite user with the email is linked to another ATS user.
    #[error("the suite user with this email is linked to another ATS user")]
    LinkedElsewhere,
    /// The linked suite user is deactivated, or the suite no longer has it.
    #[error("the linked suite user is inactive or gone")]
    Inactive,
}

impl AccountRefusal {
    /// The machine-readable code (pages, logs, docs/security.md).
    pub fn code(self) -> &'static str {
        match self {
            Self::EmailTaken => "suite_account_taken",
            Self::LinkedElsewhere => "suite_account_linked_elsewhere",
            Self::Inactive => "suite_account_inactive",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error(transparent)]
    Refused(#[from] AccountRefusal),
    /// The suite or the database failed (transient or not, as a job would see it).
    #[error(transparent)]
    Failed(#[from] JobError),
}

impl From<PartnerError> for UserError {
    fn from(error: PartnerError) -> Self {
        Self::Failed(error.into())
    }
}

impl From<sea_orm::DbErr> for UserError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Failed(db_error(error))
    }
}

/// The suite role an ATS role maps to in the tenant's `[roles]`, if it maps.
pub fn mapped_role(tenant: &Tenant, ats_role: Option<&str>) -> Option<Role> {
    ats_role.and_then(|role| tenant.config.roles.get(role))
}

/// The suite role for an ATS role (unknown roles get the least powerful one).
pub fn suite_role(tenant: &Tenant, ats_role: Option<&str>) -> Role {
    mapped_role(tenant, ats_role).unwrap_or(Role::Reviewer)
}

/// The role to set on a suite user who has `current`: the mapped role when it is more powerful,
/// otherwise none (never lower, never without a mapped role).
pub fn raised_role(current: Role, mapped: Option<Role>) -> Option<Role> {
    mapped.filter(|role| role.power() > current.power())
}

/// The suite user of ATS user `ats_user_id`: the linked one, else one created for them now (or a
/// first link to a user Liaison created), with its role raised when the mapped role is higher.
pub async fn ensure_user(
    db: &DatabaseConnection,
    tenant: &Tenant,
    suite: &dyn SuitePort,
    ats_user_id: &str,
    email: &str,
    name: &str,
    ats_role: Option<&str>,
) -> Result<String, UserError> {
    let mapped = mapped_role(tenant, ats_role);
    let existing = equivalence::lookup_by_ats(db, tenant.id, EntityKind::User, ats_user_id)
        .await
        .map_err(db_error)?;
    if let Some(link) = existing {
        return linked_user(suite, &link.suite_id, mapped).await;
    }
    let email_key = email.trim().to_lowercase();
    let op_key = OpKey::User { email: &email_key }.to_string();
    let role = mapped.unwrap_or(Role::Reviewer);
    let (suite_id, linked) = match suite.create_user(&op_key, email, name, role).await? {
        CreatedUser::New(user) => {
            // The record and the link commit together: a concurrent request with the same email
            // sees neither (refused as taken) or both (refused as linked elsewhere), never a
            // created user that is not linked yet.
            let txn = db.begin().await?;
            let key = StateKey::CreatedUser { suite_id: &user.id }.to_string();
            state::put(&txn, tenant.id, &key, &email_key).await?;
            let linked =
                equivalence::link(&txn, tenant.id, EntityKind::User, ats_user_id, &user.id).await;
            txn.commit().await?;
            match linked {
                Ok(_) => return Ok(user.id),
                other => (user.id, other),
            }
        }
        CreatedUser::Existing { id } => {
            let key = StateKey::CreatedUser { suite_id: &id }.to_string();
            if state::get(db, tenant.id, &key).await?.is_none() {
                tracing::warn!(
                    tenant = %tenant.slug(),
                    code = AccountRefusal::EmailTaken.code(),
                    suite_user = %id,
                    "refused: a suite user Liaison did not create has the session's email"
                );
                return Err(AccountRefusal::EmailTaken.into());
            }
            let linked = equivalence::link(db, tenant.id, EntityKind::User, ats_user_id, &id).await;
            (id, linked)
        }
    };
    match linked {
        Ok(_) => linked_user(suite, &suite_id, mapped).await,
        // The same person opened the suite twice at once, and the other request linked first.
        Err(EquivalenceError::AtsIdTaken {
            existing_suite_id, ..
        }) => linked_user(suite, &existing_suite_id, mapped).await,
        Err(EquivalenceError::SuiteIdTaken { .. }) => {
            tracing::warn!(
                tenant = %tenant.slug(),
                code = AccountRefusal::LinkedElsewhere.code(),
                suite_user = %suite_id,
                "refused: the suite user with the session's email is linked to another ATS user"
            );
            Err(AccountRefusal::LinkedElsewhere.into())
        }
        Err(EquivalenceError::Db(error)) => Err(error.into()),
        Err(error) => Err(JobError::permanent(error.to_string()).into()),
    }
}

/// A linked suite user, if active, with its role raised when the mapped role is higher.
async fn linked_user(
    suite: &dyn SuitePort,
    suite_id: &str,
    mapped: Option<Role>,
) -> Result<String, UserError> {
    let user = match suite.user(suite_id).await {
        Ok(user) => user,
        Err(PartnerError::NotFound(_)) => return Err(AccountRefusal::Inactive.into()),
        Err(error) => return Err(error.into()),
    };
    if !user.active {
        return Err(AccountRefusal::Inactive.into());
    }
    if let Some(role) = raised_role(user.role, mapped) {
        suite.set_user_role(&user.id, role).await?;
    }
    Ok(user.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_only_go_up() {
        use Role::{Admin, Manager, Reviewer};
        assert_eq!(raised_role(Reviewer, Some(Manager)), Some(Manager));
        assert_eq!(raised_role(Manager, Some(Admin)), Some(Admin));
        assert_eq!(raised_role(Admin, Some(Reviewer)), None, "never lowered");
        assert_eq!(raised_role(Manager, Some(Manager)), None);
        assert_eq!(raised_role(Admin, None), None, "no role, no change");
        assert_eq!(raised_role(Reviewer, None), None);
    }

    #[test]
    fn refusal_codes_are_stable() {
        assert_eq!(AccountRefusal::EmailTaken.code(), "suite_account_taken");
        assert_eq!(
            AccountRefusal::LinkedElsewhere.code(),
            "suite_account_linked_elsewhere"
        );
        assert_eq!(AccountRefusal::Inactive.code(), "suite_account_inactive");
    }
}

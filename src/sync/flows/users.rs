//! ATS users who open suite pages are found or created in the suite with the role the tenant's
//! `[roles]` mapping gives; a changed mapping updates the suite user.

use sea_orm::DatabaseConnection;

use super::db_error;
use crate::domain::Role;
use crate::equivalence::{self, EntityKind};
use crate::sync::JobError;
use crate::sync::ports::SuitePort;
use crate::tenant::Tenant;

/// The suite role for an ATS role (unknown roles get the least powerful one).
pub fn suite_role(tenant: &Tenant, ats_role: Option<&str>) -> Role {
    ats_role
        .and_then(|role| tenant.config.roles.get(role))
        .unwrap_or(Role::Reviewer)
}

/// The suite user for an ATS user, found or created, with its role brought in line.
pub async fn ensure_user(
    db: &DatabaseConnection,
    tenant: &Tenant,
    suite: &dyn SuitePort,
    ats_user_id: &str,
    email: &str,
    name: &str,
    ats_role: Option<&str>,
) -> Result<String, JobError> {
    let role = suite_role(tenant, ats_role);
    let user = match suite.find_user(email).await? {
        Some(user) => user,
        None => {
            suite
                .create_user(&format!("user:{}", email.to_lowercase()), email, name, role)
                .await?
        }
    };
    if user.role != role {
        suite.set_user_role(&user.id, role).await?;
    }
    let existing = equivalence::lookup_by_ats(db, tenant.id, EntityKind::User, ats_user_id)
        .await
        .map_err(db_error)?;
    match existing {
        Some(link) if link.suite_id == user.id => Ok(user.id),
        Some(_) => {
            equivalence::unlink(db, tenant.id, EntityKind::User, ats_user_id)
                .await
                .map_err(db_error)?;
            link_user(db, tenant, ats_user_id, &user.id).await
        }
        None => link_user(db, tenant, ats_user_id, &user.id).await,
    }
}

async fn link_user(
    db: &DatabaseConnection,
    tenant: &Tenant,
    ats_user_id: &str,
    suite_id: &str,
) -> Result<String, JobError> {
    match equivalence::link(db, tenant.id, EntityKind::User, ats_user_id, suite_id).await {
        Ok(_) => Ok(suite_id.to_owned()),
        Err(equivalence::EquivalenceError::AtsIdTaken {
            existing_suite_id, ..
        }) => Ok(existing_suite_id),
        Err(error) => Err(JobError::permanent(error.to_string())),
    }
}

//! Suite-side changes: keep equivalences current, and honour erasure requests.

use sea_orm::TransactionTrait;
use sha2::{Digest, Sha256};

use super::{Step, db_error};
use crate::equivalence::{self, EntityKind};
use crate::inbox;
use crate::sync::JobError;

async fn touch_by_suite(step: &Step<'_>, kind: EntityKind, suite_id: &str) -> Result<(), JobError> {
    let tenant = step.tenant_id();
    if let Some(link) = equivalence::lookup_by_suite(step.db, tenant, kind, suite_id)
        .await
        .map_err(db_error)?
    {
        equivalence::touch(step.db, tenant, kind, &link.ats_id)
            .await
            .map_err(db_error)?;
        step.note(format!("{kind} {} is in sync", link.ats_id));
    }
    Ok(())
}

pub async fn project_changed(step: &Step<'_>, project_id: &str) -> Result<(), JobError> {
    touch_by_suite(step, EntityKind::Job, project_id).await
}

pub async fn candidate_updated(step: &Step<'_>, candidate_id: &str) -> Result<(), JobError> {
    touch_by_suite(step, EntityKind::Candidate, candidate_id).await
}

pub async fn user_updated(step: &Step<'_>, user_id: &str) -> Result<(), JobError> {
    touch_by_suite(step, EntityKind::User, user_id).await
}

/// A deleted project unbinds its job (a later job change creates a new project).
pub async fn project_deleted(step: &Step<'_>, project_id: &str) -> Result<(), JobError> {
    let tenant = step.tenant_id();
    if let Some(link) = equivalence::lookup_by_suite(step.db, tenant, EntityKind::Job, project_id)
        .await
        .map_err(db_error)?
    {
        equivalence::unlink(step.db, tenant, EntityKind::Job, &link.ats_id)
            .await
            .map_err(db_error)?;
        step.note(format!("job {} unlinked from deleted project", link.ats_id));
    }
    Ok(())
}

/// An erasure request: forget the person. Their equivalence and its history go, the stored
/// payloads that name them are blanked, and one anonymised audit line stays.
pub async fn candidate_deleted(step: &Step<'_>, candidate_id: &str) -> Result<(), JobError> {
    let tenant = step.tenant_id();
    let Some(link) =
        equivalence::lookup_by_suite(step.db, tenant, EntityKind::Candidate, candidate_id)
            .await
            .map_err(db_error)?
    else {
        step.note("unknown candidate: nothing held");
        return Ok(());
    };
    let ats_key = link.ats_id.clone();
    let needles = erasure_needles(&ats_key);
    let txn = step.db.begin().await.map_err(db_error)?;
    equivalence::unlink(&txn, tenant, EntityKind::Candidate, &ats_key)
        .await
        .map_err(db_error)?;
    equivalence::forget_history(&txn, tenant, EntityKind::Candidate, &ats_key)
        .await
        .map_err(db_error)?;
    let blanked = inbox::blank_events_mentioning(&txn, tenant, &needles)
        .await
        .map_err(db_error)?;
    equivalence::record_erasure(
        &txn,
        tenant,
        EntityKind::Candidate,
        &format!("erased:{}", anonymise(&ats_key)),
        &format!("erased:{}", anonymise(candidate_id)),
    )
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)?;
    step.note(format!(
        "erased a candidate: {} stored events blanked",
        blanked
    ));
    Ok(())
}

/// What marks a stored event as being about this person, in Liaison's own normalised JSON.
fn erasure_needles(ats_key: &str) -> Vec<String> {
    match ats_key.strip_prefix("email:") {
        Some(email) => vec![format!("\"email\":\"{email}\"")],
        None => vec![format!("\"ats_candidate_id\":\"{ats_key}\"")],
    }
}

fn anonymise(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

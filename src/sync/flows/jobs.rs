//! ATS job -> suite project.

use super::{Step, db_error};
use crate::equivalence::{self, EntityKind, EquivalenceError, LinkOutcome, NewLink};
use crate::events::AtsJob;
use crate::sync::JobError;
use crate::sync::keys::OpKey;
use crate::sync::plan::{project_external_ref, project_spec};
use crate::sync::ports::PartnerError;

/// Creates or updates the project of an ATS job.
pub async fn upsert(step: &Step<'_>, job: &AtsJob) -> Result<(), JobError> {
    let job = complete_job(step, job).await?;
    let spec = project_spec(&step.tenant.config, &job);
    match equivalence::lookup_by_ats(step.db, step.tenant_id(), EntityKind::Job, &job.ats_job_id)
        .await
        .map_err(db_error)?
    {
        Some(link) => {
            step.suite.update_project(&link.suite_id, &spec).await?;
            step.note(format!("updated project {}", link.suite_id));
            equivalence::touch(step.db, step.tenant_id(), EntityKind::Job, &job.ats_job_id)
                .await
                .map_err(db_error)?;
        }
        None => {
            let id = ensure_project(step, &job).await?;
            step.note(format!("project {id} for job {}", job.ats_job_id));
        }
    }
    Ok(())
}

/// The job as the ATS has it now, when the event carried only part of it.
pub async fn complete_job(step: &Step<'_>, job: &AtsJob) -> Result<AtsJob, JobError> {
    if job.complete {
        return Ok(job.clone());
    }
    match step.ats.fetch_job(&job.ats_job_id).await {
        Ok(fetched) => {
            step.note(format!("fetched job {} from the ATS", job.ats_job_id));
            Ok(fetched)
        }
        // An ATS that cannot be read (a push-only source) gives what the event had.
        Err(PartnerError::Permanent(_)) => Ok(job.clone()),
        Err(error) => Err(error.into()),
    }
}

/// The project of an ATS job, created if needed. A lost equivalence is recovered through the
/// project's `external_ref` instead of creating a second project.
pub async fn ensure_project(step: &Step<'_>, job: &AtsJob) -> Result<String, JobError> {
    let tenant = step.tenant_id();
    if let Some(link) =
        equivalence::lookup_by_ats(step.db, tenant, EntityKind::Job, &job.ats_job_id)
            .await
            .map_err(db_error)?
    {
        return Ok(link.suite_id);
    }
    let external_ref = project_external_ref(&job.ats_job_id);
    let project_id = match step.suite.find_project(&external_ref).await? {
        Some(found) => found.id,
        None => {
            let spec = project_spec(&step.tenant.config, job);
            let op_key = OpKey::Project {
                ats_job_id: &job.ats_job_id,
            }
            .to_string();
            step.suite.create_project(&op_key, &spec).await?
        }
    };
    link(step, EntityKind::Job, &job.ats_job_id, &project_id).await
}

/// Links and answers the suite id that holds (ours, or a racing twin's).
pub async fn link(
    step: &Step<'_>,
    kind: EntityKind,
    ats_id: &str,
    suite_id: &str,
) -> Result<String, JobError> {
    let outcome = equivalence::link(step.db, step.tenant_id(), kind, ats_id, suite_id).await;
    holding_id(kind, suite_id, outcome)
}

/// Links several pairs at once (see `equivalence::link_all`) and answers, for each, the suite id
/// that holds.
pub async fn link_all(step: &Step<'_>, links: &[NewLink<'_>]) -> Result<Vec<String>, JobError> {
    let _turn = crate::store::write_turn(step.db).await;
    equivalence::link_all(step.db, step.tenant_id(), links)
        .await
        .into_iter()
        .zip(links)
        .map(|(outcome, new)| holding_id(new.kind, new.suite_id, outcome))
        .collect()
}

/// The suite id a link attempt leaves bound to the ATS id, or why there is none.
fn holding_id(
    kind: EntityKind,
    suite_id: &str,
    outcome: Result<LinkOutcome, EquivalenceError>,
) -> Result<String, JobError> {
    match outcome {
        Ok(LinkOutcome::Created | LinkOutcome::AlreadyLinked) => Ok(suite_id.to_owned()),
        Err(EquivalenceError::AtsIdTaken {
            existing_suite_id, ..
        }) => Ok(existing_suite_id),
        Err(EquivalenceError::SuiteIdTaken {
            existing_ats_id, ..
        }) => Err(JobError::permanent(format!(
            "suite {} {suite_id} is already linked to {kind} {existing_ats_id}",
            kind.suite_object()
        ))),
        Err(EquivalenceError::InvalidId) => Err(JobError::permanent("an id is empty or too long")),
        Err(EquivalenceError::Db(error)) => Err(db_error(error)),
    }
}

/// Archives the project of a closed job (archiving twice is fine).
pub async fn close(step: &Step<'_>, ats_job_id: &str) -> Result<(), JobError> {
    let link = equivalence::lookup_by_ats(step.db, step.tenant_id(), EntityKind::Job, ats_job_id)
        .await
        .map_err(db_error)?;
    let project_id = match link {
        Some(link) => Some(link.suite_id),
        None => step
            .suite
            .find_project(&project_external_ref(ats_job_id))
            .await?
            .map(|p| p.id),
    };
    let Some(project_id) = project_id else {
        step.note("closed job was never synced: nothing to archive");
        return Ok(());
    };
    match step.suite.archive_project(&project_id).await {
        Ok(()) | Err(PartnerError::NotFound(_)) => {}
        Err(error) => return Err(error.into()),
    }
    step.note(format!("archived project {project_id}"));
    Ok(())
}

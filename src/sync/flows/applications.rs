//! An application entering the interview step gets a suite candidate and an invitation; leaving
//! the step before the interview is done cancels it.

use super::jobs::{complete_job, ensure_project, link_all};
use super::{Step, db_error};
use crate::domain::InvitationStatus;
use crate::equivalence::{self, EntityKind, NewLink};
use crate::events::{AtsApplication, AtsJob};
use crate::sync::JobError;
use crate::sync::keys::{OpKey, StateKey};
use crate::sync::plan::{InvitationWish, candidate_key, candidate_spec, invitation_wish};
use crate::sync::ports::PartnerError;
use crate::tenant::WritebackMode;

pub async fn apply(step: &Step<'_>, application: &AtsApplication) -> Result<(), JobError> {
    match invitation_wish(application, &step.tenant.config.ats.interview_step) {
        InvitationWish::Invited => ensure_invitation(step, application).await,
        InvitationWish::NotInvited => cancel_live_invitation(step, application).await,
    }
}

/// The application as the ATS has it now, then [`apply`]. One the ATS no longer has (deleted)
/// is out of the interview step: a live invitation is cancelled.
pub async fn read_and_apply(step: &Step<'_>, ats_application_id: &str) -> Result<(), JobError> {
    match step.ats.fetch_application(ats_application_id).await {
        Ok(application) => apply(step, &application).await,
        Err(PartnerError::NotFound(_)) => {
            step.note("the application is gone from the ATS");
            let gone = AtsApplication {
                ats_application_id: ats_application_id.to_owned(),
                ..Default::default()
            };
            cancel_live_invitation(step, &gone).await
        }
        Err(error) => Err(error.into()),
    }
}

async fn ensure_invitation(step: &Step<'_>, application: &AtsApplication) -> Result<(), JobError> {
    let tenant = step.tenant_id();
    let app_id = &application.ats_application_id;
    // The application's, job's and candidate's links, in one query.
    let candidate_key = candidate_key(application);
    let mut wanted = vec![
        (EntityKind::Application, app_id.as_str()),
        (EntityKind::Job, application.ats_job_id.as_str()),
    ];
    if let Some(key) = &candidate_key {
        wanted.push((EntityKind::Candidate, key.as_str()));
    }
    let mut links = step.links_by_ats(&wanted).await?.into_iter();
    let (existing, job_link, candidate_link) = (
        links.next().flatten(),
        links.next().flatten(),
        links.next().flatten(),
    );
    if let Some(link) = &existing {
        match step.suite.invitation(&link.suite_id).await {
            Ok(invitation)
                if !matches!(
                    invitation.status,
                    InvitationStatus::Cancelled | InvitationStatus::Expired
                ) =>
            {
                step.note(format!(
                    "already invited: {} ({})",
                    invitation.id, invitation.status
                ));
                return Ok(());
            }
            Ok(_) | Err(PartnerError::NotFound(_)) => {}
            Err(error) => return Err(error.into()),
        }
    }

    let project_id = match job_link {
        Some(link) => link.suite_id,
        None => project_for_unsynced_job(step, application).await?,
    };
    // A candidate created now is linked with the invitation below. If the invitation fails, the
    // retry creates it again under the same key and gets the same one.
    let (candidate_id, created_for) = match (candidate_link, candidate_key) {
        (Some(link), _) => (link.suite_id, None),
        (None, Some(key)) => (create_candidate(step, application, &key).await?, Some(key)),
        (None, None) => {
            return Err(JobError::permanent(
                "the application's candidate has neither id nor email",
            ));
        }
    };

    // A new invitation after a cancelled or expired one is a new operation: its key moves on.
    let generation_key = StateKey::Generation {
        ats_application_id: app_id,
    }
    .to_string();
    let mut generation: u32 = step
        .state(&generation_key)
        .await?
        .and_then(|g| g.parse().ok())
        .unwrap_or(0);
    if existing.is_some() {
        generation += 1;
    }
    let op_key = OpKey::Invite {
        ats_application_id: app_id,
        generation,
    }
    .to_string();
    let invitation = step
        .suite
        .invite(&op_key, &project_id, &candidate_id)
        .await?;
    step.note(format!(
        "invitation {} ({})",
        invitation.id, invitation.status
    ));
    // Written with the job's completion: a retry before it recomputes the same generation.
    step.job
        .put_state_when_done(generation_key, generation.to_string());
    match existing {
        // The common case: the candidate (if created now) and the invitation are bound with the
        // job's completion, in its transaction. A retry before then finds no link, asks again
        // under the same keys and gets the same candidate and invitation.
        None => {
            if let Some(key) = &created_for {
                step.job
                    .link_when_done(EntityKind::Candidate, key, &candidate_id);
            }
            step.job
                .link_when_done(EntityKind::Application, app_id, &invitation.id);
        }
        // A new invitation after a cancelled or expired one replaces the binding now.
        Some(old) => {
            if old.suite_id != invitation.id {
                equivalence::unlink(step.db, tenant, EntityKind::Application, app_id)
                    .await
                    .map_err(db_error)?;
            }
            let mut links = Vec::with_capacity(2);
            if let Some(key) = &created_for {
                links.push(NewLink {
                    kind: EntityKind::Candidate,
                    ats_id: key,
                    suite_id: &candidate_id,
                });
            }
            links.push(NewLink {
                kind: EntityKind::Application,
                ats_id: app_id,
                suite_id: &invitation.id,
            });
            link_all(step, &links).await?;
        }
    }

    let config = &step.tenant.config;
    if matches!(
        config.writeback.mode,
        WritebackMode::Comment | WritebackMode::Both
    ) && step.ats.can_write_back()
        && let Some(url) = &invitation.interview_url
    {
        let text = format!("Video interview invitation sent. Interview link: {url}");
        let key = OpKey::InviteComment {
            ats_application_id: app_id,
            invitation_id: &invitation.id,
        }
        .to_string();
        super::results::comment_once(step, &application.ats_job_id, app_id, &key, &text, None)
            .await?;
    }
    Ok(())
}

/// The job was never synced: its project is created first.
async fn project_for_unsynced_job(
    step: &Step<'_>,
    application: &AtsApplication,
) -> Result<String, JobError> {
    let partial = AtsJob {
        ats_job_id: application.ats_job_id.clone(),
        title: application.job_title.clone(),
        ..Default::default()
    };
    let job = complete_job(step, &partial).await?;
    ensure_project(step, &job).await
}

/// Creates the suite candidate of an application whose candidate (`key`) is not linked yet; the
/// caller links it.
async fn create_candidate(
    step: &Step<'_>,
    application: &AtsApplication,
    key: &str,
) -> Result<String, JobError> {
    let spec = candidate_spec(&step.tenant.config, application)
        .ok_or_else(|| JobError::permanent("the application's candidate has no email"))?;
    // No lookup first: the suite keeps one candidate per email and answers a create for a taken
    // email with 409 `email_taken` and the existing id, which the port adopts. One call instead
    // of up to three.
    step.suite
        .create_candidate(&OpKey::Candidate { key }.to_string(), &spec)
        .await
        .map_err(Into::into)
}

async fn cancel_live_invitation(
    step: &Step<'_>,
    application: &AtsApplication,
) -> Result<(), JobError> {
    let wanted = [(
        EntityKind::Application,
        application.ats_application_id.as_str(),
    )];
    let Some(link) = step.links_by_ats(&wanted).await?.pop().flatten() else {
        step.note("not in the interview step and never invited: nothing to do");
        return Ok(());
    };
    let invitation = match step.suite.invitation(&link.suite_id).await {
        Ok(invitation) => invitation,
        Err(PartnerError::NotFound(_)) => return Ok(()),
        Err(error) => return Err(error.into()),
    };
    if invitation.is_live() {
        step.suite.cancel_invitation(&invitation.id).await?;
        step.note(format!("cancelled invitation {}", invitation.id));
    } else {
        step.note(format!(
            "invitation {} is {}: kept",
            invitation.id, invitation.status
        ));
    }
    Ok(())
}

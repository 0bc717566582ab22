//! Suite results back to the ATS: tags and comments, each written once.

use super::{Step, db_error};
use crate::domain::InvitationStatus;
use crate::equivalence::EntityKind;
use crate::events::{InvitationEventStatus, RESULT_EVENT_TYPES};
use crate::ids::JobId;
use crate::queue;
use crate::sync::JobError;
use crate::sync::keys::{OpKey, StateKey};
use crate::sync::plan::{Writeback, WrittenOutcome, writeback_plan};
use crate::sync::ports::PartnerError;
use crate::sync::state::{self, Intent};
use crate::tenant::WritebackMode;

/// Where an invitation stands for a flow: its id, and its project when the event said (an
/// invitation never changes project, so the event's word is as good as a fetch).
#[derive(Clone, Copy)]
pub struct InvitationRef<'a> {
    pub id: &'a str,
    pub project_id: Option<&'a str>,
}

/// The ATS application and job an invitation belongs to, when Liaison made it.
async fn application_of(
    step: &Step<'_>,
    invitation: InvitationRef<'_>,
) -> Result<Option<(String, String)>, JobError> {
    let invitation_id = invitation.id;
    let Some(application) = step
        .link_by_suite(EntityKind::Application, invitation_id)
        .await?
    else {
        return not_linked(step, invitation_id).await;
    };
    let project_id = match invitation.project_id {
        Some(project_id) => project_id.to_owned(),
        None => step.suite.invitation(invitation_id).await?.project_id,
    };
    let job = step
        .link_by_suite(EntityKind::Job, &project_id)
        .await?
        .ok_or_else(|| JobError::permanent(format!("project {project_id} has no ATS job")))?;
    Ok(Some((application.ats_id, job.ats_id)))
}

/// How long after an invitation was made its link may still be on its way. The invitation job
/// commits the link after the suite answered; a quick candidate, or a busy worker, can put the
/// invitation's events ahead of that commit.
const LINK_GRACE: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// An invitation with no application link: one made outside Liaison (nothing to write back), or
/// one whose link is not committed yet, which is worth waiting for while the job has attempts
/// left.
async fn not_linked(
    step: &Step<'_>,
    invitation_id: &str,
) -> Result<Option<(String, String)>, JobError> {
    let job = &step.job.job;
    if job.attempt >= job.max_attempts {
        return Ok(None);
    }
    let invitation = match step.suite.invitation(invitation_id).await {
        Ok(invitation) => invitation,
        Err(PartnerError::NotFound(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    if chrono::Utc::now() - invitation.created_at < LINK_GRACE {
        return Err(JobError::transient(format!(
            "invitation {invitation_id} is not linked to an application yet: the job that made \
             it may still be committing"
        )));
    }
    Ok(None)
}

pub async fn invitation_changed(
    step: &Step<'_>,
    invitation: InvitationRef<'_>,
    status: &InvitationEventStatus,
) -> Result<(), JobError> {
    let invitation_id = invitation.id;
    match status.known() {
        Some(InvitationStatus::Completed) => write_back(step, invitation).await,
        Some(ended @ (InvitationStatus::Expired | InvitationStatus::Cancelled)) => {
            let order_status = match ended {
                InvitationStatus::Expired => crate::orders::OrderStatus::Expired,
                _ => crate::orders::OrderStatus::Cancelled,
            };
            let orders = crate::sync::orders::record_order_end(
                step.db,
                step.tenant,
                invitation_id,
                order_status,
                step.job,
            );
            if orders.await? {
                return Ok(());
            }
            let config = &step.tenant.config;
            if !matches!(
                config.writeback.mode,
                WritebackMode::Comment | WritebackMode::Both
            ) || !step.ats.can_write_back()
            {
                return Ok(());
            }
            let Some((app_id, job_id)) = application_of(step, invitation).await? else {
                step.note("invitation not made by Liaison: nothing to write back");
                return Ok(());
            };
            let text = format!("Video interview invitation {status}.");
            let key = OpKey::InvitationStatusComment {
                status: ended,
                ats_application_id: &app_id,
                invitation_id,
            }
            .to_string();
            comment_once(step, &job_id, &app_id, &key, &text, None).await
        }
        _ => {
            step.note(format!("invitation {status}: nothing to write back"));
            Ok(())
        }
    }
}

/// Writes the result of an invitation back to the ATS when its verdict is new or changed.
pub async fn write_back(step: &Step<'_>, invitation: InvitationRef<'_>) -> Result<(), JobError> {
    let invitation_id = invitation.id;
    // An embedded-assessment order's invitation: its result goes to the order.
    let order = crate::sync::orders::record_order_result(
        step.db,
        step.tenant,
        step.suite,
        invitation_id,
        step.job,
    );
    if order.await? {
        return Ok(());
    }
    if !step.ats.can_write_back() {
        step.note("this ATS takes no write-backs");
        return Ok(());
    }
    let Some((app_id, job_id)) = application_of(step, invitation).await? else {
        step.note("invitation not made by Liaison: nothing to write back");
        return Ok(());
    };
    // Read before the result is fetched (when the batch was claimed, or now), as
    // `result_jobs_waiting` requires.
    let waiting = match step.reads.waiting_results(step.job.job.id) {
        Some(waiting) => waiting,
        None => result_jobs_waiting(step).await.map_err(db_error)?,
    };
    let result = step.suite.result(invitation_id).await?;
    if !waiting.is_empty() {
        step.note(format!(
            "this result also answers {} waiting event(s)",
            waiting.len()
        ));
        step.job.cover_when_done(waiting);
    }
    let outcome_key = StateKey::Outcome {
        ats_application_id: &app_id,
    }
    .to_string();
    let previous: Option<WrittenOutcome> = step
        .state(&outcome_key)
        .await?
        .and_then(|text| serde_json::from_str(&text).ok());
    let Some((outcome, actions)) = writeback_plan(&step.tenant.config, &result, previous.as_ref())
    else {
        step.note("no new verdict to write back");
        return Ok(());
    };
    for action in actions {
        match action {
            Writeback::Tag { tag } => write_tag(step, &job_id, &app_id, &tag).await?,
            Writeback::Comment {
                key_suffix,
                text,
                score,
            } => {
                let key = OpKey::ResultComment {
                    ats_application_id: &app_id,
                    invitation_id,
                    suffix: &key_suffix,
                }
                .to_string();
                comment_once(step, &job_id, &app_id, &key, &text, score).await?
            }
        }
    }
    let value = serde_json::to_string(&outcome).map_err(|e| JobError::permanent(e.to_string()))?;
    // Written with the job's completion; a retry before it finds every write-back recorded as
    // made and repeats none.
    step.job.put_state_when_done(outcome_key, value);
    Ok(())
}

/// Jobs of result events of this job's invitation, stored and waiting behind it. The suite sent
/// each after the change it reports, so a result fetched after this query already includes
/// that change: those jobs need not fetch it again. (Their versions are not recorded: a result
/// is always read whole and current, so a late older event can only find nothing new.)
async fn result_jobs_waiting(step: &Step<'_>) -> Result<Vec<JobId>, sea_orm::DbErr> {
    let job = &step.job.job;
    queue::pending_after_of_event_types(step.db, &job.ordering_key, job.id, &RESULT_EVENT_TYPES)
        .await
}

/// Tags are idempotent at the ATS: no intent is recorded before the call (an attempt that dies
/// after it simply tags again), and the tag is recorded as written with the job's completion. The
/// verdict written last (`outcome:` state) is what keeps a tag from being written twice.
async fn write_tag(step: &Step<'_>, job_id: &str, app_id: &str, tag: &str) -> Result<(), JobError> {
    step.ats.add_tag(job_id, app_id, tag).await?;
    step.note(format!("tagged application {app_id} {tag}"));
    step.job.record_writeback_when_done(
        format!("tag:{app_id}:{tag}"),
        app_id,
        format!("tag {tag}"),
    );
    Ok(())
}

/// Comments are not idempotent: the intent is recorded before the call. An intent left by an
/// attempt that died mid-call is not repeated (the comment may exist); it is flagged `uncertain`
/// for a human instead of risking a second comment.
pub async fn comment_once(
    step: &Step<'_>,
    job_id: &str,
    app_id: &str,
    key: &str,
    text: &str,
    score: Option<u8>,
) -> Result<(), JobError> {
    let tenant = step.tenant_id();
    match state::begin_writeback(step.db, tenant, key, app_id, text)
        .await
        .map_err(db_error)?
    {
        Intent::Done => return Ok(()),
        Intent::Uncertain => {
            state::mark_uncertain(step.db, tenant, key)
                .await
                .map_err(db_error)?;
            step.note(format!(
                "comment {key} may have been posted by a crashed attempt: not repeated"
            ));
            return Ok(());
        }
        Intent::Proceed => {}
    }
    match step.ats.add_comment(job_id, app_id, text, score).await {
        Ok(comment_id) => {
            step.note(format!("commented on application {app_id}"));
            state::finish_writeback(step.db, tenant, key, Some(comment_id))
                .await
                .map_err(db_error)
        }
        // No answer after the request left: the comment may exist. Repeating it could post it
        // twice, so the intent stays, flagged for a human, and the job goes on.
        Err(PartnerError::Unanswered(reason)) => {
            state::mark_uncertain(step.db, tenant, key)
                .await
                .map_err(db_error)?;
            step.note(format!(
                "comment {key} got no answer ({reason}): it may have been posted, not repeated"
            ));
            Ok(())
        }
        // The ATS answered with an error (or was never reached): the comment was not made, so
        // withdraw the intent and let the retry make it.
        Err(
            error @ (PartnerError::Transient { .. }
            | PartnerError::Permanent(_)
            | PartnerError::NotFound(_)),
        ) => {
            state::finish_writeback(step.db, tenant, key, None)
                .await
                .map_err(db_error)?;
            Err(error.into())
        }
    }
}

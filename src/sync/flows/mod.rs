//! The flows: `apply_event` loads a stored event and hands it to the handler for its kind. Each
//! handler is idempotent: it can run again after a crash between a partner call and our commit,
//! and it converges on the same partner objects (operation keys, 409 `existing_id`, equivalences).

mod applications;
mod jobs;
mod prefetch;
mod reads;
mod results;
mod suite_changes;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::ports::{AtsPort, SuitePort};
use super::{FlowFuture, JobContext, JobError, state};
use crate::equivalence::{self, EntityKind, Equivalence};
use crate::events::EventBody;
use crate::ids::TenantId;
use crate::queue::ClaimedJob;
use crate::tenant::{Directory, Tenant};
use prefetch::{Loaded, Prefetched};
use reads::BatchReads;
use results::InvitationRef;

/// One tenant's partners, as the flows see them.
#[derive(Clone)]
pub struct TenantPartners {
    pub suite: Arc<dyn SuitePort>,
    pub ats: Arc<dyn AtsPort>,
}

/// Builds (or reuses) the partner clients of a tenant.
pub trait Partners: Send + Sync {
    fn for_tenant(&self, tenant: &Tenant) -> Result<TenantPartners, JobError>;
}

/// What every handler works with.
pub struct Step<'a> {
    pub db: &'a DatabaseConnection,
    pub tenant: &'a Tenant,
    pub suite: &'a dyn SuitePort,
    pub ats: &'a dyn AtsPort,
    pub job: &'a JobContext,
    /// What the job's batch read for it ahead of time.
    pub reads: &'a BatchReads,
}

impl Step<'_> {
    pub fn tenant_id(&self) -> TenantId {
        self.tenant.id
    }

    /// The links of `wanted` by ATS id, in order: as the batch read them when it read them all,
    /// else from one query now.
    pub async fn links_by_ats(
        &self,
        wanted: &[(EntityKind, &str)],
    ) -> Result<Vec<Option<Equivalence>>, JobError> {
        let tenant = self.tenant_id();
        let read: Option<Vec<Option<Equivalence>>> = wanted
            .iter()
            .map(|(kind, ats_id)| self.reads.link_by_ats(tenant, *kind, ats_id))
            .collect();
        match read {
            Some(links) => Ok(links),
            None => equivalence::lookup_many_by_ats(self.db, tenant, wanted)
                .await
                .map_err(db_error),
        }
    }

    /// The link of `suite_id`. One the batch found is taken; one it did not find is looked up
    /// again, as the job of another entity may have committed it since (an invitation's link is
    /// written by its application's job).
    pub async fn link_by_suite(
        &self,
        kind: EntityKind,
        suite_id: &str,
    ) -> Result<Option<Equivalence>, JobError> {
        let tenant = self.tenant_id();
        if let Some(Some(link)) = self.reads.link_by_suite(tenant, kind, suite_id) {
            return Ok(Some(link));
        }
        equivalence::lookup_by_suite(self.db, tenant, kind, suite_id)
            .await
            .map_err(db_error)
    }

    /// State `key` of the tenant, as the batch read it or from a query now. For keys only the
    /// job's own entity writes.
    pub async fn state(&self, key: &str) -> Result<Option<String>, JobError> {
        let tenant = self.tenant_id();
        match self.reads.state(tenant, key) {
            Some(value) => Ok(value),
            None => state::get(self.db, tenant, key).await.map_err(db_error),
        }
    }

    pub fn note(&self, what: impl Into<String>) {
        self.job.note_call(what);
    }
}

/// The `apply_event` flow.
pub struct ApplyEvent {
    db: DatabaseConnection,
    tenants: Directory,
    partners: Arc<dyn Partners>,
    prefetched: Prefetched,
}

impl super::Flow for ApplyEvent {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(self.apply(context))
    }

    fn prefetch<'a>(
        &'a self,
        jobs: &'a [&'a ClaimedJob],
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let loaded = self.prefetched.load(&self.db, &self.tenants, jobs).await;
            if let Err(error) = loaded {
                tracing::warn!(error = %error, "prefetch failed; each job loads its own");
            }
        })
    }
}

impl ApplyEvent {
    pub fn new(db: DatabaseConnection, tenants: Directory, partners: Arc<dyn Partners>) -> Self {
        Self {
            db,
            tenants,
            partners,
            prefetched: Prefetched::default(),
        }
    }

    async fn apply(&self, context: &JobContext) -> Result<(), JobError> {
        let job = &context.job;
        let loaded = match self.prefetched.take(job.id) {
            Some(loaded) if Some(loaded.event_id) == prefetch::event_id_of(job) => loaded,
            _ => prefetch::load_one(&self.db, &self.tenants, job).await?,
        };
        let Loaded {
            event,
            tenant,
            applied,
            reads,
            ..
        } = loaded;
        let partners = self.partners.for_tenant(&tenant)?;
        let step = Step {
            db: &self.db,
            tenant: &tenant,
            suite: partners.suite.as_ref(),
            ats: partners.ats.as_ref(),
            job: context,
            reads: &reads,
        };
        let subject = event.subject();
        // Events of one subject run one at a time (the queue's ordering key), and a job's
        // version is written with its completion, so the version read for this job (when it
        // was claimed, or now) is still the latest when the flow ends.
        if state::is_older(event.occurred_at, applied) {
            step.note("stale: a newer event of this entity was already applied");
            return Ok(());
        }
        match &event.body {
            EventBody::JobUpserted(ats_job) => jobs::upsert(&step, ats_job).await?,
            EventBody::JobClosed { ats_job_id } => jobs::close(&step, ats_job_id).await?,
            EventBody::ApplicationChanged(application) => {
                applications::apply(&step, application).await?
            }
            EventBody::ApplicationToRead { ats_application_id } => {
                applications::read_and_apply(&step, ats_application_id).await?
            }
            EventBody::InvitationChanged {
                invitation_id,
                project_id,
                status,
                ..
            } => {
                let invitation = InvitationRef {
                    id: invitation_id,
                    project_id: project_id.as_deref(),
                };
                results::invitation_changed(&step, invitation, status).await?
            }
            EventBody::ReviewChanged { invitation_id, .. } => {
                let invitation = InvitationRef {
                    id: invitation_id,
                    project_id: None,
                };
                results::write_back(&step, invitation).await?
            }
            EventBody::ProjectChanged { project_id, .. } => {
                suite_changes::project_changed(&step, project_id).await?
            }
            EventBody::ProjectDeleted { project_id } => {
                suite_changes::project_deleted(&step, project_id).await?
            }
            EventBody::CandidateUpdated { candidate_id, .. } => {
                suite_changes::candidate_updated(&step, candidate_id).await?
            }
            EventBody::CandidateDeleted { candidate_id } => {
                suite_changes::candidate_deleted(&step, candidate_id).await?
            }
            EventBody::UserUpdated { user_id, .. } => {
                suite_changes::user_updated(&step, user_id).await?
            }
            EventBody::Ignored => step.note("nothing to do for this event"),
        }
        if let (Some(subject), Some(occurred_at)) = (&subject, event.occurred_at)
            && applied != Some(occurred_at)
        {
            let write = state::applied(tenant.id, subject, occurred_at);
            context.put_state_when_done(write.key, write.value);
        }
        Ok(())
    }
}

/// A database error during a flow: worth retrying (the database may be restarting).
pub fn db_error(error: sea_orm::DbErr) -> JobError {
    JobError::transient(format!("database: {error}"))
}

//! What the jobs of a claimed batch will read, read for all of them at once: their links (by ATS
//! id and by suite id), the `sync_state` values they consult, and the result jobs waiting behind
//! each result job. Four queries per batch instead of several per job.
//!
//! A job takes an answer from here when there is one and queries otherwise (a job run alone has
//! none). The answers were read when the batch was claimed. Events of one entity run one at a
//! time, so what only a job's own entity writes (its application's links, its generation, its
//! verdict) cannot change between the claim and the run; the callers say where that is not so.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::domain::InvitationStatus;
use crate::equivalence::{EntityKind, Equivalence};
use crate::events::RESULT_EVENT_TYPES;
use crate::events::{EventBody, InboundEvent};
use crate::ids::{JobId, TenantId};
use crate::queue::{self, ClaimedJob};
use crate::store::entities::{equivalence, sync_state};
use crate::sync::keys::StateKey;
use crate::sync::plan::candidate_key;

type LinkKey = (TenantId, EntityKind, String);

/// The batch's answers; a key that is absent was not read.
#[derive(Default)]
pub struct BatchReads {
    links_by_ats: HashMap<LinkKey, Option<Equivalence>>,
    links_by_suite: HashMap<LinkKey, Option<Equivalence>>,
    state: HashMap<(TenantId, String), Option<String>>,
    waiting_results: HashMap<JobId, Vec<JobId>>,
}

/// Result events that write back (an invitation completed, a review in).
fn writes_back(body: &EventBody) -> Option<&str> {
    match body {
        EventBody::InvitationChanged {
            invitation_id,
            status,
            ..
        } if status.known() == Some(InvitationStatus::Completed) => Some(invitation_id),
        EventBody::ReviewChanged { invitation_id, .. } => Some(invitation_id),
        _ => None,
    }
}

impl BatchReads {
    /// `Some(answer)` when the batch read the link of `ats_id`.
    pub fn link_by_ats(
        &self,
        tenant: TenantId,
        kind: EntityKind,
        ats_id: &str,
    ) -> Option<Option<Equivalence>> {
        self.links_by_ats
            .get(&(tenant, kind, ats_id.to_owned()))
            .cloned()
    }

    /// `Some(answer)` when the batch read the link of `suite_id`.
    pub fn link_by_suite(
        &self,
        tenant: TenantId,
        kind: EntityKind,
        suite_id: &str,
    ) -> Option<Option<Equivalence>> {
        self.links_by_suite
            .get(&(tenant, kind, suite_id.to_owned()))
            .cloned()
    }

    /// `Some(value)` when the batch read state `key`.
    pub fn state(&self, tenant: TenantId, key: &str) -> Option<Option<String>> {
        self.state.get(&(tenant, key.to_owned())).cloned()
    }

    /// The result jobs pending behind result job `job` when the batch was claimed.
    pub fn waiting_results(&self, job: JobId) -> Option<Vec<JobId>> {
        self.waiting_results.get(&job).cloned()
    }

    /// Reads what `jobs` (each with its event) will look up.
    pub async fn load(
        db: &impl ConnectionTrait,
        jobs: &[(&ClaimedJob, &InboundEvent)],
    ) -> Result<Self, DbErr> {
        let mut by_ats: Vec<LinkKey> = Vec::new();
        let mut by_suite: Vec<LinkKey> = Vec::new();
        let mut state_keys: Vec<(TenantId, String)> = Vec::new();
        let mut result_jobs: Vec<&ClaimedJob> = Vec::new();
        for (job, event) in jobs {
            let tenant = job.tenant;
            match &event.body {
                EventBody::ApplicationChanged(application) => {
                    let app_id = &application.ats_application_id;
                    by_ats.push((tenant, EntityKind::Application, app_id.clone()));
                    by_ats.push((tenant, EntityKind::Job, application.ats_job_id.clone()));
                    if let Some(key) = candidate_key(application) {
                        by_ats.push((tenant, EntityKind::Candidate, key));
                    }
                    state_keys.push((
                        tenant,
                        StateKey::Generation {
                            ats_application_id: app_id,
                        }
                        .to_string(),
                    ));
                }
                body => {
                    if let Some(invitation_id) = writes_back(body) {
                        let id = invitation_id.to_owned();
                        by_suite.push((tenant, EntityKind::Application, id));
                        result_jobs.push(job);
                    }
                    if let EventBody::InvitationChanged {
                        project_id: Some(project_id),
                        ..
                    } = body
                    {
                        by_suite.push((tenant, EntityKind::Job, project_id.clone()));
                    }
                }
            }
        }
        let mut reads = Self {
            links_by_ats: read_links(db, by_ats, equivalence::Column::AtsId).await?,
            links_by_suite: read_links(db, by_suite, equivalence::Column::SuiteId).await?,
            ..Self::default()
        };
        // A result job's verdict is kept under its application, known from the link above.
        for ((tenant, kind, _), link) in &reads.links_by_suite {
            if let (EntityKind::Application, Some(link)) = (kind, link) {
                state_keys.push((
                    *tenant,
                    StateKey::Outcome {
                        ats_application_id: &link.ats_id,
                    }
                    .to_string(),
                ));
            }
        }
        reads.state = read_state(db, state_keys).await?;
        reads.waiting_results = read_waiting_results(db, &result_jobs).await?;
        Ok(reads)
    }
}

/// The links of `wanted` (by `column`, the ATS or the suite id), one query; each key answered.
async fn read_links(
    db: &impl ConnectionTrait,
    wanted: Vec<LinkKey>,
    column: equivalence::Column,
) -> Result<HashMap<LinkKey, Option<Equivalence>>, DbErr> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let tenants: Vec<i64> = wanted.iter().map(|(tenant, ..)| tenant.0).collect();
    let kinds: Vec<&str> = wanted.iter().map(|(_, kind, _)| kind.as_str()).collect();
    let ids: Vec<&str> = wanted.iter().map(|(.., id)| id.as_str()).collect();
    let rows = equivalence::Entity::find()
        .filter(equivalence::Column::TenantId.is_in(tenants))
        .filter(equivalence::Column::Kind.is_in(kinds))
        .filter(column.is_in(ids))
        .all(db)
        .await?;
    let mut answers: HashMap<LinkKey, Option<Equivalence>> =
        wanted.into_iter().map(|key| (key, None)).collect();
    for row in rows {
        let Ok(kind) = row.kind.parse::<EntityKind>() else {
            continue;
        };
        let id = match column {
            equivalence::Column::SuiteId => row.suite_id.clone(),
            _ => row.ats_id.clone(),
        };
        // Rows for pairs nobody asked for (another kind's id) are dropped.
        if let Some(answer) = answers.get_mut(&(TenantId(row.tenant_id), kind, id)) {
            *answer = Some(Equivalence {
                kind,
                ats_id: row.ats_id,
                suite_id: row.suite_id,
                created_at: row.created_at,
                synced_at: row.synced_at,
            });
        }
    }
    Ok(answers)
}

async fn read_state(
    db: &impl ConnectionTrait,
    wanted: Vec<(TenantId, String)>,
) -> Result<HashMap<(TenantId, String), Option<String>>, DbErr> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let tenants: Vec<i64> = wanted.iter().map(|(tenant, _)| tenant.0).collect();
    let keys: Vec<&str> = wanted.iter().map(|(_, key)| key.as_str()).collect();
    let rows = sync_state::Entity::find()
        .filter(sync_state::Column::TenantId.is_in(tenants))
        .filter(sync_state::Column::Key.is_in(keys))
        .all(db)
        .await?;
    let mut answers: HashMap<(TenantId, String), Option<String>> =
        wanted.into_iter().map(|key| (key, None)).collect();
    for row in rows {
        if let Some(answer) = answers.get_mut(&(TenantId(row.tenant_id), row.key)) {
            *answer = Some(row.value);
        }
    }
    Ok(answers)
}

/// For each result job of `jobs`, the result jobs pending behind it in its ordering key.
async fn read_waiting_results(
    db: &impl ConnectionTrait,
    jobs: &[&ClaimedJob],
) -> Result<HashMap<JobId, Vec<JobId>>, DbErr> {
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<&str> = jobs.iter().map(|job| job.ordering_key.as_str()).collect();
    let pending = queue::pending_of_event_types(db, &keys, &RESULT_EVENT_TYPES).await?;
    Ok(jobs
        .iter()
        .map(|job| {
            let behind = pending
                .get(&job.ordering_key)
                .into_iter()
                .flatten()
                .filter(|id| **id > job.id.0)
                .map(|id| JobId(*id))
                .collect();
            (job.id, behind)
        })
        .collect())
}

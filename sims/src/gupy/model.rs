//! The simulator's in-memory world and the operations on it (pure: no I/O, no clock reads
//! except the `now` passed in).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::{
    Application, ApplicationStatus, Candidate, Comment, Job, JobRef, JobStatus, Step, StepType,
    Tag, WebhookDelivery,
};

use super::error::SimError;
use super::subscriptions::SubscriptionRecord;

/// Every job gets these steps, in this order; applications start at the first.
const DEFAULT_STEPS: [(&str, StepType); 5] = [
    ("Screening", StepType::Register),
    ("Video interview", StepType::Online),
    ("Technical interview", StepType::Offline),
    ("Offer", StepType::PreHire),
    ("Hired", StepType::Final),
];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    #[serde(flatten)]
    pub job: Job,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRecord {
    #[serde(flatten)]
    pub application: Application,
    pub comments: Vec<Comment>,
}

/// `POST /_sim/jobs` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewJob {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "published")]
    pub status: JobStatus,
    #[serde(default)]
    pub address_city: Option<String>,
    #[serde(default)]
    pub address_state: Option<String>,
    #[serde(default)]
    pub address_country: Option<String>,
}

fn published() -> JobStatus {
    JobStatus::Published
}

/// `PATCH /_sim/jobs/{id}` body.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobChange {
    pub name: Option<String>,
    pub status: Option<JobStatus>,
    pub description: Option<String>,
}

/// The candidate of `POST /_sim/jobs/{id}/applications`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCandidate {
    pub name: String,
    #[serde(default)]
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub mobile_number: Option<String>,
}

/// The world. Ids start at realistic magnitudes so that mixing them up shows in tests.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    pub company_name: String,
    pub jobs: BTreeMap<i64, JobRecord>,
    pub applications: BTreeMap<i64, ApplicationRecord>,
    /// Candidates by email: one candidate may apply to several jobs.
    pub candidates: BTreeMap<String, Candidate>,
    pub subscriptions: Vec<SubscriptionRecord>,
    /// Subscriptions removed by `POST /_sim/webhooks/drop` (Gupy's silent unsubscription).
    pub dropped_subscriptions: Vec<SubscriptionRecord>,
    /// Every event emitted, in order.
    pub events: Vec<WebhookDelivery>,
    #[serde(skip)]
    next_ids: HashMap<&'static str, i64>,
}

impl World {
    /// An empty world whose ids start `id_offset` above the usual ones.
    pub fn new(company_name: String, id_offset: i64) -> Self {
        Self {
            company_name,
            jobs: BTreeMap::new(),
            applications: BTreeMap::new(),
            candidates: BTreeMap::new(),
            subscriptions: Vec::new(),
            dropped_subscriptions: Vec::new(),
            events: Vec::new(),
            next_ids: HashMap::from([
                ("job", 19_000 + id_offset),
                ("step", 86_000 + id_offset),
                ("application", 2_937_000 + id_offset),
                ("candidate", 1_999_000 + id_offset),
                ("comment", 500 + id_offset),
            ]),
        }
    }

    fn next_id(&mut self, kind: &'static str) -> i64 {
        let next = self.next_ids.entry(kind).or_insert(1);
        *next += 1;
        *next
    }

    pub fn create_job(&mut self, new: NewJob, now: DateTime<Utc>) -> Job {
        let id = self.next_id("job");
        let steps = DEFAULT_STEPS
            .iter()
            .map(|(name, kind)| Step {
                id: self.next_id("step"),
                name: (*name).to_owned(),
                kind: *kind,
            })
            .collect();
        let job = Job {
            id,
            name: new.name,
            status: new.status,
            description: new.description,
            address_city: new.address_city,
            address_state: new.address_state,
            address_country: new.address_country,
            created_at: now,
            updated_at: now,
        };
        self.jobs.insert(
            id,
            JobRecord {
                job: job.clone(),
                steps,
            },
        );
        job
    }

    /// Applies a change; answers the job and its previous status.
    pub fn change_job(
        &mut self,
        id: i64,
        change: JobChange,
        now: DateTime<Utc>,
    ) -> Result<(Job, JobStatus), SimError> {
        let record = self.jobs.get_mut(&id).ok_or(SimError::NotFound("job"))?;
        let before = record.job.status;
        if let Some(name) = change.name {
            record.job.name = name;
        }
        if let Some(status) = change.status {
            record.job.status = status;
        }
        if change.description.is_some() {
            record.job.description = change.description;
        }
        record.job.updated_at = now;
        Ok((record.job.clone(), before))
    }

    pub fn job(&self, id: i64) -> Result<&JobRecord, SimError> {
        self.jobs.get(&id).ok_or(SimError::NotFound("job"))
    }

    pub fn create_application(
        &mut self,
        job_id: i64,
        candidate: NewCandidate,
        now: DateTime<Utc>,
    ) -> Result<Application, SimError> {
        let record = self.job(job_id)?;
        let job = JobRef {
            id: job_id,
            name: record.job.name.clone(),
        };
        let first_step = record.steps.first().cloned();
        let candidate = match self.candidates.get(&candidate.email) {
            Some(existing) => existing.clone(),
            None => {
                let created = Candidate {
                    id: Some(self.next_id("candidate")),
                    name: candidate.name,
                    last_name: candidate.last_name,
                    email: candidate.email,
                    mobile_number: candidate.mobile_number,
                    phone_number: None,
                };
                self.candidates
                    .insert(created.email.clone(), created.clone());
                created
            }
        };
        let application = Application {
            id: self.next_id("application"),
            status: ApplicationStatus::InProcess,
            tags: Vec::new(),
            current_step: first_step,
            created_at: now,
            updated_at: now,
            candidate,
            job,
        };
        self.applications.insert(
            application.id,
            ApplicationRecord {
                application: application.clone(),
                comments: Vec::new(),
            },
        );
        Ok(application)
    }

    /// Moves an application to the job's step named `step_name`; answers the application and
    /// the step it left.
    pub fn move_application(
        &mut self,
        id: i64,
        step_name: &str,
        now: DateTime<Utc>,
    ) -> Result<(Application, Option<Step>), SimError> {
        let job_id = self.application(id)?.application.job.id;
        let step = self
            .job(job_id)?
            .steps
            .iter()
            .find(|s| s.name == step_name)
            .cloned()
            .ok_or_else(|| {
                SimError::BadRequest(format!("job {job_id} has no step {step_name:?}"))
            })?;
        let record = self.application_mut(id)?;
        let previous = record.application.current_step.replace(step);
        record.application.updated_at = now;
        Ok((record.application.clone(), previous))
    }

    pub fn application(&self, id: i64) -> Result<&ApplicationRecord, SimError> {
        self.applications
            .get(&id)
            .ok_or(SimError::NotFound("application"))
    }

    fn application_mut(&mut self, id: i64) -> Result<&mut ApplicationRecord, SimError> {
        self.applications
            .get_mut(&id)
            .ok_or(SimError::NotFound("application"))
    }

    /// The application `application_id` of job `job_id` (404 when it belongs to another job).
    pub fn application_of_job(
        &mut self,
        job_id: i64,
        application_id: i64,
    ) -> Result<&mut ApplicationRecord, SimError> {
        self.job(job_id)?;
        let record = self.application_mut(application_id)?;
        if record.application.job.id != job_id {
            return Err(SimError::NotFound("application"));
        }
        Ok(record)
    }

    /// Adds a tag unless the application already has it (idempotent per name).
    pub fn set_tag(
        &mut self,
        job_id: i64,
        application_id: i64,
        name: String,
        now: DateTime<Utc>,
    ) -> Result<Tag, SimError> {
        let record = self.application_of_job(job_id, application_id)?;
        let tag = Tag { name };
        if !record.application.tags.contains(&tag) {
            record.application.tags.push(tag.clone());
            record.application.updated_at = now;
        }
        Ok(tag)
    }

    /// Records a comment; each call makes a new one.
    pub fn add_comment(
        &mut self,
        job_id: i64,
        application_id: i64,
        text: String,
        now: DateTime<Utc>,
    ) -> Result<Comment, SimError> {
        let id = self.next_id("comment");
        let record = self.application_of_job(job_id, application_id)?;
        let comment = Comment {
            id,
            text,
            created_at: now,
        };
        record.comments.push(comment.clone());
        Ok(comment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn world_with_application() -> Result<(World, i64, i64), SimError> {
        let mut world = World::new("ACME".into(), 0);
        let now = Utc::now();
        let job = world.create_job(
            NewJob {
                name: "Data Scientist".into(),
                description: None,
                status: JobStatus::Published,
                address_city: None,
                address_state: None,
                address_country: None,
            },
            now,
        );
        let candidate = NewCandidate {
            name: "Maria".into(),
            last_name: "Silva".into(),
            email: "maria@example.com".into(),
            mobile_number: None,
        };
        let app = world.create_application(job.id, candidate, now)?;
        Ok((world, job.id, app.id))
    }

    #[test]
    fn an_application_starts_at_the_first_step_and_moves_by_name() -> Result<(), SimError> {
        let (mut world, _, app) = world_with_application()?;
        let (moved, previous) = world.move_application(app, "Offer", Utc::now())?;
        assert_eq!(previous.map(|s| s.name), Some("Screening".to_owned()));
        assert_eq!(moved.current_step.map(|s| s.kind), Some(StepType::PreHire));
        assert!(world.move_application(app, "Nowhere", Utc::now()).is_err());
        Ok(())
    }

    #[test]
    fn a_candidate_applying_twice_keeps_one_id() -> Result<(), SimError> {
        let (mut world, job, app) = world_with_application()?;
        let again = NewCandidate {
            name: "M".into(),
            last_name: String::new(),
            email: "maria@example.com".into(),
            mobile_number: None,
        };
        let second = world.create_application(job, again, Utc::now())?;
        assert_eq!(
            Some(second.candidate.id),
            world
                .application(app)
                .map(|r| r.application.candidate.id)
                .ok()
        );
        Ok(())
    }

    #[test]
    fn tags_are_set_once_and_comments_accumulate() -> Result<(), SimError> {
        let (mut world, job, app) = world_with_application()?;
        for _ in 0..3 {
            world.set_tag(job, app, "Apto".into(), Utc::now())?;
            world.add_comment(job, app, "x".into(), Utc::now())?;
        }
        let record = world.application(app)?;
        assert_eq!(record.application.tags.len(), 1);
        assert_eq!(record.comments.len(), 3);
        assert!(
            world
                .set_tag(job + 1, app, "Apto".into(), Utc::now())
                .is_err()
        );
        Ok(())
    }
}

//! Liaison's own event type. Every adapter (an ATS kind, the suite, a poller) turns what a partner
//! sends into an `InboundEvent`; the sync engine sees nothing else. Stored as JSON in the inbox
//! (`inbox_events.normalized`), next to the raw payload kept for the event log.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::InvitationStatus;

/// Who sent the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An ATS webhook.
    Ats,
    /// A suite webhook.
    Suite,
    /// An ATS change found by a poller (job feed, REST listing).
    Poll,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Ats => "ats",
            Source::Suite => "suite",
            Source::Poll => "poll",
        }
    }
}

/// One normalised event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InboundEvent {
    pub source: Source,
    /// The sender's own delivery id (Gupy's `id`, `webhook-id`, ...), else a hash of the body.
    pub delivery_id: String,
    /// The partner's name for what happened (`application.moved`, `invitation.completed`, ...).
    pub partner_type: String,
    /// When it happened, by the sender's clock (ms since the epoch), when the sender says.
    pub occurred_at: Option<i64>,
    pub body: EventBody,
}

/// The `partner_type`s of the events after which an invitation's result may have changed: each
/// makes the sync engine fetch the result (or is answered by a fetch already under way,
/// `sync::flows::results`). The flows ask this, never the suite's parser.
pub const RESULT_EVENT_TYPES: [&str; 3] =
    ["invitation.completed", "review.created", "review.updated"];

/// What happened, in Liaison's terms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// An ATS job was created, changed or published: create or update its suite project.
    JobUpserted(AtsJob),
    /// An ATS job was closed, cancelled or left the feed: archive its project.
    JobClosed { ats_job_id: String },
    /// An application was created or moved (its current step and status say where it is now).
    ApplicationChanged(AtsApplication),
    /// An application changed at the ATS, but the delivery is no witness of its state (Lever
    /// signs a token, not the body): the flow reads the application from the ATS first.
    ApplicationToRead { ats_application_id: String },
    /// A suite project changed (`project.updated`, `project.archived`).
    ProjectChanged {
        project_id: String,
        status: Option<String>,
    },
    /// `project.deleted`.
    ProjectDeleted { project_id: String },
    /// `candidate.updated`.
    CandidateUpdated {
        candidate_id: String,
        email: Option<String>,
    },
    /// `candidate.deleted`: an erasure request.
    CandidateDeleted { candidate_id: String },
    /// `invitation.started|completed|expired|cancelled`.
    InvitationChanged {
        invitation_id: String,
        project_id: Option<String>,
        candidate_id: Option<String>,
        status: InvitationEventStatus,
    },
    /// `review.created|updated`.
    ReviewChanged {
        review_id: String,
        invitation_id: String,
    },
    /// `user.updated`.
    UserUpdated {
        user_id: String,
        email: Option<String>,
    },
    /// Accepted and logged, but nothing for Liaison to do (an action it does not act on).
    Ignored,
}

/// An invitation's status as a suite event gives it: one of Liaison's `InvitationStatus`es, or a
/// word the suite's contract does not have, kept as sent so that a stored event replays as it was
/// received. Stored (`inbox_events.normalized`) as the bare word either way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum InvitationEventStatus {
    Known(InvitationStatus),
    Other(String),
}

impl InvitationEventStatus {
    /// The status named `word`: a known one whenever `word` is one of their names.
    pub fn parse(word: &str) -> Self {
        InvitationStatus::parse(word).map_or_else(|| Self::Other(word.to_owned()), Self::Known)
    }

    pub fn known(&self) -> Option<InvitationStatus> {
        match self {
            Self::Known(status) => Some(*status),
            Self::Other(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(status) => status.as_str(),
            Self::Other(word) => word,
        }
    }
}

impl From<String> for InvitationEventStatus {
    fn from(word: String) -> Self {
        Self::parse(&word)
    }
}

impl From<InvitationEventStatus> for String {
    fn from(status: InvitationEventStatus) -> Self {
        match status {
            InvitationEventStatus::Known(status) => status.as_str().to_owned(),
            InvitationEventStatus::Other(word) => word,
        }
    }
}

impl fmt::Display for InvitationEventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ATS job as far as the delivery tells; `complete` is false when the flow must fetch the rest
/// from the ATS (a webhook that carries only the id and name).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AtsJob {
    pub ats_job_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub language: Option<String>,
    /// `YYYY-MM-DD`.
    pub starts_on: Option<String>,
    pub ends_on: Option<String>,
    pub url: Option<String>,
    /// Whether this delivery carries every field Liaison syncs.
    pub complete: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AtsApplication {
    pub ats_application_id: String,
    pub ats_job_id: String,
    pub job_title: Option<String>,
    /// The step the application is in now (its name, as the ATS shows it).
    pub step: Option<String>,
    /// `in_process`, `give_up`, `reproved`, `hired`, when the ATS says.
    pub status: Option<String>,
    pub candidate: AtsCandidate,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AtsCandidate {
    /// May be absent (Gupy): the email identifies the person then.
    pub ats_candidate_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl InboundEvent {
    /// The first id of this event (its delivery id, type and every partner id it names) that
    /// holds a control character (NUL, a line break...), by name. Such an id cannot be stored
    /// everywhere (PostgreSQL's `text` refuses NUL) nor sent on: the delivery is malformed.
    pub fn id_with_control_character(&self) -> Option<&'static str> {
        let bad = |text: &str| text.chars().any(char::is_control);
        self.ids()
            .into_iter()
            .find(|(_, id)| bad(id))
            .map(|(name, _)| name)
    }

    /// Every id the event carries, with its name.
    fn ids(&self) -> Vec<(&'static str, &str)> {
        let body: Vec<(&'static str, Option<&String>)> = match &self.body {
            EventBody::JobUpserted(job) => vec![("ats_job_id", Some(&job.ats_job_id))],
            EventBody::JobClosed { ats_job_id } => vec![("ats_job_id", Some(ats_job_id))],
            EventBody::ApplicationChanged(app) => vec![
                ("ats_application_id", Some(&app.ats_application_id)),
                ("ats_job_id", Some(&app.ats_job_id)),
                ("ats_candidate_id", app.candidate.ats_candidate_id.as_ref()),
            ],
            EventBody::ApplicationToRead { ats_application_id } => {
                vec![("ats_application_id", Some(ats_application_id))]
            }
            EventBody::ProjectChanged { project_id, .. }
            | EventBody::ProjectDeleted { project_id } => vec![("project_id", Some(project_id))],
            EventBody::CandidateUpdated { candidate_id, .. }
            | EventBody::CandidateDeleted { candidate_id } => {
                vec![("candidate_id", Some(candidate_id))]
            }
            EventBody::InvitationChanged {
                invitation_id,
                project_id,
                candidate_id,
                ..
            } => vec![
                ("invitation_id", Some(invitation_id)),
                ("project_id", project_id.as_ref()),
                ("candidate_id", candidate_id.as_ref()),
            ],
            EventBody::ReviewChanged {
                review_id,
                invitation_id,
            } => vec![
                ("review_id", Some(review_id)),
                ("invitation_id", Some(invitation_id)),
            ],
            EventBody::UserUpdated { user_id, .. } => vec![("user_id", Some(user_id))],
            EventBody::Ignored => Vec::new(),
        };
        [
            ("delivery_id", self.delivery_id.as_str()),
            ("type", self.partner_type.as_str()),
        ]
        .into_iter()
        .chain(
            body.into_iter()
                .filter_map(|(name, id)| id.map(|id| (name, id.as_str()))),
        )
        .collect()
    }

    /// The entity this event is about, as an ordering key: events of one subject are applied one
    /// at a time, in order; different subjects in parallel.
    pub fn subject(&self) -> Option<String> {
        Some(match &self.body {
            EventBody::JobUpserted(job) => format!("job:{}", job.ats_job_id),
            EventBody::JobClosed { ats_job_id } => format!("job:{ats_job_id}"),
            EventBody::ApplicationChanged(app) => format!("application:{}", app.ats_application_id),
            EventBody::ApplicationToRead { ats_application_id } => {
                format!("application:{ats_application_id}")
            }
            EventBody::ProjectChanged { project_id, .. }
            | EventBody::ProjectDeleted { project_id } => format!("suite:project:{project_id}"),
            EventBody::CandidateUpdated { candidate_id, .. }
            | EventBody::CandidateDeleted { candidate_id } => {
                format!("suite:candidate:{candidate_id}")
            }
            EventBody::InvitationChanged { invitation_id, .. }
            | EventBody::ReviewChanged { invitation_id, .. } => {
                format!("suite:invitation:{invitation_id}")
            }
            EventBody::UserUpdated { user_id, .. } => format!("suite:user:{user_id}"),
            EventBody::Ignored => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_as_tagged_json() {
        let event = InboundEvent {
            source: Source::Ats,
            delivery_id: "24e99765".to_owned(),
            partner_type: "application.moved".to_owned(),
            occurred_at: Some(1),
            body: EventBody::ApplicationChanged(AtsApplication {
                ats_application_id: "2937132".to_owned(),
                ats_job_id: "19139".to_owned(),
                step: Some("Video interview".to_owned()),
                ..Default::default()
            }),
        };
        let json = serde_json::to_value(&event).expect("serialises");
        assert_eq!(json["body"]["type"], "application_changed");
        let back: InboundEvent = serde_json::from_value(json).expect("parses");
        assert_eq!(back, event);
        assert_eq!(back.subject().as_deref(), Some("application:2937132"));
    }

    #[test]
    fn invitation_statuses_are_stored_as_the_word_the_suite_sent() {
        for (word, parsed) in [
            (
                "completed",
                InvitationEventStatus::Known(InvitationStatus::Completed),
            ),
            (
                "expired",
                InvitationEventStatus::Known(InvitationStatus::Expired),
            ),
            (
                "archived",
                InvitationEventStatus::Other("archived".to_owned()),
            ),
            (
                "Completed",
                InvitationEventStatus::Other("Completed".to_owned()),
            ),
        ] {
            let body = EventBody::InvitationChanged {
                invitation_id: "inv_1".to_owned(),
                project_id: None,
                candidate_id: None,
                status: InvitationEventStatus::parse(word),
            };
            let stored = format!(
                r#"{{"type":"invitation_changed","invitation_id":"inv_1","project_id":null,"candidate_id":null,"status":"{word}"}}"#
            );
            assert_eq!(serde_json::to_string(&body).expect("serialises"), stored);
            let back: EventBody = serde_json::from_str(&stored).expect("parses");
            assert!(
                matches!(back, EventBody::InvitationChanged { ref status, .. } if *status == parsed),
                "{word}"
            );
            assert_eq!(back, body);
        }
        for status in InvitationStatus::ALL {
            assert_eq!(
                InvitationEventStatus::parse(status.as_str()).known(),
                Some(status)
            );
        }
    }

    #[test]
    fn reviews_are_ordered_with_their_invitation() {
        let review = EventBody::ReviewChanged {
            review_id: "rev_1".to_owned(),
            invitation_id: "inv_1".to_owned(),
        };
        let event = InboundEvent {
            source: Source::Suite,
            delivery_id: "msg_1".to_owned(),
            partner_type: "review.created".to_owned(),
            occurred_at: None,
            body: review,
        };
        assert_eq!(event.subject().as_deref(), Some("suite:invitation:inv_1"));
    }
}

//! The sync engine's persisted keys, built in one place: `sync_state` keys ([`StateKey`]), the
//! idempotency / write-back keys of partner operations ([`OpKey`]) and the names of the
//! scheduler's per-tenant leases ([`LeaseName`]).
//!
//! These strings are stored (in `sync_state`, `writebacks` and the suite's idempotency records),
//! so they must never change: the tests below pin each one.

use std::fmt;

use crate::domain::InvitationStatus;

/// What the key of a subject's last applied time starts with.
pub const VERSION_PREFIX: &str = "version:";

/// A key of `sync_state`, per tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKey<'a> {
    /// The invitation generation of an application (moves on after a cancelled or expired one).
    Generation { ats_application_id: &'a str },
    /// The verdict last written back for an application.
    Outcome { ats_application_id: &'a str },
    /// The last applied time of an event subject (`job:...`, `application:...`).
    Version { subject: &'a str },
    /// A suite user Liaison created (its value: the email it was created with, lower case). Only
    /// such a user may be linked to an ATS user by email (`sync::flows::users`).
    CreatedUser { suite_id: &'a str },
}

impl fmt::Display for StateKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateKey::Generation { ats_application_id } => {
                write!(f, "generation:application:{ats_application_id}")
            }
            StateKey::Outcome { ats_application_id } => write!(f, "outcome:{ats_application_id}"),
            StateKey::Version { subject } => write!(f, "{VERSION_PREFIX}{subject}"),
            StateKey::CreatedUser { suite_id } => write!(f, "created-user:{suite_id}"),
        }
    }
}

impl From<StateKey<'_>> for String {
    fn from(key: StateKey<'_>) -> String {
        key.to_string()
    }
}

/// The key of one partner operation: the suite's idempotency key of a create, or the ATS
/// write-back recorded in `writebacks` before it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKey<'a> {
    /// Creating the suite project of an ATS job.
    Project { ats_job_id: &'a str },
    /// Creating a suite candidate (`key`: the candidate's ATS id or email).
    Candidate { key: &'a str },
    /// Creating the suite user of a person (`email` in lower case).
    User { email: &'a str },
    /// Inviting an application's candidate, once per generation.
    Invite {
        ats_application_id: &'a str,
        generation: u32,
    },
    /// The ATS comment with the interview link of a new invitation.
    InviteComment {
        ats_application_id: &'a str,
        invitation_id: &'a str,
    },
    /// The ATS comment saying an invitation expired or was cancelled.
    InvitationStatusComment {
        status: InvitationStatus,
        ats_application_id: &'a str,
        invitation_id: &'a str,
    },
    /// One comment of a result's write-back plan.
    ResultComment {
        ats_application_id: &'a str,
        invitation_id: &'a str,
        suffix: &'a str,
    },
    /// Inviting the candidate of an embedded-assessment ATS's order (`order`: `ord_<id>`).
    OrderInvite { order: &'a str },
}

impl fmt::Display for OpKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpKey::Project { ats_job_id } => write!(f, "project:{ats_job_id}"),
            OpKey::Candidate { key } => write!(f, "candidate:{key}"),
            OpKey::User { email } => write!(f, "user:{email}"),
            OpKey::Invite {
                ats_application_id,
                generation,
            } => write!(f, "invite:{ats_application_id}:{generation}"),
            OpKey::InviteComment {
                ats_application_id,
                invitation_id,
            } => write!(f, "invite-comment:{ats_application_id}:{invitation_id}"),
            OpKey::InvitationStatusComment {
                status,
                ats_application_id,
                invitation_id,
            } => write!(
                f,
                "invitation-{status}:{ats_application_id}:{invitation_id}"
            ),
            OpKey::ResultComment {
                ats_application_id,
                invitation_id,
                suffix,
            } => write!(f, "comment:{ats_application_id}:{invitation_id}:{suffix}"),
            OpKey::OrderInvite { order } => write!(f, "order-invite:{order}"),
        }
    }
}

/// A per-tenant task the scheduler runs once per interval across all processes (`leases.name`;
/// the console shows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseName {
    /// The tenant's poll of its ATS.
    Poll,
    /// The hourly check of the tenant's ATS webhook subscriptions.
    SubscriptionCheck,
}

impl LeaseName {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Poll => "poll",
            Self::SubscriptionCheck => "subscription_check",
        }
    }
}

impl From<OpKey<'_>> for String {
    fn from(key: OpKey<'_>) -> String {
        key.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keys_are_the_persisted_strings() {
        let generation = StateKey::Generation {
            ats_application_id: "a-1",
        };
        assert_eq!(generation.to_string(), "generation:application:a-1");
        let outcome = StateKey::Outcome {
            ats_application_id: "a-1",
        };
        assert_eq!(outcome.to_string(), "outcome:a-1");
        let version = StateKey::Version {
            subject: "application:a-1",
        };
        assert_eq!(version.to_string(), "version:application:a-1");
        assert!(version.to_string().starts_with(VERSION_PREFIX));
        let created = StateKey::CreatedUser {
            suite_id: "usr_00000011",
        };
        assert_eq!(created.to_string(), "created-user:usr_00000011");
    }

    #[test]
    fn lease_names_are_the_persisted_strings() {
        assert_eq!(LeaseName::Poll.as_str(), "poll");
        assert_eq!(LeaseName::SubscriptionCheck.as_str(), "subscription_check");
    }

    #[test]
    fn operation_keys_are_the_persisted_strings() {
        let cases = [
            (OpKey::Project { ats_job_id: "j-1" }, "project:j-1"),
            (OpKey::Candidate { key: "c@x.io" }, "candidate:c@x.io"),
            (OpKey::User { email: "u@x.io" }, "user:u@x.io"),
            (
                OpKey::Invite {
                    ats_application_id: "a-1",
                    generation: 2,
                },
                "invite:a-1:2",
            ),
            (
                OpKey::InviteComment {
                    ats_application_id: "a-1",
                    invitation_id: "inv-1",
                },
                "invite-comment:a-1:inv-1",
            ),
            (
                OpKey::InvitationStatusComment {
                    status: InvitationStatus::Expired,
                    ats_application_id: "a-1",
                    invitation_id: "inv-1",
                },
                "invitation-expired:a-1:inv-1",
            ),
            (
                OpKey::ResultComment {
                    ats_application_id: "a-1",
                    invitation_id: "inv-1",
                    suffix: "verdict",
                },
                "comment:a-1:inv-1:verdict",
            ),
        ];
        for (key, expected) in cases {
            assert_eq!(key.to_string(), expected);
        }
    }
}

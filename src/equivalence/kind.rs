use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What an equivalence binds, named by its ATS side: `job` <-> project, `application` <->
/// invitation, `candidate` <-> candidate, `user` <-> user, `order` (an embedded-assessment ATS's
/// order, by Liaison's order id) <-> invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Job,
    Application,
    Candidate,
    User,
    Order,
}

impl EntityKind {
    pub const ALL: [EntityKind; 5] = [
        Self::Job,
        Self::Application,
        Self::Candidate,
        Self::User,
        Self::Order,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Job => "job",
            Self::Application => "application",
            Self::Candidate => "candidate",
            Self::User => "user",
            Self::Order => "order",
        }
    }

    /// The suite object on the other side.
    pub fn suite_object(self) -> &'static str {
        match self {
            Self::Job => "project",
            Self::Application => "invitation",
            Self::Candidate => "candidate",
            Self::User => "user",
            Self::Order => "invitation",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an entity kind (job, application, candidate, user, order)")]
pub struct UnknownKind(pub String);

/// Accepts the ATS name or the suite name of a kind (`job` or `project`).
impl FromStr for EntityKind {
    type Err = UnknownKind;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "job" | "project" => Ok(Self::Job),
            "application" | "invitation" => Ok(Self::Application),
            "candidate" => Ok(Self::Candidate),
            "user" => Ok(Self::User),
            "order" => Ok(Self::Order),
            other => Err(UnknownKind(other.to_owned())),
        }
    }
}

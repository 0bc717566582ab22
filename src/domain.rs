//! Liaison's own names for partner object states and roles, shared by the sync ports, the web
//! port and the tenant file. Partner wire types map into them at their adapter (`suite::types`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where an interview invitation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationStatus {
    Sent,
    Started,
    Completed,
    Expired,
    Cancelled,
}

impl InvitationStatus {
    pub const ALL: [InvitationStatus; 5] = [
        Self::Sent,
        Self::Started,
        Self::Completed,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Started => "started",
            Self::Completed => "completed",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// The status named `name` exactly; None for any other word.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == name)
    }

    /// Whether the invitation can still be taken.
    pub fn is_live(self) -> bool {
        matches!(self, Self::Sent | Self::Started)
    }
}

impl fmt::Display for InvitationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A suite role: what the tenant file's `[roles]` maps an ATS role to, and what a suite user
/// has. (ATS roles themselves are the ATS's own words, kept as strings: the keys of `[roles]`.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Reviewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Admin, Self::Manager, Self::Reviewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Reviewer => "reviewer",
        }
    }

    /// How much the role may do in the suite: admin 3, manager 2, reviewer 1.
    pub fn power(self) -> u8 {
        match self {
            Self::Admin => 3,
            Self::Manager => 2,
            Self::Reviewer => 1,
        }
    }

    /// The role named `name` exactly (`admin`, `manager`, `reviewer`); None for any other word.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_keep_their_names() {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(names, ["admin", "manager", "reviewer"]);
        for role in Role::ALL {
            let json = serde_json::to_value(role).expect("serialise");
            assert_eq!(json.as_str(), Some(role.as_str()));
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("recruiter"), None);
    }

    #[test]
    fn statuses_keep_their_names() {
        let names: Vec<&str> = InvitationStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            ["sent", "started", "completed", "expired", "cancelled"]
        );
        for status in InvitationStatus::ALL {
            let json = serde_json::to_value(status).expect("serialise");
            assert_eq!(json.as_str(), Some(status.as_str()));
            assert_eq!(InvitationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(InvitationStatus::parse("archived"), None);
    }
}

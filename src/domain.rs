//! Liaison's own names for partner object states, shared by the sync ports and the web port.
//! Partner wire types map into them at their adapter (`suite::types`).

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

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }
}

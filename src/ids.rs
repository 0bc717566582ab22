//! Newtype ids, so that a signature says which id it wants and a log line says what an id is.
//! Liaison's own ids are database integers shown with a prefix (`evt_42`, `job_7`); partner ids are
//! opaque strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.0)
            }
        }

        /// Accepts both the prefixed form (`evt_42`) and the bare number (`42`).
        impl FromStr for $name {
            type Err = InvalidId;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                let digits = text
                    .strip_prefix(concat!($prefix, "_"))
                    .unwrap_or(text);
                digits
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map($name)
                    .ok_or_else(|| InvalidId(text.to_owned()))
            }
        }
    };
}

prefixed_id!(
    /// A bulk replay of a tenant's dead letters (admin console and API).
    BulkReplayId,
    "rpl"
);

#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a valid id")]
pub struct InvalidId(pub String);

prefixed_id!(
    /// A tenant's internal id (tenants are addressed by slug everywhere outside the store).
    TenantId,
    "ten"
);
prefixed_id!(
    /// An event received from a partner and stored in the inbox.
    EventId,
    "evt"
);
prefixed_id!(
    /// A unit of work in the durable queue.
    JobId,
    "job"
);
prefixed_id!(
    /// An embedded-assessment ATS's order of an interview (Greenhouse's `partner_interview_id`).
    OrderId,
    "ord"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_with_prefix_and_parse_both_forms() {
        assert_eq!(EventId(42).to_string(), "evt_42");
        assert_eq!("evt_42".parse::<EventId>().ok(), Some(EventId(42)));
        assert_eq!("42".parse::<EventId>().ok(), Some(EventId(42)));
        assert!("job_42".parse::<EventId>().is_err());
        assert!("evt_-1".parse::<EventId>().is_err());
    }
}

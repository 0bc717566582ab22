//! The tenant file's `[roles]`: which suite role each ATS role gets.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::Role;

/// ATS role -> suite role (`admin`, `manager` or `reviewer`). ATS roles are the ATS's own words;
/// suite roles are parsed when the file is read. A value that names no suite role is kept aside,
/// as written, for `TenantConfig::validate` to refuse: the file's error names it, among the other
/// checks, where it always has. `get` and `iter` see only suite roles. Serialised (the stored
/// settings, the admin API) as the plain map of names it was read from.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RoleMap {
    roles: BTreeMap<String, Role>,
    refused: BTreeMap<String, String>,
}

impl RoleMap {
    /// The suite role `ats_role` maps to, if the file maps it.
    pub fn get(&self, ats_role: &str) -> Option<Role> {
        self.roles.get(ats_role).copied()
    }

    /// ATS role and suite role, by ATS role.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Role)> {
        self.roles.iter().map(|(ats, role)| (ats.as_str(), *role))
    }

    /// The first value (by ATS role) that names no suite role.
    pub fn first_refused(&self) -> Option<&str> {
        self.refused.values().next().map(String::as_str)
    }

    /// Every entry as the file wrote it, by ATS role.
    fn names(&self) -> BTreeMap<&str, &str> {
        self.iter()
            .map(|(ats, role)| (ats, role.as_str()))
            .chain(
                self.refused
                    .iter()
                    .map(|(ats, name)| (ats.as_str(), name.as_str())),
            )
            .collect()
    }
}

impl FromIterator<(String, Role)> for RoleMap {
    fn from_iter<I: IntoIterator<Item = (String, Role)>>(entries: I) -> Self {
        Self {
            roles: entries.into_iter().collect(),
            refused: BTreeMap::new(),
        }
    }
}

impl fmt::Debug for RoleMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.names()).finish()
    }
}

impl Serialize for RoleMap {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RoleMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = BTreeMap::<String, String>::deserialize(deserializer)?;
        let mut map = RoleMap::default();
        for (ats_role, name) in names {
            match Role::parse(&name) {
                Some(role) => {
                    map.roles.insert(ats_role, role);
                }
                None => {
                    map.refused.insert(ats_role, name);
                }
            }
        }
        Ok(map)
    }
}

/// The `[roles]` of a tenant file that has none.
pub(super) fn default_roles() -> RoleMap {
    [
        ("admin", Role::Admin),
        ("recruiter", Role::Manager),
        ("interviewer", Role::Reviewer),
    ]
    .into_iter()
    .map(|(ats, role)| (ats.to_owned(), role))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_map_reads_and_writes_the_names_of_the_file() {
        let json = r#"{"boss":"overlord","admin":"admin","recruiter":"manager"}"#;
        let map: RoleMap = serde_json::from_str(json).expect("a map of strings");
        assert_eq!(map.get("recruiter"), Some(Role::Manager));
        assert_eq!(map.get("boss"), None);
        assert_eq!(map.first_refused(), Some("overlord"));
        assert_eq!(
            serde_json::to_string(&map).expect("serialise"),
            r#"{"admin":"admin","boss":"overlord","recruiter":"manager"}"#
        );
        assert_eq!(
            serde_json::to_string(&default_roles()).expect("serialise"),
            r#"{"admin":"admin","interviewer":"reviewer","recruiter":"manager"}"#
        );
    }
}

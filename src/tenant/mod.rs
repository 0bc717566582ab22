//! Tenants: the tenant file of the contract (`liaison tenant apply`), its validation, and the store
//! finders every other concern goes through (the tenant comes first in every query), and the
//! process's one directory of opened tenants (`directory`).

mod directory;
mod file;
mod repo;
mod roles;

pub use directory::{Directory, SLUG_TTL};
pub use file::is_valid_slug;
pub use file::is_valid_slug as is_slug;
pub use file::{
    AtsKind, AtsSettings, EmbedSettings, LeverAuth, LeverSettings, ProviderKeyForm, ScriptVerifier,
    SsoKind, SsoSettings, SuiteAuth, SuiteSettings, TEAMTAILOR_API_URL, TeamtailorAuthScheme,
    TeamtailorSettings, TenantConfig, TenantFileError, WritebackMode, WritebackSettings,
};
pub(crate) use repo::seal_context;
pub use repo::{
    ApplyOutcome, Tenant, TenantRef, TenantSummary, apply, find, find_ref, ids_of_kind, list, open,
    slugs_by_id,
};
pub use roles::RoleMap;

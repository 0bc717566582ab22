//! The suite API client: typed calls for every endpoint of the contract
//! (`shared/contracts/suite-api.md`), OAuth2 both ways per tenant, retries with backoff,
//! idempotency keys, and per-tenant limits. See `docs/suite-client.md`.
//!
//! Flows get a tenant's client from `SuiteClients::for_tenant` (held by the process: the HTTP state and the sync runtime's `Background`) and call it:
//! `client.create_invitation(&OperationKey::new(slug, "invite", application_id), ...)`.

pub mod auth;
pub mod callback;
mod calls;
mod client;
pub mod error;
pub mod grant_store;
pub mod http;
pub mod idempotency;
pub mod limits;
mod registry;
pub mod retry;
pub mod subscription;
pub mod types;

pub use auth::{AuthorizationError, complete_authorization, start_authorization};
pub use client::{SuiteClient, refresh_lease};
pub use error::SuiteError;
pub use grant_store::GrantStore;
pub use http::build_http_client;
pub use idempotency::OperationKey;
pub use registry::SuiteClients;
pub use retry::RetryPolicy;
pub use types::*;

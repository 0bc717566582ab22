//! The typed endpoints of the suite API, one file per resource, as `impl SuiteClient` blocks.
//! Every POST takes (or derives) an `OperationKey`; creates answer `Created::Existing` on a 409
//! that names the object in the way.

mod candidates;
mod invitations;
mod projects;
mod users;
mod webhooks;

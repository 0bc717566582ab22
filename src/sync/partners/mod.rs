//! The live partners: the suite client and the tenant's ATS adapter, seen through the sync
//! engine's ports.

mod suite;

pub use suite::{SuiteAdapter, partner_error};

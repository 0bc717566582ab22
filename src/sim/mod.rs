//! In-process simulators of Liaison's partners.

pub mod suite;

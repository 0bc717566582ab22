//! The Gupy simulator: a real HTTP server with in-memory state that serves the contract of
//! `contracts/gupy.md`, delivers webhooks and misbehaves on demand (faults), for the demo,
//! `liaison sim gupy` and the tests.

mod api;
mod auth;
mod config;
mod control;
mod delivery;
mod error;
mod events;
mod faults;
mod launch;
mod model;
mod pagination;
mod requisition;
mod server;
mod state;
mod subscriptions;
mod transport;
mod webhooks;
pub mod wire;

pub use config::{EmbedTarget, GupySimConfig};
pub use faults::Faults;
pub use launch::LaunchSubject;
pub use requisition::RECRUITER;
pub use server::{RunningGupySim, router, spawn};
pub use state::SimState;

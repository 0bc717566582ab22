//! The Greenhouse simulator: the Greenhouse side of the Assessment Partner API
//! (`contracts/ats-partners.md` §1.1), a real HTTP server with in-memory state. It calls the
//! partner (Liaison) as Greenhouse does — `list_tests`, `send_test` (also twice at once, as a
//! double click), `test_status` — with the customer's Basic key, takes the partner's empty
//! `PATCH` of a take-home test's URL, then asks `test_status`, and misbehaves on demand (5xx,
//! latency, answers dropped after the PATCH took effect).

mod client;
mod server;
mod state;
pub mod wire;

pub use client::PartnerClient;
pub use server::{RunningGreenhouseSim, router, spawn};
pub use state::{Faults, GreenhouseSimConfig, SimState, TakeHomeTest};

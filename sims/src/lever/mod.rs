//! The Lever simulator (`contracts/ats-partners.md` §2): a real HTTP server with in-memory
//! opportunities, postings, stages, notes and tags under `/v1` (Basic `KEY:` or an OAuth bearer
//! token from its authorization-code server, `oauth`; Lever's
//! token-bucket rate limit with 429s, `perform_as` required on writes, faults on demand), that
//! fires webhooks signed in the body (`hex(HMAC-SHA256(token, token + triggeredAt))`) with
//! retries. Its wire types are its own, written from the contract.

mod api;
mod control;
mod deliveries;
mod faults;
mod model;
mod oauth;
mod server;
mod state;
pub mod webhook;

pub use faults::Faults;
pub use oauth::OAuthCounters;
pub use server::{RunningLeverSim, router, spawn};
pub use state::{LeverSimConfig, SimState};

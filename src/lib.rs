//! Liaison: a self-hostable connector between Applicant Tracking Systems and a video-interview suite.
//!
//! The module list is the architecture at a glance. Data flows one way:
//! HTTP route (or poller) -> inbox -> job queue -> flow -> partner client.

pub mod admin;
pub mod api;
pub mod app;
pub mod ats;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod demo;
pub mod domain;
pub mod equivalence;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod ids;
pub mod inbound;
pub mod inbox;
pub mod orders;
pub mod outbound;
pub mod partner_api;
pub mod queue;
pub mod rekey;
pub mod script;
pub mod signature;
// The partner simulators are their own crate, `liaison_sim` (`sims/`).
pub mod sso;
pub mod store;
pub mod suite;
pub mod sync;
pub mod telemetry;
pub mod tenant;
pub mod time;
pub mod web;

pub use app::App;
pub use config::Settings;

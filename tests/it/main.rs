//! Liaison's integration tests: one binary, one module per concern.

mod api;
mod cli;
mod equivalence;
mod helpers;
mod http;
mod queue;
mod sim_suite;
mod store;
mod suite_client;
mod web;
mod worker;

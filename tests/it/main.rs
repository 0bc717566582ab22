//! Liaison's integration tests: one binary, one module per concern.

mod admin_api;
mod admin_console;
mod admin_support;
mod api;
mod ats_gupy;
mod ats_lever;
mod ats_script;
mod ats_xml_feed;
mod chaos;
mod cli;
mod demo;
mod deploy_files;
mod equivalence;
mod events;
mod greenhouse;
mod helpers;
mod http;
mod inbound;
mod inbound_props;
mod inbound_serve;
mod inbound_support;
mod master_key;
mod observability;
mod queue;
mod scale_out;
mod scheduler;
mod script_runs;
mod security;
mod sim_gupy;
mod sim_suite;
mod store;
mod suite_client;
mod support;
mod sync;
mod teamtailor;
mod tenant_directory;
mod tls;
mod web;
mod worker;
mod xml_feed;

/// The sync test world, shared with the chaos test.
use sync::world as sync_world;

//! The integration test binary: one module per area.

mod sim_gupy;
mod support;
mod xml_feed;

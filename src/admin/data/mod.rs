//! What the console and the JSON API show, read from the store (and the partners, when asked):
//! one module per kind of data. Both front ends call these; neither holds SQL of its own.

pub mod bulk_replay;
pub mod equivalences;
pub mod events;
pub mod masking;
pub mod preview;
pub mod queue;
pub mod tenants;

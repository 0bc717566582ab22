//! The Gupy simulator, driven over real sockets with reqwest: auth, pagination, filters,
//! write-backs, subscriptions and deliveries (received by a small axum server), faults.

mod api;
mod deliveries;
mod faults;
mod harness;

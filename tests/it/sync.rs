//! The sync engine end to end: Liaison between the Gupy and suite simulators, on real HTTP.

mod flows;
mod order;
pub mod world;

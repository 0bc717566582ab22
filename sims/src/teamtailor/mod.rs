//! The Teamtailor simulator: Teamtailor's side of its partner API (`contracts/ats-partners.md`
//! §3.1). It runs a trigger (a signed `POST /webhook` to the partner, never retried), reads the
//! trigger form (`GET /config`), and takes the partner's JSON:API `PUT` of a partner result,
//! checking what Teamtailor requires of it; it refuses the next PUTs on demand.

mod server;
pub mod wire;

pub use server::{
    Faults, PartnerResultRecord, RunningTeamtailorSim, TeamtailorSimConfig, TriggerAnswer, spawn,
};

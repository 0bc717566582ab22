//! Liaison's partner simulators: the Gupy ATS (`contracts/gupy.md`), Greenhouse's Assessment
//! Partner API (`contracts/ats-partners.md` §1.1) and the video-interview suite
//! (`contracts/suite-api.md`), real HTTP servers with in-memory state, for `liaison demo`,
//! `liaison sim` and the tests.
//!
//! An independent witness: this crate never depends on `liaison`. Its wire types, launch-link
//! signing and webhook signing are written from the contracts, so a field the adapter misspells
//! is not misspelt identically here.

pub mod greenhouse;
pub mod gupy;
pub mod lever;
pub mod suite;
pub mod teamtailor;

//! Gupy: the ATS with a dedicated adapter (see `contracts/gupy.md`).

pub mod payload;

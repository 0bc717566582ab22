//! In-process partner simulators, used by `liaison demo`, `liaison sim` and the tests.

pub mod gupy;
pub mod suite;

//! The one integration test binary.

mod sim_suite;

//! Greenhouse's Assessment Partner API end to end: the Greenhouse simulator plays Greenhouse
//! (lists tests, sends orders, takes the PATCH, reads `test_status`), the suite simulator the
//! suite, and the worker is driven by the test (or is a `liaison worker` process, killed).

mod answers;
mod orders;
pub mod world;

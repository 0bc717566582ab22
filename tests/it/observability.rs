//! Metrics, connection health and trace export, after real flows between the simulators.

mod health;
mod metrics;
mod tracing_export;

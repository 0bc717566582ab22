//! One file per table. Times are milliseconds since the Unix epoch (see `crate::time`).

pub mod admin_session;
pub mod bulk_replay;
pub mod bulk_replay_job;
pub mod equivalence;
pub mod equivalence_history;
pub mod inbox_event;
pub mod job;
pub mod job_attempt;
pub mod lease;
pub mod oauth_state;
pub mod order;
pub mod partner_health;
pub mod partner_key;
pub mod partner_report;
pub mod rate_budget;
pub mod script_run;
pub mod spent_token;
pub mod sso_handoff;
pub mod sso_login;
pub mod suite_grant;
pub mod sync_state;
pub mod tenant;
pub mod writeback;

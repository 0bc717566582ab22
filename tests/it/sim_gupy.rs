use super::support::wait_until;

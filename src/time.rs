//! Liaison stores every time as milliseconds since the Unix epoch, set in code, so SQLite and
//! PostgreSQL compare and sort them alike. These helpers convert at the edges.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// RFC 3339 UTC text for a stored millisecond time (`2026-11-22T10:00:00.000Z`).
pub fn to_rfc3339(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(at) => at.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => ms.to_string(),
    }
}

/// Parses an RFC 3339 time into stored milliseconds.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc).timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_milliseconds() {
        let ms = parse_rfc3339("2019-06-19T23:48:46.952Z");
        assert_eq!(ms, Some(1_560_988_126_952));
        assert_eq!(to_rfc3339(1_560_988_126_952), "2019-06-19T23:48:46.952Z");
    }
}

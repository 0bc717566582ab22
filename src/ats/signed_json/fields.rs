//! Reading the `signed-json` fields of `contracts/ats-generic.md` from a JSON body, each from its
//! default place (`/job_name`) or from the JSON Pointer the tenant configured
//! (`[ats.fields] job_name = "/title"`). Pure.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::Value;

use crate::ats::error::ParseError;

/// A body and the tenant's field overrides.
pub struct Fields<'a> {
    body: &'a Value,
    overrides: &'a BTreeMap<String, String>,
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a Value, overrides: &'a BTreeMap<String, String>) -> Self {
        Self { body, overrides }
    }

    fn raw(&self, name: &str) -> Option<&'a Value> {
        let found = match self.overrides.get(name) {
            Some(pointer) => self.body.pointer(pointer),
            // The default places are plain keys: looked up without building and parsing a
            // pointer for each field of each webhook.
            None => match name.strip_prefix("candidate_") {
                Some(rest) => self.body.get("candidate").and_then(|c| c.get(rest)),
                None => self.body.get(name),
            },
        };
        found.filter(|v| !v.is_null())
    }

    /// A text field: a string (trimmed; empty means absent) or a number written as text.
    pub fn text(&self, name: &str) -> Result<Option<String>, ParseError> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ParseError::new(format!("`{name}` must be a string"))),
        }
    }

    pub fn required(&self, name: &str) -> Result<String, ParseError> {
        self.text(name)?
            .ok_or_else(|| ParseError::new(format!("`{name}` is required")))
    }

    /// A number, or a string holding one (form bodies carry only strings).
    pub fn number(&self, name: &str) -> Result<Option<f64>, ParseError> {
        let bad = || ParseError::new(format!("`{name}` must be a number"));
        match self.raw(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Some)
                .ok_or_else(bad),
            Some(_) => Err(bad()),
        }
    }

    /// An ISO 8601 date or date-time, as its `YYYY-MM-DD` date.
    pub fn date(&self, name: &str) -> Result<Option<String>, ParseError> {
        let Some(text) = self.text(name)? else {
            return Ok(None);
        };
        let day = text.get(..10).unwrap_or(&text);
        let rest_ok = text.len() == 10 || text.as_bytes().get(10).is_some_and(|b| *b == b'T');
        match NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(date) if rest_ok => Ok(Some(date.format("%Y-%m-%d").to_string())),
            _ => Err(ParseError::new(format!(
                "`{name}` must be an ISO 8601 date or date-time"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_and_defaults_are_followed() -> Result<(), ParseError> {
        let body = json!({"title": " Dev ", "job_reference": 42, "candidate": {"email": "a@b.c"}});
        let overrides = BTreeMap::from([("job_name".to_owned(), "/title".to_owned())]);
        let fields = Fields::new(&body, &overrides);
        assert_eq!(fields.required("job_name")?, "Dev");
        assert_eq!(fields.required("job_reference")?, "42");
        assert_eq!(fields.text("candidate_email")?.as_deref(), Some("a@b.c"));
        assert_eq!(fields.text("job_url")?, None);
        Ok(())
    }

    #[test]
    fn a_configured_pointer_is_read_as_a_json_pointer_with_its_escapes() -> Result<(), ParseError> {
        let body = json!({"person": {"e/mail": "a@b.c"}, "candidate": {"email": "default@x.y"}});
        let overrides =
            BTreeMap::from([("candidate_email".to_owned(), "/person/e~1mail".to_owned())]);
        let fields = Fields::new(&body, &overrides);
        assert_eq!(fields.text("candidate_email")?.as_deref(), Some("a@b.c"));
        Ok(())
    }

    #[test]
    fn wrong_types_are_refused() {
        let body = json!({"job_name": {"a": 1}, "job_latitude": "north", "job_start": "soon"});
        let none = BTreeMap::new();
        let fields = Fields::new(&body, &none);
        assert!(fields.text("job_name").is_err());
        assert!(fields.number("job_latitude").is_err());
        assert!(fields.date("job_start").is_err());
    }

    #[test]
    fn dates_and_date_times_become_dates() -> Result<(), ParseError> {
        let body = json!({"a": "2021-11-12T14:46:56.816369", "b": "2021-12-24", "c": "4000"});
        let none = BTreeMap::new();
        let fields = Fields::new(&body, &none);
        assert_eq!(fields.date("a")?.as_deref(), Some("2021-11-12"));
        assert_eq!(fields.date("b")?.as_deref(), Some("2021-12-24"));
        assert_eq!(fields.number("c")?, Some(4000.0));
        Ok(())
    }
}

//! A delivery as a script sees it (`request`): the raw body, the parsed body (JSON, form or
//! multipart, as for every kind), the headers (names in lower case) and the query.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

/// The `request` argument of `verify` and `catch`, as JSON text: `body` is the parsed body's
/// JSON text (a JSON body as received), spliced in without another round of parsing.
pub fn request_json(headers: &HeaderMap, query: Option<&str>, raw: &[u8], body: &str) -> String {
    let mut names = Map::new();
    for (name, value) in headers {
        if let Ok(value) = value.to_str() {
            // A repeated header reads as its values joined, as HTTP allows.
            let joined = match names.get(name.as_str()).and_then(Value::as_str) {
                Some(before) => format!("{before}, {value}"),
                None => value.to_owned(),
            };
            names.insert(name.as_str().to_owned(), Value::String(joined));
        }
    }
    let query: Map<String, Value> = query
        .map(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect()
        })
        .unwrap_or_default();
    let raw = Value::String(String::from_utf8_lossy(raw).into_owned());
    format!(
        r#"{{"method":"POST","headers":{},"query":{},"raw_body":{raw},"body":{body}}}"#,
        Value::Object(names),
        Value::Object(query),
    )
}

/// What names a header never kept with a stored request (a dead letter): credentials, not
/// data (the script's own `verify` may read any header, so this goes by name).
const CREDENTIAL_NAMES: [&str; 7] = [
    "auth",
    "cookie",
    "key",
    "token",
    "secret",
    "signature",
    "password",
];

/// A delivery's `request` as kept in its dead letter, to run `catch` on it again at replay:
/// without credential headers, the tenant's secrets blanked wherever they appear.
pub fn request_to_keep(request_json: &str, tenant: &crate::tenant::Tenant) -> Value {
    let text = super::runs::blank_secrets(tenant, request_json);
    let mut request: Value = serde_json::from_str(&text).unwrap_or_default();
    if let Some(headers) = request.get_mut("headers").and_then(Value::as_object_mut) {
        headers.retain(|name, _| !CREDENTIAL_NAMES.iter().any(|c| name.contains(c)));
    }
    request
}

/// A request pasted in the console or given to `liaison script test`: either a whole
/// `request` (`{headers, query, body}` or `raw_body`) or just a body.
pub fn sample_request(sample: &Value) -> Value {
    let is_request = sample.as_object().is_some_and(|o| {
        o.contains_key("body")
            && o.keys().all(|k| {
                matches!(
                    k.as_str(),
                    "method" | "headers" | "query" | "raw_body" | "body"
                )
            })
    });
    if is_request {
        let mut request = sample.clone();
        if let Some(fields) = request.as_object_mut() {
            fields.entry("method").or_insert_with(|| json!("POST"));
            fields.entry("headers").or_insert_with(|| json!({}));
            fields.entry("query").or_insert_with(|| json!({}));
            let raw = fields.get("body").map(Value::to_string).unwrap_or_default();
            fields
                .entry("raw_body")
                .or_insert_with(|| Value::String(raw));
        }
        return request;
    }
    json!({
        "method": "POST",
        "headers": {"content-type": "application/json"},
        "query": {},
        "raw_body": sample.to_string(),
        "body": sample,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_carries_headers_query_and_both_bodies() {
        let mut headers = HeaderMap::new();
        headers.insert("X-Acme", axum::http::HeaderValue::from_static("1"));
        headers.append("x-acme", axum::http::HeaderValue::from_static("2"));
        let text = request_json(&headers, Some("a=b"), br#"{"n": 1}"#, r#"{"n": 1}"#);
        let request: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(
            request,
            json!({"method": "POST", "headers": {"x-acme": "1, 2"}, "query": {"a": "b"},
                   "raw_body": "{\"n\": 1}", "body": {"n": 1}})
        );
    }
}

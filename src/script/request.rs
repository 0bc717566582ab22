//! A delivery as a script sees it (`request`): the raw body, the parsed body (JSON, form or
//! multipart, as for every kind), the headers (names in lower case) and the query.

use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

/// The `request` argument of `verify` and `catch`.
pub fn request_value(headers: &HeaderMap, query: Option<&str>, raw: &[u8], body: &Value) -> Value {
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
    json!({
        "method": "POST",
        "headers": names,
        "query": query,
        "raw_body": String::from_utf8_lossy(raw),
        "body": body,
    })
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

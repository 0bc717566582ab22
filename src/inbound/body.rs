//! Reading a webhook body: raw bytes within the 1 MiB limit (413), its format from
//! `Content-Type` (415 for anything else), and the conversion of form bodies to a JSON object
//! whose top-level keys are the form's fields. Verification always runs on the raw bytes; only
//! parsing sees the JSON.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use serde_json::{Map, Value};

use super::error::InboundError;
use crate::http::BODY_LIMIT;

/// The accepted body formats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Form,
    Multipart { boundary: String },
}

impl BodyFormat {
    /// The format `Content-Type` names. Without the header, `json_by_default` decides (Gupy sends
    /// only its `clientHeaders`, so its JSON may come without one).
    pub fn from_headers(headers: &HeaderMap, json_by_default: bool) -> Result<Self, InboundError> {
        let Some(value) = headers.get(header::CONTENT_TYPE) else {
            return if json_by_default {
                Ok(Self::Json)
            } else {
                Err(InboundError::UnsupportedMediaType(
                    "a Content-Type header is required".to_owned(),
                ))
            };
        };
        let unsupported = || {
            InboundError::UnsupportedMediaType(
                "expected application/json, application/x-www-form-urlencoded or multipart/form-data"
                    .to_owned(),
            )
        };
        let text = value.to_str().map_err(|_| unsupported())?;
        let mime: mime::Mime = text.parse().map_err(|_| unsupported())?;
        match (mime.type_(), mime.subtype(), mime.suffix()) {
            (mime::APPLICATION, mime::JSON, _) | (mime::APPLICATION, _, Some(mime::JSON)) => {
                Ok(Self::Json)
            }
            (mime::APPLICATION, mime::WWW_FORM_URLENCODED, _) => Ok(Self::Form),
            (mime::MULTIPART, mime::FORM_DATA, _) => {
                let boundary = mime
                    .get_param(mime::BOUNDARY)
                    .map(|b| b.as_str().to_owned())
                    .ok_or_else(|| {
                        InboundError::Malformed("multipart body without a boundary".into())
                    })?;
                Ok(Self::Multipart { boundary })
            }
            _ => Err(unsupported()),
        }
    }
}

/// Reads the whole body, refusing more than `BODY_LIMIT` bytes (announced or actual).
pub async fn read_limited(headers: &HeaderMap, body: Body) -> Result<Bytes, InboundError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > BODY_LIMIT as u64) {
        return Err(InboundError::BodyTooLarge);
    }
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|error| {
            // `to_bytes` fails either on the limit or on a broken connection.
            let limited = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if limited {
                InboundError::BodyTooLarge
            } else {
                InboundError::Malformed(format!("the body could not be read: {error}"))
            }
        })
}

/// The body as a JSON value (form fields become top-level keys, with string values; a field
/// repeated becomes a list).
pub async fn to_json(format: &BodyFormat, body: &Bytes) -> Result<Value, InboundError> {
    match format {
        BodyFormat::Json => serde_json::from_slice(body)
            .map_err(|e| InboundError::Malformed(format!("the body is not valid JSON: {e}"))),
        BodyFormat::Form => {
            let text = std::str::from_utf8(body)
                .map_err(|_| InboundError::Malformed("the form is not valid UTF-8".into()))?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text)
                .map_err(|e| InboundError::Malformed(format!("the form does not parse: {e}")))?;
            Ok(Value::Object(fields_to_object(pairs)))
        }
        BodyFormat::Multipart { boundary } => multipart_to_json(body.clone(), boundary).await,
    }
}

/// The body as JSON text: a JSON body as received (checked, not rebuilt), a form or multipart
/// body as its JSON object. For script tenants, whose sandbox parses it.
pub async fn to_json_text(format: &BodyFormat, body: &Bytes) -> Result<String, InboundError> {
    match format {
        BodyFormat::Json => {
            let malformed =
                |e: String| InboundError::Malformed(format!("the body is not valid JSON: {e}"));
            let text = std::str::from_utf8(body).map_err(|e| malformed(e.to_string()))?;
            serde_json::from_str::<serde::de::IgnoredAny>(text)
                .map_err(|e| malformed(e.to_string()))?;
            Ok(text.to_owned())
        }
        _ => Ok(to_json(format, body).await?.to_string()),
    }
}

async fn multipart_to_json(body: Bytes, boundary: &str) -> Result<Value, InboundError> {
    let malformed = |e: multer::Error| InboundError::Malformed(format!("multipart body: {e}"));
    let stream = futures::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        // Uploaded files are not fields of the event.
        if field.file_name().is_some() {
            continue;
        }
        let Some(name) = field.name().map(str::to_owned) else {
            continue;
        };
        let bytes = field.bytes().await.map_err(malformed)?;
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| InboundError::Malformed(format!("field `{name}` is not valid UTF-8")))?;
        pairs.push((name, text));
    }
    Ok(Value::Object(fields_to_object(pairs)))
}

fn fields_to_object(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut object = Map::new();
    for (name, value) in pairs {
        match object.get_mut(&name) {
            None => {
                object.insert(name, Value::String(value));
            }
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(first) => {
                let first = first.take();
                object.insert(name, Value::Array(vec![first, Value::String(value)]));
            }
        }
    }
    object
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(header::CONTENT_TYPE, v);
        }
        headers
    }

    #[test]
    fn content_types_are_recognised() {
        assert_eq!(
            BodyFormat::from_headers(&with_type("application/json; charset=utf-8"), false).ok(),
            Some(BodyFormat::Json)
        );
        assert_eq!(
            BodyFormat::from_headers(&with_type("application/x-www-form-urlencoded"), false).ok(),
            Some(BodyFormat::Form)
        );
        assert!(matches!(
            BodyFormat::from_headers(&with_type("text/plain"), true),
            Err(InboundError::UnsupportedMediaType(_))
        ));
        assert_eq!(
            BodyFormat::from_headers(&HeaderMap::new(), true).ok(),
            Some(BodyFormat::Json)
        );
        assert!(BodyFormat::from_headers(&HeaderMap::new(), false).is_err());
    }

    #[tokio::test]
    async fn forms_become_objects() -> Result<(), InboundError> {
        let body = Bytes::from_static(b"type=job.created&job_name=Dev+ops&tag=a&tag=b");
        let json = to_json(&BodyFormat::Form, &body).await?;
        assert_eq!(json["job_name"], "Dev ops");
        assert_eq!(json["tag"], serde_json::json!(["a", "b"]));
        let multipart = Bytes::from_static(
            b"--XX\r\nContent-Disposition: form-data; name=\"job_name\"\r\n\r\nDev\r\n--XX--\r\n",
        );
        let json = to_json(
            &BodyFormat::Multipart {
                boundary: "XX".into(),
            },
            &multipart,
        )
        .await?;
        assert_eq!(json["job_name"], "Dev");
        Ok(())
    }
}

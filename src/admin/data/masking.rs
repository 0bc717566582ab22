//! Masking of payloads shown in the console and the API: secrets are always hidden, personal
//! data is hidden unless the viewer asks for it (and that request is logged by the caller).
//!
//! Pure functions over JSON and free text, so the rules are tested here and nowhere else.

use serde_json::{Map, Value};

/// What a viewer chose to see.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reveal {
    /// Secrets and personal data hidden (the default).
    #[default]
    Nothing,
    /// Personal data shown; secrets stay hidden whatever is asked.
    Personal,
}

const HIDDEN: &str = "***";

/// Key fragments (lower case, without `_`/`-`) that name a secret.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "signature",
    "apikey",
    "privatekey",
    "cookie",
    "credential",
    "clientheaders",
];

/// Key fragments that name personal data wherever they appear.
const PERSONAL_KEYS: &[&str] = &[
    "email",
    "phone",
    "mobile",
    "cellphone",
    "telephone",
    "whatsapp",
    "cpf",
    "cnpj",
    "rg",
    "document",
    "ssn",
    "passport",
    "birth",
    "address",
    "street",
    "zipcode",
    "postalcode",
    "firstname",
    "lastname",
    "fullname",
    "surname",
    "socialname",
    "linkedin",
];

/// Objects whose `name`-like fields are a person's name (a job's `name` is not personal).
const PERSON_OBJECTS: &[&str] = &[
    "candidate",
    "user",
    "person",
    "applicant",
    "recruiter",
    "reviewer",
    "owner",
    "contact",
    "profile",
];

fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

fn is_personal_key(key: &str, in_person: bool) -> bool {
    if matches!(key, "rg" | "cpf" | "ssn") {
        return true;
    }
    PERSONAL_KEYS
        .iter()
        .filter(|p| p.len() > 3)
        .any(|p| key.contains(p))
        || (in_person && (key == "name" || key.ends_with("name")))
}

/// The JSON `value` with secrets (always) and personal data (unless revealed) masked. Free text
/// elsewhere has embedded email addresses and bearer tokens masked too.
pub fn mask_json(value: &Value, reveal: Reveal) -> Value {
    mask_value(value, reveal, false)
}

fn mask_value(value: &Value, reveal: Reveal, in_person: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, inner) in map {
                let norm = normalise(key);
                let masked = if is_secret_key(&norm) && !inner.is_object() && !inner.is_array() {
                    hide_scalar(inner)
                } else if is_secret_key(&norm) {
                    mask_all(inner)
                } else if reveal == Reveal::Nothing && is_personal_key(&norm, in_person) {
                    mask_personal(&norm, inner)
                } else {
                    let person = in_person || PERSON_OBJECTS.iter().any(|p| norm.contains(p));
                    mask_value(inner, reveal, person)
                };
                out.insert(key.clone(), masked);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| mask_value(v, reveal, in_person))
                .collect(),
        ),
        Value::String(text) => Value::String(mask_text(text, reveal)),
        other => other.clone(),
    }
}

/// Booleans and nulls say nothing secret (`email_verified: true`); anything else is hidden.
fn hide_scalar(value: &Value) -> Value {
    match value {
        Value::Null | Value::Bool(_) => value.clone(),
        _ => Value::String(HIDDEN.to_owned()),
    }
}

fn mask_all(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), mask_all(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(mask_all).collect()),
        other => hide_scalar(other),
    }
}

fn mask_personal(key: &str, value: &Value) -> Value {
    match value {
        Value::String(text) if key.contains("email") => Value::String(mask_email(text)),
        Value::String(text) if is_phone_key(key) => Value::String(mask_phone(text)),
        Value::Number(number) if is_phone_key(key) => {
            Value::String(mask_phone(&number.to_string()))
        }
        Value::String(text) if key.ends_with("name") => Value::String(mask_name(text)),
        Value::Object(_) | Value::Array(_) => mask_all(value),
        other => hide_scalar(other),
    }
}

fn is_phone_key(key: &str) -> bool {
    ["phone", "mobile", "whatsapp"]
        .iter()
        .any(|p| key.contains(p))
}

/// `maria.silva@example.com` -> `m***@e***.com`.
pub fn mask_email(text: &str) -> String {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return HIDDEN.to_owned();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    let tld = domain
        .rsplit_once('.')
        .map(|(_, tld)| format!(".{tld}"))
        .unwrap_or_default();
    format!("{}***@{}***{tld}", first(local), first(domain))
}

/// `+5511999990000` -> `***00`.
fn mask_phone(text: &str) -> String {
    let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
    format!("{HIDDEN}{tail}")
}

/// `Maria` -> `M***`.
fn mask_name(text: &str) -> String {
    match text.chars().next() {
        Some(first) => format!("{first}{HIDDEN}"),
        None => String::new(),
    }
}

/// Free text (errors, call summaries, non-JSON bodies): email addresses (unless revealed) and
/// bearer tokens masked.
pub fn mask_text(text: &str, reveal: Reveal) -> String {
    let masked = mask_bearer(text);
    if reveal == Reveal::Personal || !masked.contains('@') {
        return masked;
    }
    mask_emails_in(&masked)
}

fn mask_bearer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("Bearer ") {
        let (before, after) = rest.split_at(at + "Bearer ".len());
        out.push_str(before);
        let end = after
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
            .unwrap_or(after.len());
        if end > 0 {
            out.push_str(HIDDEN);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ".-".contains(c)
}

fn mask_emails_in(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' {
            let mut start = i;
            while start > 0 && is_local_char(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 1;
            while end < chars.len() && is_domain_char(chars[end]) {
                end += 1;
            }
            let domain: String = chars[i + 1..end].iter().collect();
            let domain = domain.trim_end_matches('.');
            let local_len = i - start;
            if local_len > 0 && domain.contains('.') {
                // Drop the local part already copied, then write the masked address.
                for _ in 0..local_len {
                    out.pop();
                }
                let local: String = chars[start..i].iter().collect();
                out.push_str(&mask_email(&format!("{local}@{domain}")));
                i += 1 + domain.chars().count();
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn gupy() -> Value {
        json!({
            "id": "d-1",
            "event": "application.moved",
            "clientHeaders": {"X-Liaison-Token": "gupy-hook-S3CRET"},
            "data": {
                "job": {"id": 19139, "name": "Data Scientist"},
                "candidate": {"id": 7, "name": "Maria", "lastName": "Silva",
                              "email": "maria.silva@example.com", "mobileNumber": "+5511999990000",
                              "cpf": "123.456.789-00"},
                "api_key": "k-S3CRET",
                "access_token": "tok-S3CRET",
                "email_verified": true
            }
        })
    }

    #[test]
    fn secrets_are_hidden_even_when_personal_data_is_revealed() {
        for reveal in [Reveal::Nothing, Reveal::Personal] {
            let text = mask_json(&gupy(), reveal).to_string();
            assert!(!text.contains("S3CRET"), "{text}");
        }
    }

    #[test]
    fn personal_data_is_masked_by_default_and_jobs_keep_their_names() {
        let masked = mask_json(&gupy(), Reveal::Nothing);
        let text = masked.to_string();
        for raw in ["maria.silva", "example.com", "99999", "123.456", "Silva"] {
            assert!(!text.contains(raw), "{raw} in {text}");
        }
        assert_eq!(masked["data"]["candidate"]["email"], "m***@e***.com");
        assert_eq!(masked["data"]["candidate"]["name"], "M***");
        assert_eq!(masked["data"]["candidate"]["mobileNumber"], "***00");
        assert_eq!(masked["data"]["job"]["name"], "Data Scientist");
        assert_eq!(masked["data"]["email_verified"], true);
        assert_eq!(masked["event"], "application.moved");
    }

    #[test]
    fn revealing_shows_personal_data() {
        let shown = mask_json(&gupy(), Reveal::Personal);
        assert_eq!(
            shown["data"]["candidate"]["email"],
            "maria.silva@example.com"
        );
    }

    #[test]
    fn free_text_has_addresses_and_bearer_tokens_masked() {
        let text = "suite said 409 for ana+x@mail.example.org, header Bearer abc.def retry";
        let masked = mask_text(text, Reveal::Nothing);
        assert_eq!(
            masked,
            "suite said 409 for a***@m***.org, header Bearer *** retry"
        );
        assert_eq!(
            mask_text("a@b is not an address", Reveal::Nothing),
            "a@b is not an address"
        );
    }
}

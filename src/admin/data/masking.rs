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

/// Key fragments (lower case, without `_`/`-`) that name a secret wherever they appear in a key.
const SECRET_KEYS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "passphrase",
    "authorization",
    "signature",
    "apikey",
    "accesskey",
    "privatekey",
    "cookie",
    "credential",
    "clientheaders",
    "session",
    "jwt",
    "loginurl",
    "loginlink",
    "magiclink",
];

/// Short words that name a secret when they are the whole key or its last word (`pwd`,
/// `db_pass`, `x_auth`, `api-key`, `sid`, `sms_otp`, `auth_code`), and only then: `monkey`,
/// `footprint` or `candidates_id` are not secrets.
const SECRET_WORDS: &[&str] = &["pass", "pwd", "auth", "key", "sid", "otp", "code"];

/// Words before a final `code` that make it an ordinary code, not a secret one.
const PLAIN_CODES: &[&str] = &[
    "status", "error", "country", "currency", "language", "lang", "locale", "http", "response",
    "reason", "area", "region", "state", "iso", "color", "colour", "job", "product",
];

/// Key fragments that name personal data wherever they appear.
const PERSONAL_KEYS: &[&str] = &[
    "email",
    "phone",
    "mobile",
    "cellphone",
    "telephone",
    "whatsapp",
    "cnpj",
    "document",
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

/// National identifiers: personal when they begin or end a key (`cpf`, `candidate_cpf`,
/// `cpfNumber`, `rg_number`, `ssn`), matched on words so that `org` is not an `rg`.
const PERSONAL_IDS: &[&str] = &["cpf", "rg", "ssn"];

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

/// A key as it is compared: lower case, letters and digits only.
fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A key's words, lower case: split on anything not a letter or digit and on camelCase humps
/// (`x_access_key`, `xAccessKey` and `x-access-key` are all `[x, access, key]`).
fn words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Whether `key` (as sent) names a secret.
fn is_secret_key(key: &str) -> bool {
    let norm = normalise(key);
    if SECRET_KEYS.iter().any(|s| norm.contains(s)) {
        return true;
    }
    let words = words(key);
    let Some(last) = words.last() else {
        return false;
    };
    if !SECRET_WORDS.contains(&last.as_str()) {
        return false;
    }
    let before = words.len().checked_sub(2).map(|i| words[i].as_str());
    !(last == "code" && before.is_some_and(|w| PLAIN_CODES.contains(&w)))
}

/// Whether `key` (as sent) names personal data; `in_person` says the key sits in an object
/// about a person, `top_level` that it is a key of the payload itself (an ATS payload's own
/// `name` is the person's).
fn is_personal_key(key: &str, in_person: bool, top_level: bool) -> bool {
    let norm = normalise(key);
    if PERSONAL_KEYS.iter().any(|p| norm.contains(p)) {
        return true;
    }
    let words = words(key);
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    if PERSONAL_IDS.iter().any(|id| {
        first == id || last == id || (*id != "rg" && (norm.starts_with(id) || norm.ends_with(id)))
    }) {
        return true;
    }
    norm.ends_with("name")
        && (in_person
            || (top_level && norm == "name")
            || words.iter().any(|w| PERSON_OBJECTS.contains(&w.as_str())))
}

fn is_person_object(key: &str) -> bool {
    let norm = normalise(key);
    PERSON_OBJECTS.iter().any(|p| norm.contains(p))
}

/// The JSON `value` with secrets (always) and personal data (unless revealed) masked. Free text
/// elsewhere has embedded email addresses and bearer tokens masked too.
pub fn mask_json(value: &Value, reveal: Reveal) -> Value {
    mask_value(value, reveal, false, true)
}

fn mask_value(value: &Value, reveal: Reveal, in_person: bool, top_level: bool) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, inner) in map {
                let masked = if is_secret_key(key) {
                    mask_all(inner)
                } else if reveal == Reveal::Nothing && is_personal_key(key, in_person, top_level) {
                    mask_personal(&normalise(key), inner)
                } else {
                    let person = in_person || is_person_object(key);
                    mask_value(inner, reveal, person, false)
                };
                out.insert(key.clone(), masked);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| mask_value(v, reveal, in_person, false))
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

/// Free text (errors, call summaries, values): email addresses (unless revealed) and
/// credentials after `Bearer` or `Basic` (in any case) masked.
pub fn mask_text(text: &str, reveal: Reveal) -> String {
    let masked = mask_credentials(text);
    if reveal == Reveal::Personal || !masked.contains('@') {
        return masked;
    }
    mask_emails_in(&masked)
}

/// The authentication schemes whose next word is a credential.
const SCHEMES: &[&str] = &["bearer", "basic"];

fn mask_credentials(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if !SCHEMES.iter().any(|s| lower.contains(s)) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some((at, scheme)) = next_scheme(&lower, from) {
        // The scheme, then one or more spaces, then the credential up to a delimiter.
        let after_scheme = at + scheme.len();
        let spaces = text[after_scheme..]
            .find(|c: char| c != ' ')
            .unwrap_or(text.len() - after_scheme);
        let start = after_scheme + spaces;
        let at_word_start = at == 0 || !text.as_bytes()[at - 1].is_ascii_alphanumeric();
        let length = text[start..]
            .find(|c: char| c.is_whitespace() || "\"',;".contains(c))
            .unwrap_or(text.len() - start);
        let credential = &text[start..start + length];
        let is_credential = spaces > 0
            && at_word_start
            && length > 0
            && (scheme == "bearer" || is_basic_credential(credential));
        if is_credential {
            out.push_str(&text[copied..start]);
            out.push_str(HIDDEN);
            copied = start + length;
        }
        from = start.max(after_scheme) + if is_credential { length } else { 0 };
    }
    out.push_str(&text[copied..]);
    out
}

/// The earliest `bearer` or `basic` in `lower` at or after `from`.
fn next_scheme(lower: &str, from: usize) -> Option<(usize, &'static str)> {
    SCHEMES
        .iter()
        .filter_map(|scheme| lower[from..].find(scheme).map(|at| (from + at, *scheme)))
        .min_by_key(|(at, _)| *at)
}

/// `Basic` is followed by base64 of `user:password`; anything else ("basic information") is
/// prose.
fn is_basic_credential(word: &str) -> bool {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(word)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .is_some_and(|decoded| decoded.contains(':'))
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

    #[test]
    fn secret_words_match_whole_keys_and_last_words_only() {
        for key in [
            "pass",
            "db_pass",
            "pwd",
            "auth",
            "x-auth",
            "key",
            "api_key",
            "x_access_key",
            "xAccessKey",
            "session",
            "sessionId",
            "sid",
            "jwt",
            "otp",
            "sms_otp",
            "code",
            "auth_code",
            "login_url",
            "loginUrl",
            "AccessKey",
            "Authorization",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "monkey",
            "footprint",
            "candidates_id",
            "status_code",
            "countryCode",
            "author",
            "job_name",
            "event",
            "email_verified",
            "pass_score",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn national_ids_match_as_prefixes_or_suffixes() {
        for key in [
            "cpf",
            "candidate_cpf",
            "candidateCpf",
            "cpfNumber",
            "rg",
            "rg_number",
            "candidate_rg",
            "ssn",
            "applicant_ssn",
        ] {
            assert!(is_personal_key(key, false, false), "{key}");
        }
        for key in ["org", "organisation", "hamburg"] {
            assert!(!is_personal_key(key, false, false), "{key}");
        }
    }

    #[test]
    fn a_top_level_name_is_personal_and_a_nested_job_name_is_not() {
        let masked = mask_json(
            &json!({"name": "Maria Silva", "candidate_name": "Maria", "job": {"name": "Dev"}}),
            Reveal::Nothing,
        );
        assert_eq!(masked["name"], "M***");
        assert_eq!(masked["candidate_name"], "M***");
        assert_eq!(masked["job"]["name"], "Dev");
    }

    #[test]
    fn credentials_are_masked_in_any_case_and_prose_is_kept() {
        assert_eq!(
            mask_text("sent bearer abc.SECRET, then BEARER xyz", Reveal::Personal),
            "sent bearer ***, then BEARER ***"
        );
        assert_eq!(
            mask_text("auth: Basic bWFyaWE6cHdk", Reveal::Personal),
            "auth: Basic ***"
        );
        assert_eq!(
            mask_text("basic information for a bearer", Reveal::Personal),
            "basic information for a bearer"
        );
    }
}

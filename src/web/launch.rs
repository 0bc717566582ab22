//! Launch tokens: the ATS signs a short JWT (HS256, the tenant's `embed.launch_secret`) into the
//! iframe's URL (`?launch=...`). Validation is pure (the clock is a parameter) so every refusal
//! is unit-tested: wrong algorithm (`none` included), signature, a `crit` header, audience,
//! tenant, expired, too far in the future, not yet valid (`nbf`), issued in the future, missing
//! claims. A verified token is still spent once (`web::spent`, by `jti`, else by its hash) by the
//! caller, which has the database.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The audience every launch token must name.
pub const AUDIENCE: &str = "liaison";
/// `exp` may be at most this far ahead (no skew added: the contract says 10 minutes).
pub const MAX_LIFETIME_S: i64 = 600;
/// Tolerated difference between the ATS's clock and ours, on the side of an already passed `exp`
/// and of a future `nbf` or `iat`.
pub const CLOCK_SKEW_S: i64 = 30;

#[derive(Clone, Debug, Deserialize)]
struct RawClaims {
    aud: Option<serde_json::Value>,
    tenant: Option<String>,
    sub: Option<String>,
    email: Option<String>,
    role: Option<String>,
    locale: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
    res: Option<String>,
}

/// A verified launch: who opened the page, for which tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchClaims {
    pub tenant: String,
    /// The ATS user id.
    pub sub: String,
    pub email: String,
    pub role: Option<String>,
    pub locale: Option<String>,
    pub exp: i64,
    /// The token's id, when the ATS gives one: what it is spent by (else its hash).
    pub jti: Option<String>,
    /// The one page the token opens (`jobs/{ats id}` or `applications/{ats id}`), when the ATS
    /// binds it (an optional extension of the contract); None: every page of the tenant.
    pub res: Option<String>,
}

impl LaunchClaims {
    /// What the token is spent by: its `jti`, else the whole token (both hashed when stored).
    pub fn spend_key(&self, token: &str) -> String {
        match &self.jti {
            Some(jti) => format!("jti:{jti}"),
            None => format!("token:{}", token.trim()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    #[error("the launch token is malformed or not signed with HS256 by this tenant")]
    BadSignature,
    #[error("the launch token is for another audience")]
    WrongAudience,
    #[error("the launch token is for another tenant")]
    WrongTenant,
    #[error("the launch token has expired")]
    Expired,
    #[error("the launch token lives longer than 10 minutes")]
    TooLong,
    #[error("the launch token was issued in the future")]
    IssuedInFuture,
    #[error("the launch token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the launch token has a `crit` header, which Liaison does not support")]
    CriticalHeader,
    #[error("the launch token's `res` is not `jobs/{{id}}` or `applications/{{id}}`")]
    BadResource,
    #[error("the launch token lacks the `{0}` claim")]
    MissingClaim(&'static str),
}

impl LaunchError {
    /// The machine-readable code of the refusal (shown on the page).
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadSignature => "launch_bad_signature",
            Self::WrongAudience => "launch_wrong_audience",
            Self::WrongTenant => "launch_wrong_tenant",
            Self::Expired => "launch_expired",
            Self::TooLong => "launch_too_long",
            Self::IssuedInFuture => "launch_issued_in_future",
            Self::NotYetValid => "launch_not_yet_valid",
            Self::CriticalHeader => "launch_crit_header",
            Self::BadResource => "launch_bad_resource",
            Self::MissingClaim(_) => "launch_missing_claim",
        }
    }
}

/// Who a launch token names, for an ATS (or the demo's simulated one) that signs launch links.
#[derive(Clone, Debug, Serialize)]
pub struct LaunchSubject<'a> {
    pub sub: &'a str,
    pub email: &'a str,
    pub role: Option<&'a str>,
}

/// Signs a launch token for `tenant`, valid `lifetime_s` seconds from `now` (at most
/// [`MAX_LIFETIME_S`]): what an ATS puts in the iframe's `?launch=`.
pub fn sign(
    secret: &[u8],
    tenant: &str,
    subject: &LaunchSubject<'_>,
    now: i64,
    lifetime_s: i64,
) -> String {
    let claims = serde_json::json!({
        "aud": AUDIENCE,
        "tenant": tenant,
        "sub": subject.sub,
        "email": subject.email,
        "role": subject.role,
        "iat": now,
        "exp": now + lifetime_s.clamp(1, MAX_LIFETIME_S),
        "jti": super::session::random_id(),
    });
    // Signing an in-memory JSON object with an HMAC key cannot fail.
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}

/// Verifies `token` for the tenant `slug` at `now` (Unix seconds).
pub fn verify(
    token: &str,
    secret: &[u8],
    slug: &str,
    now: i64,
) -> Result<LaunchClaims, LaunchError> {
    // Only HS256 is accepted; the header's own `alg` is never trusted (an `alg=none` or RS256
    // token fails here), and the time claims are checked below against the injected clock.
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<RawClaims>(
        token.trim(),
        &DecodingKey::from_secret(secret),
        &validation,
    )
    .map_err(|_| LaunchError::BadSignature)?;
    // RFC 7515 §4.1.11: a `crit` header names extensions the recipient must understand; Liaison
    // understands none, so any `crit` is refused (jsonwebtoken does not look at it).
    if has_crit_header(token.trim()) {
        return Err(LaunchError::CriticalHeader);
    }
    check_claims(data.claims, slug, now)
}

fn has_crit_header(token: &str) -> bool {
    use base64::Engine as _;
    let Some(header) = token.split('.').next() else {
        return false;
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("crit").is_some())
}

/// Whether `res` names a page: `jobs/{id}` or `applications/{id}`.
fn is_resource(res: &str) -> bool {
    ["jobs/", "applications/"]
        .iter()
        .any(|prefix| res.strip_prefix(prefix).is_some_and(|id| !id.is_empty()))
}

fn check_claims(raw: RawClaims, slug: &str, now: i64) -> Result<LaunchClaims, LaunchError> {
    let audience_ok = match raw.aud.ok_or(LaunchError::MissingClaim("aud"))? {
        serde_json::Value::String(aud) => aud == AUDIENCE,
        serde_json::Value::Array(auds) => auds.iter().any(|aud| aud == AUDIENCE),
        _ => false,
    };
    if !audience_ok {
        return Err(LaunchError::WrongAudience);
    }
    let tenant = raw.tenant.ok_or(LaunchError::MissingClaim("tenant"))?;
    if tenant != slug {
        return Err(LaunchError::WrongTenant);
    }
    let exp = raw.exp.ok_or(LaunchError::MissingClaim("exp"))?;
    if exp + CLOCK_SKEW_S <= now {
        return Err(LaunchError::Expired);
    }
    if exp > now + MAX_LIFETIME_S {
        return Err(LaunchError::TooLong);
    }
    if raw.iat.is_some_and(|iat| iat > now + CLOCK_SKEW_S) {
        return Err(LaunchError::IssuedInFuture);
    }
    if raw.nbf.is_some_and(|nbf| nbf > now + CLOCK_SKEW_S) {
        return Err(LaunchError::NotYetValid);
    }
    let res = non_empty(raw.res);
    if res.as_deref().is_some_and(|res| !is_resource(res)) {
        return Err(LaunchError::BadResource);
    }
    let sub = non_empty(raw.sub).ok_or(LaunchError::MissingClaim("sub"))?;
    let email = non_empty(raw.email)
        .filter(|email| email.contains('@'))
        .ok_or(LaunchError::MissingClaim("email"))?;
    Ok(LaunchClaims {
        tenant,
        sub,
        email,
        role: non_empty(raw.role),
        locale: non_empty(raw.locale),
        exp,
        jti: non_empty(raw.jti),
        res,
    })
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|text| !text.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{Value, json};

    const SECRET: &[u8] = b"launch-secret";
    const NOW: i64 = 1_800_000_000;

    fn claims() -> Value {
        json!({"aud": "liaison", "tenant": "acme", "sub": "u-1", "email": "ana@acme.test",
               "role": "recruiter", "locale": "pt-BR", "iat": NOW, "exp": NOW + 300})
    }

    fn sign(claims: &Value, secret: &[u8]) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .expect("signs")
    }

    fn with(key: &str, value: Value) -> Value {
        let mut claims = claims();
        claims[key] = value;
        claims
    }

    fn without(key: &str) -> Value {
        let mut claims = claims();
        claims.as_object_mut().expect("object").remove(key);
        claims
    }

    #[test]
    fn a_valid_token_gives_its_claims() {
        let verified = verify(&sign(&claims(), SECRET), SECRET, "acme", NOW).expect("valid");
        assert_eq!(verified.sub, "u-1");
        assert_eq!(verified.email, "ana@acme.test");
        assert_eq!(verified.role.as_deref(), Some("recruiter"));
        assert_eq!(verified.locale.as_deref(), Some("pt-BR"));
    }

    #[test]
    fn every_bad_token_is_refused_with_its_reason() {
        let cases = [
            (
                sign(&with("exp", json!(NOW - 60)), SECRET),
                LaunchError::Expired,
            ),
            (
                sign(&with("exp", json!(NOW + 3600)), SECRET),
                LaunchError::TooLong,
            ),
            (
                sign(&with("iat", json!(NOW + 600)), SECRET),
                LaunchError::IssuedInFuture,
            ),
            (
                sign(&with("tenant", json!("globex")), SECRET),
                LaunchError::WrongTenant,
            ),
            (
                sign(&with("aud", json!("someone-else")), SECRET),
                LaunchError::WrongAudience,
            ),
            (
                sign(&claims(), b"another-secret"),
                LaunchError::BadSignature,
            ),
            (
                sign(&without("exp"), SECRET),
                LaunchError::MissingClaim("exp"),
            ),
            (
                sign(&without("sub"), SECRET),
                LaunchError::MissingClaim("sub"),
            ),
            (
                sign(&without("email"), SECRET),
                LaunchError::MissingClaim("email"),
            ),
            (
                sign(&without("aud"), SECRET),
                LaunchError::MissingClaim("aud"),
            ),
            (
                sign(&without("tenant"), SECRET),
                LaunchError::MissingClaim("tenant"),
            ),
            (
                sign(&with("exp", json!(NOW + 630)), SECRET),
                LaunchError::TooLong,
            ),
            (
                sign(&with("nbf", json!(NOW + 3600)), SECRET),
                LaunchError::NotYetValid,
            ),
            (
                sign(&with("res", json!("admin/x")), SECRET),
                LaunchError::BadResource,
            ),
            ("not.a.jwt".to_owned(), LaunchError::BadSignature),
        ];
        for (token, expected) in cases {
            assert_eq!(
                verify(&token, SECRET, "acme", NOW),
                Err(expected.clone()),
                "{expected}"
            );
        }
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
            assert_eq!(
                verify(&token, SECRET, "acme", NOW),
                Err(LaunchError::BadSignature)
            );
        }
    }

    #[test]
    fn a_token_signed_with_another_hmac_algorithm_is_refused() {
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(),
            &EncodingKey::from_secret(SECRET),
        )
        .expect("signs");
        assert_eq!(
            verify(&token, SECRET, "acme", NOW),
            Err(LaunchError::BadSignature)
        );
    }

    #[test]
    fn a_signed_token_verifies_and_its_lifetime_is_capped() {
        let subject = LaunchSubject {
            sub: "u-9",
            email: "rita@acme.test",
            role: Some("recruiter"),
        };
        let token = super::sign(SECRET, "acme", &subject, NOW, 300);
        let verified = verify(&token, SECRET, "acme", NOW).expect("valid");
        assert_eq!((verified.sub.as_str(), verified.exp), ("u-9", NOW + 300));
        let capped = super::sign(SECRET, "acme", &subject, NOW, 86_400);
        assert_eq!(
            verify(&capped, SECRET, "acme", NOW).expect("valid").exp,
            NOW + MAX_LIFETIME_S
        );
    }

    #[test]
    fn a_token_with_a_crit_header_is_refused() {
        let token = sign(&claims(), SECRET);
        let (_, rest) = token.split_once('.').expect("dot");
        // Re-sign with a header carrying `crit`: a valid MAC, an extension we do not know.
        let crit_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#);
        let body = rest.split('.').next().expect("body");
        let signing_input = format!("{crit_header}.{body}");
        let tag = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &EncodingKey::from_secret(SECRET),
            Algorithm::HS256,
        )
        .expect("mac");
        let crit = format!("{signing_input}.{tag}");
        assert_eq!(
            verify(&crit, SECRET, "acme", NOW),
            Err(LaunchError::CriticalHeader)
        );
    }

    #[test]
    fn exp_may_be_exactly_ten_minutes_ahead_and_nbf_within_the_skew() {
        assert!(
            verify(
                &sign(&with("exp", json!(NOW + 600)), SECRET),
                SECRET,
                "acme",
                NOW
            )
            .is_ok()
        );
        assert!(
            verify(
                &sign(&with("nbf", json!(NOW + 10)), SECRET),
                SECRET,
                "acme",
                NOW
            )
            .is_ok()
        );
    }

    #[test]
    fn the_spend_key_is_the_jti_else_the_token() {
        let token = sign(&with("jti", json!("j-1")), SECRET);
        let verified = verify(&token, SECRET, "acme", NOW).expect("valid");
        assert_eq!(verified.spend_key(&token), "jti:j-1");
        let token = sign(&with("res", json!("jobs/J1")), SECRET);
        let verified = verify(&token, SECRET, "acme", NOW).expect("valid");
        assert_eq!(verified.spend_key(&token), format!("token:{token}"));
        assert_eq!(verified.res.as_deref(), Some("jobs/J1"));
    }

    #[test]
    fn small_clock_differences_are_tolerated() {
        let token = sign(&with("iat", json!(NOW + 10)), SECRET);
        assert!(verify(&token, SECRET, "acme", NOW).is_ok());
        let token = sign(&with("exp", json!(NOW - 10)), SECRET);
        assert!(verify(&token, SECRET, "acme", NOW).is_ok());
    }
}

//! Launch tokens: the ATS signs a short JWT (HS256, the tenant's `embed.launch_secret`) into the
//! iframe's URL (`?launch=...`). Validation is pure (the clock is a parameter) so every refusal
//! is unit-tested: wrong algorithm (`none` included), signature, audience, tenant, expired,
//! too far in the future, issued in the future, missing claims.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The audience every launch token must name.
pub const AUDIENCE: &str = "liaison";
/// `exp` may be at most this far ahead: launch links are short-lived by design.
pub const MAX_LIFETIME_S: i64 = 600;
/// Tolerated difference between the ATS's clock and ours.
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
    #[error("the launch token lacks the `{0}` claim")]
    MissingClaim(&'static str),
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
    check_claims(data.claims, slug, now)
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
    if exp > now + MAX_LIFETIME_S + CLOCK_SKEW_S {
        return Err(LaunchError::TooLong);
    }
    if raw.iat.is_some_and(|iat| iat > now + CLOCK_SKEW_S) {
        return Err(LaunchError::IssuedInFuture);
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
    fn small_clock_differences_are_tolerated() {
        let token = sign(&with("iat", json!(NOW + 10)), SECRET);
        assert!(verify(&token, SECRET, "acme", NOW).is_ok());
        let token = sign(&with("exp", json!(NOW - 10)), SECRET);
        assert!(verify(&token, SECRET, "acme", NOW).is_ok());
    }
}

//! Launch links, signed the way `contracts/connector.md` says an ATS signs them: a JWT, HS256
//! with the tenant's `embed.launch_secret`, claims `aud` = `"liaison"`, `tenant`, `sub`, `email`,
//! optional `role`, `iat`, and `exp` at most ten minutes ahead. Each link also has its own `jti`
//! (a standard JWT claim): Liaison spends a launch token once, and a page that frames several
//! links signed in the same second must not hand out the same token twice.

use jsonwebtoken::{Algorithm, EncodingKey, Header};

/// The audience the contract names.
const AUDIENCE: &str = "liaison";
/// `exp` at most ten minutes ahead.
pub const MAX_LIFETIME_S: i64 = 600;

/// The ATS user a launch link is signed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaunchSubject<'a> {
    pub sub: &'a str,
    pub email: &'a str,
    pub role: Option<&'a str>,
}

/// A launch token for `tenant`, issued at `now` (Unix seconds), living `lifetime_s` (kept
/// between one second and [`MAX_LIFETIME_S`]).
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
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    // Signing an in-memory JSON object with an HMAC key cannot fail.
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    #[test]
    fn a_link_carries_the_contract_claims_and_a_capped_lifetime() {
        let subject = LaunchSubject {
            sub: "u-9",
            email: "rita@acme.test",
            role: None,
        };
        let token = sign(b"secret", "acme", &subject, 1_000, 86_400);
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).expect("base64"))
                .expect("json");
        assert_eq!(header["alg"], "HS256");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64"))
                .expect("json");
        assert_eq!(claims["aud"], "liaison");
        assert_eq!(claims["tenant"], "acme");
        assert_eq!(claims["sub"], "u-9");
        assert_eq!(claims["exp"], 1_000 + MAX_LIFETIME_S);
    }
}

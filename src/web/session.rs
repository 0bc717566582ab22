//! Web sessions, signed rather than stored: `base64url(json) "." base64url(HMAC-SHA256)`, under a
//! key derived from the master key (so every Liaison process accepts every other's sessions).
//! A session names its tenant and expires; the signature covers both, so it cannot be moved to
//! another tenant or stretched.
//!
//! The partitioned cookie carries the session; inside an iframe whose browser keeps no cookie,
//! the page's forms carry it in their bodies (`s`), never in a URL that Liaison makes. A session
//! reaches a page without a cookie through a one-time hand-off code (`?h=`, encrypted and
//! authenticated here, spent once in `web::spent`), which holds the session's claims, unreadable
//! to whoever sees the URL, but not its signature. Signed-out
//! sessions are marked in the store by their id (`web::spent`), which `web::access` checks.
//! CSRF tokens for forms are derived from the session id: a form without the right one is refused.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

type HmacSha256 = Hmac<Sha256>;

/// How long a session started by a launch link lasts at most.
pub const LAUNCH_SESSION_S: i64 = 30 * 60;
/// A launch session ends at most this long after its launch token's `exp`.
pub const LAUNCH_SESSION_AFTER_EXP_S: i64 = 20 * 60;
/// How long a hand-off code may be redeemed (once).
pub const HANDOFF_S: i64 = 60;
/// How long a session started by SSO lasts.
pub const SSO_SESSION_S: i64 = 8 * 60 * 60;

/// How a session began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionOrigin {
    Launch,
    Oidc,
    Saml,
}

/// Who is signed in, for which tenant, until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Random; names the session in CSRF tokens and one-time-login idempotency keys.
    pub sid: String,
    pub tenant: String,
    /// The ATS user id (launch) or `sso:<subject>` (SSO).
    pub sub: String,
    pub email: String,
    pub name: Option<String>,
    /// The ATS role as the launch token or the identity provider gave it: a key of the tenant's
    /// `[roles]`, which maps it to a suite `domain::Role` (`sync::flows::users::suite_role`).
    pub role: Option<String>,
    pub locale: Option<String>,
    pub origin: SessionOrigin,
    /// Unix seconds.
    pub exp: i64,
    /// The one page this session opens (`jobs/{ats id}`, `applications/{ats id}`), from the
    /// launch token's optional `res`; None: every page of its tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub res: Option<String>,
}

/// When a launch session ends: 30 minutes from `now`, but no later than 20 minutes after the
/// launch token's own `exp`.
pub fn launch_session_exp(now: i64, launch_exp: i64) -> i64 {
    (now + LAUNCH_SESSION_S).min(launch_exp + LAUNCH_SESSION_AFTER_EXP_S)
}

/// A one-time hand-off: the session's claims (not its signature) and the last second it may
/// be redeemed.
#[derive(Serialize, Deserialize)]
struct Handoff {
    session: Session,
    until: i64,
}

impl Session {
    pub fn new(tenant: &str, sub: String, email: String, origin: SessionOrigin, now: i64) -> Self {
        let lifetime = match origin {
            SessionOrigin::Launch => LAUNCH_SESSION_S,
            SessionOrigin::Oidc | SessionOrigin::Saml => SSO_SESSION_S,
        };
        Self {
            sid: random_id(),
            tenant: tenant.to_owned(),
            sub,
            email,
            name: None,
            role: None,
            locale: None,
            origin,
            exp: now + lifetime,
            res: None,
        }
    }

    /// Whether this session may open `resource` (`jobs/{ats id}`...; None: no page, such as
    /// signing out).
    pub fn allows(&self, resource: Option<&str>) -> bool {
        match (&self.res, resource) {
            (Some(res), Some(resource)) => res == resource,
            _ => true,
        }
    }

    /// A display name: the given one, else the part of the email before `@`.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.email
                .split('@')
                .next()
                .unwrap_or(&self.email)
                .to_owned()
        })
    }
}

/// 128 random bits, URL-safe.
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("the session token is malformed or its signature does not match")]
    Invalid,
    #[error("the session has expired")]
    Expired,
    #[error("the session belongs to another tenant")]
    WrongTenant,
}

/// What hand-off codes are sealed under (key derivation and AEAD associated data).
const HANDOFF_DOMAIN: &str = "handoff";
const HANDOFF_NONCE_LEN: usize = 12;

/// Signs and checks sessions and CSRF tokens.
#[derive(Clone)]
pub struct SessionKeys {
    key: [u8; 32],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(***)")
    }
}

impl SessionKeys {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn mac(&self, domain: &str, data: &[u8]) -> Vec<u8> {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(domain.as_bytes());
        mac.update(b"\0");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    pub fn sign(&self, session: &Session) -> String {
        let body = serde_json::to_vec(session).unwrap_or_default();
        let body = URL_SAFE_NO_PAD.encode(body);
        let tag = URL_SAFE_NO_PAD.encode(self.mac("session", body.as_bytes()));
        format!("{body}.{tag}")
    }

    /// The session in `token` if it is ours, unexpired at `now` and for `tenant`.
    pub fn verify(&self, token: &str, tenant: &str, now: i64) -> Result<Session, SessionError> {
        let (body, tag) = token.split_once('.').ok_or(SessionError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| SessionError::Invalid)?;
        let expected = self.mac("session", body.as_bytes());
        if !bool::from(expected.ct_eq(&tag)) {
            return Err(SessionError::Invalid);
        }
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SessionError::Invalid)?;
        let session: Session = serde_json::from_slice(&body).map_err(|_| SessionError::Invalid)?;
        if session.exp <= now {
            return Err(SessionError::Expired);
        }
        if session.tenant != tenant {
            return Err(SessionError::WrongTenant);
        }
        Ok(session)
    }

    /// Signs any claims under its own `domain` (the admin console's sessions use this), so a
    /// token of one kind never verifies as another.
    pub fn sign_claims<T: Serialize>(&self, domain: &str, claims: &T) -> String {
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
        let tag = URL_SAFE_NO_PAD.encode(self.mac(domain, body.as_bytes()));
        format!("{body}.{tag}")
    }

    /// The claims in `token` when it was signed by `sign_claims` under `domain`.
    pub fn open_claims<T: for<'de> Deserialize<'de>>(
        &self,
        domain: &str,
        token: &str,
    ) -> Result<T, SessionError> {
        let (body, tag) = token.split_once('.').ok_or(SessionError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| SessionError::Invalid)?;
        if !bool::from(self.mac(domain, body.as_bytes()).ct_eq(&tag)) {
            return Err(SessionError::Invalid);
        }
        let body = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SessionError::Invalid)?;
        serde_json::from_slice(&body).map_err(|_| SessionError::Invalid)
    }

    /// A one-time hand-off code for `session`, redeemable until `now + HANDOFF_S` (and once:
    /// the caller spends it by the session id). The code travels in a URL (browser history,
    /// proxies' access logs), so the claims are encrypted, not only signed: it shows nobody the
    /// person's email or name.
    pub fn handoff(&self, session: &Session, now: i64) -> String {
        let claims = Handoff {
            session: session.clone(),
            until: now + HANDOFF_S,
        };
        let plaintext = serde_json::to_vec(&claims).unwrap_or_default();
        let cipher = self.handoff_cipher();
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: &plaintext,
            aad: HANDOFF_DOMAIN.as_bytes(),
        };
        // Encryption with a valid key and a fresh nonce cannot fail for inputs under 64 GiB.
        let mut sealed = nonce.to_vec();
        sealed.extend(cipher.encrypt(&nonce, payload).unwrap_or_default());
        URL_SAFE_NO_PAD.encode(sealed)
    }

    /// The session a hand-off code carries, if the code is ours, unexpired and for `tenant`.
    pub fn open_handoff(
        &self,
        code: &str,
        tenant: &str,
        now: i64,
    ) -> Result<(Session, i64), SessionError> {
        let sealed = URL_SAFE_NO_PAD
            .decode(code)
            .map_err(|_| SessionError::Invalid)?;
        if sealed.len() < HANDOFF_NONCE_LEN {
            return Err(SessionError::Invalid);
        }
        let (nonce, ciphertext) = sealed.split_at(HANDOFF_NONCE_LEN);
        let plaintext = self
            .handoff_cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: HANDOFF_DOMAIN.as_bytes(),
                },
            )
            .map_err(|_| SessionError::Invalid)?;
        let handoff: Handoff =
            serde_json::from_slice(&plaintext).map_err(|_| SessionError::Invalid)?;
        if handoff.until < now || handoff.session.exp <= now {
            return Err(SessionError::Expired);
        }
        if handoff.session.tenant != tenant {
            return Err(SessionError::WrongTenant);
        }
        Ok((handoff.session, handoff.until))
    }

    /// AES-256-GCM under a key of its own, derived from the session key.
    fn handoff_cipher(&self) -> Aes256Gcm {
        let key = self.mac(HANDOFF_DOMAIN, b"encryption key");
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))
    }

    /// A CSRF token bound to the session id `sid`, under `domain`.
    pub fn csrf_for(&self, domain: &str, sid: &str) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(domain, sid.as_bytes()))
    }

    /// The CSRF token that forms of this session carry.
    pub fn csrf_token(&self, session: &Session) -> String {
        URL_SAFE_NO_PAD.encode(self.mac("csrf", session.sid.as_bytes()))
    }

    pub fn check_csrf(&self, session: &Session, token: &str) -> bool {
        let expected = self.csrf_token(session);
        bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    }
}

/// The cookie that carries a tenant's session where the browser keeps it. Partitioned (CHIPS) so
/// that browsers which block third-party cookies may still keep it for this ATS; the page works
/// without it.
pub fn cookie_name(tenant: &str) -> String {
    format!("liaison_session_{tenant}")
}

pub fn session_cookie(tenant: &str, token: &str, max_age_s: i64) -> String {
    format!(
        "{}={token}; Path=/; Max-Age={max_age_s}; Secure; HttpOnly; SameSite=None; Partitioned",
        cookie_name(tenant)
    )
}

pub fn clear_cookie(tenant: &str) -> String {
    session_cookie(tenant, "", 0)
}

/// The value of cookie `name` in a `Cookie` header.
pub fn read_cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn keys() -> SessionKeys {
        SessionKeys::new([7; 32])
    }

    fn session() -> Session {
        Session::new(
            "acme",
            "u-1".into(),
            "ana@acme.test".into(),
            SessionOrigin::Launch,
            NOW,
        )
    }

    #[test]
    fn a_signed_session_verifies_for_its_tenant_only() {
        let token = keys().sign(&session());
        assert_eq!(
            keys().verify(&token, "acme", NOW),
            Ok(session_with_sid(&token))
        );
        assert_eq!(
            keys().verify(&token, "globex", NOW),
            Err(SessionError::WrongTenant)
        );
    }

    fn session_with_sid(token: &str) -> Session {
        keys().verify(token, "acme", NOW).expect("valid")
    }

    #[test]
    fn sessions_expire() {
        let token = keys().sign(&session());
        assert_eq!(
            keys().verify(&token, "acme", NOW + LAUNCH_SESSION_S),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn an_altered_or_foreign_session_is_refused() {
        let token = keys().sign(&session());
        let mut forged = session();
        forged.tenant = "globex".into();
        let forged_body = keys().sign(&forged);
        let (body, _) = forged_body.split_once('.').expect("dot");
        let (_, tag) = token.split_once('.').expect("dot");
        let spliced = format!("{body}.{tag}");
        assert_eq!(
            keys().verify(&spliced, "globex", NOW),
            Err(SessionError::Invalid)
        );
        let other = SessionKeys::new([8; 32]).sign(&session());
        assert_eq!(
            keys().verify(&other, "acme", NOW),
            Err(SessionError::Invalid)
        );
        assert_eq!(
            keys().verify("garbage", "acme", NOW),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn a_hand_off_code_carries_the_session_briefly_and_is_no_session_token() {
        let session = session();
        let code = keys().handoff(&session, NOW);
        let (opened, until) = keys().open_handoff(&code, "acme", NOW).expect("valid");
        assert_eq!((opened, until), (session.clone(), NOW + HANDOFF_S));
        assert_eq!(
            keys().open_handoff(&code, "acme", NOW + HANDOFF_S + 1),
            Err(SessionError::Expired)
        );
        assert_eq!(
            keys().open_handoff(&code, "globex", NOW),
            Err(SessionError::WrongTenant)
        );
        assert_eq!(
            keys().verify(&code, "acme", NOW),
            Err(SessionError::Invalid)
        );
        let token = keys().sign(&session);
        assert!(keys().open_handoff(&token, "acme", NOW).is_err());
    }

    #[test]
    fn a_hand_off_code_shows_nobody_the_person_and_cannot_be_altered() {
        let session = session();
        let code = keys().handoff(&session, NOW);
        let bytes = URL_SAFE_NO_PAD.decode(&code).expect("base64url");
        let readable = String::from_utf8_lossy(&bytes);
        assert!(!readable.contains(&session.email), "{readable}");
        assert!(!readable.contains("acme"), "{readable}");
        assert_ne!(
            code,
            keys().handoff(&session, NOW),
            "a fresh nonce each time"
        );
        let mut altered = bytes.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(
            keys().open_handoff(&URL_SAFE_NO_PAD.encode(altered), "acme", NOW),
            Err(SessionError::Invalid)
        );
        let other = SessionKeys::new([9; 32]);
        assert_eq!(
            other.open_handoff(&code, "acme", NOW),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn a_launch_session_ends_soon_after_its_token() {
        assert_eq!(launch_session_exp(NOW, NOW + 600), NOW + LAUNCH_SESSION_S);
        assert_eq!(launch_session_exp(NOW, NOW + 60), NOW + 60 + 20 * 60);
    }

    #[test]
    fn a_session_bound_to_a_resource_opens_that_page_only() {
        let mut bound = session();
        bound.res = Some("jobs/J1".into());
        assert!(bound.allows(Some("jobs/J1")));
        assert!(!bound.allows(Some("applications/A1")));
        assert!(bound.allows(None));
        assert!(session().allows(Some("applications/A1")));
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_session() {
        let one = session();
        let two = session();
        let token = keys().csrf_token(&one);
        assert!(keys().check_csrf(&one, &token));
        assert!(!keys().check_csrf(&two, &token));
        assert!(!keys().check_csrf(&one, ""));
    }

    #[test]
    fn the_cookie_is_partitioned_and_cross_site() {
        let cookie = session_cookie("acme", "tok", 60);
        for part in [
            "Secure",
            "HttpOnly",
            "SameSite=None",
            "Partitioned",
            "Path=/",
        ] {
            assert!(cookie.contains(part), "{part} missing in {cookie}");
        }
        assert_eq!(
            read_cookie("a=1; liaison_session_acme=tok", &cookie_name("acme")),
            Some("tok")
        );
    }
}

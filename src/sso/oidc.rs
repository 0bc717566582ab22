//! OpenID Connect sign-in (`openidconnect`): discovery at `{issuer}/.well-known/...`, the
//! authorization code flow with PKCE (S256), `state` and `nonce` kept server side and spent once,
//! the ID token's signature checked against the issuer's JWKS together with its issuer, audience,
//! expiry and nonce. Email, name and role come from the ID token or, failing that, from
//! userinfo. The email must be verified (`email_verified: true` from the source that gave it);
//! the role is the claim `sso.role_claim` names (default `role`), optional. Discovery and the
//! JWKS are kept for 10 minutes per tenant, and fetched again early (at most once a minute) only
//! for an ID token signed with a key they do not list.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq as _;

use super::logins::{self, LoginKind, PendingLogin};
use super::{Identity, complete_sign_in};
use crate::app::AppState;
use crate::tenant::{RoleMap, Tenant};
use crate::web::access::{browser_locale, page_context, resolve_tenant};
use crate::web::error::{PageError, PageQuery};
use crate::web::session::{SessionOrigin, read_cookie};

/// The HTTP client for identity providers: no redirects followed (the spec forbids them for
/// these calls), short timeouts, names resolved through [`crate::outbound::GuardedResolver`].
pub fn http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .dns_resolver(crate::outbound::GuardedResolver::new())
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default()
}

fn redirect_uri(state: &AppState, tenant: &Tenant) -> String {
    format!(
        "{}/sso/{}/oidc/callback",
        state.settings.public_url.trim_end_matches('/'),
        tenant.slug()
    )
}

fn idp_error(tenant: &Tenant, what: &str, error: impl std::fmt::Display) -> PageError {
    PageError::Unauthorized {
        context: page_context(tenant, None),
        reason: format!("{what}: {error}"),
        return_to: String::new(),
    }
}

/// The issuer's discovery document and JWKS, fetched at most once per 10 minutes per tenant
/// (`idp_cache`).
async fn discover(state: &AppState, tenant: &Tenant) -> Result<CoreProviderMetadata, PageError> {
    let issuer = tenant.config.sso.issuer.clone().unwrap_or_default();
    state
        .sso
        .discovery
        .get(tenant.id, &issuer, || {
            fetch_discovery(state, tenant, &issuer)
        })
        .await
}

/// Discovery again, for an ID token signed with a key the kept JWKS lacks (the issuer rotated
/// its keys): at most once a minute per tenant, so forged tokens cannot make Liaison hammer it.
async fn rediscover(state: &AppState, tenant: &Tenant) -> Result<CoreProviderMetadata, PageError> {
    let issuer = tenant.config.sso.issuer.clone().unwrap_or_default();
    state
        .sso
        .discovery
        .refetch(tenant.id, &issuer, || {
            fetch_discovery(state, tenant, &issuer)
        })
        .await
}

async fn fetch_discovery(
    state: &AppState,
    tenant: &Tenant,
    issuer: &str,
) -> Result<CoreProviderMetadata, PageError> {
    let issuer =
        IssuerUrl::new(issuer.to_owned()).map_err(|e| idp_error(tenant, "sso.issuer", e))?;
    // IP-literal hosts bypass the client's resolver: judged here (the issuer, and the
    // endpoints the document names, which Liaison calls next).
    crate::outbound::check_url(issuer.url()).map_err(|e| idp_error(tenant, "sso.issuer", e))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &state.oidc_http)
        .await
        .map_err(|error| {
            tracing::warn!(tenant = %tenant.slug(), %error, "OIDC discovery failed");
            PageError::Unavailable {
                context: page_context(tenant, None),
            }
        })?;
    let endpoints = [
        Some(metadata.jwks_uri().url()),
        metadata.token_endpoint().map(|url| url.url()),
        metadata.userinfo_endpoint().map(|url| url.url()),
    ];
    for url in endpoints.into_iter().flatten() {
        crate::outbound::check_url(url)
            .map_err(|e| idp_error(tenant, "the issuer's discovery document", e))?;
    }
    Ok(metadata)
}

fn client_credentials(tenant: &Tenant) -> (ClientId, Option<ClientSecret>) {
    let sso = &tenant.config.sso;
    (
        ClientId::new(sso.client_id.clone().unwrap_or_default()),
        sso.client_secret
            .as_ref()
            .map(|secret| ClientSecret::new(secret.expose_secret().to_owned())),
    )
}

/// Sends the browser to the provider, remembering `state`, `nonce` and the PKCE verifier.
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    return_to: String,
) -> Result<Response, PageError> {
    let metadata = discover(state, tenant).await?;
    let (client_id, client_secret) = client_credentials(tenant);
    let redirect =
        RedirectUrl::new(redirect_uri(state, tenant)).map_err(|e| PageError::Internal(e.into()))?;
    let client = CoreClient::from_provider_metadata(metadata, client_id, client_secret)
        .set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("profile".to_owned()))
        .set_pkce_challenge(challenge)
        .url();
    let key = state
        .master_key
        .as_ref()
        .ok_or_else(|| PageError::Internal(anyhow::anyhow!("no master key configured")))?;
    let login = PendingLogin {
        state: csrf.secret().clone(),
        nonce: Some(nonce.secret().clone()),
        pkce_verifier: Some(verifier.secret().clone()),
        return_to,
    };
    let max_pending = state.sso.limits.max_pending_logins;
    if logins::begin(
        &state.db,
        key,
        tenant.id,
        LoginKind::Oidc,
        &login,
        max_pending,
    )
    .await?
        == logins::Begun::TooManyPending
    {
        return Ok(logins::too_many_pending(tenant.slug()));
    }
    // Binds the sign-in to this browser: a callback URL planted in someone else's browser
    // (login CSRF) arrives without this cookie. The popup is a top-level window, so a Lax
    // cookie comes back with the provider's redirect.
    let secure = if state.settings.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/sso/{}/oidc/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        binding_cookie(tenant),
        csrf.secret(),
        tenant.slug(),
        logins::LOGIN_TTL_MS / 1000
    );
    let mut response = Redirect::to(url.as_str()).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

fn binding_cookie(tenant: &Tenant) -> String {
    format!("liaison_oidc_{}", tenant.slug())
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

/// `GET /sso/{tenant}/oidc/callback`.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn finish_oidc_sign_in(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    PageQuery(query): PageQuery<CallbackQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(&state, &slug).await?;
    if let Some(error) = query.error {
        return Err(idp_error(&tenant, "the identity provider refused", error));
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(PageError::BadRequest {
            context: page_context(&tenant, None),
            message: "code and state are required".to_owned(),
        });
    };
    let key = state
        .master_key
        .as_ref()
        .ok_or_else(|| PageError::Internal(anyhow::anyhow!("no master key configured")))?;
    let bound = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| read_cookie(value, &binding_cookie(&tenant)))
        .is_some_and(|cookie| bool::from(cookie.as_bytes().ct_eq(returned_state.as_bytes())));
    if !bound {
        return Err(idp_error(
            &tenant,
            "state",
            "not the sign-in this browser started",
        ));
    }
    // An unknown, expired or already spent `state` ends here: forged or replayed callback.
    let Some(login) =
        logins::finish(&state.db, key, tenant.id, LoginKind::Oidc, &returned_state).await?
    else {
        return Err(idp_error(
            &tenant,
            "state",
            "unknown, expired or already used",
        ));
    };
    let metadata = discover(&state, &tenant).await?;
    if let Some(iss) = query.iss.as_deref()
        && iss != metadata.issuer().as_str()
    {
        return Err(idp_error(&tenant, "iss", "does not match the issuer"));
    }
    let (client_id, client_secret) = client_credentials(&tenant);
    let redirect = RedirectUrl::new(redirect_uri(&state, &tenant))
        .map_err(|e| PageError::Internal(e.into()))?;
    let client = CoreClient::from_provider_metadata(metadata, client_id, client_secret)
        .set_redirect_uri(redirect);
    let http = &state.oidc_http;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| idp_error(&tenant, "token endpoint", e))?
        .set_pkce_verifier(PkceCodeVerifier::new(
            login.pkce_verifier.clone().unwrap_or_default(),
        ))
        .request_async(http)
        .await
        .map_err(|e| idp_error(&tenant, "code exchange", e))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| idp_error(&tenant, "id_token", "missing"))?;
    let nonce = Nonce::new(login.nonce.clone().unwrap_or_default());
    // A key the kept JWKS lacks: the issuer may have rotated its keys since discovery.
    let unknown_key = matches!(
        id_token.claims(&client.id_token_verifier(), &nonce),
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey
        ))
    );
    let client = if unknown_key {
        let metadata = rediscover(&state, &tenant).await?;
        let (client_id, client_secret) = client_credentials(&tenant);
        let redirect = RedirectUrl::new(redirect_uri(&state, &tenant))
            .map_err(|e| PageError::Internal(e.into()))?;
        CoreClient::from_provider_metadata(metadata, client_id, client_secret)
            .set_redirect_uri(redirect)
    } else {
        client
    };
    let claims = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .map_err(|e| idp_error(&tenant, "id_token", e))?;
    let subject = claims.subject().clone();
    let role_claim = tenant.config.sso.role_claim();
    // The signature was checked just above: the token's own JSON, for the claims the library
    // does not model (the role).
    let token_claims = verified_payload(&id_token.to_string());
    let mut email = claims.email().map(|email| email.as_str().to_owned());
    let mut email_verified = email.is_some() && claims.email_verified() == Some(true);
    let mut name = claims
        .name()
        .and_then(|name| name.get(None))
        .map(|name| name.as_str().to_owned());
    let mut role = role_from_claim(token_claims.get(role_claim), &tenant.config.roles);
    let needed = email.is_none() || !email_verified;
    // Many providers put profile claims only in userinfo. It is required for the email and its
    // verification; for the name and the role, asked only when the provider has one, and a
    // failure then costs only those.
    let info = 'info: {
        if !(needed || name.is_none() || role.is_none()) {
            break 'info None;
        }
        let request = match client.user_info(tokens.access_token().clone(), Some(subject.clone())) {
            Ok(request) => request,
            Err(error) if needed => return Err(idp_error(&tenant, "userinfo endpoint", error)),
            Err(_) => break 'info None,
        };
        match request
            .request_async::<OtherClaims, _, openidconnect::core::CoreGenderClaim>(http)
            .await
        {
            Ok(info) => Some(info),
            Err(error) if needed => return Err(idp_error(&tenant, "userinfo", error)),
            Err(error) => {
                tracing::warn!(tenant = %tenant.slug(), %error, "userinfo failed; no name or role from it");
                None
            }
        }
    };
    if let Some(info) = info {
        let info_email = info.email().map(|email| email.as_str().to_owned());
        let info_verified = info.email_verified() == Some(true);
        match &email {
            None => {
                email = info_email;
                email_verified = info_verified;
            }
            // The same address, verified by userinfo.
            Some(known) if !email_verified => {
                email_verified = info_verified && info_email.as_deref() == Some(known);
            }
            Some(_) => {}
        }
        name = name.or_else(|| {
            info.name()
                .and_then(|name| name.get(None))
                .map(|name| name.as_str().to_owned())
        });
        role = role.or_else(|| {
            role_from_claim(
                info.additional_claims().claims.get(role_claim),
                &tenant.config.roles,
            )
        });
    }
    let email = email.ok_or_else(|| idp_error(&tenant, "email", "the provider gave none"))?;
    if !email_verified {
        // An address the provider has not verified may be anyone's (#2 of the 2026-12 review):
        // it would name their suite account and their pages.
        return Err(PageError::Refused {
            context: page_context(&tenant, None),
            status: StatusCode::UNAUTHORIZED,
            code: "email_not_verified",
            reason: "the identity provider did not state email_verified = true".to_owned(),
        });
    }
    let identity = Identity {
        subject: subject.as_str().to_owned(),
        email,
        name,
        role,
    };
    complete_sign_in(
        &state,
        &tenant,
        identity,
        SessionOrigin::Oidc,
        &login.return_to,
        browser_locale(&headers),
    )
    .await
}

/// Claims beyond the standard ones, as sent (userinfo's `role`, for one).
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for OtherClaims {}

/// The claims of a compact JWS whose signature was already checked (empty when unreadable).
fn verified_payload(token: &str) -> Map<String, Value> {
    use base64::Engine as _;
    token
        .split('.')
        .nth(1)
        .and_then(|payload| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload.trim_end_matches('='))
                .ok()
        })
        .and_then(|json| serde_json::from_slice(&json).ok())
        .unwrap_or_default()
}

/// The ATS role a role claim states: a non-empty string as it is; from an array of strings, the
/// one whose `[roles]` mapping is the most powerful (none mapped: no role).
pub fn role_from_claim(value: Option<&Value>, roles: &RoleMap) -> Option<String> {
    match value? {
        Value::String(word) if !word.trim().is_empty() => Some(word.clone()),
        Value::Array(words) => words
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|word| roles.get(word).map(|role| (role.power(), word)))
            .max_by_key(|(power, _)| *power)
            .map(|(_, word)| word.to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tenant::TenantConfig;

    fn roles() -> RoleMap {
        TenantConfig::from_toml(
            "slug = \"a\"\nname = \"A\"\n[ats]\nkind = \"signed-json\"\nwebhook_secret = \"signed-json-secret-of-32-bytes-or-more\"\n\
             [suite]\nbase_url = \"http://127.0.0.1:9\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\
             [roles]\nboss = \"admin\"\nrecruiter = \"manager\"\nviewer = \"reviewer\"\n",
        )
        .expect("tenant")
        .roles
    }

    #[test]
    fn a_role_claim_is_a_word_or_the_strongest_mapped_word_of_a_list() {
        let roles = roles();
        assert_eq!(
            role_from_claim(Some(&json!("recruiter")), &roles).as_deref(),
            Some("recruiter")
        );
        assert_eq!(
            role_from_claim(Some(&json!(["viewer", "boss", "x"])), &roles).as_deref(),
            Some("boss")
        );
        assert_eq!(role_from_claim(Some(&json!(["x", "y"])), &roles), None);
        assert_eq!(role_from_claim(Some(&json!("")), &roles), None);
        assert_eq!(role_from_claim(Some(&json!(7)), &roles), None);
        assert_eq!(role_from_claim(None, &roles), None);
    }

    #[test]
    fn the_payload_of_a_compact_token_is_read() {
        let payload = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"sub":"s","role":"boss"}"#,
        );
        let claims = verified_payload(&format!("h.{payload}.sig"));
        assert_eq!(claims["role"], "boss");
        assert!(verified_payload("garbage").is_empty());
    }
}

//! OpenID Connect sign-in (`openidconnect`): discovery at `{issuer}/.well-known/...`, the
//! authorization code flow with PKCE (S256), `state` and `nonce` kept server side and spent once,
//! the ID token's signature checked against the issuer's JWKS together with its issuer, audience,
//! expiry and nonce. Email and name come from the ID token or, failing that, from userinfo.
//! Discovery and the JWKS are kept for 10 minutes per tenant, and fetched again early (at most
//! once a minute) only for an ID token signed with a key they do not list.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::logins::{self, LoginKind, PendingLogin};
use super::{Identity, complete_sign_in};
use crate::app::AppState;
use crate::tenant::Tenant;
use crate::web::access::{page_context, resolve_tenant};
use crate::web::error::{PageError, PageQuery};
use crate::web::session::{SessionOrigin, read_cookie};

/// The HTTP client for identity providers: no redirects followed (the spec forbids them for
/// these calls), short timeouts.
pub fn http_client() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
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
    CoreProviderMetadata::discover_async(issuer, &state.oidc_http)
        .await
        .map_err(|error| {
            tracing::warn!(tenant = %tenant.slug(), %error, "OIDC discovery failed");
            PageError::Unavailable {
                context: page_context(tenant, None),
            }
        })
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
    let mut email = claims.email().map(|email| email.as_str().to_owned());
    let mut name = claims
        .name()
        .and_then(|name| name.get(None))
        .map(|name| name.as_str().to_owned());
    if email.is_none() || name.is_none() {
        // Many providers put profile claims only in userinfo.
        let info = client
            .user_info(tokens.access_token().clone(), Some(subject.clone()))
            .map_err(|e| idp_error(&tenant, "userinfo endpoint", e))?
            .request_async::<openidconnect::EmptyAdditionalClaims, _, openidconnect::core::CoreGenderClaim>(http)
            .await
            .map_err(|e| idp_error(&tenant, "userinfo", e))?;
        email = email.or_else(|| info.email().map(|email| email.as_str().to_owned()));
        name = name.or_else(|| {
            info.name()
                .and_then(|name| name.get(None))
                .map(|name| name.as_str().to_owned())
        });
    }
    let email = email.ok_or_else(|| idp_error(&tenant, "email", "the provider gave none"))?;
    let identity = Identity {
        subject: subject.as_str().to_owned(),
        email,
        name,
        role: None,
    };
    complete_sign_in(
        &state,
        &tenant,
        identity,
        SessionOrigin::Oidc,
        &login.return_to,
    )
    .await
}

//! OAuth endpoints (the suite's, and Lever's through `OAuthEndpoints`) through the `oauth2`
//! crate, which is built without its reqwest feature (it pins another reqwest): `OAuthHttp`
//! adapts our reqwest client to its
//! `AsyncHttpClient`. 5xx and 429 answers of the token endpoint come back as transient errors
//! of the adapter, so they are never mistaken for a refused grant.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, Scope, TokenResponse as _, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};

use super::AccessToken;
use crate::suite::error::{SuiteError, retry_after};
use crate::tenant::SuiteSettings;

/// Errors of one token-endpoint exchange, before `oauth2` parses the answer.
#[derive(Debug, thiserror::Error)]
pub enum TokenHttpError {
    #[error("token endpoint answered {0}")]
    Unavailable(u16),
    #[error("token endpoint is rate limiting")]
    RateLimited(Option<Duration>),
    #[error("{0}")]
    Transport(String),
}

/// `oauth2::AsyncHttpClient` over our reqwest client (timeouts, user agent, no redirects), with
/// an optional bound on each token request of its own.
pub struct OAuthHttp {
    pub client: reqwest::Client,
    pub timeout: Option<Duration>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for OAuthHttp {
    type Error = TokenHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TokenHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut request = reqwest::Request::try_from(request)
                .map_err(|e| TokenHttpError::Transport(e.without_url().to_string()))?;
            if let Some(timeout) = self.timeout {
                *request.timeout_mut() = Some(timeout);
            }
            let response = self.client.execute(request).await.map_err(|e| {
                TokenHttpError::Transport(SuiteError::from_transport(e).to_string())
            })?;
            let status = response.status();
            if status.as_u16() == 429 {
                return Err(TokenHttpError::RateLimited(retry_after(response.headers())));
            }
            if status.is_server_error() {
                return Err(TokenHttpError::Unavailable(status.as_u16()));
            }
            let mut builder = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in response.headers() {
                builder = builder.header(name.as_str(), value.as_bytes());
            }
            let body = response.bytes().await.map_err(|e| {
                TokenHttpError::Transport(SuiteError::from_transport(e).to_string())
            })?;
            builder
                .body(body.to_vec())
                .map_err(|e| TokenHttpError::Transport(e.to_string()))
        })
    }
}

type ConfiguredClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// What a grant with a refresh token answers: the access token and the next refresh token.
pub struct GrantTokens {
    pub access: AccessToken,
    pub refresh: SecretString,
}

/// Where and as whom a party's OAuth client talks, and what its consent URL asks for.
pub struct OAuthEndpoints<'a> {
    pub authorize_url: String,
    pub token_url: String,
    pub client_id: &'a str,
    pub client_secret: Option<&'a SecretString>,
    pub scopes: Vec<String>,
    /// Extra parameters of the consent URL (Lever: `audience`).
    pub authorize_params: Vec<(String, String)>,
    /// The setting named in errors about these URLs.
    pub setting: &'static str,
    /// How long one token request may take (None: the HTTP client's own timeouts). A refresh
    /// under a lease must end before the lease does.
    pub request_timeout: Option<Duration>,
}

/// One tenant's OAuth client at the suite (or at another party, `with_endpoints`).
pub struct SuiteOAuth {
    client: ConfiguredClient,
    http: OAuthHttp,
    scopes: Vec<String>,
    authorize_params: Vec<(String, String)>,
}

impl SuiteOAuth {
    pub fn new(http: reqwest::Client, suite: &SuiteSettings) -> Result<Self, SuiteError> {
        let base = suite.base_url.trim_end_matches('/');
        Self::with_endpoints(
            http,
            OAuthEndpoints {
                authorize_url: format!("{base}/oauth/authorize"),
                token_url: format!("{base}/oauth/token"),
                client_id: &suite.client_id,
                client_secret: suite.client_secret.as_ref(),
                scopes: vec!["suite".to_owned()],
                authorize_params: Vec::new(),
                setting: "suite.base_url",
                // The suite's client already bounds each request below the refresh lease.
                request_timeout: None,
            },
        )
    }

    pub fn with_endpoints(
        http: reqwest::Client,
        endpoints: OAuthEndpoints<'_>,
    ) -> Result<Self, SuiteError> {
        let not_a_url = || SuiteError::Config(format!("{} is not a URL", endpoints.setting));
        let auth_url = AuthUrl::new(endpoints.authorize_url.clone()).map_err(|_| not_a_url())?;
        let token_url = TokenUrl::new(endpoints.token_url.clone()).map_err(|_| not_a_url())?;
        let mut client = BasicClient::new(ClientId::new(endpoints.client_id.to_owned()))
            .set_auth_uri(auth_url)
            .set_token_uri(token_url)
            // The contracts' form: client_id and client_secret in the form body.
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = endpoints.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        Ok(Self {
            client,
            http: OAuthHttp {
                client: http,
                timeout: endpoints.request_timeout,
            },
            scopes: endpoints.scopes,
            authorize_params: endpoints.authorize_params,
        })
    }

    /// A token for the machine account (client credentials).
    pub async fn client_credentials(&self) -> Result<AccessToken, SuiteError> {
        let answer = self
            .client
            .exchange_client_credentials()
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        Ok(access_token(&answer))
    }

    /// The consent URL (PKCE S256, the configured scopes and parameters) with its `state` and
    /// verifier to keep.
    pub fn authorize_url(
        &self,
        redirect_uri: &str,
    ) -> Result<(url::Url, CsrfToken, PkceCodeVerifier), SuiteError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|_| {
            SuiteError::Config("public_url does not make a redirect URL".to_owned())
        })?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(CsrfToken::new_random)
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .set_pkce_challenge(challenge)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new));
        for (name, value) in &self.authorize_params {
            request = request.add_extra_param(name.clone(), value.clone());
        }
        let (url, state) = request.url();
        Ok((url, state, verifier))
    }

    /// Exchanges an authorization code (with its PKCE verifier) for the grant's tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: SecretString,
        redirect_uri: &str,
    ) -> Result<GrantTokens, SuiteError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned())
            .map_err(|_| SuiteError::Config("stored redirect_uri is not a URL".to_owned()))?;
        let answer = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        grant_tokens(&answer)
    }

    /// Spends `refresh` (single use: the suite rotates it) for new tokens.
    pub async fn refresh(&self, refresh: &SecretString) -> Result<GrantTokens, SuiteError> {
        let refresh = RefreshToken::new(refresh.expose_secret().to_owned());
        let answer = self
            .client
            .exchange_refresh_token(&refresh)
            .request_async(&self.http)
            .await
            .map_err(token_error)?;
        grant_tokens(&answer)
    }
}

fn access_token(answer: &BasicTokenResponse) -> AccessToken {
    // Without `expires_in`, assume the contract's one hour.
    let lifetime = answer.expires_in().unwrap_or(Duration::from_secs(3600));
    AccessToken::issued_now(
        SecretString::from(answer.access_token().secret().to_owned()),
        lifetime,
    )
}

fn grant_tokens(answer: &BasicTokenResponse) -> Result<GrantTokens, SuiteError> {
    let refresh = answer.refresh_token().ok_or_else(|| {
        SuiteError::InvalidResponse("the token answer has no refresh_token".to_owned())
    })?;
    Ok(GrantTokens {
        access: access_token(answer),
        refresh: SecretString::from(refresh.secret().to_owned()),
    })
}

fn token_error(error: RequestTokenError<TokenHttpError, BasicErrorResponse>) -> SuiteError {
    match error {
        RequestTokenError::Request(TokenHttpError::RateLimited(retry_after)) => {
            SuiteError::RateLimited { retry_after }
        }
        RequestTokenError::Request(TokenHttpError::Unavailable(status)) => SuiteError::Transient {
            status: Some(status),
            reason: format!("token endpoint answered {status}"),
        },
        RequestTokenError::Request(TokenHttpError::Transport(reason)) => {
            SuiteError::transient(reason)
        }
        RequestTokenError::ServerResponse(answer) => SuiteError::auth(
            answer.error().as_ref(),
            answer
                .error_description()
                .cloned()
                .unwrap_or_else(|| "the token endpoint refused the request".to_owned()),
        ),
        RequestTokenError::Parse(_, _) => {
            SuiteError::InvalidResponse("the token endpoint's answer does not parse".to_owned())
        }
        RequestTokenError::Other(reason) => SuiteError::InvalidResponse(reason),
    }
}

//! OAuth2 as the suite does it: client credentials, authorization code with PKCE (S256) behind a
//! consent page that approves at once, rotating single-use refresh tokens whose reuse revokes the
//! whole grant, and the bearer check in front of every `/v1` route. The rules live in
//! [`super::grants`]; this module is the HTTP side.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use subtle::ConstantTimeEq as _;

use super::SuiteSim;
use super::error::ApiError;
use super::grants::OAuthError;

pub fn routes() -> Router<SuiteSim> {
    Router::new()
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(issue_token))
}

/// Client credentials from HTTP Basic or the form body; `None` when neither names a client.
fn presented_client(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(String, Option<String>)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), Some(secret.to_owned())))
        });
    basic.or_else(|| {
        form.get("client_id")
            .map(|id| (id.clone(), form.get("client_secret").cloned()))
    })
}

async fn issue_token(State(sim): State<SuiteSim>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<HashMap<String, String>>(&body) else {
        return OAuthError::InvalidRequest("body must be application/x-www-form-urlencoded")
            .into_response();
    };
    let grant_type = form.get("grant_type").cloned().unwrap_or_default();
    let config = sim.config();
    let mut store = sim.store();
    *store
        .counters
        .token_requests
        .entry(grant_type.clone())
        .or_default() += 1;

    // Credentials, when presented, must be right; client credentials requires them.
    let client = presented_client(&headers, &form);
    let secret_ok = |secret: &str| -> bool {
        secret
            .as_bytes()
            .ct_eq(config.client_secret.as_bytes())
            .into()
    };
    let client_id = match &client {
        Some((id, secret))
            if *id == config.client_id && secret.as_deref().is_none_or(secret_ok) =>
        {
            Some(id.clone())
        }
        Some(_) => return OAuthError::InvalidClient.into_response(),
        None => None,
    };

    let now = Utc::now();
    let lifetime = config.token_lifetime;
    let result = match grant_type.as_str() {
        "client_credentials" => match (&client_id, client.as_ref().and_then(|c| c.1.as_ref())) {
            (Some(id), Some(_)) => {
                let grant_id = store.auth.new_grant(id, None);
                Ok(store.auth.issue(&grant_id, lifetime, false, now))
            }
            _ => Err(OAuthError::InvalidClient),
        },
        "authorization_code" => {
            store
                .auth
                .exchange_code(client_id.as_deref(), &form, lifetime, now)
        }
        "refresh_token" => store
            .auth
            .refresh(client_id.as_deref(), &form, lifetime, now)
            .map_err(|(error, revoked)| {
                if revoked {
                    store.counters.refresh_reuse_revocations += 1;
                    store.counters.grant_revoked_for_refresh_reuse = true;
                }
                error
            }),
        "" => Err(OAuthError::InvalidRequest("grant_type")),
        _ => Err(OAuthError::UnsupportedGrantType),
    };
    drop(store);
    match result {
        Ok(tokens) => {
            let mut response = Json(tokens).into_response();
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            response
        }
        Err(error) => error.into_response(),
    }
}

/// The consent page. The simulated admin approves at once, so it redirects straight back.
async fn authorize(
    State(sim): State<SuiteSim>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let get = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let config = sim.config();
    if get("client_id") != config.client_id {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    let Ok(mut redirect) = url::Url::parse(get("redirect_uri")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri must be an absolute URL",
        )
            .into_response();
    };
    // From here on errors go back to the client, as OAuth wants.
    let error = if get("response_type") != "code" {
        Some("unsupported_response_type")
    } else if get("code_challenge").is_empty() || get("code_challenge_method") != "S256" {
        Some("invalid_request")
    } else {
        None
    };
    let mut store = sim.store();
    let Some(user_id) = store.consenting_user_id() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "no admin user to consent",
        )
            .into_response();
    };
    {
        let mut query = redirect.query_pairs_mut();
        match error {
            Some(error) => query.append_pair("error", error),
            None => {
                let code = store.auth.create_code(
                    get("client_id"),
                    get("redirect_uri"),
                    get("code_challenge"),
                    &user_id,
                    Utc::now(),
                );
                query.append_pair("code", &code)
            }
        };
        if let Some(state) = params.get("state") {
            query.append_pair("state", state);
        }
    }
    Redirect::to(redirect.as_str()).into_response()
}

/// Middleware for `/v1`: a valid bearer token, or 401 `invalid_token`.
pub async fn require_bearer(
    State(sim): State<SuiteSim>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    let principal = match token {
        None => Err(ApiError::invalid_token("missing bearer token")),
        Some(token) => sim.store().auth.authenticate(&token, Utc::now()),
    };
    match principal {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

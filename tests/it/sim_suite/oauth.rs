//! Both OAuth grants, token expiry and refresh-token rotation with reuse revocation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::{CLIENT_ID, CLIENT_SECRET, TestSuite, spawn_suite};

const REDIRECT_URI: &str = "http://127.0.0.1:8080/oauth/suite/acme/callback";
const VERIFIER: &str = "a-code-verifier-long-enough-to-be-realistic-0123456789";

async fn token_request(suite: &TestSuite, form: &[(&str, &str)], expected: StatusCode) -> Value {
    let response = suite
        .http
        .post(suite.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), expected);
    response.json().await.expect("json")
}

/// Walks the consent page and answers the authorization code.
async fn authorize(suite: &TestSuite) -> String {
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let response = suite
        .http
        .get(suite.url("/oauth/authorize"))
        .query(&[
            ("response_type", "code"),
            ("client_id", CLIENT_ID),
            ("redirect_uri", REDIRECT_URI),
            ("state", "xyz-state"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("scope", "suite"),
        ])
        .send()
        .await
        .expect("authorize");
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().expect("location");
    let location = url::Url::parse(location).expect("absolute location");
    assert!(location.as_str().starts_with(REDIRECT_URI));
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(param("state").as_deref(), Some("xyz-state"));
    param("code").expect("code")
}

async fn exchange(suite: &TestSuite, code: &str, verifier: &str, expected: StatusCode) -> Value {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    token_request(suite, &form, expected).await
}

async fn refresh(suite: &TestSuite, refresh_token: &str, expected: StatusCode) -> Value {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    token_request(suite, &form, expected).await
}

fn field<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
}

#[tokio::test]
async fn client_credentials_work_by_form_and_by_basic_auth() {
    let suite = spawn_suite().await;

    let by_form = suite.token().await;
    let by_basic: Value = suite
        .http
        .post(suite.url("/oauth/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token request")
        .json()
        .await
        .expect("json");

    assert_eq!(by_basic["token_type"], "Bearer");
    assert_eq!(by_basic["expires_in"], 3600);
    for token in [by_form.as_str(), field(&by_basic, "access_token")] {
        suite.get(token, "/v1/users", StatusCode::OK).await;
    }
    let state = suite.state().await;
    assert_eq!(state["counters"]["token_requests"]["client_credentials"], 2);
}

#[tokio::test]
async fn a_wrong_client_gets_invalid_client() {
    let suite = spawn_suite().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", "wrong"),
    ];
    let body = token_request(&suite, &form, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_get_invalid_token() {
    let suite = spawn_suite().await;
    let (_, missing) = suite
        .call(
            Method::GET,
            "/v1/projects",
            None,
            None,
            &[],
            StatusCode::UNAUTHORIZED,
        )
        .await;
    assert_eq!(missing["error"]["code"], "invalid_token");
    let unknown = suite
        .get("nope", "/v1/projects", StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(unknown["error"]["code"], "invalid_token");

    let token = suite.token().await;
    suite.get(&token, "/v1/projects", StatusCode::OK).await;
    suite.control("/_sim/tokens/expire", Value::Null).await;
    let expired = suite
        .get(&token, "/v1/projects", StatusCode::UNAUTHORIZED)
        .await;
    assert_eq!(expired["error"]["code"], "invalid_token");

    let fresh = suite.token().await;
    suite.get(&fresh, "/v1/projects", StatusCode::OK).await;
}

#[tokio::test]
async fn authorization_code_with_pkce_acts_as_the_consenting_admin() {
    let suite = spawn_suite().await;
    let code = authorize(&suite).await;

    let wrong = exchange(&suite, &code, "not-the-verifier", StatusCode::BAD_REQUEST).await;
    assert_eq!(wrong["error"], "invalid_grant");
    let tokens = exchange(&suite, &code, VERIFIER, StatusCode::OK).await;

    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string());
    suite
        .get(field(&tokens, "access_token"), "/v1/users", StatusCode::OK)
        .await;
    let replayed = exchange(&suite, &code, VERIFIER, StatusCode::BAD_REQUEST).await;
    assert_eq!(replayed["error"], "invalid_grant");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_grant() {
    let suite = spawn_suite().await;
    let code = authorize(&suite).await;
    let first = exchange(&suite, &code, VERIFIER, StatusCode::OK).await;

    let second = refresh(&suite, field(&first, "refresh_token"), StatusCode::OK).await;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    suite
        .get(field(&second, "access_token"), "/v1/users", StatusCode::OK)
        .await;

    let reuse = refresh(
        &suite,
        field(&first, "refresh_token"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(reuse["error"], "invalid_grant");

    let revoked = suite
        .get(
            field(&second, "access_token"),
            "/v1/users",
            StatusCode::UNAUTHORIZED,
        )
        .await;
    assert_eq!(revoked["error"]["code"], "invalid_token");
    refresh(
        &suite,
        field(&second, "refresh_token"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let state = suite.state().await;
    assert_eq!(state["counters"]["grant_revoked_for_refresh_reuse"], true);
    assert_eq!(state["counters"]["token_requests"]["refresh_token"], 3);
}

#[tokio::test]
async fn a_code_exchange_needs_no_client_credentials_but_refuses_wrong_ones() {
    let suite = spawn_suite().await;
    let code = authorize(&suite).await;
    let exchange_as = |client_id: &'static str| {
        [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
            ("client_id", client_id),
        ]
    };

    let wrong = token_request(
        &suite,
        &exchange_as("someone-else"),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    let tokens = token_request(&suite, &form, StatusCode::OK).await;

    assert_eq!(wrong["error"], "invalid_client");
    suite
        .get(
            field(&tokens, "access_token"),
            "/v1/projects",
            StatusCode::OK,
        )
        .await;
}

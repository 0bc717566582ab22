//! Helpers for the admin console and API tests: a signed-in browser-like client, seeded events.

use std::time::Duration;

use liaison::ids::EventId;
use liaison::queue::{self, BackoffPolicy, Failure};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestApp};
use crate::inbound_support::{gupy_delivery, gupy_secret};

/// A secret and personal data that must never be shown unmasked.
pub const PAYLOAD_SECRET: &str = "payload-api-key-S3CRET";
pub const EMAIL: &str = "maria.silva@example.com";

/// A console session: its cookie and the CSRF token of its forms.
pub struct Console {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: String,
    pub csrf: String,
}

/// A client that does not follow redirects (to see the 303s and their cookies).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// The value of `name="csrf" value="..."` in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_owned())
}

/// The sign-in form as a browser gets it: the pre-session cookie (`name=value`) and the CSRF
/// token its form carries.
pub struct LoginForm {
    pub cookie: String,
    pub csrf: String,
}

/// Opens `/admin/login` at `base` (`http://host:port`) and reads its form.
pub async fn login_form(http: &reqwest::Client, base: &str) -> LoginForm {
    let response = http
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .expect("login page");
    assert_eq!(response.status(), 200);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("liaison_admin_login="))
        .and_then(|v| v.split(';').next())
        .expect("the sign-in form's cookie")
        .to_owned();
    let html = response.text().await.expect("body");
    LoginForm {
        cookie,
        csrf: csrf_in(&html).expect("a csrf token in the sign-in form"),
    }
}

/// Posts the sign-in form as a browser on that page would (its cookie and CSRF token).
pub async fn post_login(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    next: &str,
) -> reqwest::Response {
    let form = login_form(http, base).await;
    http.post(format!("{base}/admin/login"))
        .header("cookie", &form.cookie)
        .form(&[("token", token), ("next", next), ("csrf", &form.csrf)])
        .send()
        .await
        .expect("login")
}

/// The `name=value` of the console session cookie a response sets.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("liaison_admin="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

pub async fn sign_in(app: &TestApp) -> Console {
    let http = browser();
    let response = post_login(
        &http,
        &format!("http://{}", app.address),
        ADMIN_TOKEN,
        "/admin/queue",
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/admin/queue");
    let set_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("liaison_admin="))
        .expect("a session cookie")
        .to_owned();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(part), "{part} missing: {set_cookie}");
    }
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("cookie pair")
        .to_owned();
    let mut console = Console {
        http,
        base: format!("http://{}", app.address),
        cookie,
        csrf: String::new(),
    };
    let (status, html) = console.get("/admin").await;
    assert_eq!(status, 200, "{html}");
    console.csrf = csrf_in(&html).expect("a csrf token on the page");
    console
}

impl Console {
    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("get");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// Posts a form with this session's CSRF token; answers the status and `Location` or body.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let mut form: Vec<(&str, &str)> = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("post");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        (status, location.unwrap_or(body))
    }
}

/// A Gupy delivery carrying a secret-looking field and personal data, sent as Gupy would.
pub async fn receive_delivery(app: &TestApp, slug: &str, id: &str) {
    let mut body = gupy_delivery(id, "application.moved");
    body["data"]["candidate"]["email"] = json!(EMAIL);
    body["data"]["api_key"] = json!(PAYLOAD_SECRET);
    let response = app
        .post_gupy(
            slug,
            &serde_json::to_vec(&body).expect("json"),
            Some(&gupy_secret(slug)),
        )
        .await;
    assert!(
        response.status().is_success(),
        "delivery refused: {}",
        response.status()
    );
}

/// The id of the newest event of `slug`, through the API.
pub async fn newest_event(app: &TestApp, slug: &str) -> EventId {
    let listed: Value = app
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/tenants/{slug}/events"),
        )
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    listed["data"][0]["id"]
        .as_str()
        .expect("an event")
        .parse()
        .expect("event id")
}

/// Plays the worker: every due job fails for good (a partner said 422).
pub async fn dead_letter_all(app: &TestApp) {
    let policy = BackoffPolicy {
        base: Duration::ZERO,
        max: Duration::ZERO,
    };
    loop {
        let batch = queue::claim(app.db(), "test", Duration::from_secs(60), 100)
            .await
            .expect("claim");
        if batch.is_empty() {
            break;
        }
        for job in batch {
            queue::fail(
                app.db(),
                &job,
                Failure::Permanent,
                "suite said 422 for maria.silva@example.com",
                &policy,
            )
            .await
            .expect("fail");
        }
    }
}

/// Plays the worker: every due job succeeds.
pub async fn complete_all(app: &TestApp) {
    loop {
        let batch = queue::claim(app.db(), "test", Duration::from_secs(60), 100)
            .await
            .expect("claim");
        if batch.is_empty() {
            break;
        }
        for job in batch {
            queue::complete(app.db(), &job).await.expect("complete");
        }
    }
}

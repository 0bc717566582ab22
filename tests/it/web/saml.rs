//! SAML against a real, independent IdP (`saml-idp` from npm on loopback, signing with a
//! certificate made by `openssl` at test time): a signed response logs in; unsigned, altered,
//! expired, wrong-audience, wrapped (XSW) and replayed responses are refused.

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::support::{NodeProcess, TenantOptions, WebApp};

pub struct Idp {
    pub process: NodeProcess,
    pub base: String,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn make_certificate(dir: &Path) {
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test-idp",
            "-keyout",
            "idp-private-key.pem",
            "-out",
            "idp-public-cert.pem",
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
}

pub async fn start_idp(app: &WebApp, audience: &str) -> Idp {
    let dir = tempfile::tempdir().expect("dir");
    make_certificate(dir.path());
    let port = free_port().to_string();
    let acs = app.url("/sso/acme/saml/acs");
    let process = NodeProcess::start(
        "node_modules/saml-idp/bin/run.js",
        &[
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--acsUrl",
            &acs,
            "--audience",
            audience,
            "--issuer",
            "urn:test:idp",
        ],
        dir.path(),
    )
    .await;
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{base}/metadata")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Idp {
        process,
        base,
        _dir: dir,
    }
}

pub fn sp_entity_id(app: &WebApp) -> String {
    app.url("/sso/acme/saml/metadata")
}

pub async fn tenant_with(app: &WebApp, idp: &Idp) {
    app.add_tenant(TenantOptions {
        sso: Some(format!(
            "[sso]\nkind = \"saml\"\nidp_metadata_url = \"{}/metadata\"\n",
            idp.base
        )),
        ..TenantOptions::new("acme")
    })
    .await;
}

fn attribute(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let at = html
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {html}"));
    let rest = &html[at..];
    let start = rest.find("value=").expect("value") + 7;
    let quote = rest.as_bytes()[start - 1] as char;
    rest[start..].chars().take_while(|c| *c != quote).collect()
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x3D;", "=")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Starts sign-in at Liaison, signs in at the IdP as `email`: the SAMLResponse and RelayState.
async fn signed_response(app: &WebApp, idp: &Idp, email: &str) -> (String, String) {
    signed_response_for(app, idp, email, "%2Fembed%2Facme%2Fjobs%2F1", &[]).await
}

/// `signed_response` coming back to `return_to` (URL-encoded), with more attributes for the
/// IdP to state. Liaison's binding cookie holds the request id, which RelayState carries too.
pub async fn signed_response_for(
    app: &WebApp,
    idp: &Idp,
    email: &str,
    return_to: &str,
    attributes: &[(&str, &str)],
) -> (String, String) {
    let start = app
        .get(&format!("/sso/acme/login?return_to={return_to}"))
        .await;
    assert_eq!(
        start.status(),
        303,
        "{}",
        start.text().await.unwrap_or_default()
    );
    let to_idp = start.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let binding = start.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(to_idp.starts_with(&idp.base), "{to_idp}");
    let login_page = reqwest::get(&to_idp)
        .await
        .expect("idp")
        .text()
        .await
        .expect("page");
    let authn_request = unescape(&attribute(&login_page, "_authnRequest"));
    let client = reqwest::Client::new();
    let mut form = vec![
        ("userName", email),
        (
            "nameIdFormat",
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        ),
        ("email", email),
        ("firstName", "Saml"),
        ("lastName", "Tester"),
        ("_authnRequest", authn_request.as_str()),
    ];
    form.extend_from_slice(attributes);
    let answer = client
        .post(format!("{}/signin", idp.base))
        .form(&form)
        .send()
        .await
        .expect("signin")
        .text()
        .await
        .expect("form");
    let relay = unescape(&attribute(&answer, "RelayState"));
    assert!(
        binding.starts_with(&format!("liaison_saml_acme={relay};")),
        "the binding cookie holds the request id: {binding}"
    );
    (unescape(&attribute(&answer, "SAMLResponse")), relay)
}

/// Posts to the ACS as the browser that started the sign-in `relay` (it holds the binding
/// cookie of that request).
pub async fn post_acs(app: &WebApp, response: &str, relay: &str) -> reqwest::Response {
    post_acs_with_cookie(
        app,
        response,
        relay,
        Some(&format!("liaison_saml_acme={relay}")),
    )
    .await
}

pub async fn post_acs_with_cookie(
    app: &WebApp,
    response: &str,
    relay: &str,
    cookie: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/sso/acme/saml/acs"))
        .form(&[("SAMLResponse", response), ("RelayState", relay)]);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("acs")
}

fn decode(response: &str) -> String {
    String::from_utf8(STANDARD.decode(response).expect("base64")).expect("utf-8")
}

fn encode(xml: &str) -> String {
    STANDARD.encode(xml)
}

/// The XML without any `Signature` element.
fn strip_signatures(xml: &str) -> String {
    let mut out = xml.to_owned();
    while let Some(start) = out.find("<Signature").or_else(|| out.find("<ds:Signature")) {
        let close = if out[start..].starts_with("<ds:") {
            "</ds:Signature>"
        } else {
            "</Signature>"
        };
        let end = out[start..].find(close).expect("closing tag") + start + close.len();
        out.replace_range(start..end, "");
    }
    out
}

/// The first `<...Assertion ...>...</...Assertion>` element.
fn assertion_of(xml: &str) -> (usize, usize) {
    let start = xml.find("<saml:Assertion").expect("an assertion");
    let close = "</saml:Assertion>";
    let end = xml.find(close).expect("its end") + close.len();
    (start, end)
}

#[tokio::test]
async fn a_signed_response_logs_in_and_metadata_names_the_acs() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    let metadata = app
        .get("/sso/acme/saml/metadata")
        .await
        .text()
        .await
        .expect("xml");
    assert!(
        metadata.contains(&app.url("/sso/acme/saml/acs")),
        "{metadata}"
    );

    let (response, relay) = signed_response(&app, &idp, "saml.user@idp.example").await;
    let answer = post_acs(&app, &response, &relay).await;

    assert_eq!(
        answer.status(),
        200,
        "{}",
        answer.text().await.unwrap_or_default()
    );
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_response_is_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    let (response, relay) = signed_response(&app, &idp, "saml.user@idp.example").await;
    assert_eq!(post_acs(&app, &response, &relay).await.status(), 200);

    assert_eq!(post_acs(&app, &response, &relay).await.status(), 401);
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn unsigned_and_altered_responses_are_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    let (response, relay) = signed_response(&app, &idp, "saml.user@idp.example").await;
    let xml = decode(&response);

    let unsigned = encode(&strip_signatures(&xml));
    assert_eq!(
        post_acs(&app, &unsigned, &relay).await.status(),
        401,
        "unsigned"
    );
    let altered = encode(&xml.replace("saml.user@idp.example", "admin@idp.example"));
    assert_eq!(
        post_acs(&app, &altered, &relay).await.status(),
        401,
        "altered"
    );

    // Neither attempt spent the request: the genuine response still works.
    assert_eq!(post_acs(&app, &response, &relay).await.status(), 200);
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_signature_wrapped_response_is_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    let (response, relay) = signed_response(&app, &idp, "saml.user@idp.example").await;
    let xml = decode(&response);
    let (start, end) = assertion_of(&xml);
    let genuine = &xml[start..end];
    let evil = strip_signatures(genuine)
        .replace("saml.user@idp.example", "attacker@evil.example")
        .replacen(" ID=\"", " ID=\"evil", 1);

    // XSW: the forged assertion first, the signed one after it, and the signed one wrapped
    // inside an extension element of the forged one.
    let before = format!("{}{evil}{}", &xml[..start], &xml[start..]);
    let evil_open = &evil[..evil.find("</saml:Assertion>").expect("end")];
    let wrapped = format!(
        "{}{evil_open}<saml:Advice>{genuine}</saml:Advice></saml:Assertion>{}",
        &xml[..start],
        &xml[end..]
    );
    for (case, forged) in [("evil first", before), ("genuine wrapped", wrapped)] {
        let answer = post_acs(&app, &encode(&forged), &relay).await;
        assert_eq!(answer.status(), 401, "{case}");
    }
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_response_for_another_audience_is_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, "urn:someone:else").await;
    tenant_with(&app, &idp).await;
    let (response, relay) = signed_response(&app, &idp, "saml.user@idp.example").await;

    let answer = post_acs(&app, &response, &relay).await;

    assert_eq!(answer.status(), 401);
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn an_expired_response_is_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    // The IdP's own setting: assertions that expired ten minutes before they were issued.
    let settings = reqwest::Client::new()
        .post(format!("{}/settings", idp.base))
        .form(&[("lifetimeInSeconds", "-600")])
        .send()
        .await
        .expect("settings");
    assert!(settings.status().is_success() || settings.status().is_redirection());
    let (response, relay) = signed_response(&app, &idp, "saml.user@idp.example").await;
    assert!(decode(&response).contains("NotOnOrAfter"));

    let answer = post_acs(&app, &response, &relay).await;

    assert_eq!(answer.status(), 401);
    idp.process.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn an_unsolicited_response_is_refused() {
    let app = WebApp::spawn().await;
    let idp = start_idp(&app, &sp_entity_id(&app)).await;
    tenant_with(&app, &idp).await;
    let (response, _) = signed_response(&app, &idp, "saml.user@idp.example").await;

    assert_eq!(post_acs(&app, &response, "").await.status(), 401);
    assert_eq!(post_acs(&app, &response, "_not-ours").await.status(), 401);
    idp.process.stop().await;
    app.stop().await;
}

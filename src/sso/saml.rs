//! SAML 2.0 sign-in (`samael` with `xmlsec`): SP metadata, an AuthnRequest by HTTP-Redirect, and
//! the assertion consumer (HTTP-POST). A response is accepted only when its signature (response
//! or assertion) verifies against a certificate of the IdP's metadata, and samael's checks pass:
//! destination, audience, `InResponseTo` one of our pending requests, `NotBefore` and
//! `NotOnOrAfter` within a small skew, and only signed content kept (XML signature wrapping).
//! The pending request is then spent, so the same response cannot be replayed. The sign-in is
//! bound to the browser that started it (the `liaison_saml_{tenant}` cookie holds the request
//! id); IdP-initiated responses are refused. Metadata from a URL is kept for 10 minutes.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use samael::crypto::AllowedSignatureAlgorithm;
use samael::metadata::{EntityDescriptor, HTTP_REDIRECT_BINDING};
use samael::schema::Assertion;
use samael::service_provider::{ServiceProvider, ServiceProviderBuilder};
use samael::traits::ToXml as _;
use serde::Deserialize;
use subtle::ConstantTimeEq as _;

use super::limits::{WithinLimit, with_code};
use super::logins::{self, LoginKind, PendingLogin};
use super::{Identity, complete_sign_in};
use crate::app::AppState;
use crate::tenant::Tenant;
use crate::web::access::{browser_locale, page_context, resolve_tenant};
use crate::web::error::PageError;
use crate::web::session::{SessionOrigin, read_cookie};

/// Tolerated difference between the IdP's clock and ours.
pub const CLOCK_SKEW_S: i64 = 60;

fn base(state: &AppState, tenant: &Tenant) -> String {
    format!(
        "{}/sso/{}/saml",
        state.settings.public_url.trim_end_matches('/'),
        tenant.slug()
    )
}

/// The SP's entity id: the tenant's `sso.sp_entity_id`, else the metadata URL.
pub fn sp_entity_id(state: &AppState, tenant: &Tenant) -> String {
    tenant
        .config
        .sso
        .sp_entity_id
        .clone()
        .unwrap_or_else(|| format!("{}/metadata", base(state, tenant)))
}

fn refused(tenant: &Tenant, reason: impl Into<String>) -> PageError {
    PageError::Unauthorized {
        context: page_context(tenant, None),
        reason: reason.into(),
        return_to: String::new(),
    }
}

/// The IdP's metadata, from `sso.idp_metadata_file` or `sso.idp_metadata_url` (fetched at most
/// once per 10 minutes per tenant: `idp_cache`).
async fn idp_metadata(state: &AppState, tenant: &Tenant) -> Result<EntityDescriptor, PageError> {
    let sso = &tenant.config.sso;
    let xml = if let Some(file) = &sso.idp_metadata_file {
        tokio::fs::read_to_string(file)
            .await
            .map_err(|e| PageError::Internal(anyhow::anyhow!("sso.idp_metadata_file: {e}")))?
    } else if let Some(url) = &sso.idp_metadata_url {
        state
            .sso
            .saml_metadata
            .get(tenant.id, url, || fetch_metadata(state, tenant, url))
            .await?
    } else {
        return Err(PageError::Internal(anyhow::anyhow!(
            "no IdP metadata configured"
        )));
    };
    xml.parse::<EntityDescriptor>()
        .map_err(|e| PageError::Internal(anyhow::anyhow!("IdP metadata does not parse: {e}")))
}

async fn fetch_metadata(state: &AppState, tenant: &Tenant, url: &str) -> Result<String, PageError> {
    let unavailable = || PageError::Unavailable {
        context: page_context(tenant, None),
    };
    // An IP-literal host bypasses the client's resolver: judged here.
    if let Ok(parsed) = url::Url::parse(url)
        && let Err(error) = crate::outbound::check_url(&parsed)
    {
        tracing::warn!(tenant = %tenant.slug(), %error, "IdP metadata URL refused");
        return Err(unavailable());
    }
    let answer = state
        .suite_clients
        .http()
        .get(url)
        .send()
        .await
        .and_then(|answer| answer.error_for_status());
    match answer {
        Ok(answer) => answer.text().await.map_err(|_| unavailable()),
        Err(error) => {
            tracing::warn!(tenant = %tenant.slug(), error = %error.without_url(), "IdP metadata unavailable");
            Err(unavailable())
        }
    }
}

fn service_provider(
    state: &AppState,
    tenant: &Tenant,
    idp: EntityDescriptor,
) -> Result<ServiceProvider, PageError> {
    let base = base(state, tenant);
    let sp = ServiceProviderBuilder::default()
        .entity_id(sp_entity_id(state, tenant))
        .metadata_url(format!("{base}/metadata"))
        .acs_url(format!("{base}/acs"))
        .slo_url(None::<String>)
        .idp_metadata(idp)
        .allow_idp_initiated(false)
        .max_clock_skew(chrono::Duration::seconds(CLOCK_SKEW_S))
        .allowed_signature_algorithms(Some(vec![
            AllowedSignatureAlgorithm::RsaSha256,
            AllowedSignatureAlgorithm::RsaSha384,
            AllowedSignatureAlgorithm::RsaSha512,
            AllowedSignatureAlgorithm::EcdsaSha256,
        ]))
        .build()
        .map_err(|e| PageError::Internal(anyhow::anyhow!("SAML service provider: {e}")))?;
    // Without an IdP certificate samael would take unsigned responses: never run like that.
    match sp.idp_signing_certs() {
        Ok(Some(certs)) if !certs.is_empty() => Ok(sp),
        _ => Err(PageError::Internal(anyhow::anyhow!(
            "the IdP metadata of tenant {} has no signing certificate",
            tenant.slug()
        ))),
    }
}

/// `GET /sso/{tenant}/saml/metadata`: the SP metadata an IdP administrator imports.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn show_saml_metadata(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(&state, &slug).await?;
    let base = base(&state, &tenant);
    let sp = ServiceProviderBuilder::default()
        .entity_id(sp_entity_id(&state, &tenant))
        .metadata_url(format!("{base}/metadata"))
        .acs_url(format!("{base}/acs"))
        // samael insists on an SLO endpoint for metadata; Liaison has none, so it is removed below.
        .slo_url(format!("{base}/slo"))
        .build()
        .map_err(|e| PageError::Internal(anyhow::anyhow!("SAML service provider: {e}")))?;
    let xml = sp
        .metadata()
        .map_err(|e| e.to_string())
        .map(|mut metadata| {
            for descriptor in metadata.sp_sso_descriptors.iter_mut().flatten() {
                descriptor.single_logout_services = None;
            }
            metadata
        })
        .and_then(|metadata| metadata.to_string().map_err(|e| e.to_string()))
        .map_err(|e| PageError::Internal(anyhow::anyhow!("SP metadata: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        xml,
    )
        .into_response())
}

/// Sends the browser to the IdP with an AuthnRequest whose id is remembered (and spent once).
pub async fn start(
    state: &AppState,
    tenant: &Tenant,
    return_to: String,
) -> Result<Response, PageError> {
    let idp = idp_metadata(state, tenant).await?;
    let request_id = format!("_{}", hex(&rand::random::<[u8; 20]>()));
    // The service provider (and samael's errors) stay in this block: they are not `Send`.
    let url = {
        let sp = service_provider(state, tenant, idp)?;
        let sso_url = sp
            .sso_binding_location(HTTP_REDIRECT_BINDING)
            .ok_or_else(|| refused(tenant, "the IdP has no HTTP-Redirect SSO endpoint"))?;
        let mut request = sp
            .make_authentication_request(&sso_url)
            .map_err(|e| PageError::Internal(anyhow::anyhow!("AuthnRequest: {e}")))?;
        request.id = request_id.clone();
        request
            .redirect(&request_id)
            .map_err(|e| PageError::Internal(anyhow::anyhow!("AuthnRequest: {e}")))?
            .ok_or_else(|| {
                PageError::Internal(anyhow::anyhow!("AuthnRequest has no destination"))
            })?
    };
    let key = state
        .master_key
        .as_ref()
        .ok_or_else(|| PageError::Internal(anyhow::anyhow!("no master key configured")))?;
    let login = PendingLogin {
        state: request_id,
        nonce: None,
        pkce_verifier: None,
        return_to,
    };
    let max_pending = state.sso.limits.max_pending_logins;
    if logins::begin(
        &state.db,
        key,
        tenant.id,
        LoginKind::Saml,
        &login,
        max_pending,
    )
    .await?
        == logins::Begun::TooManyPending
    {
        return Ok(logins::too_many_pending(tenant.slug()));
    }
    let mut response = Redirect::to(url.as_str()).into_response();
    let cookie = binding_cookie_header(state, tenant, &login.state, logins::LOGIN_TTL_MS / 1000);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The cookie that binds a sign-in to the browser that started it (login CSRF: a response the
/// IdP issued for someone else's sign-in, posted from another site, arrives without it).
fn binding_cookie(tenant: &Tenant) -> String {
    format!("liaison_saml_{}", tenant.slug())
}

/// `Set-Cookie` for the binding cookie. The ACS is a cross-site POST from the IdP, which carries
/// only `SameSite=None` cookies, and browsers keep those only with `Secure`: so over https it is
/// `SameSite=None; Secure`. Over plain http (loopback development and tests) `Secure` is not
/// possible and it is `SameSite=Lax`, which browsers send only when the IdP is on the same site
/// (the same host, any port).
fn binding_cookie_header(state: &AppState, tenant: &Tenant, value: &str, max_age: i64) -> String {
    let same_site = if state.settings.public_url.starts_with("https://") {
        "SameSite=None; Secure"
    } else {
        "SameSite=Lax"
    };
    format!(
        "{}={value}; Path=/sso/{}/saml/; Max-Age={max_age}; HttpOnly; {same_site}",
        binding_cookie(tenant),
        tenant.slug(),
    )
}

/// Whether this browser holds the binding cookie of the sign-in `request_id`.
fn bound_to_browser(headers: &HeaderMap, tenant: &Tenant, request_id: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| read_cookie(value, &binding_cookie(tenant)))
        .is_some_and(|cookie| bool::from(cookie.as_bytes().ct_eq(request_id.as_bytes())))
}

#[derive(Debug, Deserialize)]
pub struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState", default)]
    relay_state: String,
}

/// `POST /sso/{tenant}/saml/acs`.
#[tracing::instrument(skip_all, fields(tenant = %slug))]
pub async fn consume_saml_response(
    _: WithinLimit,
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(form): Form<AcsForm>,
) -> Result<Response, PageError> {
    let tenant = resolve_tenant(&state, &slug).await?;
    // RelayState carries our AuthnRequest id; samael checks that the response answers it.
    // IdP-initiated (unsolicited) responses are refused: nothing binds them to a browser.
    let request_id = form.relay_state.trim().to_owned();
    if request_id.is_empty() {
        return Ok(with_code(
            refused(&tenant, "unsolicited SAML response (no RelayState)").into_response(),
            "saml_unsolicited",
        ));
    }
    if !bound_to_browser(&headers, &tenant, &request_id) {
        return Ok(with_code(
            refused(
                &tenant,
                "SAML response for a sign-in this browser did not start",
            )
            .into_response(),
            "saml_not_bound",
        ));
    }
    if !has_one_assertion(form.saml_response.trim()) {
        return Err(refused(
            &tenant,
            "the response must carry exactly one assertion",
        ));
    }
    let idp = idp_metadata(&state, &tenant).await?;
    let verified: Result<Assertion, String> = {
        let sp = service_provider(&state, &tenant, idp)?;
        sp.parse_base64_response(form.saml_response.trim(), Some(&[request_id.as_str()]))
            .map_err(|error| error.to_string())
    };
    let assertion =
        verified.map_err(|reason| refused(&tenant, format!("SAML response refused: {reason}")))?;
    let key = state
        .master_key
        .as_ref()
        .ok_or_else(|| PageError::Internal(anyhow::anyhow!("no master key configured")))?;
    let Some(login) =
        logins::finish(&state.db, key, tenant.id, LoginKind::Saml, &request_id).await?
    else {
        return Err(refused(
            &tenant,
            "SAML response replayed or its request expired",
        ));
    };
    let identity = identity(&assertion)
        .ok_or_else(|| refused(&tenant, "the assertion names no subject or email"))?;
    let mut response = complete_sign_in(
        &state,
        &tenant,
        identity,
        SessionOrigin::Saml,
        &login.return_to,
        browser_locale(&headers),
    )
    .await?;
    // The sign-in is spent: so is its binding.
    if let Ok(value) = HeaderValue::from_str(&binding_cookie_header(&state, &tenant, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The person in a verified assertion: NameID as subject, email and name from the usual
/// attribute names (or an email-shaped NameID), an optional `role` attribute.
pub fn identity(assertion: &Assertion) -> Option<Identity> {
    let subject = assertion
        .subject
        .as_ref()?
        .name_id
        .as_ref()?
        .value
        .trim()
        .to_owned();
    let attribute = |names: &[&str]| -> Option<String> {
        assertion
            .attribute_statements
            .iter()
            .flatten()
            .flat_map(|statement| &statement.attributes)
            .find(|attribute| {
                let name = attribute.name.as_deref().unwrap_or("");
                let short = name.rsplit(['/', ':']).next().unwrap_or(name);
                names.iter().any(|wanted| {
                    name.eq_ignore_ascii_case(wanted) || short.eq_ignore_ascii_case(wanted)
                }) || attribute
                    .friendly_name
                    .as_deref()
                    .is_some_and(|friendly| names.iter().any(|w| friendly.eq_ignore_ascii_case(w)))
            })
            .and_then(|attribute| attribute.values.first())
            .and_then(|value| value.value.clone())
            .filter(|value| !value.trim().is_empty())
    };
    let email = attribute(&["email", "emailaddress", "mail", "0.9.2342.19200300.100.1.3"])
        .or_else(|| subject.contains('@').then(|| subject.clone()))?;
    let name = attribute(&["displayName", "name"]).or_else(|| {
        match (
            attribute(&["firstName", "givenname"]),
            attribute(&["lastName", "surname"]),
        ) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (first, last) => first.or(last),
        }
    });
    if subject.is_empty() {
        return None;
    }
    Some(Identity {
        subject,
        email,
        name,
        role: attribute(&["role"]),
    })
}

/// Signature wrapping hides a forged assertion next to (or around) a signed one. Liaison's IdPs
/// send exactly one, so any other count is refused before signatures are even looked at.
pub fn has_one_assertion(encoded: &str) -> bool {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    let mut reader = quick_xml::Reader::from_reader(bytes.as_slice());
    let mut buffer = Vec::new();
    let mut assertions = 0;
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(
                quick_xml::events::Event::Start(element) | quick_xml::events::Event::Empty(element),
            ) => {
                let name = element.local_name();
                let name: &str = name.as_ref();
                if name == "Assertion" || name == "EncryptedAssertion" {
                    assertions += 1;
                }
            }
            Ok(quick_xml::events::Event::Eof) => return assertions == 1,
            Ok(_) => {}
            Err(_) => return false,
        }
        buffer.clear();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    fn encoded(xml: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(xml)
    }

    #[test]
    fn responses_with_other_than_one_assertion_are_refused() {
        let one = r#"<samlp:Response xmlns:samlp="p" xmlns:saml="a"><saml:Assertion ID="a"/></samlp:Response>"#;
        let two = r#"<samlp:Response xmlns:samlp="p" xmlns:saml="a"><saml:Assertion ID="e"><saml:Advice><saml:Assertion ID="a"/></saml:Advice></saml:Assertion></samlp:Response>"#;
        let none = r#"<samlp:Response xmlns:samlp="p"/>"#;
        assert!(super::has_one_assertion(&encoded(one)));
        assert!(!super::has_one_assertion(&encoded(two)));
        assert!(!super::has_one_assertion(&encoded(none)));
        assert!(!super::has_one_assertion("%%%"));
    }

    #[test]
    fn request_ids_are_long_and_xml_safe() {
        let id = format!("_{}", super::hex(&[0xab; 20]));
        assert_eq!(id.len(), 41);
        assert!(id.starts_with('_'));
    }
}

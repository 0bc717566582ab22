//! Security headers of every page: who may frame it (`frame-ancestors` from the tenant's
//! `embed.frame_ancestors`; no `X-Frame-Options`, which would contradict it), what it may load
//! (only Liaison's own styles and script), no MIME sniffing, and no referrer (links carry the
//! session token).

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// The `Content-Security-Policy` of a page that `ancestors` may frame.
pub fn content_security_policy(ancestors: &[String]) -> String {
    let mut frame_ancestors = String::from("'self'");
    for origin in ancestors {
        // Tenant files are validated as origins; anything else is dropped rather than trusted.
        if origin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c))
        {
            frame_ancestors.push(' ');
            frame_ancestors.push_str(origin);
        }
    }
    format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; \
         frame-ancestors {frame_ancestors}"
    )
}

/// The headers every HTML page carries, for a tenant framed by `ancestors`.
pub fn page_headers(ancestors: &[String]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(ancestors)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Lets the SSO popup keep `window.opener` so it can tell the iframe it is done.
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("unsafe-none"),
    );
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_lists_self_and_the_tenant_s_origins() {
        let csp = content_security_policy(&[
            "https://ats.example.com".to_owned(),
            "http://127.0.0.1:9000".to_owned(),
        ]);
        assert!(
            csp.ends_with("frame-ancestors 'self' https://ats.example.com http://127.0.0.1:9000"),
            "{csp}"
        );
        assert!(csp.contains("script-src 'self'"));
    }

    #[test]
    fn an_origin_with_odd_characters_never_reaches_the_header() {
        let csp = content_security_policy(&["https://a.example; script-src *".to_owned()]);
        assert!(csp.ends_with("frame-ancestors 'self'"), "{csp}");
    }

    #[test]
    fn pages_send_nosniff_and_no_frame_options() {
        let headers = page_headers(&[]);
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert!(!headers.contains_key(header::X_FRAME_OPTIONS));
    }
}

//! Greenhouse's Assessment Partner API (`contracts/ats-partners.md` §1.1): Greenhouse calls
//! Liaison (`routes`: list tests, send a test, ask its status, report an error),
//! authenticated by the Basic-auth key Liaison issued the tenant; Liaison tells Greenhouse a
//! result is ready with an empty `PATCH` of the order's `url`, under the same key, and Greenhouse
//! then asks `test_status`. No webhooks: deliveries to `/webhooks/{tenant}/ats` are refused.

pub mod normalize;
pub mod payload;
pub mod routes;

use base64::Engine as _;
use secrecy::ExposeSecret;

use super::capabilities::{Delivery, OrderReport};
use super::error::AdapterError;
use super::http_client::{classify, transport_error};
use super::{AdapterFuture, AtsAdapter};
use crate::tenant::{AtsKind, Tenant};

pub struct GreenhouseAssessmentAdapter {
    http: reqwest::Client,
}

impl GreenhouseAssessmentAdapter {
    pub fn new(http: reqwest::Client) -> Self {
        Self { http }
    }
}

/// `Authorization: Basic base64(<key>:)`: the key is the username, the password empty.
pub fn basic_header(key: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
    format!("Basic {encoded}")
}

impl AtsAdapter for GreenhouseAssessmentAdapter {
    fn kind(&self) -> AtsKind {
        AtsKind::GreenhouseAssessment
    }

    fn name(&self) -> &'static str {
        "Greenhouse"
    }

    /// Greenhouse's account manager enters the key Liaison issued; nothing is registered.
    fn delivery(&self) -> Delivery {
        Delivery::PartnerApi {
            routes: "/partners/greenhouse",
        }
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug()))]
    fn report_order<'a>(
        &'a self,
        tenant: &'a Tenant,
        report: &'a OrderReport,
    ) -> AdapterFuture<'a, ()> {
        Box::pin(async move {
            let key = report.credential.as_ref().ok_or_else(|| {
                AdapterError::Config(format!(
                    "tenant `{}` has no key: run `liaison tenant issue-key {}`",
                    tenant.slug(),
                    tenant.slug()
                ))
            })?;
            let url = url::Url::parse(&report.callback_url)
                .map_err(|e| AdapterError::Permanent(format!("the order's url: {e}")))?;
            crate::outbound::check_url(&url).map_err(|refused| {
                AdapterError::Permanent(format!(
                    "the order's url points at {} ({}), which Liaison does not call",
                    refused.reason, refused.host
                ))
            })?;
            let what = "PATCH of the order's url";
            let response = self
                .http
                .patch(url)
                .header(
                    reqwest::header::AUTHORIZATION,
                    basic_header(key.expose_secret()),
                )
                .timeout(std::time::Duration::from_secs(30))
                .send()
                .await
                .map_err(|e| transport_error(e, what))?;
            classify(response.status(), response.headers(), what)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header_carries_the_key_as_username_with_an_empty_password() {
        // The contract's example header decodes to `0d031d8227eafa61dc375a6c2e067e24:`.
        assert_eq!(
            basic_header("0d031d8227eafa61dc375a6c2e067e24"),
            "Basic MGQwMzFkODIyN2VhZmE2MWRjMzc1YTZjMmUwNjdlMjQ6"
        );
    }
}

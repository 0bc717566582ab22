//! `/v1/webhooks`: Liaison's subscriptions to suite events.

use reqwest::Method;

use crate::suite::client::{Call, SuiteClient};
use crate::suite::error::SuiteError;
use crate::suite::idempotency::OperationKey;
use crate::suite::types::{CreateWebhookRequest, Page, PageRequest, WebhookResponse};

impl SuiteClient {
    /// `POST /v1/webhooks`: the answer holds the signing secret (only here).
    pub async fn create_webhook(
        &self,
        key: &OperationKey,
        webhook: &CreateWebhookRequest,
    ) -> Result<WebhookResponse, SuiteError> {
        let call = Call::new(Method::POST, "POST /v1/webhooks", &["v1", "webhooks"])
            .json(webhook)?
            .idempotent(key);
        self.fetch(call).await
    }

    /// `GET /v1/webhooks`, one page.
    pub async fn list_webhooks(
        &self,
        page: &PageRequest,
    ) -> Result<Page<WebhookResponse>, SuiteError> {
        let call = Call::new(Method::GET, "GET /v1/webhooks", &["v1", "webhooks"]).query(page);
        self.fetch(call).await
    }

    /// `DELETE /v1/webhooks/{id}`; an already deleted one is fine.
    pub async fn delete_webhook(&self, id: &str) -> Result<(), SuiteError> {
        let call = Call::new(
            Method::DELETE,
            "DELETE /v1/webhooks/{id}",
            &["v1", "webhooks", id],
        );
        match self.execute(call).await {
            Ok(_) | Err(SuiteError::NotFound { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

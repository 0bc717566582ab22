//! Helpers for the inbound and ATS tests: tenants of each kind, signed requests, inbox reads.

use liaison::crypto::MasterKey;
use liaison::ids::TenantId;
use liaison::signature::hmac_sha256;
use liaison::signature::standard_webhooks::{self, WebhookSecret};
use liaison::store::entities::{inbox_event, job};
use liaison::tenant::{self, TenantConfig};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

use super::helpers::TestApp;

pub const SUITE_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
pub const SIGNED_JSON_SECRET: &str = "signed-json-S3CRET-and-32-bytes-at-least";

const SUITE: &str = r#"
[suite]
base_url = "http://127.0.0.1:9"
client_id = "liaison"
client_secret = "suite-client-S3CRET"
webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#;

pub fn gupy_toml(slug: &str, base_url: &str) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Gupy {slug}"

[ats]
kind = "gupy"
base_url = "{base_url}"
token = "gupy-token"
webhook_secret = "{}"
{SUITE}"#,
        gupy_secret(slug)
    )
}

pub fn gupy_secret(slug: &str) -> String {
    format!("gupy-hook-{slug}-S3CRET")
}

pub fn signed_json_toml(slug: &str, fields: &str) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Signed {slug}"

[ats]
kind = "signed-json"
webhook_secret = "{SIGNED_JSON_SECRET}"
language = "en"
{fields}
{SUITE}"#
    )
}

pub fn xml_feed_toml(slug: &str, feed_url: &str) -> String {
    format!(
        r#"
slug = "{slug}"
name = "Feed {slug}"

[ats]
kind = "xml-feed"
base_url = "{feed_url}"
feed_header = "X-API-KEY: feed-key"
poll_interval_s = 300
{SUITE}"#
    )
}

pub async fn apply(db: &DatabaseConnection, key: &MasterKey, toml: &str) -> TenantId {
    let config = TenantConfig::from_toml(toml).expect("a valid tenant file");
    tenant::apply(db, key, &config)
        .await
        .expect("apply the tenant")
        .0
}

pub async fn open(db: &DatabaseConnection, key: &MasterKey, slug: &str) -> tenant::Tenant {
    tenant::find(db, key, slug)
        .await
        .expect("read the tenant")
        .expect("the tenant exists")
}

pub fn gupy_delivery(id: &str, event: &str) -> Value {
    json!({
      "companyName": "ACME",
      "id": id,
      "event": event,
      "date": "2026-11-20T13:05:41.118Z",
      "data": {
        "job": {"id": 19139, "name": "Data Scientist", "type": "vacancy_type_effective"},
        "application": {"id": 2937132, "score": 71.5, "status": "in_process", "tags": [],
                        "currentStep": {"id": 86547, "name": "Video interview", "type": "online"},
                        "previousStep": {"id": 86546, "name": "Screening", "type": "register"}},
        "candidate": {"id": 1999450, "name": "Maria", "lastName": "Silva",
                      "email": "maria@example.com", "mobileNumber": "+5511999990000"}
      }
    })
}

impl TestApp {
    pub async fn post_gupy(
        &self,
        slug: &str,
        body: &[u8],
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url(&format!("/webhooks/{slug}/ats")))
            .body(body.to_vec());
        if let Some(token) = token {
            request = request.header("X-Liaison-Token", token);
        }
        request.send().await.expect("request")
    }

    pub async fn post_signed_json(
        &self,
        slug: &str,
        content_type: &str,
        body: &[u8],
        timestamp: Option<i64>,
    ) -> reqwest::Response {
        let ts = timestamp.map(|t| t.to_string());
        let signature = hmac_sha256::sign(SIGNED_JSON_SECRET.as_bytes(), ts.as_deref(), body);
        let mut request = self
            .client
            .post(self.url(&format!("/webhooks/{slug}/ats")))
            .header("Content-Type", content_type)
            .header("X-Liaison-Signature", signature)
            .body(body.to_vec());
        if let Some(ts) = ts {
            request = request.header("X-Liaison-Timestamp", ts);
        }
        request.send().await.expect("request")
    }

    pub async fn post_suite(
        &self,
        slug: &str,
        secret: &str,
        id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> reqwest::Response {
        let secret = WebhookSecret::parse(secret).expect("a whsec_ secret");
        self.client
            .post(self.url(&format!("/webhooks/{slug}/suite")))
            .header("Content-Type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                standard_webhooks::sign(&secret, id, timestamp, body),
            )
            .body(body.to_vec())
            .send()
            .await
            .expect("request")
    }
}

pub fn now_s() -> i64 {
    chrono::Utc::now().timestamp()
}

pub async fn inbox(db: &DatabaseConnection, tenant: TenantId) -> Vec<inbox_event::Model> {
    inbox_event::Entity::find()
        .filter(inbox_event::Column::TenantId.eq(tenant.0))
        .order_by_asc(inbox_event::Column::Id)
        .all(db)
        .await
        .expect("read the inbox")
}

pub async fn job_count(db: &DatabaseConnection, tenant: TenantId) -> u64 {
    job::Entity::find()
        .filter(job::Column::TenantId.eq(tenant.0))
        .count(db)
        .await
        .expect("count jobs")
}

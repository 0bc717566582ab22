//! The tenant file: parsing and validation. Secret fields are wrapped (`SecretString`) and are never
//! serialised with the settings; `repo` seals them separately.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::roles::{RoleMap, default_roles};

#[derive(Debug, thiserror::Error)]
pub enum TenantFileError {
    #[error("invalid tenant file: {0}")]
    Parse(String),
    #[error("invalid tenant file: `{key}` {reason}")]
    Invalid { key: &'static str, reason: String },
}

fn invalid(key: &'static str, reason: impl Into<String>) -> TenantFileError {
    TenantFileError::Invalid {
        key,
        reason: reason.into(),
    }
}

/// A tenant's whole configuration, as in the contract's tenant file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub slug: String,
    pub name: String,
    pub ats: AtsSettings,
    pub suite: SuiteSettings,
    #[serde(default)]
    pub writeback: WritebackSettings,
    #[serde(default)]
    pub embed: EmbedSettings,
    #[serde(default)]
    pub sso: SsoSettings,
    #[serde(default = "default_roles")]
    pub roles: RoleMap,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AtsKind {
    Gupy,
    SignedJson,
    XmlFeed,
    Lever,
    /// A JavaScript file of the tenant's (`ats.script`), run in a sandbox (`crate::script`).
    Script,
    /// Greenhouse's Assessment Partner API: Greenhouse orders interviews from Liaison.
    GreenhouseAssessment,
    /// Teamtailor's partner API: Teamtailor orders interviews from Liaison through triggers.
    Teamtailor,
}

impl AtsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AtsKind::Gupy => "gupy",
            AtsKind::SignedJson => "signed-json",
            AtsKind::XmlFeed => "xml-feed",
            AtsKind::Lever => "lever",
            AtsKind::Script => "script",
            AtsKind::GreenhouseAssessment => "greenhouse-assessment",
            AtsKind::Teamtailor => "teamtailor",
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AtsSettings {
    pub kind: AtsKind,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default, skip_serializing)]
    pub token: Option<SecretString>,
    #[serde(default, skip_serializing)]
    pub webhook_secret: Option<SecretString>,
    #[serde(default = "default_interview_step")]
    pub interview_step: String,
    #[serde(default)]
    pub poll_interval_s: Option<u64>,
    /// xml-feed: one extra request header, `"Name: value"` (often an API key, so sealed).
    #[serde(default, skip_serializing)]
    pub feed_header: Option<SecretString>,
    /// signed-json: where each field is read from, as JSON Pointers (`job_name = "/title"`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Default language (BCP 47) for jobs that do not say.
    #[serde(default)]
    pub language: Option<String>,
    /// How long one ATS API call may take, answer included (gupy). Unset: 30 s without data
    /// read, 10 minutes in all. A call that times out after it was sent may have taken effect.
    #[serde(default)]
    pub request_timeout_ms: Option<u64>,
    /// lever: what only Lever needs (`[ats.lever]`).
    #[serde(default)]
    pub lever: LeverSettings,
    /// teamtailor: what only Teamtailor needs (`[ats.teamtailor]`).
    #[serde(default)]
    pub teamtailor: TeamtailorSettings,
    /// script: the JavaScript file, relative to the tenant file (`liaison tenant apply` stores
    /// its source in `script_source`, so that every process runs the same version).
    #[serde(default)]
    pub script: Option<String>,
    /// script: the stored source (or an inline one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_source: Option<String>,
    /// script: the built-in check of `POST /webhooks/{tenant}/ats` before the script's own
    /// `verify`; unset: the script's `verify` alone.
    #[serde(default)]
    pub verifier: Option<ScriptVerifier>,
    /// script: `[ats.settings]`, the values the script's functions get as `settings` (stored in
    /// clear: secrets belong in `ats.token`, which the script gets as `settings.token`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Embedded-assessment kinds: the suite projects offered as tests, by id. Unset: every open
    /// project; set: these, while open.
    #[serde(default)]
    pub offered_projects: Option<Vec<String>>,
}

/// `[ats.lever]`. With `auth = "api_key"` the API key is `ats.token` (Basic `KEY:`); with
/// `auth = "authorization_code"` a Lever admin authorises Liaison once and the OAuth client is
/// `client_id` / `client_secret`. The webhook signature token is `ats.webhook_secret`, and the
/// interview stage `ats.interview_step` (its id or its name).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LeverSettings {
    /// How Liaison authenticates to Lever's API.
    pub auth: LeverAuth,
    /// authorization_code: the OAuth client Lever registered for Liaison.
    pub client_id: Option<String>,
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    /// authorization_code: Lever's OAuth server (consent at `{oauth_url}/authorize`, tokens at
    /// `{oauth_url}/oauth/token`).
    pub oauth_url: String,
    /// authorization_code: the consent URL's `audience` (Lever's API).
    pub audience: String,
    /// authorization_code: the scopes asked for (`offline_access` brings the refresh token).
    pub scopes: Vec<String>,
    /// The Lever user id that notes and tags are written as (`?perform_as=`).
    pub perform_as: Option<String>,
    /// Calls per second to Lever, steady (Lever's token bucket: 10).
    pub requests_per_second: u32,
    /// Calls allowed at once after a quiet spell (Lever: 20).
    pub burst: u32,
    /// Whether the tenant's processes share one budget through the database (Lever limits per
    /// API key, not per process); off: each process keeps the whole budget to itself.
    pub shared_rate_limit: bool,
    /// How far a delivery's `triggeredAt` may be from Liaison's clock, in seconds.
    pub webhook_tolerance_s: u64,
}

impl Default for LeverSettings {
    fn default() -> Self {
        Self {
            auth: LeverAuth::ApiKey,
            client_id: None,
            client_secret: None,
            oauth_url: "https://auth.lever.co".to_owned(),
            audience: "https://api.lever.co/v1/".to_owned(),
            scopes: [
                "offline_access",
                "opportunities:read:admin",
                "opportunities:write:admin",
                "notes:write:admin",
                "stages:read:admin",
                "tags:read:admin",
                "postings:read:admin",
            ]
            .map(str::to_owned)
            .to_vec(),
            perform_as: None,
            requests_per_second: 10,
            burst: 20,
            shared_rate_limit: true,
            webhook_tolerance_s: 300,
        }
    }
}

/// `[ats.teamtailor]`: the details of Teamtailor's partner API the contract leaves unverified.
/// The partner API key is `ats.token`, the `Teamtailor-Signature` secret `ats.webhook_secret`,
/// and the API's origin `ats.base_url` (unset: [`TEAMTAILOR_API_URL`]).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct TeamtailorSettings {
    /// The word before the partner API key on Liaison's calls (the docs show both).
    pub result_auth: TeamtailorAuthScheme,
    /// How Teamtailor presents the provider key on its calls.
    pub provider_key: ProviderKeyForm,
    /// Whether the recovery lists unanswered partner results (off: it only requeues the orders
    /// the queue gave up on). Off for all but one tenant when several share a partner API key
    /// whose listing cannot be scoped to one company.
    pub list_pending_results: bool,
    /// The recovery listing of partner results Liaison has not answered (the API's path).
    pub pending_results_path: String,
    /// Its filter, a query string (`filter[status]=sending`); empty: none.
    pub pending_results_filter: String,
    /// Its page size (`page[size]`).
    pub pending_results_page_size: u32,
}

/// Where Teamtailor's partner API lives when `ats.base_url` does not say.
pub const TEAMTAILOR_API_URL: &str = "https://api.teamtailor.com";

impl Default for TeamtailorSettings {
    fn default() -> Self {
        Self {
            result_auth: TeamtailorAuthScheme::Token,
            provider_key: ProviderKeyForm::Plain,
            list_pending_results: true,
            pending_results_path: "/partner/v1/partner-results".to_owned(),
            pending_results_filter: "filter[status]=sending".to_owned(),
            pending_results_page_size: 30,
        }
    }
}

/// `Authorization: Token <key>` (Teamtailor's auth page) or `Bearer <key>` (its results pages).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
pub enum TeamtailorAuthScheme {
    #[default]
    Token,
    Bearer,
}

impl TeamtailorAuthScheme {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Token => "Token",
            Self::Bearer => "Bearer",
        }
    }
}

/// The forms of `Authorization: Bearer <provider key>` a Teamtailor tenant accepts. The key
/// Liaison issued is always accepted as it is; `jwt` and `jwe` accept, besides, a token made
/// from the tenant's secrets.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKeyForm {
    /// The issued key only.
    #[default]
    Plain,
    /// Also a JWT signed HS256 with the partner API key (`ats.token`), with `exp`.
    Jwt,
    /// Also a compact JWE (`dir`, `A256GCM`) under a key derived from `ats.webhook_secret`.
    Jwe,
}

/// How a Lever tenant's calls authenticate.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LeverAuth {
    /// A customer API key (`ats.token`), sent as Basic `KEY:`.
    #[default]
    ApiKey,
    /// OAuth2 authorization code: 1-hour bearer tokens from a rotating refresh token, kept in
    /// the database and refreshed single flight across processes (`suite::grant_store`).
    AuthorizationCode,
}

/// The built-in webhook checks a script tenant may choose (`ats.verifier`), each keyed by
/// `ats.webhook_secret`.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptVerifier {
    /// `X-Liaison-Signature: sha256=<hex HMAC>` as for signed-json.
    HmacSha256,
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    StandardWebhooks,
    /// A shared token in `X-Liaison-Token`, as for gupy.
    Token,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SuiteAuth {
    #[default]
    ClientCredentials,
    AuthorizationCode,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteSettings {
    pub base_url: String,
    #[serde(default)]
    pub app_url: Option<String>,
    #[serde(default)]
    pub auth: SuiteAuth,
    pub client_id: String,
    #[serde(default, skip_serializing)]
    pub client_secret: Option<SecretString>,
    #[serde(default, skip_serializing)]
    pub webhook_secret: Option<SecretString>,
}

impl SuiteSettings {
    /// Where people land after SSO: `app_url`, else the API's base URL.
    pub fn app_url(&self) -> &str {
        self.app_url.as_deref().unwrap_or(&self.base_url)
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WritebackMode {
    #[default]
    Tags,
    Comment,
    Both,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WritebackSettings {
    pub mode: WritebackMode,
    pub pass_tag: String,
    pub fail_tag: String,
    pub pass_score: u8,
}

impl Default for WritebackSettings {
    fn default() -> Self {
        Self {
            mode: WritebackMode::Tags,
            pass_tag: "Apto".to_owned(),
            fail_tag: "Inapto".to_owned(),
            pass_score: 70,
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbedSettings {
    #[serde(skip_serializing)]
    pub launch_secret: Option<SecretString>,
    pub frame_ancestors: Vec<String>,
    /// `en` or `pt-BR`: the pages' language when the launch token does not say.
    pub locale: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SsoKind {
    Oidc,
    Saml,
    #[default]
    None,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SsoSettings {
    pub kind: SsoKind,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    pub idp_metadata_url: Option<String>,
    pub idp_metadata_file: Option<String>,
    pub sp_entity_id: Option<String>,
    /// OIDC: the claim (ID token or userinfo) that carries the person's ATS role, a key of
    /// `[roles]`; a string, or an array of strings of which the most powerful mapped one counts.
    /// Unset: `role`. A sign-in without it has no role (the suite role is then left alone).
    pub role_claim: Option<String>,
}

/// The OIDC role claim read when `sso.role_claim` is unset.
pub const DEFAULT_ROLE_CLAIM: &str = "role";

impl SsoSettings {
    /// The name of the OIDC claim that carries the role.
    pub fn role_claim(&self) -> &str {
        self.role_claim.as_deref().unwrap_or(DEFAULT_ROLE_CLAIM)
    }
}

fn default_interview_step() -> String {
    "Video interview".to_owned()
}

impl TenantConfig {
    pub fn from_toml(text: &str) -> Result<Self, TenantFileError> {
        let config: TenantConfig =
            toml::from_str(text).map_err(|e| TenantFileError::Parse(one_line(&e.to_string())))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), TenantFileError> {
        if !is_valid_slug(&self.slug) {
            return Err(invalid("slug", "must match [a-z0-9-]{1,63}"));
        }
        if self.name.trim().is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        self.validate_ats()?;
        self.validate_suite()?;
        if self.writeback.pass_score > 100 {
            return Err(invalid("writeback.pass_score", "must be between 0 and 100"));
        }
        if self.writeback.pass_tag.trim().is_empty() || self.writeback.fail_tag.trim().is_empty() {
            return Err(invalid(
                "writeback.pass_tag",
                "and fail_tag must not be empty",
            ));
        }
        for origin in &self.embed.frame_ancestors {
            if !is_origin(origin) {
                return Err(invalid(
                    "embed.frame_ancestors",
                    format!("`{origin}` is not an origin such as https://ats.example.com"),
                ));
            }
        }
        if let Some(locale) = &self.embed.locale
            && !matches!(locale.as_str(), "en" | "pt-BR")
        {
            return Err(invalid("embed.locale", "must be `en` or `pt-BR`"));
        }
        self.validate_sso()?;
        self.validate_secrets()?;
        if let Some(suite_role) = self.roles.first_refused() {
            return Err(invalid(
                "roles",
                format!("`{suite_role}` is not a suite role (admin, manager, reviewer)"),
            ));
        }
        Ok(())
    }

    fn validate_ats(&self) -> Result<(), TenantFileError> {
        let ats = &self.ats;
        match &ats.base_url {
            Some(url) if !is_http_url(url) => {
                return Err(invalid("ats.base_url", "must be an http(s) URL"));
            }
            None if !matches!(
                ats.kind,
                AtsKind::SignedJson
                    | AtsKind::Script
                    | AtsKind::GreenhouseAssessment
                    | AtsKind::Teamtailor
            ) =>
            {
                return Err(invalid("ats.base_url", "is required for this ATS kind"));
            }
            Some(url) => refused_target("ats.base_url", url)?,
            None => {}
        }
        let present = |secret: &Option<SecretString>| {
            secret
                .as_ref()
                .is_some_and(|s| !s.expose_secret().is_empty())
        };
        match ats.kind {
            AtsKind::Gupy => {
                if !present(&ats.token) {
                    return Err(invalid("ats.token", "is required for gupy"));
                }
                if !present(&ats.webhook_secret) {
                    return Err(invalid("ats.webhook_secret", "is required for gupy"));
                }
            }
            AtsKind::SignedJson => {
                if !present(&ats.webhook_secret) {
                    return Err(invalid("ats.webhook_secret", "is required for signed-json"));
                }
            }
            AtsKind::Script => {
                if ats.script.is_none() && ats.script_source.is_none() {
                    return Err(invalid("ats.script", "is required for script"));
                }
                if ats.verifier.is_some() && !present(&ats.webhook_secret) {
                    return Err(invalid(
                        "ats.webhook_secret",
                        "is required when ats.verifier is set",
                    ));
                }
            }
            // The ATS calls Liaison with a key Liaison issues (`liaison tenant issue-key`).
            AtsKind::GreenhouseAssessment => {}
            AtsKind::Teamtailor => {
                validate_teamtailor(&ats.teamtailor)?;
                if !present(&ats.token) {
                    return Err(invalid(
                        "ats.token",
                        "is required for teamtailor (the partner API key)",
                    ));
                }
                if !present(&ats.webhook_secret) {
                    return Err(invalid(
                        "ats.webhook_secret",
                        "is required for teamtailor (the Teamtailor-Signature secret)",
                    ));
                }
            }
            AtsKind::XmlFeed => {
                if ats.poll_interval_s == Some(0) {
                    return Err(invalid(
                        "ats.poll_interval_s",
                        "must be above 0 for xml-feed",
                    ));
                }
            }
            AtsKind::Lever => validate_lever(ats, present(&ats.token))?,
        }
        if let Some(header) = &ats.feed_header
            && !header.expose_secret().contains(':')
        {
            return Err(invalid("ats.feed_header", "must look like `Name: value`"));
        }
        for (field, pointer) in &ats.fields {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                return Err(invalid(
                    "ats.fields",
                    format!("`{field}` must be a JSON Pointer such as \"/title\""),
                ));
            }
        }
        Ok(())
    }

    fn validate_suite(&self) -> Result<(), TenantFileError> {
        let suite = &self.suite;
        if !is_http_url(&suite.base_url) {
            return Err(invalid("suite.base_url", "must be an http(s) URL"));
        }
        refused_target("suite.base_url", &suite.base_url)?;
        if let Some(url) = &suite.app_url
            && !is_http_url(url)
        {
            return Err(invalid("suite.app_url", "must be an http(s) URL"));
        }
        if suite.client_id.trim().is_empty() {
            return Err(invalid("suite.client_id", "must not be empty"));
        }
        if suite.client_secret.is_none() {
            return Err(invalid("suite.client_secret", "is required"));
        }
        if let Some(secret) = &suite.webhook_secret
            && !secret.expose_secret().starts_with("whsec_")
        {
            return Err(invalid("suite.webhook_secret", "must start with whsec_"));
        }
        Ok(())
    }

    fn validate_sso(&self) -> Result<(), TenantFileError> {
        let sso = &self.sso;
        if let Some(claim) = &sso.role_claim
            && claim.trim().is_empty()
        {
            return Err(invalid(
                "sso.role_claim",
                "must name a claim (unset: `role`)",
            ));
        }
        match sso.kind {
            SsoKind::None => {}
            SsoKind::Oidc => {
                match sso.issuer.as_deref() {
                    Some(issuer) if is_http_url(issuer) => refused_target("sso.issuer", issuer)?,
                    _ => return Err(invalid("sso.issuer", "must be an http(s) URL for oidc")),
                }
                if sso.client_id.as_deref().unwrap_or("").is_empty() {
                    return Err(invalid("sso.client_id", "is required for oidc"));
                }
            }
            SsoKind::Saml => {
                if sso.idp_metadata_url.is_none() && sso.idp_metadata_file.is_none() {
                    return Err(invalid(
                        "sso.idp_metadata_url",
                        "or sso.idp_metadata_file is required for saml",
                    ));
                }
            }
        }
        if let Some(url) = &sso.idp_metadata_url
            && !is_metadata_url(url)
        {
            // The metadata carries the certificates that sign identities: never over plain http
            // (anyone on the path could swap them), except to this machine.
            return Err(invalid(
                "sso.idp_metadata_url",
                "must be an https URL (http only for a loopback host), or use sso.idp_metadata_file",
            ));
        }
        if let Some(url) = &sso.idp_metadata_url {
            refused_target("sso.idp_metadata_url", url)?;
        }
        Ok(())
    }
}

/// The least length of a key that signs or verifies an HMAC: the launch secret and the
/// signed-json webhook secret (HS256 wants a key as long as its output).
pub const MIN_HMAC_KEY_BYTES: usize = 32;

impl TenantConfig {
    /// Secrets: none given empty (an empty key would let anyone sign), HMAC keys at least
    /// [`MIN_HMAC_KEY_BYTES`] long (the suite's client secret is required by `validate_suite`).
    fn validate_secrets(&self) -> Result<(), TenantFileError> {
        let given = [
            ("ats.token", &self.ats.token),
            ("ats.webhook_secret", &self.ats.webhook_secret),
            ("ats.feed_header", &self.ats.feed_header),
            ("ats.lever.client_secret", &self.ats.lever.client_secret),
            ("suite.client_secret", &self.suite.client_secret),
            ("suite.webhook_secret", &self.suite.webhook_secret),
            ("embed.launch_secret", &self.embed.launch_secret),
            ("sso.client_secret", &self.sso.client_secret),
        ];
        for (key, secret) in given {
            if secret
                .as_ref()
                .is_some_and(|secret| secret.expose_secret().trim().is_empty())
            {
                return Err(invalid(key, "must not be empty"));
            }
        }
        if let Some(secret) = &self.suite.webhook_secret
            && secret
                .expose_secret()
                .trim_start_matches("whsec_")
                .is_empty()
        {
            return Err(invalid("suite.webhook_secret", "must not be empty"));
        }
        let short = |secret: &Option<SecretString>| {
            secret
                .as_ref()
                .is_some_and(|secret| secret.expose_secret().len() < MIN_HMAC_KEY_BYTES)
        };
        if short(&self.embed.launch_secret) {
            return Err(invalid(
                "embed.launch_secret",
                format!("must be at least {MIN_HMAC_KEY_BYTES} bytes"),
            ));
        }
        if self.ats.kind == AtsKind::SignedJson && short(&self.ats.webhook_secret) {
            return Err(invalid(
                "ats.webhook_secret",
                format!(
                    "must be at least {MIN_HMAC_KEY_BYTES} bytes for signed-json (an HMAC key)"
                ),
            ));
        }
        Ok(())
    }
}

/// Teamtailor's recovery listing must be a path and a page size the API takes.
fn validate_teamtailor(teamtailor: &TeamtailorSettings) -> Result<(), TenantFileError> {
    if !teamtailor.pending_results_path.starts_with('/') {
        return Err(invalid(
            "ats.teamtailor.pending_results_path",
            "must be a path such as /partner/v1/partner-results",
        ));
    }
    if !(1..=100).contains(&teamtailor.pending_results_page_size) {
        return Err(invalid(
            "ats.teamtailor.pending_results_page_size",
            "must be between 1 and 100",
        ));
    }
    Ok(())
}

/// A Lever tenant needs its credentials (an API key, or an OAuth client) and the user its
/// write-backs are made as; the limits must let at least one call through.
fn validate_lever(ats: &AtsSettings, has_token: bool) -> Result<(), TenantFileError> {
    let lever = &ats.lever;
    match lever.auth {
        LeverAuth::ApiKey if !has_token => {
            return Err(invalid("ats.token", "is required for lever (the API key)"));
        }
        LeverAuth::ApiKey => {}
        LeverAuth::AuthorizationCode => {
            if lever
                .client_id
                .as_deref()
                .is_none_or(|id| id.trim().is_empty())
            {
                return Err(invalid(
                    "ats.lever.client_id",
                    "is required for auth = \"authorization_code\"",
                ));
            }
            if lever.client_secret.is_none() {
                return Err(invalid(
                    "ats.lever.client_secret",
                    "is required for auth = \"authorization_code\"",
                ));
            }
            if url::Url::parse(&lever.oauth_url).is_err() {
                return Err(invalid("ats.lever.oauth_url", "must be a URL"));
            }
        }
    }
    if lever
        .perform_as
        .as_deref()
        .is_none_or(|id| id.trim().is_empty())
    {
        return Err(invalid(
            "ats.lever.perform_as",
            "is required for lever (the user notes and tags are written as)",
        ));
    }
    if lever.requests_per_second == 0 || lever.burst == 0 {
        return Err(invalid(
            "ats.lever.requests_per_second",
            "and ats.lever.burst must be above 0",
        ));
    }
    if !(1..=3_600).contains(&lever.webhook_tolerance_s) {
        return Err(invalid(
            "ats.lever.webhook_tolerance_s",
            "must be between 1 and 3600",
        ));
    }
    if ats.interview_step.trim().is_empty() {
        return Err(invalid("ats.interview_step", "must name a Lever stage"));
    }
    Ok(())
}

pub fn is_valid_slug(slug: &str) -> bool {
    (1..=63).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A URL Liaison will call whose host is an IP literal the outbound policy refuses (link-local
/// and cloud metadata addresses; private ranges with `outbound.deny_private`).
fn refused_target(key: &'static str, text: &str) -> Result<(), TenantFileError> {
    match url::Url::parse(text) {
        Ok(url) => crate::outbound::check_url(&url).map_err(|refused| {
            invalid(
                key,
                format!(
                    "points at {} ({}), which Liaison does not call (outbound.allow_link_local \
                     in the settings allows it)",
                    refused.reason, refused.host
                ),
            )
        }),
        Err(_) => Ok(()),
    }
}

fn is_http_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// An https URL, or http to a loopback host (`localhost`, 127.0.0.0/8, `[::1]`).
fn is_metadata_url(text: &str) -> bool {
    let Ok(url) = url::Url::parse(text) else {
        return false;
    };
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => url.has_host(),
        "http" => loopback,
        _ => false,
    }
}

fn is_origin(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.has_host()
            && u.path() == "/"
            && !text.ends_with('/')
            && u.query().is_none()
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;

    pub(crate) const SAMPLE: &str = r#"
slug = "acme"
name = "Acme Corp"

[ats]
kind = "gupy"
base_url = "http://127.0.0.1:9101"
token = "gupy-token"
webhook_secret = "gupy-hook-secret"

[suite]
base_url = "http://127.0.0.1:9102"
client_id = "liaison"
client_secret = "liaison-secret"
webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[embed]
launch_secret = "launch-secret-of-at-least-32-bytes"
frame_ancestors = ["https://ats.example.com"]
"#;

    #[test]
    fn the_contract_sample_parses_with_defaults() {
        let config = TenantConfig::from_toml(SAMPLE).expect("valid");
        assert_eq!(config.ats.interview_step, "Video interview");
        assert_eq!(config.writeback.pass_score, 70);
        assert_eq!(config.roles.get("recruiter"), Some(Role::Manager));
        assert_eq!(config.suite.app_url(), "http://127.0.0.1:9102");
    }

    #[test]
    fn settings_json_carries_no_secret() {
        let config = TenantConfig::from_toml(SAMPLE).expect("valid");
        let json = serde_json::to_string(&config).expect("serialises");
        for secret in [
            "gupy-token",
            "gupy-hook-secret",
            "liaison-secret",
            "whsec_",
            "launch-secret",
        ] {
            assert!(!json.contains(secret), "{secret} leaked into {json}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        for (from, to, key) in [
            (
                "name = \"Acme Corp\"",
                "name = \"Acme\"\ncolour = 1",
                "colour",
            ),
            ("kind = \"gupy\"", "kind = \"workday\"", "workday"),
            ("slug = \"acme\"", "slug = \"Acme!\"", "slug"),
            ("token = \"gupy-token\"", "", "ats.token"),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "nope",
                "suite.webhook_secret",
            ),
            (
                "https://ats.example.com\"",
                "https://ats.example.com/x\"",
                "embed.frame_ancestors",
            ),
            (
                "[embed]",
                "[writeback]\npass_score = 140\n[embed]",
                "writeback.pass_score",
            ),
            ("[embed]", "[roles]\nrecruiter = \"boss\"\n[embed]", "roles"),
            (
                "[embed]",
                "[sso]\nrole_claim = \" \"\n[embed]",
                "sso.role_claim",
            ),
        ] {
            let text = SAMPLE.replace(from, to);
            let error = TenantConfig::from_toml(&text).unwrap_err().to_string();
            assert!(error.contains(key), "expected `{key}` in: {error}");
        }
    }

    #[test]
    fn saml_metadata_urls_must_be_https_or_loopback() {
        for good in [
            "https://idp.example.com/metadata",
            "http://127.0.0.1:9000/metadata",
            "http://127.8.9.1/m",
            "http://localhost:8080/m",
            "http://[::1]:9/m",
        ] {
            assert!(is_metadata_url(good), "{good}");
        }
        for bad in [
            "http://idp.example.com/metadata",
            "http://10.0.0.1/metadata",
            "http://localhost.evil.example/m",
            "gopher://x/y",
            "not a url",
            "file:///etc/idp.xml",
            "https://",
            "ftp://idp.example.com/m",
        ] {
            assert!(!is_metadata_url(bad), "{bad}");
        }
    }

    #[test]
    fn the_oidc_role_claim_is_role_unless_named() {
        let config = TenantConfig::from_toml(SAMPLE).expect("valid");
        assert_eq!(config.sso.role_claim(), "role");
        let text = SAMPLE.replace("[embed]", "[sso]\nrole_claim = \"groups\"\n[embed]");
        let config = TenantConfig::from_toml(&text).expect("valid");
        assert_eq!(config.sso.role_claim(), "groups");
    }

    #[test]
    fn empty_and_short_secrets_are_refused_with_the_key_named() {
        let signed_json = SAMPLE
            .replace("kind = \"gupy\"", "kind = \"signed-json\"")
            .replace("token = \"gupy-token\"\n", "");
        for (text, key) in [
            (
                SAMPLE.replace("launch-secret-of-at-least-32-bytes", ""),
                "embed.launch_secret",
            ),
            (
                SAMPLE.replace("launch-secret-of-at-least-32-bytes", "short"),
                "embed.launch_secret",
            ),
            (
                SAMPLE.replace("client_secret = \"liaison-secret\"", "client_secret = \"\""),
                "suite.client_secret",
            ),
            (
                SAMPLE.replace("client_secret = \"liaison-secret\"\n", ""),
                "suite.client_secret",
            ),
            (
                SAMPLE.replace("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_"),
                "suite.webhook_secret",
            ),
            (
                signed_json.replace("gupy-hook-secret", "x"),
                "ats.webhook_secret",
            ),
            (
                signed_json.replace("gupy-hook-secret", ""),
                "ats.webhook_secret",
            ),
        ] {
            let error = TenantConfig::from_toml(&text).unwrap_err().to_string();
            assert!(
                error.contains(&format!("`{key}`")),
                "expected `{key}` in: {error}"
            );
        }
        let long = signed_json.replace("gupy-hook-secret", &"k".repeat(32));
        assert!(TenantConfig::from_toml(&long).is_ok());
    }

    #[test]
    fn a_lever_tenant_needs_its_key_and_perform_as_user() {
        let lever = SAMPLE
            .replace("kind = \"gupy\"", "kind = \"lever\"")
            .replace("[suite]", "[ats.lever]\nperform_as = \"user-1\"\n[suite]");
        let config = TenantConfig::from_toml(&lever).expect("valid");
        assert_eq!(config.ats.lever.perform_as.as_deref(), Some("user-1"));
        assert_eq!(config.ats.lever.requests_per_second, 10);
        assert_eq!(config.ats.lever.burst, 20);
        for (text, key) in [
            (
                lever.replace("perform_as = \"user-1\"", ""),
                "ats.lever.perform_as",
            ),
            (lever.replace("token = \"gupy-token\"\n", ""), "ats.token"),
            (
                lever.replace("perform_as", "burst = 0\nperform_as"),
                "ats.lever.requests_per_second",
            ),
            (
                lever.replace("perform_as", "colour = 1\nperform_as"),
                "colour",
            ),
        ] {
            let error = TenantConfig::from_toml(&text).unwrap_err().to_string();
            assert!(error.contains(key), "expected `{key}` in: {error}");
        }
    }

    #[test]
    fn a_teamtailor_tenant_may_name_the_unverified_details() {
        let teamtailor = SAMPLE.replace("kind = \"gupy\"", "kind = \"teamtailor\"");
        let config = TenantConfig::from_toml(&teamtailor).expect("valid");
        assert_eq!(config.ats.teamtailor, TeamtailorSettings::default());
        let chosen = teamtailor.replace(
            "[suite]",
            "[ats.teamtailor]\nresult_auth = \"Bearer\"\nprovider_key = \"jwe\"\n[suite]",
        );
        let config = TenantConfig::from_toml(&chosen).expect("valid");
        assert_eq!(
            config.ats.teamtailor.result_auth,
            TeamtailorAuthScheme::Bearer
        );
        assert_eq!(config.ats.teamtailor.provider_key, ProviderKeyForm::Jwe);
        for (setting, key) in [
            ("result_auth = \"Basic\"", "result_auth"),
            (
                "pending_results_path = \"partner\"",
                "ats.teamtailor.pending_results_path",
            ),
            (
                "pending_results_page_size = 0",
                "ats.teamtailor.pending_results_page_size",
            ),
        ] {
            let text =
                teamtailor.replace("[suite]", &format!("[ats.teamtailor]\n{setting}\n[suite]"));
            let error = TenantConfig::from_toml(&text).unwrap_err().to_string();
            assert!(error.contains(key), "expected `{key}` in: {error}");
        }
    }

    #[test]
    fn a_lever_tenant_with_the_authorization_code_needs_its_oauth_client_not_a_key() {
        let oauth = SAMPLE
            .replace("kind = \"gupy\"", "kind = \"lever\"")
            .replace("token = \"gupy-token\"\n", "")
            .replace(
                "[suite]",
                "[ats.lever]\nperform_as = \"user-1\"\nauth = \"authorization_code\"\n\
                 client_id = \"c\"\nclient_secret = \"s\"\n[suite]",
            );
        let config = TenantConfig::from_toml(&oauth).expect("valid without ats.token");
        assert_eq!(config.ats.lever.auth, LeverAuth::AuthorizationCode);
        assert_eq!(config.ats.lever.oauth_url, "https://auth.lever.co");
        assert!(
            config
                .ats
                .lever
                .scopes
                .iter()
                .any(|s| s == "offline_access")
        );
        assert!(config.ats.lever.shared_rate_limit);
        for (text, key) in [
            (
                oauth.replace("client_id = \"c\"\n", ""),
                "ats.lever.client_id",
            ),
            (
                oauth.replace("client_secret = \"s\"\n", ""),
                "ats.lever.client_secret",
            ),
            (
                oauth.replace("client_secret = \"s\"", "client_secret = \" \""),
                "ats.lever.client_secret",
            ),
        ] {
            let error = TenantConfig::from_toml(&text).unwrap_err().to_string();
            assert!(error.contains(key), "expected `{key}` in: {error}");
        }
    }

    #[test]
    fn a_word_that_is_no_suite_role_is_refused_by_validation() {
        let text = SAMPLE.replace(
            "[embed]",
            "[roles]\nadmin = \"admin\"\nrecruiter = \"boss\"\nzealot = \"chief\"\n[embed]",
        );
        let error = TenantConfig::from_toml(&text).unwrap_err();
        assert!(matches!(
            error,
            TenantFileError::Invalid { key: "roles", .. }
        ));
        assert_eq!(
            error.to_string(),
            "invalid tenant file: `roles` `boss` is not a suite role (admin, manager, reviewer)"
        );
    }
}

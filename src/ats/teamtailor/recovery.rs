//! Teamtailor never retries a delivery, so Liaison recovers orders itself, on the poller lease:
//! the orders it stored but the queue gave up on are requeued (`orders::sweep`), and the partner
//! results Teamtailor still shows as unanswered (`[ats.teamtailor] pending_results_path` with
//! `pending_results_filter`, default `status=sending`: both unverified) become orders when they
//! are not known yet (idempotent on the partner result id, as the webhook is).

use secrecy::ExposeSecret as _;

use super::normalize::order_of_listed;
use super::payload::ResultListResponse;
use super::{API_VERSION, auth_header};
use crate::ats::PollContext;
use crate::ats::error::AdapterError;
use crate::ats::http_client::{classify, transport_error};
use crate::ats::poll::PollReport;
use crate::orders;
use crate::tenant::{TEAMTAILOR_API_URL, Tenant};

/// A listing longer than this many pages is cut (the rest comes back next poll).
const MAX_PAGES: u32 = 1_000;

pub async fn recover(
    context: &PollContext<'_>,
    http: &reqwest::Client,
) -> Result<PollReport, AdapterError> {
    let tenant = context.tenant;
    let mut report = PollReport {
        requeued: orders::sweep::requeue_stuck(context.db, tenant.id).await?,
        ..PollReport::default()
    };
    if !tenant.config.ats.teamtailor.list_pending_results {
        report.stored = report.requeued;
        return Ok(report);
    }
    let base = results_url(tenant);
    for number in 1..=MAX_PAGES {
        let page = list_page(http, tenant, &base, number).await?;
        let count = page.data.len() as u64;
        for listed in &page.data {
            report.seen += 1;
            let order = match order_of_listed(listed, &page.included, &base) {
                Ok(order) => order,
                Err(why) => {
                    tracing::warn!(tenant = %tenant.slug(), result = %listed.id, %why,
                        "an unanswered Teamtailor result cannot become an order");
                    report.skipped += 1;
                    continue;
                }
            };
            let placed = orders::place(context.db, tenant.id, &order, context.max_attempts).await?;
            if placed.new {
                tracing::info!(tenant = %tenant.slug(), order = %placed.id,
                    "teamtailor order recovered from the listing");
                report.new += 1;
            } else {
                report.duplicates += 1;
            }
        }
        // What was read so far, not pages times the size asked: the API may cap the size.
        let read = report.seen;
        let total = page.meta.record_count.unwrap_or(read + count);
        if count == 0 || read >= total {
            break;
        }
    }
    report.stored = report.new + report.requeued;
    Ok(report)
}

/// `{ats.base_url or Teamtailor's}{pending_results_path}`.
fn results_url(tenant: &Tenant) -> String {
    let base = tenant
        .config
        .ats
        .base_url
        .as_deref()
        .unwrap_or(TEAMTAILOR_API_URL)
        .trim_end_matches('/');
    format!(
        "{base}{}",
        tenant.config.ats.teamtailor.pending_results_path
    )
}

async fn list_page(
    http: &reqwest::Client,
    tenant: &Tenant,
    base: &str,
    number: u32,
) -> Result<ResultListResponse, AdapterError> {
    let settings = &tenant.config.ats.teamtailor;
    let token = tenant
        .config
        .ats
        .token
        .as_ref()
        .ok_or_else(|| AdapterError::Config("ats.token is required".to_owned()))?;
    let mut url = url::Url::parse(base)
        .map_err(|e| AdapterError::Config(format!("the pending results URL: {e}")))?;
    let filter = settings.pending_results_filter.trim_start_matches('?');
    url.set_query((!filter.is_empty()).then_some(filter));
    url.query_pairs_mut()
        .append_pair("include", "candidate")
        .append_pair("page[number]", &number.to_string())
        .append_pair(
            "page[size]",
            &settings.pending_results_page_size.to_string(),
        );
    crate::outbound::check_url(&url)
        .map_err(|refused| AdapterError::Config(refused.to_string()))?;
    let what = "listing of unanswered partner results";
    let response = http
        .get(url)
        .header(
            reqwest::header::AUTHORIZATION,
            auth_header(tenant, token.expose_secret()),
        )
        .header("X-Api-Version", API_VERSION)
        .header(reqwest::header::ACCEPT, "application/vnd.api+json")
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| transport_error(e, what))?;
    classify(response.status(), response.headers(), what)?;
    response
        .json()
        .await
        .map_err(|e| AdapterError::Permanent(format!("{what}: {e}")))
}

//! The opportunities poll, for tenants without webhooks: opportunities updated since the
//! persisted cursor (`updated_at_start`, ms), page by page through Lever's `next` offset. Each
//! becomes the same event a webhook leads to, read from the API and so trusted as it is.

use sea_orm::TransactionTrait;

use super::client::LeverClient;
use super::normalize::application_of;
use crate::ats::PollContext;
use crate::ats::error::AdapterError;
use crate::ats::poll::{PollReport, read_cursor, write_cursor};
use crate::events::{EventBody, InboundEvent, Source};
use crate::inbox::{NewEvent, Stored, insert_events};

/// The cursor's name in `poll_cursors`.
pub const CURSOR_SOURCE: &str = "lever.opportunities";
/// A listing longer than this many pages is refused rather than read for ever.
const MAX_PAGES: usize = 10_000;

pub async fn poll_opportunities(
    context: &PollContext<'_>,
    client: &LeverClient,
) -> Result<PollReport, AdapterError> {
    let tenant = context.tenant;
    // `updated_at_start` is inclusive: a change in the cursor's own millisecond is read again
    // and recognised by its delivery id, rather than missed.
    let since: i64 = read_cursor(context.db, tenant.id, CURSOR_SOURCE)
        .await?
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let interview_stage = &tenant.config.ats.interview_step;
    let mut report = PollReport::default();
    let mut newest = since;
    let mut rows = Vec::new();
    let mut offset: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = client.list_opportunities(since, offset.as_deref()).await?;
        for opportunity in &page.data {
            report.seen += 1;
            let updated_at = opportunity.updated_at.unwrap_or(since);
            newest = newest.max(updated_at);
            let application = match application_of(opportunity, interview_stage) {
                Ok(application) => application,
                // An opportunity with no posting has no project to be invited to.
                Err(_) => {
                    report.skipped += 1;
                    continue;
                }
            };
            let event = InboundEvent {
                source: Source::Poll,
                delivery_id: format!("lever-opportunity:{}:{updated_at}", opportunity.id),
                partner_type: "opportunity.polled".to_owned(),
                occurred_at: Some(updated_at),
                body: EventBody::ApplicationChanged(application),
            };
            let payload = serde_json::to_string(&event.body).unwrap_or_default();
            rows.push(NewEvent::received(tenant.id, event, payload));
        }
        offset = page.next.filter(|next| page.has_next && !next.is_empty());
        if offset.is_none() {
            break;
        }
    }
    let cursor = newest.to_string();
    let txn = context.db.begin().await?;
    let stored = insert_events(&txn, &rows, context.max_attempts).await?;
    write_cursor(&txn, tenant.id, CURSOR_SOURCE, &cursor).await?;
    txn.commit().await?;
    for outcome in stored {
        match outcome {
            Stored::New(_) => {
                report.stored += 1;
                report.new += 1;
            }
            Stored::Duplicate(_) => report.duplicates += 1,
        }
    }
    report.cursor = Some(cursor);
    Ok(report)
}

//! Queue figures for the console: depth by status (all and per tenant), the age of the oldest
//! job waiting to run, throughput per minute from the execution log, and the dead letters.

use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;

use super::events::tenant_slugs;
use super::masking::{Reveal, mask_text};
use crate::ids::{EventId, JobId, TenantId};
use crate::queue::{self, AttemptOutcome, Depth};
use crate::time::{now_ms, to_rfc3339};

/// The throughput chart covers this many minutes, the current one included.
pub const WINDOW_MINUTES: i64 = 30;

#[derive(Clone, Debug, Serialize)]
pub struct TenantDepth {
    pub tenant: String,
    #[serde(flatten)]
    pub depth: Depth,
}

/// The execution log's rows of one minute, by what they came to. A job is marked done by either
/// a `succeeded` attempt (it ran) or a `covered` one (another job's work answered its event, so it
/// never ran): `succeeded + covered` is the jobs that reached "done" in that minute.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MinuteCount {
    /// The minute's start, RFC 3339.
    pub minute: String,
    /// Attempts that ran and succeeded: their job is done.
    pub succeeded: i64,
    /// Attempts that failed: their job retries (`retrying`) or is a dead letter (`dead`).
    pub failed: i64,
    /// Jobs marked done without running, answered by another job's work.
    pub covered: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct QueueStats {
    pub depth: Depth,
    pub by_tenant: Vec<TenantDepth>,
    /// How long the oldest job that is due (pending, `run_at` passed) has been waiting, in ms.
    pub oldest_due_age_ms: Option<i64>,
    /// Pending jobs waiting for a later retry time.
    pub scheduled_retries: i64,
    pub throughput: Vec<MinuteCount>,
}

pub async fn stats(db: &impl ConnectionTrait) -> Result<QueueStats, DbErr> {
    let now = now_ms();
    let depth = queue::depth(db).await?;
    let by_tenant = depth_by_tenant(db).await?;
    let oldest_due = queue::oldest_due_pending(db, now).await?;
    let scheduled_retries = queue::scheduled_retries(db, now).await?;
    Ok(QueueStats {
        depth,
        by_tenant,
        oldest_due_age_ms: oldest_due.map(|at| (now - at).max(0)),
        scheduled_retries,
        throughput: throughput(db, now).await?,
    })
}

async fn depth_by_tenant(db: &impl ConnectionTrait) -> Result<Vec<TenantDepth>, DbErr> {
    let rows = queue::depth_by_tenant(db).await?;
    let slugs = tenant_slugs(db).await?;
    let mut out: Vec<TenantDepth> = Vec::new();
    for (tenant, status, count) in rows {
        let slug = slugs.get(&tenant.0).cloned().unwrap_or_default();
        let index = match out.iter().position(|t| t.tenant == slug) {
            Some(index) => index,
            None => {
                out.push(TenantDepth {
                    tenant: slug,
                    depth: Depth::default(),
                });
                out.len() - 1
            }
        };
        out[index].depth.set(status, count);
    }
    out.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    Ok(out)
}

/// Attempts per minute over the window, counted in the database (`started_at / 60000` is integer
/// division on both back ends).
async fn throughput(db: &impl ConnectionTrait, now: i64) -> Result<Vec<MinuteCount>, DbErr> {
    let current = now / 60_000;
    let first = current - WINDOW_MINUTES + 1;
    let rows = queue::attempts_per_minute(db, first).await?;
    Ok(bucket(first, current, &rows))
}

/// One entry per minute from `first` to `last` (minute numbers), zeros included. Pure.
fn bucket(first: i64, last: i64, rows: &[(i64, String, i64)]) -> Vec<MinuteCount> {
    (first..=last)
        .map(|m| {
            let of = |pred: &dyn Fn(&str) -> bool| {
                rows.iter()
                    .filter(|(minute, outcome, _)| *minute == m && pred(outcome))
                    .map(|(_, _, n)| n)
                    .sum()
            };
            MinuteCount {
                minute: to_rfc3339(m * 60_000),
                succeeded: of(&|o| AttemptOutcome::parse(o) == Some(AttemptOutcome::Succeeded)),
                failed: of(&|o| {
                    matches!(
                        AttemptOutcome::parse(o),
                        Some(AttemptOutcome::Retrying | AttemptOutcome::Dead)
                    )
                }),
                covered: of(&|o| AttemptOutcome::parse(o) == Some(AttemptOutcome::Covered)),
            }
        })
        .collect()
}

/// A dead-lettered job.
#[derive(Clone, Debug, Serialize)]
pub struct DeadLetter {
    pub tenant: String,
    pub job_id: String,
    pub event_id: Option<String>,
    pub flow: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: String,
}

/// The most recent dead letters (of one tenant, or all), errors masked.
pub async fn dead_letters(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    limit: u64,
) -> Result<Vec<DeadLetter>, DbErr> {
    Ok(dead_letters_page(db, tenant, limit, None).await?.data)
}

/// A page of dead letters, newest first, and the cursor of the next (older) page.
#[derive(Clone, Debug, Serialize)]
pub struct DeadLetterPage {
    pub data: Vec<DeadLetter>,
    pub next_cursor: Option<String>,
}

/// A dead-letter page cursor: `{updated_at}.{job row id}` of the previous page's last row.
pub fn parse_dead_cursor(text: &str) -> Option<(i64, i64)> {
    let (updated_at, id) = text.split_once('.')?;
    Some((updated_at.parse().ok()?, id.parse().ok()?))
}

/// Dead letters `limit` at a time, after `cursor` (see [`parse_dead_cursor`]).
pub async fn dead_letters_page(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    limit: u64,
    cursor: Option<(i64, i64)>,
) -> Result<DeadLetterPage, DbErr> {
    let limit = limit.clamp(1, 1_000);
    let mut rows = queue::dead_letters(db, tenant, cursor, limit + 1).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last()
            .map(|row| format!("{}.{}", row.updated_at, row.id))
    } else {
        None
    };
    let slugs = tenant_slugs(db).await?;
    let data = rows
        .into_iter()
        .map(|row| DeadLetter {
            tenant: slugs.get(&row.tenant_id).cloned().unwrap_or_default(),
            job_id: JobId(row.id).to_string(),
            event_id: row.event_id.map(|id| EventId(id).to_string()),
            flow: row.flow,
            attempts: row.attempts,
            last_error: row.last_error.map(|e| mask_text(&e, Reveal::Nothing)),
            updated_at: to_rfc3339(row.updated_at),
        })
        .collect();
    Ok(DeadLetterPage { data, next_cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letter_cursors_read_back_and_garbage_does_not() {
        assert_eq!(
            parse_dead_cursor("1700000000000.42"),
            Some((1_700_000_000_000, 42))
        );
        assert_eq!(parse_dead_cursor("42"), None);
        assert_eq!(parse_dead_cursor("a.b"), None);
    }

    #[test]
    fn minutes_without_attempts_count_zero_and_failures_add_up() {
        let rows = vec![
            (10, "succeeded".to_owned(), 4),
            (10, "retrying".to_owned(), 1),
            (12, "dead".to_owned(), 2),
            (12, "lease_lost".to_owned(), 9),
            (12, "covered".to_owned(), 3),
        ];
        let counts = bucket(10, 12, &rows);
        let triples: Vec<(i64, i64, i64)> = counts
            .iter()
            .map(|c| (c.succeeded, c.failed, c.covered))
            .collect();
        assert_eq!(triples, [(4, 1, 0), (0, 0, 0), (0, 2, 3)]);
        assert_eq!(counts[0].minute, "1970-01-01T00:10:00.000Z");
    }
}

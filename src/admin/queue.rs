//! The queue page: depth by status (all and per tenant), the oldest due job's age, throughput
//! per minute as a small server-drawn SVG chart, recent bulk replays and the dead letters.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::Admin;
use super::data::bulk_replay::{self, Progress};
use super::data::queue::{self as queue_data, DeadLetter, MinuteCount, QueueStats};
use super::page::{AdminError, Chrome, html};
use crate::app::AppState;
use crate::tenant;
use crate::web::error::PageQuery;

/// One bar of the chart, in SVG user units.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub x: u32,
    pub y: u32,
    pub height: u32,
    /// `ok` for succeeded attempts, `covered` for jobs done without running (on top of them),
    /// `failed` for failed attempts (on top).
    pub class: &'static str,
    pub title: String,
}

pub const CHART_HEIGHT: u32 = 80;
/// Dead letters per page of the table.
const DEAD_PER_PAGE: u64 = 100;
pub const BAR_WIDTH: u32 = 8;
const BAR_STEP: u32 = 10;

/// Stacked bars (succeeded below, covered above them, failed on top), scaled to the busiest
/// minute. Pure.
pub fn chart(minutes: &[MinuteCount]) -> Vec<Bar> {
    let peak = minutes
        .iter()
        .map(|m| m.succeeded + m.covered + m.failed)
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| ((n * CHART_HEIGHT as i64) / peak) as u32;
    let mut bars = Vec::new();
    for (i, m) in minutes.iter().enumerate() {
        let x = i as u32 * BAR_STEP;
        let title = format!(
            "{}: {} succeeded, {} covered, {} failed",
            m.minute, m.succeeded, m.covered, m.failed
        );
        // Each layer's top, scaled from the running total so rounding never opens a gap.
        let mut below = 0;
        let mut top = 0;
        for (count, class) in [
            (m.succeeded, "ok"),
            (m.covered, "covered"),
            (m.failed, "failed"),
        ] {
            below += count;
            let bottom = top;
            top = scale(below);
            if top > bottom {
                bars.push(Bar {
                    x,
                    y: CHART_HEIGHT - top,
                    height: top - bottom,
                    class,
                    title: title.clone(),
                });
            }
        }
    }
    bars
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    replay: String,
    /// Where the dead-letter table goes on (the previous page's last row).
    #[serde(default)]
    dead_cursor: String,
}

#[derive(Template)]
#[template(path = "admin/queue.html")]
struct QueuePage {
    chrome: Option<Chrome>,
    s: QueueStats,
    oldest: String,
    bars: Vec<Bar>,
    chart_width: u32,
    chart_height: u32,
    bar_width: u32,
    total_succeeded: i64,
    total_covered: i64,
    total_failed: i64,
    dead: Vec<DeadLetter>,
    dead_next_url: Option<String>,
    dead_paged: bool,
    replays: Vec<Progress>,
    tenant: String,
    nothing_to_replay: bool,
}

/// Milliseconds as a short human duration (`3 min 20 s`).
fn human(ms: i64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// `GET /admin/queue[?tenant=]`.
pub async fn show_queue_page(
    admin: Admin,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<QueueQuery>,
) -> Result<Response, AdminError> {
    let tenant = match q.tenant.trim() {
        "" => None,
        slug => Some(
            tenant::find_ref(&state.db, slug)
                .await?
                .ok_or_else(|| AdminError::NotFound(format!("no tenant `{slug}`")))?
                .id,
        ),
    };
    let s = queue_data::stats(&state.db).await?;
    let cursor = match q.dead_cursor.trim() {
        "" => None,
        text => Some(queue_data::parse_dead_cursor(text).ok_or_else(|| {
            AdminError::BadRequest("the dead-letter cursor is not valid".to_owned())
        })?),
    };
    let dead = queue_data::dead_letters_page(&state.db, tenant, DEAD_PER_PAGE, cursor).await?;
    let dead_next_url = dead.next_cursor.map(|c| {
        let pairs = [("tenant", q.tenant.trim()), ("dead_cursor", &c)];
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
            .finish();
        format!("/admin/queue?{query}#dead-letters")
    });
    let replays = bulk_replay::recent(&state.db, tenant, 10).await?;
    Ok(html(&QueuePage {
        chrome: Some(admin.chrome("queue")),
        oldest: s
            .oldest_due_age_ms
            .map(human)
            .unwrap_or_else(|| "none waiting".to_owned()),
        bars: chart(&s.throughput),
        chart_width: s.throughput.len() as u32 * BAR_STEP,
        chart_height: CHART_HEIGHT,
        bar_width: BAR_WIDTH,
        total_succeeded: s.throughput.iter().map(|m| m.succeeded).sum(),
        total_covered: s.throughput.iter().map(|m| m.covered).sum(),
        total_failed: s.throughput.iter().map(|m| m.failed).sum(),
        s,
        dead: dead.data,
        dead_next_url,
        dead_paged: cursor.is_some(),
        replays,
        tenant: q.tenant,
        nothing_to_replay: q.replay == "nothing",
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minute(succeeded: i64, failed: i64) -> MinuteCount {
        MinuteCount {
            minute: "m".into(),
            succeeded,
            failed,
            covered: 0,
        }
    }

    #[test]
    fn the_busiest_minute_fills_the_chart_and_failures_stack_on_top() {
        let bars = chart(&[minute(10, 10), minute(0, 0), minute(5, 0)]);
        assert_eq!(bars.len(), 3);
        assert_eq!((bars[0].x, bars[0].y, bars[0].height), (0, 40, 40));
        assert_eq!(
            (bars[1].y, bars[1].height, bars[1].class),
            (0, 40, "failed")
        );
        assert_eq!((bars[2].x, bars[2].height), (20, 20));
        assert!(chart(&[minute(0, 0)]).is_empty());
    }

    #[test]
    fn covered_jobs_stack_between_succeeded_and_failed() {
        let bars = chart(&[MinuteCount {
            covered: 4,
            ..minute(4, 2)
        }]);
        let layers: Vec<(&str, u32, u32)> = bars.iter().map(|b| (b.class, b.y, b.height)).collect();
        assert_eq!(
            layers,
            [("ok", 48, 32), ("covered", 16, 32), ("failed", 0, 16)]
        );
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human(4_000), "4 s");
        assert_eq!(human(200_000), "3 min 20 s");
        assert_eq!(human(7_500_000), "2 h 5 min");
    }
}

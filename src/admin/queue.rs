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
    /// `ok` for succeeded attempts, `failed` for failed ones (stacked on top).
    pub class: &'static str,
    pub title: String,
}

pub const CHART_HEIGHT: u32 = 80;
pub const BAR_WIDTH: u32 = 8;
const BAR_STEP: u32 = 10;

/// Stacked bars (succeeded below, failed above), scaled to the busiest minute. Pure.
pub fn chart(minutes: &[MinuteCount]) -> Vec<Bar> {
    let peak = minutes
        .iter()
        .map(|m| m.succeeded + m.failed)
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| ((n * CHART_HEIGHT as i64) / peak) as u32;
    let mut bars = Vec::new();
    for (i, m) in minutes.iter().enumerate() {
        let x = i as u32 * BAR_STEP;
        let ok = scale(m.succeeded);
        let failed = scale(m.succeeded + m.failed) - ok;
        let title = format!(
            "{}: {} succeeded, {} failed",
            m.minute, m.succeeded, m.failed
        );
        if ok > 0 {
            bars.push(Bar {
                x,
                y: CHART_HEIGHT - ok,
                height: ok,
                class: "ok",
                title: title.clone(),
            });
        }
        if failed > 0 {
            bars.push(Bar {
                x,
                y: CHART_HEIGHT - ok - failed,
                height: failed,
                class: "failed",
                title,
            });
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
    total_failed: i64,
    dead: Vec<DeadLetter>,
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
    let dead = queue_data::dead_letters(&state.db, tenant, 100).await?;
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
        total_failed: s.throughput.iter().map(|m| m.failed).sum(),
        s,
        dead,
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
    fn durations_read_as_people_say_them() {
        assert_eq!(human(4_000), "4 s");
        assert_eq!(human(200_000), "3 min 20 s");
        assert_eq!(human(7_500_000), "2 h 5 min");
    }
}

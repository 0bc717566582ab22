//! The in-memory side of connection health: one cell per (tenant, side), updated by every partner
//! call without touching the database, and flushed to `partner_health` by a background task at
//! most every `FLUSH_EVERY`, or at once when a side starts failing or recovers (what an operator
//! looks for first). Several processes merge into the same row: each time column only moves
//! forward.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
use tokio::sync::Notify;

use super::Side;
use crate::time::now_ms;

/// How often good news reaches the database.
const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// Error texts are short summaries; longer ones are cut.
const MAX_ERROR_CHARS: usize = 300;

/// Every cell of this process. Cheap to clone.
#[derive(Clone, Default)]
pub struct HealthBook {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    cells: Mutex<HashMap<(i64, Side), Arc<HealthCell>>>,
    /// Wakes the flusher when a side changes between failing and working.
    urgent: Notify,
}

/// One tenant's side, as seen by this process since its last flush.
pub struct HealthCell {
    tenant_id: i64,
    side: Side,
    state: Mutex<CellState>,
    book: Weak<Inner>,
}

#[derive(Default)]
struct CellState {
    last_ok_at: Option<i64>,
    last_error_at: Option<i64>,
    last_error: Option<String>,
    dirty: bool,
    failing: bool,
}

impl HealthCell {
    /// A call that reached the partner and was answered as expected.
    pub fn ok(&self) {
        let now = now_ms();
        let recovered = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.last_ok_at = Some(state.last_ok_at.map_or(now, |at| at.max(now)));
            state.dirty = true;
            std::mem::replace(&mut state.failing, false)
        };
        if recovered {
            self.wake_flusher();
        }
    }

    /// A failed call; `error` is a short summary without secrets (status, endpoint template).
    pub fn error(&self, error: String) {
        let now = now_ms();
        let started_failing = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.last_error_at = Some(state.last_error_at.map_or(now, |at| at.max(now)));
            state.last_error = Some(truncate(error));
            state.dirty = true;
            !std::mem::replace(&mut state.failing, true)
        };
        if started_failing {
            self.wake_flusher();
        }
    }

    fn wake_flusher(&self) {
        if let Some(book) = self.book.upgrade() {
            book.urgent.notify_one();
        }
    }

    /// What changed since the last flush, marking it flushed.
    fn take_dirty(&self) -> Option<CellState> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.dirty {
            return None;
        }
        state.dirty = false;
        Some(CellState {
            last_ok_at: state.last_ok_at,
            last_error_at: state.last_error_at,
            last_error: state.last_error.clone(),
            dirty: true,
            failing: state.failing,
        })
    }

    /// A failed write: the values go out with the next flush.
    fn mark_dirty(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .dirty = true;
    }
}

impl HealthBook {
    pub fn new() -> Self {
        Self::default()
    }

    /// The cell of a tenant's side (created on first use).
    pub fn cell(&self, tenant_id: i64, side: Side) -> Arc<HealthCell> {
        let mut cells = self
            .inner
            .cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cells
            .entry((tenant_id, side))
            .or_insert_with(|| {
                Arc::new(HealthCell {
                    tenant_id,
                    side,
                    state: Mutex::new(CellState::default()),
                    book: Arc::downgrade(&self.inner),
                })
            })
            .clone()
    }

    /// Writes every changed cell. Tests call it instead of waiting for the flusher.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let cells: Vec<Arc<HealthCell>> = self
            .inner
            .cells
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut outcome = Ok(());
        for cell in cells {
            let Some(state) = cell.take_dirty() else {
                continue;
            };
            if let Err(error) = upsert(db, cell.tenant_id, cell.side, &state).await {
                cell.mark_dirty();
                outcome = Err(error);
            }
        }
        outcome
    }

    /// Flushes every `FLUSH_EVERY` and on each failing/working transition, until every clone of
    /// the book is dropped (then once more).
    pub fn spawn_flusher(&self, db: DatabaseConnection) {
        let book = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = book.upgrade() else { return };
                let wait = async {
                    tokio::select! {
                        _ = tokio::time::sleep(FLUSH_EVERY) => {}
                        _ = inner.urgent.notified() => {}
                    }
                };
                wait.await;
                let book = HealthBook { inner };
                if let Err(error) = book.flush(&db).await {
                    tracing::warn!(error = %error, "cannot record connection health");
                }
            }
        });
    }
}

/// Merges one cell into its row: times only move forward, the error text follows its time.
async fn upsert(
    db: &DatabaseConnection,
    tenant_id: i64,
    side: Side,
    state: &CellState,
) -> Result<(), DbErr> {
    const SQL: &str = "
INSERT INTO partner_health (tenant_id, side, last_ok_at, last_error_at, last_error, updated_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, side) DO UPDATE SET
    last_ok_at = CASE WHEN partner_health.last_ok_at IS NULL
                        OR excluded.last_ok_at > partner_health.last_ok_at
                      THEN COALESCE(excluded.last_ok_at, partner_health.last_ok_at)
                      ELSE partner_health.last_ok_at END,
    last_error = CASE WHEN partner_health.last_error_at IS NULL
                        OR excluded.last_error_at > partner_health.last_error_at
                      THEN COALESCE(excluded.last_error, partner_health.last_error)
                      ELSE partner_health.last_error END,
    last_error_at = CASE WHEN partner_health.last_error_at IS NULL
                        OR excluded.last_error_at > partner_health.last_error_at
                      THEN COALESCE(excluded.last_error_at, partner_health.last_error_at)
                      ELSE partner_health.last_error_at END,
    updated_at = excluded.updated_at";
    let backend = db.get_database_backend();
    let sql = crate::store::numbered_params(backend, SQL);
    let statement = Statement::from_sql_and_values(
        backend,
        sql,
        [
            tenant_id.into(),
            side.as_str().into(),
            state.last_ok_at.into(),
            state.last_error_at.into(),
            state.last_error.clone().into(),
            now_ms().into(),
        ],
    );
    db.execute_raw(statement).await.map(drop)
}

fn truncate(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_ERROR_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

//! A partner's token bucket shared by every Liaison process of a tenant, in one database row
//! (`rate_budgets`): a partner that limits per API key (Lever: 10 requests per second, bursts to
//! 20) sees one client however many processes run. Taking is one conditional UPDATE (only if the
//! row still holds what was read), refilling is lazy (whoever takes adds what accrued since
//! `refilled_at`), and a process takes a few requests at a time (`take(want)`) to keep the
//! database traffic a fraction of the partner traffic.
//!
//! Clocks: each process refills with its own clock; one that is behind adds nothing (never a
//! negative refill), one that is ahead adds a little early. Keep the processes' clocks in sync
//! (NTP), as for every lease in Liaison.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
};

use crate::store::entities::rate_budget;
use crate::store::is_unique_violation;
use crate::time::now_ms;

/// How often a take may lose the race to another process before it reports a short wait.
const ATTEMPTS: usize = 8;

/// One tenant's bucket for one partner.
pub struct SharedBucket<'a> {
    pub db: &'a DatabaseConnection,
    pub tenant_id: i64,
    pub scope: &'static str,
    /// Steady refill, requests per second.
    pub per_second: u32,
    /// The bucket's size, requests.
    pub burst: u32,
}

/// What a take got.
#[derive(Debug, PartialEq, Eq)]
pub enum Taken {
    /// This many requests (at least one, at most the number asked for).
    Granted(u32),
    /// None left: the next one accrues in this long.
    Wait(Duration),
}

/// The bucket's content at `now`, from what it held at `refilled_at` (thousandths).
fn level(burst_milli: i64, per_second: u32, tokens_milli: i64, refilled_at: i64, now: i64) -> i64 {
    let accrued = (now - refilled_at)
        .max(0)
        .saturating_mul(i64::from(per_second));
    tokens_milli.saturating_add(accrued).min(burst_milli)
}

/// Takes up to `want` from a bucket holding `available` thousandths: how many, or the wait.
fn grant(available: i64, want: u32, per_second: u32) -> Taken {
    if available >= 1_000 {
        let whole = u32::try_from(available / 1_000).unwrap_or(u32::MAX);
        Taken::Granted(want.max(1).min(whole))
    } else {
        let missing = (1_000 - available).max(0) as u64;
        let per_ms = u64::from(per_second.max(1));
        Taken::Wait(Duration::from_millis(missing.div_ceil(per_ms).max(1)))
    }
}

impl SharedBucket<'_> {
    fn burst_milli(&self) -> i64 {
        i64::from(self.burst.max(1)) * 1_000
    }

    /// Takes up to `want` requests from the bucket.
    pub async fn take(&self, want: u32) -> Result<Taken, DbErr> {
        for _ in 0..ATTEMPTS {
            let now = now_ms();
            let Some(row) = self.load().await? else {
                if self.create(want, now).await? {
                    return Ok(Taken::Granted(want.clamp(1, self.burst.max(1))));
                }
                continue;
            };
            let available = level(
                self.burst_milli(),
                self.per_second,
                row.tokens_milli,
                row.refilled_at,
                now,
            );
            let granted = match grant(available, want, self.per_second) {
                Taken::Granted(n) => n,
                wait @ Taken::Wait(_) => return Ok(wait),
            };
            let updated = rate_budget::Entity::update_many()
                .col_expr(
                    rate_budget::Column::TokensMilli,
                    Expr::value(available - i64::from(granted) * 1_000),
                )
                .col_expr(
                    rate_budget::Column::RefilledAt,
                    Expr::value(now.max(row.refilled_at)),
                )
                .filter(rate_budget::Column::Id.eq(row.id))
                .filter(rate_budget::Column::TokensMilli.eq(row.tokens_milli))
                .filter(rate_budget::Column::RefilledAt.eq(row.refilled_at))
                .exec(self.db)
                .await?;
            if updated.rows_affected == 1 {
                return Ok(Taken::Granted(granted));
            }
            // Another process took meanwhile: read again.
        }
        Ok(Taken::Wait(Duration::from_millis(
            1_000 / u64::from(self.per_second.max(1)),
        )))
    }

    async fn load(&self) -> Result<Option<rate_budget::Model>, DbErr> {
        rate_budget::Entity::find()
            .filter(rate_budget::Column::TenantId.eq(self.tenant_id))
            .filter(rate_budget::Column::Scope.eq(self.scope))
            .one(self.db)
            .await
    }

    /// The first take: a full bucket less `want`. False when another process created it first.
    async fn create(&self, want: u32, now: i64) -> Result<bool, DbErr> {
        let granted = i64::from(want.clamp(1, self.burst.max(1)));
        let row = rate_budget::ActiveModel {
            tenant_id: Set(self.tenant_id),
            scope: Set(self.scope.to_owned()),
            tokens_milli: Set(self.burst_milli() - granted * 1_000),
            refilled_at: Set(now),
            ..Default::default()
        };
        match row.insert(self.db).await {
            Ok(_) => Ok(true),
            Err(error) if is_unique_violation(&error) => Ok(false),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_refills_at_its_rate_up_to_its_size_and_never_backwards() {
        // 10 per second: one request (1000 thousandths) per 100 ms.
        assert_eq!(level(20_000, 10, 0, 1_000, 1_100), 1_000);
        assert_eq!(level(20_000, 10, 5_000, 0, 60_000), 20_000);
        assert_eq!(level(20_000, 10, 3_000, 2_000, 1_000), 3_000);
    }

    #[test]
    fn a_take_gets_what_is_there_up_to_the_ask_or_the_wait_for_one() {
        assert_eq!(grant(5_500, 3, 10), Taken::Granted(3));
        assert_eq!(grant(2_500, 3, 10), Taken::Granted(2));
        assert_eq!(grant(1_000, 3, 10), Taken::Granted(1));
        assert_eq!(grant(400, 3, 10), Taken::Wait(Duration::from_millis(60)));
        assert_eq!(grant(0, 3, 10), Taken::Wait(Duration::from_millis(100)));
    }
}

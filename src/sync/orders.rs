//! The flows of embedded-assessment orders: `place_order` (the suite candidate and invitation of
//! a stored order) and `report_order` (telling the ATS the result is ready, retried by the queue
//! until it answers 2xx), and the step of the result flow that records an order's result.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::flows::{Partners, db_error};
use super::keys::OpKey;
use super::ports::{CandidateSpec, PartnerError, ResultState, SuitePort};
use super::{Flow, FlowFuture, JobContext, JobError};
use crate::ats::{OrderReport, adapter_for};
use crate::equivalence::EntityKind;
use crate::ids::OrderId;
use crate::orders::{self, Order, OrderResult, OrderStatus, catalogue};
use crate::tenant::{Directory, Tenant};

/// Loads the job's tenant and order; a job whose order is gone cannot do anything.
async fn load(
    db: &DatabaseConnection,
    tenants: &Directory,
    context: &JobContext,
) -> Result<(Arc<Tenant>, Order), JobError> {
    let job = &context.job;
    let id = job.payload["order_id"]
        .as_i64()
        .map(OrderId)
        .ok_or_else(|| JobError::permanent("the job names no order"))?;
    let tenant = tenants
        .by_id(job.tenant)
        .await
        .map_err(|e| JobError::transient(format!("tenant: {e:#}")))?
        .ok_or_else(|| JobError::permanent(format!("tenant {} is gone", job.tenant)))?;
    let order = orders::find(db, job.tenant, id)
        .await
        .map_err(db_error)?
        .ok_or_else(|| JobError::permanent(format!("order {id} is gone")))?;
    Ok((tenant, order))
}

/// `place_order`: the order's candidate is created (or found by email) and invited to the
/// ordered test. A retry asks again under the same operation keys and gets the same objects.
pub struct PlaceOrder {
    db: DatabaseConnection,
    tenants: Directory,
    partners: Arc<dyn Partners>,
}

impl PlaceOrder {
    pub fn new(db: DatabaseConnection, tenants: Directory, partners: Arc<dyn Partners>) -> Self {
        Self {
            db,
            tenants,
            partners,
        }
    }

    async fn place(&self, context: &JobContext) -> Result<(), JobError> {
        let (tenant, order) = load(&self.db, &self.tenants, context).await?;
        if let Some(invitation) = &order.invitation_id {
            context.note_call(format!("order {} already invited: {invitation}", order.id));
            return Ok(());
        }
        if !catalogue::may_offer(&tenant, &order.test_id) {
            return self
                .refuse(
                    &tenant,
                    &order,
                    format!("test {} is not offered", order.test_id),
                )
                .await;
        }
        let partners = self.partners.for_tenant(&tenant)?;
        match invite(partners.suite.as_ref(), &tenant, &order).await {
            Ok(invitation_id) => {
                orders::mark_invited(&self.db, tenant.id, order.id, &invitation_id)
                    .await
                    .map_err(db_error)?;
                context.link_when_done(EntityKind::Order, order.id.to_string(), &invitation_id);
                context.note_call(format!("order {}: invitation {invitation_id}", order.id));
                Ok(())
            }
            Err(PartnerError::NotFound(what) | PartnerError::Permanent(what)) => {
                self.refuse(&tenant, &order, what).await
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The order cannot be carried out: it says why, and the job is a dead letter (a replay,
    /// once fixed, places it again).
    async fn refuse(&self, tenant: &Tenant, order: &Order, why: String) -> Result<(), JobError> {
        orders::mark_failed(&self.db, tenant.id, order.id, &why)
            .await
            .map_err(db_error)?;
        Err(JobError::permanent(format!("order {}: {why}", order.id)))
    }
}

async fn invite(
    suite: &dyn SuitePort,
    tenant: &Tenant,
    order: &Order,
) -> Result<String, PartnerError> {
    let person = &order.candidate;
    let spec = CandidateSpec {
        external_ref: order.ats_ref.candidate_id.clone(),
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        email: person.email.clone(),
        phone: person.phone.clone(),
        locale: tenant
            .config
            .embed
            .locale
            .clone()
            .unwrap_or_else(|| "pt-BR".to_owned()),
    };
    // The suite keeps one candidate per email: a taken one answers its id.
    let email = person.email.to_lowercase();
    let candidate_id = suite
        .create_candidate(&OpKey::Candidate { key: &email }.to_string(), &spec)
        .await?;
    let order_id = order.id.to_string();
    let invitation = suite
        .invite(
            &OpKey::OrderInvite { order: &order_id }.to_string(),
            &order.test_id,
            &candidate_id,
        )
        .await?;
    Ok(invitation.id)
}

impl Flow for PlaceOrder {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(self.place(context))
    }
}

/// `report_order`: tells the ATS the order's result is ready, once. The queue retries it with
/// backoff until the ATS answers 2xx; a result reported is never reported again.
pub struct ReportOrder {
    db: DatabaseConnection,
    tenants: Directory,
}

impl ReportOrder {
    pub fn new(db: DatabaseConnection, tenants: Directory) -> Self {
        Self { db, tenants }
    }

    async fn report(&self, context: &JobContext) -> Result<(), JobError> {
        let (tenant, order) = load(&self.db, &self.tenants, context).await?;
        if order.reported_at.is_some() {
            context.note_call(format!("order {} already reported", order.id));
            return Ok(());
        }
        let (Some(result), Some(callback_url)) = (order.result.clone(), order.callback_url.clone())
        else {
            return Err(JobError::permanent(format!(
                "order {} has no result or no callback URL",
                order.id
            )));
        };
        let credential = orders::keys::current(&self.db, self.tenants.master_key(), tenant.id)
            .await
            .map_err(|e| JobError::transient(format!("the tenant's key: {e:#}")))?;
        let report = OrderReport {
            callback_url,
            credential,
            result,
        };
        adapter_for(tenant.config.ats.kind)
            .report_order(&tenant, &report)
            .await?;
        orders::mark_reported(&self.db, tenant.id, order.id)
            .await
            .map_err(db_error)?;
        context.note_call(format!("order {}: result reported", order.id));
        Ok(())
    }
}

impl Flow for ReportOrder {
    fn run<'a>(&'a self, context: &'a JobContext) -> FlowFuture<'a> {
        Box::pin(self.report(context))
    }
}

/// The result flow's step for orders: when `invitation_id` is orders', the result (once the
/// interview is complete and reviewed) is recorded for each of them with the job that reports
/// it, and the answer is true (the invitation has no application to write back to).
pub async fn record_order_result(
    db: &DatabaseConnection,
    tenant: &Tenant,
    suite: &dyn SuitePort,
    invitation_id: &str,
    context: &JobContext,
) -> Result<bool, JobError> {
    let orders = orders::find_by_invitation(db, tenant.id, invitation_id)
        .await
        .map_err(db_error)?;
    if orders.is_empty() {
        return Ok(false);
    }
    let result = suite.result(invitation_id).await?;
    let Some(order_result) = result_of(&result) else {
        context.note_call(format!(
            "{} order(s): interview {}, {} review(s): no result yet",
            orders.len(),
            result.status,
            result.review_count
        ));
        return Ok(true);
    };
    // Each order records its result and its report job in its own transaction; a retry
    // records the same again and enqueues nothing twice (one report per order, ever).
    for order in &orders {
        orders::record_result(db, tenant.id, order.id, &order_result)
            .await
            .map_err(db_error)?;
        context.note_call(format!("order {}: result recorded", order.id));
    }
    Ok(true)
}

/// The result flow's step for an invitation that ended without an interview: the orders
/// waiting on it take its end (`Expired` or `Cancelled`), so the ATS reads it. True when the
/// invitation is orders'.
pub async fn record_order_end(
    db: &DatabaseConnection,
    tenant: &Tenant,
    invitation_id: &str,
    ended: OrderStatus,
    context: &JobContext,
) -> Result<bool, JobError> {
    let orders = orders::find_by_invitation(db, tenant.id, invitation_id)
        .await
        .map_err(db_error)?;
    if orders.is_empty() {
        return Ok(false);
    }
    let changed = orders::mark_ended(db, tenant.id, invitation_id, ended)
        .await
        .map_err(db_error)?;
    context.note_call(format!(
        "invitation {invitation_id} {ended}: {changed} of {} order(s) changed",
        orders.len()
    ));
    Ok(true)
}

/// An order's result: once the interview is complete and reviewed at least once.
pub fn result_of(result: &ResultState) -> Option<OrderResult> {
    if result.status != "completed" || result.review_count == 0 {
        return None;
    }
    let mut details = std::collections::BTreeMap::new();
    details.insert("Reviews".to_owned(), result.review_count.into());
    if let Some(recommendation) = &result.recommendation {
        details.insert("Recommendation".to_owned(), recommendation.clone().into());
    }
    Some(OrderResult {
        score: result.average_score.map(|s| (s * 10.0).round() / 10.0),
        profile_url: result.review_url.clone(),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: &str, reviews: u32) -> ResultState {
        ResultState {
            invitation_id: "inv_1".into(),
            status: status.into(),
            average_score: Some(81.333),
            recommendation: Some("advance".into()),
            review_count: reviews,
            review_url: Some("https://suite/r/1".into()),
        }
    }

    #[test]
    fn a_result_needs_a_completed_and_reviewed_interview() {
        assert_eq!(result_of(&state("started", 1)), None);
        assert_eq!(result_of(&state("completed", 0)), None);
        let result = result_of(&state("completed", 2)).expect("a result");
        assert_eq!(result.score, Some(81.3));
        assert_eq!(result.details["Reviews"], 2);
        assert_eq!(result.details["Recommendation"], "advance");
    }
}

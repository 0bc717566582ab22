use sea_orm::entity::prelude::*;

/// An ATS's order of an interview (embedded-assessment ATSs: Greenhouse Assessment, Teamtailor):
/// the candidate, the test (a suite project), where to report the result, and how far Liaison
/// got. `ats_order_key` is the ATS's own key of the order (unique per tenant: the same order
/// twice is one row). Shown to the ATS as `ord_<id>`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    #[sea_orm(column_type = "Text")]
    pub ats_order_key: String,
    #[sea_orm(column_type = "Text")]
    pub test_id: String,
    /// `orders::OrderCandidate` as JSON.
    #[sea_orm(column_type = "Text")]
    pub candidate: String,
    /// The ATS's ids of the order's subject (application, candidate), as JSON.
    #[sea_orm(column_type = "Text")]
    pub ats_ref: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub callback_url: Option<String>,
    pub status: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub invitation_id: Option<String>,
    /// `orders::OrderResult` as JSON, once the interview is complete.
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
    pub reported_at: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

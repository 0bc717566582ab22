//! The equivalences page: a tenant's ATS id <-> suite id pairs, searched by ATS id, suite id or
//! a person's email (see `data::equivalences`), and the history of one pair.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::Admin;
use super::data::equivalences::by_email;
use super::page::{AdminError, Chrome, html};
use crate::app::AppState;
use crate::equivalence::{self, EntityKind, Equivalence, HistoryEntry, ListFilter};
use crate::tenant::{self, TenantRef};
use crate::time::to_rfc3339;
use crate::web::error::PageQuery;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    ats_id: String,
    #[serde(default)]
    suite_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    cursor: String,
}

/// A row as shown.
struct Row {
    kind: String,
    ats_id: String,
    suite_id: String,
    created_at: String,
    synced_at: String,
}

impl From<Equivalence> for Row {
    fn from(e: Equivalence) -> Self {
        Self {
            kind: e.kind.to_string(),
            ats_id: e.ats_id,
            suite_id: e.suite_id,
            created_at: to_rfc3339(e.created_at),
            synced_at: to_rfc3339(e.synced_at),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/equivalences.html")]
struct EquivalencesPage {
    chrome: Option<Chrome>,
    q: SearchQuery,
    tenants: Vec<String>,
    rows: Vec<Row>,
    next_url: Option<String>,
    searched: bool,
}

async fn tenant_named(state: &AppState, slug: &str) -> Result<TenantRef, AdminError> {
    tenant::find_ref(&state.db, slug)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no tenant `{slug}`")))
}

fn kind_of(text: &str) -> Result<Option<EntityKind>, AdminError> {
    match text.trim() {
        "" => Ok(None),
        k => k
            .parse()
            .map(Some)
            .map_err(|e: equivalence::UnknownKind| AdminError::BadRequest(e.to_string())),
    }
}

fn some(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `GET /admin/equivalences?tenant=&kind=&ats_id=&suite_id=&email=&cursor=`.
pub async fn show_equivalences_page(
    admin: Admin,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<SearchQuery>,
) -> Result<Response, AdminError> {
    let tenants: Vec<String> = tenant::list(&state.db)
        .await?
        .into_iter()
        .map(|t| t.slug)
        .collect();
    let (mut rows, mut next_url, mut searched) = (Vec::new(), None, false);
    if let Some(slug) = some(&q.tenant) {
        let tenant = tenant_named(&state, &slug).await?;
        searched = true;
        if let Some(email) = some(&q.email) {
            rows = by_email(&state.db, tenant.id, &email)
                .await?
                .into_iter()
                .map(Row::from)
                .collect();
        } else {
            let filter = ListFilter {
                kind: kind_of(&q.kind)?,
                ats_id: some(&q.ats_id),
                suite_id: some(&q.suite_id),
            };
            let cursor =
                match some(&q.cursor) {
                    Some(c) => Some(c.parse::<i64>().map_err(|_| {
                        AdminError::BadRequest("the cursor is not valid".to_owned())
                    })?),
                    None => None,
                };
            let page = equivalence::list(&state.db, tenant.id, &filter, 100, cursor).await?;
            next_url = page.next_cursor.map(|c| {
                let pairs = [
                    ("tenant", q.tenant.as_str()),
                    ("kind", &q.kind),
                    ("ats_id", &q.ats_id),
                    ("suite_id", &q.suite_id),
                    ("cursor", &c),
                ];
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()))
                    .finish();
                format!("/admin/equivalences?{query}")
            });
            rows = page.data.into_iter().map(Row::from).collect();
        }
    }
    Ok(html(&EquivalencesPage {
        chrome: Some(admin.chrome("equivalences")),
        q,
        tenants,
        rows,
        next_url,
        searched,
    }))
}

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    ats_id: String,
}

#[derive(Template)]
#[template(path = "admin/history.html")]
struct HistoryPage {
    chrome: Option<Chrome>,
    tenant: String,
    kind: String,
    ats_id: String,
    entries: Vec<(HistoryEntry, String)>,
}

/// `GET /admin/equivalences/history?tenant=&kind=&ats_id=`.
pub async fn show_history_page(
    admin: Admin,
    State(state): State<AppState>,
    PageQuery(q): PageQuery<HistoryQuery>,
) -> Result<Response, AdminError> {
    let tenant = tenant_named(&state, q.tenant.trim()).await?;
    let kind =
        kind_of(&q.kind)?.ok_or_else(|| AdminError::BadRequest("`kind` is required".to_owned()))?;
    let entries = equivalence::history(&state.db, tenant.id, kind, q.ats_id.trim())
        .await?
        .into_iter()
        .map(|e| {
            let at = to_rfc3339(e.at);
            (e, at)
        })
        .collect();
    Ok(html(&HistoryPage {
        chrome: Some(admin.chrome("equivalences")),
        tenant: tenant.slug,
        kind: kind.to_string(),
        ats_id: q.ats_id,
        entries,
    }))
}

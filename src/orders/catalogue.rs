//! The tenant's tests: the suite projects it offers (`ats.offered_projects`, else every open
//! project), read from the suite when the ATS asks, so the catalogue follows the suite.

use crate::suite::{ProjectFilter, ProjectResponse, ProjectStatus, SuiteClient, SuiteError};
use crate::tenant::Tenant;

/// One test, in Liaison's terms (Greenhouse: `partner_test_id`, `partner_test_name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Test {
    pub id: String,
    pub name: String,
}

/// The tests the tenant offers now.
pub async fn tests(suite: &SuiteClient, tenant: &Tenant) -> Result<Vec<Test>, SuiteError> {
    let filter = ProjectFilter {
        external_ref: None,
        status: Some(ProjectStatus::Open),
    };
    let projects = suite.list_all_projects(&filter).await?;
    Ok(offered(
        tenant.config.ats.offered_projects.as_deref(),
        projects,
    ))
}

/// The open projects that are offered, in the suite's order.
fn offered(selection: Option<&[String]>, projects: Vec<ProjectResponse>) -> Vec<Test> {
    projects
        .into_iter()
        .filter(|project| project.status == ProjectStatus::Open)
        .filter(|project| selection.is_none_or(|ids| ids.contains(&project.id)))
        .map(|project| Test {
            id: project.id,
            name: project.title,
        })
        .collect()
}

/// Whether `test_id` is one of the tenant's tests by its settings (the suite has the last word
/// when the invitation is made).
pub fn may_offer(tenant: &Tenant, test_id: &str) -> bool {
    tenant
        .config
        .ats
        .offered_projects
        .as_ref()
        .is_none_or(|ids| ids.iter().any(|id| id == test_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(id: &str, status: ProjectStatus) -> ProjectResponse {
        ProjectResponse {
            id: id.to_owned(),
            external_ref: None,
            title: format!("Title {id}"),
            description: String::new(),
            location: String::new(),
            language: "en".to_owned(),
            status,
            starts_on: None,
            ends_on: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn every_open_project_is_offered_unless_the_tenant_names_some() {
        let all = vec![
            project("p1", ProjectStatus::Open),
            project("p2", ProjectStatus::Archived),
            project("p3", ProjectStatus::Open),
        ];
        let ids = |tests: Vec<Test>| tests.into_iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(offered(None, all.clone())), ["p1", "p3"]);
        let chosen = ["p3".to_owned(), "p2".to_owned()];
        assert_eq!(ids(offered(Some(&chosen), all)), ["p3"]);
    }
}

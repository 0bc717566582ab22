//! Finding equivalences by a person's email. Liaison does not store emails next to its
//! equivalences, so the search reads every normalised event of the tenant that mentions the
//! address (the inbox keeps them; read in batches, newest first), collects the ids they carry
//! (application, job, candidate at the ATS; candidate and user at the suite) and looks those up.
//! Candidates known only by email are keyed `email:<address>` and found directly.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbErr};

use crate::equivalence::{self, EntityKind, Equivalence, ListFilter};
use crate::events::{EventBody, InboundEvent};
use crate::ids::TenantId;
use crate::inbox;

/// How many events mentioning the address are read per statement.
const EVENTS_PER_READ: u64 = 200;

/// Equivalences related to `email` in `tenant`, without duplicates.
pub async fn by_email(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    email: &str,
) -> Result<Vec<Equivalence>, DbErr> {
    let email = email.trim().to_lowercase();
    if email.is_empty() {
        return Ok(Vec::new());
    }
    let mut ats: HashSet<(EntityKind, String)> = HashSet::new();
    let mut suite: HashSet<(EntityKind, String)> = HashSet::new();
    ats.insert((EntityKind::Candidate, format!("email:{email}")));
    let mut before = None;
    loop {
        let rows =
            inbox::normalized_mentioning(db, tenant, &email, before, EVENTS_PER_READ).await?;
        let complete = (rows.len() as u64) < EVENTS_PER_READ;
        before = rows.last().map(|(id, _)| *id);
        for (_, text) in rows {
            let Ok(event) = serde_json::from_str::<InboundEvent>(&text) else {
                continue;
            };
            collect_ids(&event, &email, &mut ats, &mut suite);
        }
        if complete || before.is_none() {
            break;
        }
    }
    let mut found: Vec<Equivalence> = Vec::new();
    let lookups = ats
        .into_iter()
        .map(|(kind, id)| (kind, Some(id), None))
        .chain(suite.into_iter().map(|(kind, id)| (kind, None, Some(id))));
    for (kind, ats_id, suite_id) in lookups {
        let filter = ListFilter {
            kind: Some(kind),
            ats_id,
            suite_id,
        };
        for row in equivalence::list(db, tenant, &filter, 10, None).await?.data {
            if !found
                .iter()
                .any(|f| f.kind == row.kind && f.ats_id == row.ats_id)
            {
                found.push(row);
            }
        }
    }
    Ok(found)
}

/// The ids an event carries about the person with `email` (pure).
fn collect_ids(
    event: &InboundEvent,
    email: &str,
    ats: &mut HashSet<(EntityKind, String)>,
    suite: &mut HashSet<(EntityKind, String)>,
) {
    let same = |other: &Option<String>| {
        other
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(email))
    };
    match &event.body {
        EventBody::ApplicationChanged(app) if same(&app.candidate.email) => {
            ats.insert((EntityKind::Application, app.ats_application_id.clone()));
            ats.insert((EntityKind::Job, app.ats_job_id.clone()));
            if let Some(id) = &app.candidate.ats_candidate_id {
                ats.insert((EntityKind::Candidate, id.clone()));
            }
        }
        EventBody::CandidateUpdated {
            candidate_id,
            email: found,
        } if same(found) => {
            suite.insert((EntityKind::Candidate, candidate_id.clone()));
        }
        EventBody::UserUpdated {
            user_id,
            email: found,
        } if same(found) => {
            suite.insert((EntityKind::User, user_id.clone()));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{AtsApplication, AtsCandidate, Source};

    #[test]
    fn an_application_of_the_person_yields_its_ids_and_others_do_not() {
        let event = |email: &str| InboundEvent {
            source: Source::Ats,
            delivery_id: "d".into(),
            partner_type: "application.moved".into(),
            occurred_at: None,
            body: EventBody::ApplicationChanged(AtsApplication {
                ats_application_id: "77".into(),
                ats_job_id: "5".into(),
                candidate: AtsCandidate {
                    email: Some(email.into()),
                    ..Default::default()
                },
                ..Default::default()
            }),
        };
        let (mut ats, mut suite) = (HashSet::new(), HashSet::new());
        collect_ids(
            &event("Ana@Example.com"),
            "ana@example.com",
            &mut ats,
            &mut suite,
        );
        assert!(ats.contains(&(EntityKind::Application, "77".to_owned())));
        assert!(ats.contains(&(EntityKind::Job, "5".to_owned())));
        let (mut other, mut none) = (HashSet::new(), HashSet::new());
        collect_ids(
            &event("bob@example.com"),
            "ana@example.com",
            &mut other,
            &mut none,
        );
        assert!(other.is_empty() && none.is_empty());
    }
}

use std::collections::HashSet;

use liaison::equivalence::{
    self, EntityKind, EquivalenceError, LinkOutcome, ListFilter, MadeLink, NewLink,
};
use sea_orm::TransactionTrait;

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_ats_id_binds_to_one_suite_id_and_the_reverse() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let db = app.db();

    let created = equivalence::link(db, tenant, EntityKind::Job, "19139", "prj_1").await;
    assert_eq!(created.ok(), Some(LinkOutcome::Created));
    let again = equivalence::link(db, tenant, EntityKind::Job, "19139", "prj_1").await;
    assert_eq!(again.ok(), Some(LinkOutcome::AlreadyLinked));

    let other_suite = equivalence::link(db, tenant, EntityKind::Job, "19139", "prj_2").await;
    assert!(matches!(
        other_suite,
        Err(EquivalenceError::AtsIdTaken { ref existing_suite_id, .. }) if existing_suite_id == "prj_1"
    ));
    let other_ats = equivalence::link(db, tenant, EntityKind::Job, "777", "prj_1").await;
    assert!(matches!(
        other_ats,
        Err(EquivalenceError::SuiteIdTaken { ref existing_ats_id, .. }) if existing_ats_id == "19139"
    ));

    // Kinds are separate name spaces.
    let candidate = equivalence::link(db, tenant, EntityKind::Candidate, "19139", "prj_1").await;
    assert_eq!(candidate.ok(), Some(LinkOutcome::Created));

    let by_suite = equivalence::lookup_by_suite(db, tenant, EntityKind::Job, "prj_1")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(by_suite.ats_id, "19139");
}

#[tokio::test]
async fn fifty_concurrent_links_of_one_ats_id_leave_one_row_and_agree() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;

    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..50 {
        let db = app.db().clone();
        tasks.spawn(async move {
            let suite_id = format!("inv_{n}");
            match equivalence::link(&db, tenant, EntityKind::Application, "2937132", &suite_id)
                .await
            {
                Ok(LinkOutcome::Created) => (true, suite_id),
                Ok(LinkOutcome::AlreadyLinked) => (false, suite_id),
                Err(EquivalenceError::AtsIdTaken {
                    existing_suite_id, ..
                }) => (false, existing_suite_id),
                Err(other) => panic!("unexpected error: {other}"),
            }
        });
    }
    let results = tasks.join_all().await;
    let winners = results.iter().filter(|(created, _)| *created).count();
    let agreed: HashSet<_> = results
        .iter()
        .map(|(_, suite_id)| suite_id.clone())
        .collect();
    assert_eq!(winners, 1, "exactly one caller creates the row");
    assert_eq!(
        agreed.len(),
        1,
        "every caller learns the same suite id: {agreed:?}"
    );

    let page = equivalence::list(app.db(), tenant, &ListFilter::default(), 100, None)
        .await
        .expect("list");
    assert_eq!(page.data.len(), 1);
    assert_eq!(Some(&page.data[0].suite_id), agreed.iter().next());
}

#[tokio::test]
async fn concurrent_links_of_the_same_pair_all_succeed_with_one_row() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let db = app.db().clone();
        tasks.spawn(async move {
            equivalence::link(&db, tenant, EntityKind::Candidate, "1999450", "cand_9").await
        });
    }
    let outcomes: Vec<_> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|r| r.expect("ok"))
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == LinkOutcome::Created)
            .count(),
        1
    );
    let page = equivalence::list(app.db(), tenant, &ListFilter::default(), 100, None)
        .await
        .expect("list");
    assert_eq!(page.data.len(), 1);
}

#[tokio::test]
async fn tenants_do_not_see_each_others_equivalences_in_code() {
    let app = spawn_app().await;
    let acme = app.add_tenant("acme").await;
    let globex = app.add_tenant("globex").await;
    let db = app.db();
    equivalence::link(db, acme, EntityKind::Job, "1", "prj_a")
        .await
        .expect("link");
    // The same ids are free in another tenant.
    let other = equivalence::link(db, globex, EntityKind::Job, "1", "prj_a").await;
    assert_eq!(other.ok(), Some(LinkOutcome::Created));
    equivalence::unlink(db, globex, EntityKind::Job, "1")
        .await
        .expect("unlink");
    assert!(
        equivalence::lookup_by_ats(db, acme, EntityKind::Job, "1")
            .await
            .expect("ok")
            .is_some()
    );
    assert!(
        equivalence::lookup_by_ats(db, globex, EntityKind::Job, "1")
            .await
            .expect("ok")
            .is_none()
    );
}

#[tokio::test]
async fn unlink_and_relink_are_kept_in_history() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let db = app.db();
    equivalence::link(db, tenant, EntityKind::User, "u1", "usr_1")
        .await
        .expect("link");
    let removed = equivalence::unlink(db, tenant, EntityKind::User, "u1")
        .await
        .expect("unlink");
    assert_eq!(removed.map(|e| e.suite_id), Some("usr_1".to_owned()));
    equivalence::link(db, tenant, EntityKind::User, "u1", "usr_2")
        .await
        .expect("relink");
    let history = equivalence::history(db, tenant, EntityKind::User, "u1")
        .await
        .expect("history");
    let actions: Vec<_> = history
        .iter()
        .map(|h| (h.action.as_str(), h.suite_id.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("linked", "usr_1"),
            ("unlinked", "usr_1"),
            ("linked", "usr_2")
        ]
    );
}

#[tokio::test]
async fn listing_pages_through_every_row() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    for n in 0..25 {
        equivalence::link(
            app.db(),
            tenant,
            EntityKind::Job,
            &n.to_string(),
            &format!("p{n}"),
        )
        .await
        .expect("link");
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = equivalence::list(app.db(), tenant, &ListFilter::default(), 10, cursor)
            .await
            .expect("page");
        seen.extend(page.data.into_iter().map(|e| e.ats_id));
        match page.next_cursor {
            Some(next) => cursor = Some(next.parse().expect("numeric cursor")),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);
}

#[tokio::test]
async fn several_links_at_once_answer_each_as_one_link_would() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let db = app.db();
    let new = |kind, ats_id, suite_id| NewLink {
        kind,
        ats_id,
        suite_id,
    };

    // All new: both rows and both history lines.
    let outcomes = equivalence::link_all(
        db,
        tenant,
        &[
            new(EntityKind::Candidate, "maria@example.com", "cand_1"),
            new(EntityKind::Application, "501", "inv_1"),
        ],
    )
    .await;
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Ok(LinkOutcome::Created)))
    );
    for (kind, ats_id, suite_id) in [
        (EntityKind::Candidate, "maria@example.com", "cand_1"),
        (EntityKind::Application, "501", "inv_1"),
    ] {
        let link = equivalence::lookup_by_ats(db, tenant, kind, ats_id)
            .await
            .expect("lookup")
            .expect("linked");
        assert_eq!(link.suite_id, suite_id);
        let history = equivalence::history(db, tenant, kind, ats_id)
            .await
            .expect("history");
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].action, "linked");
    }

    // One already there, one taken by another id, one new: each answered on its own, nothing
    // half-written.
    let outcomes = equivalence::link_all(
        db,
        tenant,
        &[
            new(EntityKind::Candidate, "maria@example.com", "cand_1"),
            new(EntityKind::Application, "501", "inv_9"),
            new(EntityKind::Application, "502", "inv_2"),
        ],
    )
    .await;
    assert!(matches!(outcomes[0], Ok(LinkOutcome::AlreadyLinked)));
    assert!(matches!(
        outcomes[1],
        Err(EquivalenceError::AtsIdTaken { ref existing_suite_id, .. }) if existing_suite_id == "inv_1"
    ));
    assert!(matches!(outcomes[2], Ok(LinkOutcome::Created)));
    let history = equivalence::history(db, tenant, EntityKind::Candidate, "maria@example.com")
        .await
        .expect("history");
    assert_eq!(
        history.len(),
        1,
        "no second history line for a link that existed"
    );
}

#[tokio::test]
async fn links_made_by_a_batch_of_jobs_keep_what_holds_and_answer_each_refusal() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let db = app.db();
    let made = |kind, ats_id: &str, suite_id: &str| MadeLink {
        tenant,
        kind,
        ats_id: ats_id.to_owned(),
        suite_id: suite_id.to_owned(),
    };
    equivalence::link(db, tenant, EntityKind::Application, "501", "inv_1")
        .await
        .expect("link");
    equivalence::link(
        db,
        tenant,
        EntityKind::Candidate,
        "maria@example.com",
        "cand_1",
    )
    .await
    .expect("link");

    let batch = [
        // New, and the same binding twice (twin applications of one candidate).
        made(EntityKind::Candidate, "ana@example.com", "cand_2"),
        made(EntityKind::Candidate, "ana@example.com", "cand_2"),
        made(EntityKind::Application, "502", "inv_2"),
        // A second suite id for an ATS id bound in this very batch.
        made(EntityKind::Application, "502", "inv_7"),
        // Already bound as asked.
        made(EntityKind::Application, "501", "inv_1"),
        // The ATS id is bound to something else; so is the suite id.
        made(EntityKind::Application, "501", "inv_9"),
        made(EntityKind::Candidate, "maria.souza@example.com", "cand_1"),
        made(EntityKind::Application, "", "inv_3"),
    ];
    let txn = db.begin().await.expect("begin");
    let refused = equivalence::link_made(&txn, &batch).await.expect("written");
    txn.commit().await.expect("commit");

    assert_eq!(refused.len(), 4, "{refused:?}");
    for holder in ["inv_1", "inv_2"] {
        assert!(refused.iter().any(|r| matches!(
            r,
            EquivalenceError::AtsIdTaken { existing_suite_id, .. } if existing_suite_id == holder
        )));
    }
    assert!(refused.iter().any(|r| matches!(
        r,
        EquivalenceError::SuiteIdTaken { existing_ats_id, .. } if existing_ats_id == "maria@example.com"
    )));
    assert!(
        refused
            .iter()
            .any(|r| matches!(r, EquivalenceError::InvalidId))
    );
    for (kind, ats_id, suite_id, history_lines) in [
        (EntityKind::Candidate, "ana@example.com", "cand_2", 1),
        (EntityKind::Application, "502", "inv_2", 1),
        (EntityKind::Application, "501", "inv_1", 1),
        (EntityKind::Candidate, "maria@example.com", "cand_1", 1),
    ] {
        let link = equivalence::lookup_by_ats(db, tenant, kind, ats_id)
            .await
            .expect("lookup")
            .expect("linked");
        assert_eq!(link.suite_id, suite_id);
        let history = equivalence::history(db, tenant, kind, ats_id)
            .await
            .expect("history");
        assert_eq!(history.len(), history_lines, "{kind} {ats_id}: {history:?}");
    }
    assert!(
        equivalence::lookup_by_ats(db, tenant, EntityKind::Candidate, "maria.souza@example.com")
            .await
            .expect("lookup")
            .is_none()
    );
}

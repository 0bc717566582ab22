//! The admin console: sign-in, every page with data, masking, replays and CSRF.

use liaison::queue;
use liaison::sso::{Identity, handoff};
use liaison::web::session::SessionOrigin;

use crate::admin_support::{
    EMAIL, PAYLOAD_SECRET, browser, complete_all, dead_letter_all, newest_event, post_login,
    receive_delivery, sign_in,
};
use crate::helpers::{ADMIN_TOKEN, spawn_app, spawn_app_with};
use crate::sync_world::World;

#[tokio::test]
async fn console_pages_answer_401_with_the_sign_in_form_without_a_session() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    for path in [
        "/admin",
        "/admin/tenants/acme",
        "/admin/events",
        "/admin/events/evt_1",
        "/admin/queue",
        "/admin/equivalences?tenant=acme",
        "/admin/tenants/acme/mappings",
        "/admin/replays/rpl_1",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 401, "{path}");
        let html = response.text().await.expect("body");
        assert!(html.contains("action=\"/admin/login\""), "{path}: {html}");
    }
    let forged = browser()
        .get(app.url("/admin"))
        .header("cookie", "liaison_admin=eyJzaWQiOiJ4In0.AAAA")
        .send()
        .await
        .expect("get");
    assert_eq!(forged.status(), 401);
    let post = browser()
        .post(app.url("/admin/events/evt_1/replay"))
        .form(&[("csrf", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(post.status(), 401);
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_the_right_one_opens_a_session_until_sign_out() {
    let app = spawn_app().await;
    // The form as a browser posts it: with the sign-in page's cookie and CSRF token.
    let wrong = post_login(&browser(), &app.url(""), "not-the-admin-token-at-all", "").await;
    assert_eq!(wrong.status(), 401);
    assert!(wrong.headers().get("set-cookie").is_none());
    assert!(
        wrong
            .text()
            .await
            .expect("body")
            .contains("not the admin token")
    );

    let console = sign_in(&app).await;
    let (status, _) = console.post("/admin/logout", &[]).await;
    assert_eq!(status, 303);
    let from_elsewhere = browser()
        .post(app.url("/admin/login"))
        .header("origin", "https://evil.example")
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .expect("login");
    assert_eq!(from_elsewhere.status(), 403);
}

#[tokio::test]
async fn every_page_renders_with_data_from_real_flows() {
    let world = World::new("tags").await;
    let job = world.publish_job("Data Scientist").await;
    let application = world.apply_to(job, "ana.costa@example.com").await;
    world.move_to(application, "Video interview").await;
    world
        .settle_until("the invitation", |w| w.invitations().len() == 1)
        .await;
    let app = &world.app;
    let console = sign_in(app).await;
    let event = newest_event(app, "acme").await;
    let job_cell = format!("<code>{job}</code>");
    let application_cell = format!("<code>{application}</code>");
    let history = format!("/admin/equivalences/history?tenant=acme&kind=job&ats_id={job}");

    for (path, expected) in [
        ("/admin", "acme"),
        ("/admin/tenants/acme", "Suite delivers to"),
        ("/admin/events?tenant=acme", "application"),
        (
            "/admin/events?tenant=acme&status=processed&source=ats",
            "processed",
        ),
        (format!("/admin/events/{event}").as_str(), "apply_event"),
        ("/admin/queue", "<svg"),
        ("/admin/equivalences?tenant=acme", job_cell.as_str()),
        (
            "/admin/equivalences?tenant=acme&email=ana.costa%40example.com",
            application_cell.as_str(),
        ),
        (history.as_str(), "linked"),
        ("/admin/tenants/acme/mappings", "Apto"),
    ] {
        let (status, html) = console.get(path).await;
        assert_eq!(status, 200, "{path}: {html}");
        assert!(html.contains(expected), "{path} lacks {expected}: {html}");
        // The email search echoes what was typed; no other page shows the address.
        if !path.contains("email=") {
            assert!(
                !html.contains("ana.costa@example.com"),
                "{path} shows an email"
            );
        }
        assert!(!html.contains("gupy-token"), "{path} shows a secret");
    }
    let (_, mappings) = console.get("/admin/tenants/acme/mappings").await;
    assert!(
        mappings.contains("<h2>Preview a sample</h2>") && mappings.contains("(JSON)"),
        "the adapter's preview guide: {mappings}"
    );

    // Connection health: the suite answered the sync's calls, so its row has a time.
    app.state.health.flush(app.db()).await.expect("flush");
    let (_, html) = console.get("/admin/tenants/acme").await;
    let suite_row = html
        .split("<tr><td>Suite</td>")
        .nth(1)
        .expect("a health row for the suite");
    let last_ok = suite_row.split("<td>").nth(1).expect("a cell");
    assert!(!last_ok.starts_with("never"), "{suite_row}");
    let (status, html) = console.get(&format!("/admin/events/{event}")).await;
    assert_eq!(status, 200);
    assert!(html.contains("succeeded"), "an attempt is listed: {html}");

    let (status, html) = console
        .post("/admin/tenants/acme/subscriptions/check", &[])
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("application.moved"), "{html}");
    assert!(html.contains("/webhooks/acme/suite"), "{html}");

    let (status, _) = console.get("/admin/events?from=yesterday").await;
    assert_eq!(status, 400);
    let (status, _) = console.get("/admin/tenants/nope").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_event_page_masks_secrets_and_personal_data_unless_asked() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    receive_delivery(&app, "acme", "d-mask").await;
    dead_letter_all(&app).await;
    let event = newest_event(&app, "acme").await;
    let console = sign_in(&app).await;

    let (status, html) = console.get(&format!("/admin/events/{event}")).await;
    assert_eq!(status, 200);
    for raw in [PAYLOAD_SECRET, EMAIL, "+5511999990000", "Silva"] {
        assert!(!html.contains(raw), "{raw} is shown: {html}");
    }
    assert!(html.contains("m***@e***.com"), "{html}");
    assert!(html.contains("suite said 422"), "{html}");

    let (status, html) = console
        .get(&format!("/admin/events/{event}?unmask=personal"))
        .await;
    assert_eq!(status, 200);
    assert!(html.contains(EMAIL));
    assert!(!html.contains(PAYLOAD_SECRET), "a secret is never shown");
}

#[tokio::test]
async fn replaying_an_event_twice_queues_its_jobs_once() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    receive_delivery(&app, "acme", "d-replay").await;
    dead_letter_all(&app).await;
    let event = newest_event(&app, "acme").await;
    let console = sign_in(&app).await;
    let path = format!("/admin/events/{event}/replay");

    let (status, location) = console.post(&path, &[]).await;
    assert_eq!(status, 303);
    assert!(location.ends_with("?replay=requeued"), "{location}");
    let (status, location) = console.post(&path, &[]).await;
    assert_eq!(status, 303);
    assert!(location.ends_with("?replay=already_queued"), "{location}");
    let depth = queue::depth(app.db()).await.expect("depth");
    assert_eq!((depth.pending, depth.dead), (1, 0));
    let (_, html) = console.get(&location).await;
    assert!(html.contains("queued already"), "{html}");
}

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    receive_delivery(&app, "acme", "d-csrf").await;
    dead_letter_all(&app).await;
    let event = newest_event(&app, "acme").await;
    let mut console = sign_in(&app).await;
    console.csrf = "forged".to_owned();
    for path in [
        format!("/admin/events/{event}/replay"),
        "/admin/tenants/acme/dead-letters/replay".to_owned(),
        "/admin/tenants/acme/mappings/preview".to_owned(),
        "/admin/logout".to_owned(),
    ] {
        let (status, _) = console.post(&path, &[("sample", "{}")]).await;
        assert_eq!(status, 403, "{path}");
    }
    assert_eq!(queue::depth(app.db()).await.expect("depth").dead, 1);
}

#[tokio::test]
async fn a_bulk_replay_shows_its_progress_until_done() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    for id in ["b1", "b2", "b3"] {
        receive_delivery(&app, "acme", id).await;
    }
    dead_letter_all(&app).await;
    let console = sign_in(&app).await;

    let (status, location) = console
        .post("/admin/tenants/acme/dead-letters/replay", &[])
        .await;
    assert_eq!(status, 303);
    assert!(location.starts_with("/admin/replays/rpl_"), "{location}");
    let (_, html) = console.get(&location).await;
    assert!(html.contains("3 jobs sent back"), "{html}");
    assert!(
        html.contains("http-equiv=\"refresh\""),
        "refreshes while running"
    );

    complete_all(&app).await;
    let (_, html) = console.get(&location).await;
    assert!(html.contains("Finished"), "{html}");
    assert!(html.contains("3 done"), "{html}");
    assert!(!html.contains("http-equiv=\"refresh\""));

    let (status, location) = console
        .post("/admin/tenants/acme/dead-letters/replay", &[])
        .await;
    assert_eq!(status, 303);
    assert!(location.contains("replay=nothing"), "{location}");
    let (_, html) = console.get(&location).await;
    assert!(html.contains("no dead letters"), "{html}");
}

#[tokio::test]
async fn the_mappings_preview_shows_the_normalised_event_or_the_reason() {
    let app = spawn_app().await;
    app.add_tenant("acme").await;
    let console = sign_in(&app).await;
    let sample = crate::inbound_support::gupy_delivery("p-1", "application.moved").to_string();

    let (status, html) = console
        .post(
            "/admin/tenants/acme/mappings/preview",
            &[("sample", &sample)],
        )
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("application_changed"), "{html}");
    assert!(html.contains("application:2937132"), "{html}");

    let (status, html) = console
        .post(
            "/admin/tenants/acme/mappings/preview",
            &[("sample", "{not json")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(html.contains("not valid JSON"), "{html}");
    assert_eq!(
        queue::depth(app.db()).await.expect("depth"),
        queue::Depth::default(),
        "a preview enqueues nothing"
    );
}

#[tokio::test]
async fn admin_sso_opens_the_console_for_an_admin_role_only() {
    let app = spawn_app_with(|settings| {
        settings.admin.sso_tenant = Some("acme".to_owned());
    })
    .await;
    app.add_tenant("acme").await;
    let (status, html) = {
        let r = app.get("/admin/login").await;
        (r.status().as_u16(), r.text().await.expect("body"))
    };
    assert_eq!(status, 200);
    assert!(
        html.contains("/sso/acme/login?return_to=/admin/sso/finish"),
        "{html}"
    );

    // What the SSO side stores when the identity provider answers a console sign-in: a
    // single-use code, presented with the cookie that binds it to the browser.
    let tenant = app
        .state
        .tenants()
        .expect("tenants")
        .by_slug_now("acme")
        .await;
    let tenant = tenant.expect("read").expect("acme").id;
    let session_for = |role: &str| {
        let identity = Identity {
            subject: "u1".into(),
            email: "boss@acme.test".into(),
            name: None,
            role: Some(role.to_owned()),
        };
        let db = app.db().clone();
        async move {
            handoff::issue(&db, tenant, &identity, SessionOrigin::Oidc)
                .await
                .expect("issue a hand-off")
        }
    };
    let finish = |issued: handoff::Issued| {
        browser()
            .get(app.url(&format!("/admin/sso/finish?code={}", issued.code)))
            .header(
                "cookie",
                format!("{}={}", handoff::BINDING_COOKIE, issued.binding),
            )
            .send()
    };
    let refused = finish(session_for("recruiter").await).await.expect("get");
    assert_eq!(refused.status(), 403);
    let accepted = finish(session_for("admin").await).await.expect("get");
    assert_eq!(accepted.status(), 303);
    let cookie = accepted.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let page = browser()
        .get(app.url("/admin"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("get");
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .expect("body")
            .contains("sso:acme:boss@acme.test")
    );
}

/// The number after `id="{id}">` in a page.
fn figure(html: &str, id: &str) -> i64 {
    let marker = format!("id=\"{id}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {id}: {html}"))
        + marker.len();
    html[start..]
        .split('<')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{id} is no number: {html}"))
}

#[tokio::test]
async fn the_queue_page_counts_covered_jobs_so_its_figures_agree() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use liaison::queue::NewJob;
    use liaison::store::entities::job;
    use liaison::sync::{Flows, Worker};
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    use crate::worker::{Covers, new_job, settings};

    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let runs = Arc::new(AtomicUsize::new(0));
    let flows = Flows::new().with("covers", Covers { runs: runs.clone() });
    let worker = Worker::new(
        app.db().clone(),
        flows,
        settings(),
        4,
        Arc::new(tokio::sync::Notify::new()),
    );
    let same_entity = |key: &str| NewJob {
        ordering_key: Some("entity".to_owned()),
        ..new_job(tenant, "covers", key)
    };
    let first = queue::enqueue(app.db(), same_entity("first"))
        .await
        .expect("enqueue")
        .expect("new");
    let second = queue::enqueue(app.db(), same_entity("second"))
        .await
        .expect("enqueue")
        .expect("new");
    queue::enqueue(app.db(), new_job(tenant, "covers", "alone"))
        .await
        .expect("enqueue")
        .expect("new");
    job::Entity::update_many()
        .col_expr(
            job::Column::Payload,
            Expr::value(serde_json::json!({"cover": second.0}).to_string()),
        )
        .filter(job::Column::Id.eq(first.0))
        .exec(app.db())
        .await
        .expect("name the covered job");
    worker.drain().await.expect("drain");
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the covered job never ran");

    let console = sign_in(&app).await;
    let (status, html) = console.get("/admin/queue").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(figure(&html, "depth-done"), 3);
    // Three jobs reached "done" in the window: two ran, one was answered by the first's work.
    assert_eq!(figure(&html, "attempts-succeeded"), 2);
    assert_eq!(figure(&html, "jobs-covered"), 1);
    assert_eq!(
        figure(&html, "jobs-done"),
        figure(&html, "depth-done"),
        "the chart's done jobs are the depth's (every job finished in the window)"
    );
    assert_eq!(figure(&html, "attempts-failed"), 0);
    assert!(html.contains("covered without running"), "{html}");
}

/// A log-only application event of `tenant` for `email`, as the inbox stores it.
fn application_event(
    tenant: liaison::ids::TenantId,
    delivery: &str,
    application: &str,
    email: &str,
) -> liaison::inbox::NewEvent {
    use liaison::events::{AtsApplication, AtsCandidate, EventBody, InboundEvent, Source};

    let event = InboundEvent {
        source: Source::Ats,
        delivery_id: delivery.to_owned(),
        partner_type: "application.moved".to_owned(),
        occurred_at: None,
        body: EventBody::ApplicationChanged(AtsApplication {
            ats_application_id: application.to_owned(),
            ats_job_id: "job-1".to_owned(),
            candidate: AtsCandidate {
                email: Some(email.to_owned()),
                ..Default::default()
            },
            ..Default::default()
        }),
    };
    liaison::inbox::NewEvent::log_only(tenant, event, "{}".to_owned())
}

#[tokio::test]
async fn the_email_search_finds_a_person_behind_more_than_200_newer_events() {
    use liaison::equivalence::{self, EntityKind};

    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let email = "ana.costa@example.com";
    // The application linked long ago; since then 250 events mentioned the person (another
    // application of theirs, never linked).
    let mut events = vec![application_event(tenant, "d-old", "app-old", email)];
    events.extend((0..250).map(|n| application_event(tenant, &format!("d-{n}"), "app-new", email)));
    liaison::inbox::insert_events(app.db(), &events, 3)
        .await
        .expect("insert");
    equivalence::link(
        app.db(),
        tenant,
        EntityKind::Application,
        "app-old",
        "inv_old",
    )
    .await
    .expect("link");

    let console = sign_in(&app).await;
    let (status, html) = console
        .get("/admin/equivalences?tenant=acme&email=ana.costa%40example.com")
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<code>app-old</code>"), "{html}");
    assert!(html.contains("inv_old"), "{html}");
}

/// The `href` of the link whose text is `text`, HTML entities undone.
fn link_named(html: &str, text: &str) -> Option<String> {
    let end = html.find(&format!("\">{text}"))?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(html[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

#[tokio::test]
async fn the_dead_letters_table_pages_past_200_rows() {
    use liaison::queue::NewJob;

    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    for n in 0..230 {
        queue::enqueue(
            app.db(),
            NewJob {
                tenant,
                event: None,
                flow: "test".to_owned(),
                payload: serde_json::json!({}),
                idempotency_key: format!("dead-{n}"),
                ordering_key: None,
                run_at: None,
                max_attempts: 1,
            },
        )
        .await
        .expect("enqueue")
        .expect("new");
    }
    dead_letter_all(&app).await;

    let console = sign_in(&app).await;
    let mut seen = std::collections::HashSet::new();
    let mut path = "/admin/queue?tenant=acme".to_owned();
    for _ in 0..10 {
        let (status, html) = console.get(&path).await;
        assert_eq!(status, 200, "{path}: {html}");
        let before = seen.len();
        for cell in html.split("<td class=\"job\">").skip(1) {
            let id = cell.split('<').next().expect("id").to_owned();
            assert!(seen.insert(id.clone()), "{id} shown twice");
        }
        assert!(seen.len() > before, "{path} showed no dead letter");
        match link_named(&html, "Older dead letters") {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 230);
}

#[tokio::test]
async fn the_equivalences_table_pages_past_200_rows() {
    use liaison::equivalence::{self, EntityKind};

    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    for n in 0..230 {
        equivalence::link(
            app.db(),
            tenant,
            EntityKind::Application,
            &format!("app-{n}"),
            &format!("inv_{n}"),
        )
        .await
        .expect("link");
    }

    let console = sign_in(&app).await;
    let mut seen = std::collections::HashSet::new();
    let mut path = "/admin/equivalences?tenant=acme&kind=application".to_owned();
    for _ in 0..10 {
        let (status, html) = console.get(&path).await;
        assert_eq!(status, 200, "{path}: {html}");
        for cell in html.split("<td><code>app-").skip(1) {
            let id = cell.split('<').next().expect("id").to_owned();
            assert!(seen.insert(id.clone()), "app-{id} shown twice");
        }
        match link_named(&html, "More") {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 230);
}

#[tokio::test]
async fn the_events_table_pages_past_200_rows() {
    let app = spawn_app().await;
    let tenant = app.add_tenant("acme").await;
    let events: Vec<_> = (0..230)
        .map(|n| {
            application_event(
                tenant,
                &format!("d-{n}"),
                &format!("app-{n}"),
                "x@example.com",
            )
        })
        .collect();
    liaison::inbox::insert_events(app.db(), &events, 3)
        .await
        .expect("insert");

    let console = sign_in(&app).await;
    let mut seen = std::collections::HashSet::new();
    let mut path = "/admin/events?tenant=acme".to_owned();
    for _ in 0..10 {
        let (status, html) = console.get(&path).await;
        assert_eq!(status, 200, "{path}: {html}");
        for cell in html.split("<td><a href=\"/admin/events/").skip(1) {
            let id = cell.split('"').next().expect("id").to_owned();
            assert!(seen.insert(id.clone()), "{id} shown twice");
        }
        match link_named(&html, "Older events") {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(seen.len(), 230);
}

//! `liaison demo`: the scenario runs to the end (on SQLite, or on PostgreSQL when
//! `LIAISON_TEST_DATABASE_URL` says so), every URL it prints answers, a second run on the kept
//! database works, `--tls` serves HTTPS that the simulators trust, and the command itself prints
//! its URLs and stops on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use liaison::config::Settings;
use liaison::demo::{self, DemoOptions, RunningDemo};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio_util::sync::CancellationToken;

use crate::helpers::TestDb;

async fn start_demo(database: &TestDb, dir: &std::path::Path, tls: bool) -> RunningDemo {
    let options = DemoOptions {
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: Some(database.url.clone()),
        dir: dir.to_owned(),
        tls,
    };
    demo::start(Settings::defaults(), options, CancellationToken::new())
        .await
        .expect("the demo starts")
}

async fn play(demo: &RunningDemo) -> (Vec<String>, demo::scenario::ScenarioOutcome) {
    let mut lines = Vec::new();
    let outcome = demo
        .play(&mut |line| lines.push(line.to_owned()))
        .await
        .expect("the scenario runs to the end");
    (lines, outcome)
}

/// GETs every printed URL; each must answer 200.
async fn assert_links_answer(demo: &RunningDemo, links: &[demo::urls::Link]) {
    for link in links {
        let response = demo.http().get(&link.url).send().await.expect("an answer");
        assert_eq!(
            response.status().as_u16(),
            200,
            "{}: {}",
            link.label,
            link.url
        );
    }
}

#[tokio::test]
async fn the_demo_scenario_runs_to_the_end_and_its_urls_answer() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = start_demo(&database, dir.path(), false).await;

    let (lines, outcome) = play(&demo).await;

    assert_eq!(lines.len(), 4, "{lines:#?}");
    for (n, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("[{}/4] ", n + 1)), "{line}");
    }
    assert!(lines[1].contains("3 candidates invited"), "{}", lines[1]);
    assert!(lines[2].contains("\"Apto\" and \"Inapto\""), "{}", lines[2]);
    let links = demo.links(Some(&outcome));
    assert_eq!(links.len(), 8, "{links:#?}");
    assert_links_answer(&demo, &links).await;

    // The simulated ATS embeds Liaison, and Liaison lets it frame the pages.
    let requisition = format!("{}/_sim/requisitions/{}", demo.gupy_url(), outcome.job_id);
    let page = demo.http().get(&requisition).send().await.expect("page");
    let html = page.text().await.expect("html");
    let frame = format!(
        "src=\"{}/embed/demo/jobs/{}?launch=",
        demo.public_url, outcome.job_id
    );
    assert!(html.contains(&frame), "{html}");
    // A fresh link: the ones above were opened, and each launch token is spent once.
    let fresh = demo.links(Some(&outcome));
    let job_page = fresh
        .iter()
        .find(|l| l.label.starts_with("Job page"))
        .expect("job page");
    let embed = demo.http().get(&job_page.url).send().await.expect("embed");
    let csp = embed.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.ends_with(&format!("frame-ancestors 'self' {}", demo.gupy_url())),
        "{csp}"
    );
    // The project has the recruiter's interview questions, and the job page shows them in order.
    let job_html = embed.text().await.expect("job page html");
    assert!(
        !job_html.contains("No questions yet."),
        "the demo job page has no questions: {job_html}"
    );
    let mut from = 0;
    for (text, ..) in demo::scenario::QUESTIONS {
        let at = job_html[from..]
            .find(text)
            .unwrap_or_else(|| panic!("question {text:?} missing or out of order: {job_html}"));
        from += at + text.len();
    }

    // Its "Open in suite" button opens the popup route, which signs the recruiter in.
    let open = html
        .split("href=\"")
        .find_map(|rest| {
            rest.split('"')
                .next()
                .filter(|url| url.contains("/open/demo/jobs/"))
        })
        .expect("an Open in suite link")
        .to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let popup = no_redirects.get(&open).send().await.expect("popup");
    assert_eq!(popup.status().as_u16(), 303);
    let login = popup.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(
        login.starts_with(&format!("{}/login/", demo.suite_url())),
        "{login}"
    );

    demo.stop().await.expect("stops cleanly");
}

#[tokio::test]
async fn rerunning_the_demo_on_its_kept_database_plays_the_scenario_again() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let first = start_demo(&database, dir.path(), false).await;
    let (_, first_outcome) = play(&first).await;
    let token = secrecy::ExposeSecret::expose_secret(&first.admin_token).to_owned();
    first.stop().await.expect("stops");

    let second = start_demo(&database, dir.path(), false).await;
    let (lines, outcome) = play(&second).await;

    assert_eq!(lines.len(), 4);
    assert_ne!(outcome.job_id, first_outcome.job_id, "fresh ids");
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&second.admin_token),
        token,
        "the admin token is kept"
    );
    assert_links_answer(&second, &second.links(Some(&outcome))).await;
    second.stop().await.expect("stops");
}

#[tokio::test]
async fn the_tls_demo_serves_https_that_the_simulators_deliver_to() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = start_demo(&database, dir.path(), true).await;
    assert!(
        demo.public_url.starts_with("https://"),
        "{}",
        demo.public_url
    );

    // Both simulators deliver their webhooks over HTTPS, or the scenario would stall.
    let (_, outcome) = play(&demo).await;

    assert_links_answer(&demo, &demo.links(Some(&outcome))).await;
    assert!(dir.path().join("tls-cert.pem").is_file());
    demo.stop().await.expect("stops");
}

#[tokio::test]
async fn the_demo_command_prints_urls_that_answer_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args(["demo", "--bind", "127.0.0.1:0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start liaison demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let read_until_serving = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            let done = line.starts_with("Serving until Ctrl-C");
            printed.push(line);
            if done {
                return;
            }
        }
        panic!("the demo ended early");
    };
    if tokio::time::timeout(Duration::from_secs(120), read_until_serving)
        .await
        .is_err()
    {
        panic!("the demo did not finish its scenario: {printed:#?}");
    }

    let urls: Vec<&str> = printed
        .iter()
        .flat_map(|line| line.split_whitespace())
        .filter(|word| word.starts_with("http://"))
        .collect();
    assert!(printed.iter().any(|l| l.contains("[4/4]")), "{printed:#?}");
    assert!(
        urls.iter().any(|u| u.contains("/_sim/requisitions/")),
        "{printed:#?}"
    );
    assert!(
        urls.iter().any(|u| u.contains("/embed/demo/applications/")),
        "{printed:#?}"
    );
    let client = reqwest::Client::new();
    for url in &urls {
        let status = client.get(*url).send().await.expect("an answer").status();
        assert_eq!(status.as_u16(), 200, "{url}");
    }
    for file in ["liaison.db", "master.key", "admin.token"] {
        assert!(dir.path().join(".liaison").join(file).is_file(), "{file}");
    }

    let pid = child.id().expect("running").to_string();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("stops after SIGTERM")
        .expect("exit status");
    assert!(status.success(), "{status}");
    let rest: Vec<String> = {
        let mut rest = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            rest.push(line);
        }
        rest
    };
    assert!(rest.iter().any(|l| l == "Stopped."), "{rest:#?}");
}

#[tokio::test]
async fn the_demo_has_a_second_tenant_on_the_greenhouse_simulator() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = start_demo(&database, dir.path(), false).await;

    // The simulator holds the key Liaison issued the tenant: Liaison answers its list_tests.
    let response = demo
        .http()
        .get(format!("{}/_sim/list_tests", demo.greenhouse_url()))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    let tests: serde_json::Value = response.json().await.expect("json");
    assert!(tests.is_array(), "{tests}");
    demo.stop().await.expect("the demo stops");
}

#[tokio::test]
async fn the_tls_demos_greenhouse_tenant_orders_and_gets_its_result_over_https() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = start_demo(&database, dir.path(), true).await;
    let http = demo.http();
    let greenhouse = demo.greenhouse_url();

    // The Greenhouse simulator calls Liaison over HTTPS, trusting the demo's certificate.
    let response = http
        .get(format!("{greenhouse}/_sim/list_tests"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    let suite = demo.greenhouse_suite().sim();
    let input: liaison_sim::suite::ProjectIn =
        serde_json::from_value(serde_json::json!({"title": "TLS test"})).expect("project");
    let project = suite
        .mutate(|store| store.create_project(input))
        .expect("project")
        .id;
    let sent: serde_json::Value = http
        .post(format!("{greenhouse}/_sim/send_test"))
        .json(&serde_json::json!({"partner_test_id": project, "email": "tls@example.com"}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("json");
    assert!(
        sent["answers"][0]["partner_interview_id"].is_string(),
        "{sent}"
    );

    // The suite simulator delivers the completion to Liaison over HTTPS too.
    let invitation =
        crate::support::wait_until(Duration::from_secs(30), "the invitation", || async {
            crate::sync_world::object_values(&suite.snapshot()["invitations"])
                .first()
                .and_then(|i| i["id"].as_str().map(str::to_owned))
        })
        .await;
    let review: liaison_sim::suite::ReviewIn =
        serde_json::from_value(serde_json::json!({"score": 88, "recommendation": "advance"}))
            .expect("review");
    suite
        .complete_invitation(&invitation, vec![review])
        .expect("complete");
    crate::support::wait_until(
        Duration::from_secs(30),
        "the result in Greenhouse",
        || async {
            let state: serde_json::Value = http
                .get(format!("{greenhouse}/_sim/state"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            crate::sync_world::object_values(&state["tests"])
                .iter()
                .any(|t| t["status"]["partner_status"] == "complete")
                .then_some(())
        },
    )
    .await;
    demo.stop().await.expect("stops");
}

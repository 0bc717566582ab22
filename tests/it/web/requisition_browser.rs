//! The simulated ATS's requisition page in a real browser (issue 15): `liaison demo`'s world
//! (Gupy and suite simulators, the scenario played to the end), opened in headless Chromium in
//! English and in Brazilian Portuguese; what each Liaison iframe on it shows.

use liaison::config::Settings;
use liaison::demo::{self, DemoOptions, scenario};
use liaison::web::i18n::{EN, PT_BR};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::support::run_browser_script;
use crate::helpers::TestDb;

fn texts(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The job frame's invitation counts: (label, value).
fn counts(job: &Value) -> Vec<(&str, i64)> {
    job["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            (
                c["label"].as_str().unwrap_or(""),
                c["value"].as_i64().unwrap_or(-1),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_requisition_page_frames_the_job_with_its_questions_in_order_and_each_application() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let options = DemoOptions {
        bind: "127.0.0.1:0".parse().expect("addr"),
        database_url: Some(database.url.clone()),
        dir: dir.path().to_owned(),
        tls: false,
    };
    let demo = demo::start(Settings::defaults(), options, CancellationToken::new())
        .await
        .expect("the demo starts");
    let outcome = demo.play(&mut |_| {}).await.expect("the scenario runs");
    let requisition = format!("{}/_sim/requisitions/{}", demo.gupy_url(), outcome.job_id);

    let result = run_browser_script("requisition-check.mjs", &[&requisition, "en-US,pt-BR"]).await;

    assert_eq!(result["error"], Value::Null, "{result:#}");
    let [english, portuguese] = result["views"].as_array().expect("views").as_slice() else {
        panic!("two views: {result:#}");
    };
    let questions: Vec<&str> = scenario::QUESTIONS.iter().map(|q| q.0).collect();
    for (view, t, lang) in [(english, &EN, "en"), (portuguese, &PT_BR, "pt-BR")] {
        assert_eq!(view["heading"], scenario::JOB_NAME, "{view:#}");
        let job = &view["job"];
        assert_eq!(job["lang"], lang, "{job:#}");
        assert_eq!(job["heading"], scenario::JOB_NAME, "{job:#}");
        assert_eq!(texts(&job["sections"]), [t.invitations, t.questions]);
        assert_eq!(
            texts(&job["questions"]),
            questions,
            "in the recruiter's order"
        );
        let counts = counts(job);
        let count = |label: &str| counts.iter().find(|c| c.0 == label).map(|c| c.1);
        assert_eq!(count(t.invitation_completed), Some(2), "{counts:?}");
        assert_eq!(counts.iter().map(|c| c.1).sum::<i64>(), 3, "{counts:?}");
        assert!(job["openInSuite"].as_bool().unwrap_or(false), "{job:#}");
        let applications = view["applications"].as_array().expect("applications");
        assert_eq!(
            applications.len(),
            outcome.application_ids.len(),
            "{view:#}"
        );
        assert_eq!(texts(&view["candidates"]).len(), applications.len());
        for (frame, candidate) in applications.iter().zip(texts(&view["candidates"])) {
            assert_eq!(frame["lang"], lang, "{frame:#}");
            assert_eq!(frame["heading"], t.application_heading, "{frame:#}");
            assert_eq!(texts(&frame["sections"]), [t.reviews], "{frame:#}");
            // The frame is the candidate's: its title names them (the ATS page's heading also
            // carries the tags Liaison wrote back).
            let title = frame["title"].as_str().unwrap_or("");
            let name = title.trim_start_matches("Interview of ");
            assert!(candidate.starts_with(name), "{title} / {candidate}");
        }
        // Two interviews completed, one still waiting: each frame says its own status.
        let mut statuses: Vec<String> = applications
            .iter()
            .filter_map(|f| f["status"].as_str().map(str::to_owned))
            .collect();
        statuses.sort();
        let said = |label: &str| format!("{}: {label}", t.status);
        let mut expected = vec![
            said(t.status_completed),
            said(t.status_completed),
            said(t.status_sent),
        ];
        expected.sort();
        assert_eq!(statuses, expected);
    }
    // The ATS page's own "Open in suite": the suite's project page, signed in as the recruiter.
    let opened = &english["openInSuite"];
    assert_eq!(
        opened["url"],
        format!("{}/projects/{}", demo.suite_url(), outcome.project_id),
        "{opened:#}"
    );
    assert!(
        opened["text"]
            .as_str()
            .is_some_and(|t| t.contains("signed in as")),
        "{opened:#}"
    );
    demo.stop().await.expect("stops cleanly");
}

use std::process::Output;

use crate::helpers::{TestApp, spawn_app, tenant_toml};

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn apply_tenant(app: &TestApp, slug: &str) {
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(file.path(), tenant_toml(slug)).expect("write");
    let output = app.cli(&["tenant", "apply", file.path().to_str().expect("utf-8")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(slug));
}

#[tokio::test]
async fn migrate_and_tenant_commands_work_and_apply_is_idempotent() {
    let app = spawn_app().await;
    let output = app.cli(&["migrate"]);
    assert!(output.status.success(), "{}", stderr(&output));
    apply_tenant(&app, "acme");
    apply_tenant(&app, "acme");
    let output = app.cli(&["tenant", "list"]);
    assert_eq!(stdout(&output).lines().count(), 1, "{}", stdout(&output));
    let output = app.cli(&["tenant", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(listed[0]["slug"], "acme");
    assert!(!stdout(&output).contains("S3CRET"));
}

#[tokio::test]
async fn equivalences_round_trip_through_the_cli() {
    let app = spawn_app().await;
    apply_tenant(&app, "acme");
    let put = [
        "equivalence",
        "put",
        "--tenant",
        "acme",
        "--kind",
        "job",
        "--ats-id",
        "19139",
        "--suite-id",
        "prj_1",
    ];
    let output = app.cli(&put);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        app.cli(&put).status.success(),
        "putting the same pair again is fine"
    );

    let conflict = app.cli(&[
        "equivalence",
        "put",
        "--tenant",
        "acme",
        "--kind",
        "job",
        "--ats-id",
        "19139",
        "--suite-id",
        "prj_2",
    ]);
    assert_eq!(conflict.status.code(), Some(4));
    assert_eq!(stderr(&conflict).lines().count(), 1);
    assert!(stderr(&conflict).contains("prj_1"), "{}", stderr(&conflict));

    let get = app.cli(&[
        "equivalence",
        "get",
        "--tenant",
        "acme",
        "--kind",
        "project",
        "--suite-id",
        "prj_1",
        "--json",
    ]);
    let row: serde_json::Value = serde_json::from_slice(&get.stdout).expect("json");
    assert_eq!(row["ats_id"], "19139");

    let list = app.cli(&["equivalence", "list", "--tenant", "acme"]);
    assert!(
        stdout(&list).starts_with("job\t19139\tprj_1\t"),
        "{}",
        stdout(&list)
    );
    let list = app.cli(&[
        "equivalence",
        "list",
        "--tenant",
        "acme",
        "--kind",
        "candidate",
        "--json",
    ]);
    assert_eq!(stdout(&list).trim(), "[]");

    let delete = app.cli(&[
        "equivalence",
        "delete",
        "--tenant",
        "acme",
        "--kind",
        "job",
        "--ats-id",
        "19139",
    ]);
    assert!(delete.status.success(), "{}", stderr(&delete));
    let again = app.cli(&[
        "equivalence",
        "delete",
        "--tenant",
        "acme",
        "--kind",
        "job",
        "--ats-id",
        "19139",
    ]);
    assert_eq!(again.status.code(), Some(3));
    let missing = app.cli(&[
        "equivalence",
        "get",
        "--tenant",
        "acme",
        "--kind",
        "job",
        "--ats-id",
        "19139",
    ]);
    assert_eq!(missing.status.code(), Some(3));
}

#[tokio::test]
async fn the_cli_keeps_tenants_apart() {
    let app = spawn_app().await;
    apply_tenant(&app, "acme");
    apply_tenant(&app, "globex");
    let put = app.cli(&[
        "equivalence",
        "put",
        "--tenant",
        "acme",
        "--kind",
        "job",
        "--ats-id",
        "1",
        "--suite-id",
        "prj_1",
    ]);
    assert!(put.status.success());
    let other = app.cli(&[
        "equivalence",
        "get",
        "--tenant",
        "globex",
        "--kind",
        "job",
        "--ats-id",
        "1",
    ]);
    assert_eq!(other.status.code(), Some(3));
    let delete = app.cli(&[
        "equivalence",
        "delete",
        "--tenant",
        "globex",
        "--kind",
        "job",
        "--ats-id",
        "1",
    ]);
    assert_eq!(delete.status.code(), Some(3));
    let unknown = app.cli(&["equivalence", "list", "--tenant", "nope"]);
    assert_eq!(unknown.status.code(), Some(3));
    assert!(stderr(&unknown).contains("unknown tenant"));
}

#[tokio::test]
async fn bad_configuration_is_refused_with_the_key_named() {
    let app = spawn_app().await;
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"));
        command
            .args(args)
            .env_clear()
            .env("LIAISON_DATABASE_URL", app.database.url.expose())
            .env("LIAISON_MASTER_KEY", &app.master_key_text)
            .current_dir(std::env::temp_dir());
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run")
    };
    for (env, key) in [
        (("LIAISON_WORKERS", "many"), "workers"),
        (("LIAISON_BIND", "nowhere"), "bind"),
        (("LIAISON_QUEUE_LEASE_SECONDS", "0"), "queue.lease_seconds"),
        (("LIAISON_FROBNICATE", "1"), "frobnicate"),
        (("LIAISON_QUEUE_COLOUR", "1"), "colour"),
    ] {
        let output = run(&[env], &["migrate"]);
        assert_eq!(output.status.code(), Some(2), "{env:?}");
        let message = stderr(&output);
        assert!(message.contains(key), "{env:?}: {message}");
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }

    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("liaison.toml");
    std::fs::write(&file, "workers = 4\ntypo_key = true\n").expect("write");
    let output = run(&[], &["--config", file.to_str().expect("utf-8"), "migrate"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("typo_key"), "{}", stderr(&output));

    let output = run(&[("LIAISON_MASTER_KEY", "")], &["serve"]);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("master_key"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn a_bad_tenant_file_is_refused_with_the_key_named_and_nothing_written() {
    let app = spawn_app().await;
    let file = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(
        file.path(),
        tenant_toml("acme").replace("kind = \"gupy\"", "kind = \"gupy\"\nflavour = 1"),
    )
    .expect("write");
    let output = app.cli(&["tenant", "apply", file.path().to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("flavour"), "{}", stderr(&output));
    assert!(
        liaison::tenant::list(app.db())
            .await
            .expect("list")
            .is_empty()
    );
}

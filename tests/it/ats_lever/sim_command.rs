//! `liaison sim lever --bind ADDR`: the Lever simulator alone, from the command line.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn sim_lever_command_serves_the_api_with_the_given_key() {
    let child = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args([
            "sim",
            "lever",
            "--bind",
            "127.0.0.1:0",
            "--api-key",
            "other-key",
        ])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start liaison sim lever");
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .expect("reader")
    .expect("a first line");
    let base = line
        .trim()
        .rsplit(' ')
        .next()
        .expect("the address")
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");

    let http = reqwest::Client::new();
    let stages = |key: &'static str| {
        http.get(format!("{base}/v1/stages"))
            .basic_auth(key, Some(""))
            .send()
    };
    assert_eq!(stages("other-key").await.expect("stages").status(), 200);
    assert_eq!(stages("lever-api-key").await.expect("stages").status(), 401);
}

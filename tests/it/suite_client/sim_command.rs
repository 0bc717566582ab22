//! `liaison sim suite --bind ADDR`: the simulator alone, from the command line.

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
async fn sim_suite_command_serves_the_simulator_with_the_given_client() {
    let child = Command::new(env!("CARGO_BIN_EXE_liaison"))
        .args([
            "sim",
            "suite",
            "--bind",
            "127.0.0.1:0",
            "--client-id",
            "other",
        ])
        .args(["--client-secret", "other-secret"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start liaison sim suite");
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
    let state = http
        .get(format!("{base}/_sim/state"))
        .send()
        .await
        .expect("state");
    assert_eq!(state.status(), 200);
    let token = http
        .post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "other"),
            ("client_secret", "other-secret"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), 200);
}

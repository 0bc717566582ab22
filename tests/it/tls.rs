//! HTTPS without a proxy: with `tls_cert` and `tls_key` the app serves TLS itself (rustls); a
//! missing file or a key that does not fit is refused at start, naming the key.

use std::path::{Path, PathBuf};

use liaison::App;
use liaison::config::generate_master_key;
use liaison::demo::cert;

use crate::helpers::{TestDb, spawn_app_with, test_settings};

fn write_cert(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let (cert_pem, key_pem) = cert::generate([127, 0, 0, 1].into()).expect("certificate");
    let cert_path = dir.join(format!("{name}-cert.pem"));
    let key_path = dir.join(format!("{name}-key.pem"));
    std::fs::write(&cert_path, &cert_pem).expect("write cert");
    std::fs::write(&key_path, key_pem).expect("write key");
    (cert_path, key_path, cert_pem)
}

fn trusting(cert_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("pem")])
        .build()
        .expect("client")
}

#[tokio::test]
async fn an_app_with_a_certificate_answers_healthz_over_https() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert_path, key_path, cert_pem) = write_cert(dir.path(), "server");
    let app = spawn_app_with(|settings| {
        settings.tls_cert = Some(cert_path.clone());
        settings.tls_key = Some(key_path.clone());
        settings.public_url = settings.public_url.replace("http://", "https://");
    })
    .await;
    let url = format!("https://{}/healthz", app.address);

    let response = trusting(&cert_pem)
        .get(&url)
        .send()
        .await
        .expect("HTTPS answer");

    assert_eq!(response.status().as_u16(), 200);
    let plain = reqwest::Client::new().get(app.url("/healthz")).send().await;
    assert!(plain.is_err() || !plain.expect("answer").status().is_success());
    // Graceful shutdown still works over TLS.
    app.shutdown.cancel();
    app.server
        .await
        .expect("joined")
        .expect("served until stopped");
}

async fn build_error(cert: PathBuf, key: PathBuf) -> String {
    let database = TestDb::new().await;
    let mut settings = test_settings(&database, &generate_master_key());
    settings.tls_cert = Some(cert);
    settings.tls_key = Some(key);
    settings.public_url = "https://127.0.0.1:8443".to_owned();
    match App::build_with_db(settings, database.db.clone()).await {
        Ok(_) => panic!("the app started with a bad certificate"),
        Err(error) => format!("{error:#}"),
    }
}

#[tokio::test]
async fn a_key_that_does_not_fit_the_certificate_is_refused_naming_tls_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert_a, _, _) = write_cert(dir.path(), "a");
    let (_, key_b, _) = write_cert(dir.path(), "b");
    let error = build_error(cert_a, key_b).await;
    assert!(error.contains("tls_key"), "{error}");
}

#[tokio::test]
async fn a_missing_certificate_is_refused_naming_tls_cert() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, key, _) = write_cert(dir.path(), "a");
    let error = build_error(dir.path().join("missing.pem"), key).await;
    assert!(error.contains("tls_cert"), "{error}");
}

#[tokio::test]
async fn serve_with_an_unreadable_key_exits_2_naming_it() {
    let database = TestDb::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, _, _) = write_cert(dir.path(), "a");
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "hello").expect("write");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", database.url.expose())
        .env("LIAISON_MASTER_KEY", generate_master_key())
        .env("LIAISON_BIND", "127.0.0.1:0")
        .env("LIAISON_PUBLIC_URL", "https://127.0.0.1:8443")
        .env("LIAISON_TLS_CERT", &cert)
        .env("LIAISON_TLS_KEY", &not_a_key)
        .env("LIAISON_LOG", "warn")
        .current_dir(dir.path())
        .output()
        .expect("run liaison serve");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tls_key"), "{stderr}");
}

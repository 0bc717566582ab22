//! `liaison demo --tls`: a self-signed certificate for the loopback names, generated once and
//! kept (so a browser's exception for it survives a restart).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::files::{DemoFiles, write_private};

/// Where the certificate and key are, and the certificate's PEM (for the simulators to trust).
pub struct DemoCertificate {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub cert_pem: String,
}

/// The kept certificate, or a new one for `localhost`, `127.0.0.1`, `::1` and `bind_ip`.
pub fn ensure(files: &DemoFiles, bind_ip: IpAddr) -> anyhow::Result<DemoCertificate> {
    let cert_path = files.path("tls-cert.pem");
    let key_path = files.path("tls-key.pem");
    if cert_path.is_file() && key_path.is_file() {
        let cert_pem = read(&cert_path)?;
        return Ok(DemoCertificate {
            cert_path,
            key_path,
            cert_pem,
        });
    }
    let (cert_pem, key_pem) = generate(bind_ip)?;
    write_private(&key_path, key_pem.as_bytes())?;
    write_private(&cert_path, cert_pem.as_bytes())?;
    Ok(DemoCertificate {
        cert_path,
        key_path,
        cert_pem,
    })
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A self-signed certificate and its private key, both PEM.
pub fn generate(bind_ip: IpAddr) -> anyhow::Result<(String, String)> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !bind_ip.is_unspecified() && !bind_ip.is_loopback() {
        names.push(bind_ip.to_string());
    }
    let mut params =
        rcgen::CertificateParams::new(names).context("cannot describe the certificate")?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Liaison demo (self-signed)");
    let key = rcgen::KeyPair::generate().context("cannot generate a key pair")?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    Ok((cert.pem(), key.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = DemoFiles::open(dir.path()).expect("open");
        let first = ensure(&files, IpAddr::from([127, 0, 0, 1])).expect("generate");
        assert!(first.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let again = ensure(&files, IpAddr::from([127, 0, 0, 1])).expect("reuse");
        assert_eq!(again.cert_pem, first.cert_pem);
        crate::http::tls::server_config(&again.cert_path, &again.key_path)
            .expect("rustls accepts it");
    }
}

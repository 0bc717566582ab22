//! The demo's own directory (`./.liaison/` by default): its SQLite database, the master key and
//! admin token it generated, and its self-signed certificate, all kept between runs so that a
//! second run finds the same data, token and certificate.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use secrecy::SecretString;

use crate::config::{DatabaseUrl, generate_master_key};

pub struct DemoFiles {
    dir: PathBuf,
}

impl DemoFiles {
    /// Creates the directory when missing (readable by its owner only: it holds secrets).
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the demo directory {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .with_context(|| format!("cannot restrict {}", dir.display()))?;
        }
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The embedded default: an SQLite file in the directory.
    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl(format!(
            "sqlite://{}?mode=rwc",
            self.path("liaison.db").display()
        ))
    }

    /// The configured master key (`LIAISON_MASTER_KEY`, the file), else `master.key`, generated
    /// on the first run.
    pub fn master_key(&self, configured: Option<&SecretString>) -> anyhow::Result<SecretString> {
        match configured {
            Some(key) => Ok(key.clone()),
            None => self.read_or_create("master.key", generate_master_key),
        }
    }

    /// The configured admin token, else `admin.token`, generated on the first run.
    pub fn admin_token(&self, configured: Option<&SecretString>) -> anyhow::Result<SecretString> {
        match configured {
            Some(token) => Ok(token.clone()),
            None => self.read_or_create("admin.token", || random_secret(32)),
        }
    }

    fn read_or_create(
        &self,
        name: &str,
        generate: impl FnOnce() -> String,
    ) -> anyhow::Result<SecretString> {
        let path = self.path(name);
        if let Ok(text) = std::fs::read_to_string(&path)
            && !text.trim().is_empty()
        {
            return Ok(SecretString::from(text.trim().to_owned()));
        }
        let value = generate();
        write_private(&path, value.as_bytes())?;
        Ok(SecretString::from(value))
    }
}

/// Writes `contents` to a file only its owner can read.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A random secret of `len` URL-safe characters.
pub fn random_secret(len: usize) -> String {
    use rand::Rng as _;
    use rand::distr::Alphanumeric;
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;

    #[test]
    fn generated_secrets_are_kept_between_runs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = DemoFiles::open(dir.path()).expect("open");
        let key = first.master_key(None).expect("key");
        let token = first.admin_token(None).expect("token");
        let second = DemoFiles::open(dir.path()).expect("open again");
        assert_eq!(
            second.master_key(None).expect("key").expose_secret(),
            key.expose_secret()
        );
        assert_eq!(
            second.admin_token(None).expect("token").expose_secret(),
            token.expose_secret()
        );
        assert!(token.expose_secret().len() >= 16);
    }

    #[test]
    fn configured_secrets_win_and_are_not_written() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = DemoFiles::open(dir.path()).expect("open");
        let configured = SecretString::from("a-configured-admin-token".to_owned());
        let token = files.admin_token(Some(&configured)).expect("token");
        assert_eq!(token.expose_secret(), "a-configured-admin-token");
        assert!(!files.path("admin.token").exists());
    }
}

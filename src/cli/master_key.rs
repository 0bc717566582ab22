//! `liaison master-key generate | verify | rotate`: the key that seals secrets at rest.
//!
//! The new key of a rotation is read from a file or a named environment variable, never from an
//! argument, so that it does not show in `ps` or the shell's history.

use std::path::PathBuf;

use clap::{ArgGroup, Subcommand};
use secrecy::{ExposeSecret as _, SecretString};

use super::{CliError, open_database};
use crate::config::{Settings, generate_master_key};
use crate::crypto::MasterKey;
use crate::rekey::{self, RekeyError};

#[derive(Debug, Subcommand)]
pub enum MasterKeyCommand {
    /// Print a fresh random key (32 bytes, base64).
    Generate,
    /// Check that every sealed secret opens with the configured key; change nothing.
    Verify,
    /// Re-seal every secret under a new key, in one transaction. Stop every Liaison process
    /// first, then restart them with the new key.
    #[command(group(ArgGroup::new("new_key").required(true)))]
    Rotate {
        /// A file holding the new key (base64), e.g. from `liaison master-key generate`.
        #[arg(long, group = "new_key", value_name = "FILE")]
        new_key_file: Option<PathBuf>,
        /// The name of an environment variable holding the new key (not a `LIAISON_` name).
        #[arg(long, group = "new_key", value_name = "VAR")]
        new_key_env: Option<String>,
    },
}

pub async fn run(settings: &Settings, command: MasterKeyCommand) -> Result<(), CliError> {
    match command {
        MasterKeyCommand::Generate => {
            println!("{}", generate_master_key());
            Ok(())
        }
        MasterKeyCommand::Verify => {
            let key = settings.require_master_key()?;
            let db = open_database(settings).await?;
            let counts = rekey::verify(&db, &key).await.map_err(rekey_error)?;
            println!("{counts}");
            println!("every sealed secret opens with the configured master key");
            Ok(())
        }
        MasterKeyCommand::Rotate {
            new_key_file,
            new_key_env,
        } => {
            let current = settings.require_master_key()?;
            let new = read_new_key(new_key_file, new_key_env)?;
            let db = open_database(settings).await?;
            let counts = rekey::rotate(&db, &current, &new)
                .await
                .map_err(rekey_error)?;
            println!("{counts}");
            println!(
                "re-sealed {} secrets under the new master key; set it as `master_key` \
                 (LIAISON_MASTER_KEY) before starting Liaison again",
                counts.total()
            );
            Ok(())
        }
    }
}

fn read_new_key(file: Option<PathBuf>, env: Option<String>) -> Result<MasterKey, CliError> {
    let (text, source) = match (file, env) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                CliError::usage(format!(
                    "cannot read the new key from {}: {e}",
                    path.display()
                ))
            })?;
            (SecretString::from(text), path.display().to_string())
        }
        (None, Some(name)) => {
            let text = std::env::var(&name)
                .map_err(|_| CliError::usage(format!("environment variable {name} is not set")))?;
            (SecretString::from(text), format!("${name}"))
        }
        (None, None) => return Err(CliError::usage("give --new-key-file or --new-key-env")),
    };
    MasterKey::from_base64(text.expose_secret())
        .map_err(|e| CliError::usage(format!("the new key in {source}: {e}")))
}

fn rekey_error(error: RekeyError) -> CliError {
    match error {
        RekeyError::SameKey => CliError::usage(error.to_string()),
        other => CliError::from(anyhow::Error::new(other)),
    }
}

//! `liaison script test FILE --request sample.json`: runs a script's `catch` locally on a
//! sample request (or body) and prints the events it answers; nothing is stored.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;

use super::CliError;
use crate::script::{self, CatchError, Program};

#[derive(Debug, Subcommand)]
pub enum ScriptCommand {
    /// Run `catch` on a sample request and print the events (JSON); logs go to stderr.
    Test {
        file: PathBuf,
        /// A request (`{headers, query, body}`) or just a body, as JSON.
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// The `settings` the script gets, as a JSON object (default `{}`).
        #[arg(long, value_name = "FILE")]
        settings: Option<PathBuf>,
    },
}

pub fn run(command: ScriptCommand) -> Result<(), CliError> {
    let ScriptCommand::Test {
        file,
        request,
        settings,
    } = command;
    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let program = Program::new(
        file.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script.js".to_owned()),
        read(&file)?,
        None,
    );
    let json = |path: &PathBuf| -> Result<serde_json::Value, CliError> {
        serde_json::from_str(&read(path)?)
            .map_err(|e| CliError::usage(format!("{} is not JSON: {e}", path.display())))
    };
    let sample = json(&request)?;
    let settings = match &settings {
        Some(path) => json(path)?,
        None => serde_json::json!({}),
    };
    let request = script::request::sample_request(&sample);
    let delivery_id =
        crate::crypto::sha256_hex(request["raw_body"].as_str().unwrap_or_default().as_bytes());
    let (result, logs) = script::run_catch_unverified(
        &program,
        &request.to_string(),
        &settings.to_string(),
        &delivery_id,
        None,
    );
    for line in logs {
        eprintln!("console: {line}");
    }
    match result {
        Ok(caught) => {
            let events = serde_json::to_string_pretty(&caught.events).context("cannot print")?;
            println!("{events}");
            Ok(())
        }
        Err(CatchError::Unverified(reason)) => Err(CliError::usage(reason)),
        Err(CatchError::Script(error) | CatchError::VerifyFailed(error)) => Err(CliError {
            status: 1,
            message: error.to_string(),
        }),
    }
}

//! `liaison sim suite|gupy|lever --bind ADDR`: a simulator alone, for manual testing, until Ctrl-C.

use std::net::SocketAddr;

use clap::Subcommand;

use super::CliError;
use crate::app::shutdown_on_signal;
use liaison_sim::gupy::{self, GupySimConfig};
use liaison_sim::lever::{self, LeverSimConfig};
use liaison_sim::suite::{SuiteSimConfig, spawn};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// The interview suite's API (in memory), with its `/_sim` controls.
    Suite {
        #[arg(long, default_value = "127.0.0.1:9102")]
        bind: SocketAddr,
        /// The one OAuth client the simulator accepts.
        #[arg(long, default_value = "liaison")]
        client_id: String,
        #[arg(long, default_value = "liaison-secret")]
        client_secret: String,
        /// The base of the URLs it hands out to browsers (login, interview and review links);
        /// default: `http://` and the bound address. Behind a container network, a name that
        /// the browser resolves too (deploy/compose.yaml: `http://suite.localhost:9102`).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// A Gupy-compatible ATS (in memory), with its `/_sim` controls.
    Gupy {
        #[arg(long, default_value = "127.0.0.1:9101")]
        bind: SocketAddr,
        /// The bearer token the simulator accepts.
        #[arg(long, default_value = "gupy-token")]
        token: String,
    },
    /// A Lever-compatible ATS (in memory) under `/v1`, with its `/_sim` controls.
    Lever {
        #[arg(long, default_value = "127.0.0.1:9104")]
        bind: SocketAddr,
        /// The API key the simulator accepts (Basic `KEY:`).
        #[arg(long, default_value = "lever-api-key")]
        api_key: String,
        /// The webhook signature token its deliveries are signed with.
        #[arg(long, default_value = "lever-signature-token")]
        signature_token: String,
        /// Where its webhooks go (`https://LIAISON/webhooks/TENANT/ats`); none: no webhooks.
        #[arg(long)]
        webhook_url: Option<String>,
    },
}

pub async fn run(command: SimCommand) -> Result<(), CliError> {
    match command {
        SimCommand::Suite {
            bind,
            client_id,
            client_secret,
            public_url,
        } => {
            let config = SuiteSimConfig {
                client_id,
                client_secret,
                public_url: public_url.map(|url| url.trim_end_matches('/').to_owned()),
                ..SuiteSimConfig::default()
            };
            let running = spawn(bind, config).await?;
            println!("suite simulator listening on {}", running.base_url());
            shutdown_on_signal().cancelled().await;
            running.shutdown().await?;
            Ok(())
        }
        SimCommand::Gupy { bind, token } => {
            let config = GupySimConfig {
                token,
                ..GupySimConfig::default()
            };
            let running = gupy::spawn(bind, config).await?;
            println!("gupy simulator listening on {}", running.url());
            shutdown_on_signal().cancelled().await;
            running.stop().await?;
            Ok(())
        }
        SimCommand::Lever {
            bind,
            api_key,
            signature_token,
            webhook_url,
        } => {
            let config = LeverSimConfig {
                api_key,
                signature_token: Some(signature_token),
                ..LeverSimConfig::default()
            };
            let running = lever::spawn(bind, config).await?;
            running.state.set_webhook_url(webhook_url);
            println!("lever simulator listening on {}", running.url());
            shutdown_on_signal().cancelled().await;
            running.stop().await?;
            Ok(())
        }
    }
}

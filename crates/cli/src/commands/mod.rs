//! The subcommands.

pub mod audit;
pub mod convert;
pub mod demo;
pub mod events;
pub mod ingest;
pub mod keys;
pub mod refsys;
pub mod serve;
pub mod simulate;
pub mod tasks;
pub mod users;
pub mod workflows;

use backroom_store::Store;

use crate::Cli;

/// Opens the store the configuration names.
pub async fn open_store(cli: &Cli) -> anyhow::Result<Store> {
    let config = cli.load_config(None)?;
    Ok(Store::open(&config.store()).await?)
}

/// Where a command talks to: a running server, or the local store.
#[derive(clap::Args, Clone, Debug)]
pub struct Remote {
    /// Base URL of a running Backroom server (http://127.0.0.1:8080); the local store otherwise.
    #[arg(long, env = "BACKROOM_SERVER")]
    pub server: Option<String>,
    /// API key for --server.
    #[arg(long, env = "BACKROOM_API_KEY", hide_env_values = true)]
    pub key: Option<String>,
}

impl Remote {
    /// The server URL and key, when a server is named.
    pub fn target(&self) -> anyhow::Result<Option<(String, String)>> {
        match (&self.server, &self.key) {
            (None, _) => Ok(None),
            (Some(_), None) => anyhow::bail!("--server needs --key (or BACKROOM_API_KEY)"),
            (Some(s), Some(k)) => Ok(Some((s.trim_end_matches('/').to_owned(), k.clone()))),
        }
    }
}

/// Turns an HTTP error answer into a readable error.
pub async fn api_error(response: reqwest::Response) -> anyhow::Error {
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let message = body["message"].as_str().unwrap_or("no message");
    anyhow::anyhow!("the server answered {status}: {message}")
}

/// Who runs a local administrative command, for the audit record: `cli:<login>`.
pub fn local_actor() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".to_owned());
    format!("cli:{user}")
}

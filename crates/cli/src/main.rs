//! `backroom`: the command-line entry point — the server, key management, ingest, the log and
//! benchmarks.

mod bench;
mod bench_engine;
mod bench_formats;
mod commands;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Backroom: retail operations orchestration between the store floor and the back office.
#[derive(Parser)]
#[command(name = "backroom", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML). Settings: data_dir, listen, database_url, max_body_bytes, …
    #[arg(long, global = true, env = "BACKROOM_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the embedded store (default ./backroom-data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://user@host/db) instead of the embedded SQLite store.
    #[arg(long, global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API.
    Serve(commands::serve::Args),
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    Keys(commands::keys::Command),
    /// Create, list and disable people's accounts.
    #[command(subcommand)]
    Users(commands::users::Command),
    /// Ingest files: partner documents (EPCIS, UBL, CII, Factur-X, X12, EDIFACT, POSLog),
    /// NDJSON or JSON events, or CSV with a mapping.
    Ingest(commands::ingest::Args),
    /// Show a partner document in canonical form, without storing it.
    Convert(commands::convert::Args),
    /// Read the event log.
    #[command(subcommand)]
    Events(commands::events::Command),
    /// Check and upload workflow definitions.
    #[command(subcommand)]
    Workflows(commands::workflows::Command),
    /// Verify and export the audit chain.
    #[command(subcommand)]
    Audit(commands::audit::Command),
    /// Run a small retailer end to end: the server, the reference systems, the built-in
    /// workflows and the simulator; prints the URLs and keys.
    Demo(commands::demo::Args),
    /// List, show and decide the tasks of a running server.
    #[command(subcommand)]
    Tasks(commands::tasks::Command),
    /// Generate a simulated retailer's events: NDJSON, or sent to a running server.
    Simulate(commands::simulate::Args),
    /// Run the reference ERP, WMS and POS/order-management systems.
    Refsys(commands::refsys::Args),
    /// Measure performance on this machine (release builds only give meaningful numbers).
    #[command(subcommand)]
    Bench(bench::Command),
}

impl Cli {
    fn overrides(&self, listen: Option<std::net::SocketAddr>) -> backroom_server::Overrides {
        backroom_server::Overrides { data_dir: self.data_dir.clone(), listen, database_url: self.database_url.clone() }
    }

    /// The configuration from file, environment and flags.
    pub fn load_config(&self, listen: Option<std::net::SocketAddr>) -> anyhow::Result<backroom_server::Config> {
        Ok(backroom_server::Config::load(self.config.as_deref(), &self.overrides(listen))?)
    }
}

fn main() -> std::process::ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Serve(args) => commands::serve::run(&cli, args).await,
            Command::Keys(cmd) => commands::keys::run(&cli, cmd).await,
            Command::Users(cmd) => commands::users::run(&cli, cmd).await,
            Command::Ingest(args) => commands::ingest::run(&cli, args).await,
            Command::Convert(args) => commands::convert::run(args),
            Command::Audit(cmd) => commands::audit::run(&cli, cmd).await,
            Command::Events(cmd) => commands::events::run(&cli, cmd).await,
            Command::Bench(cmd) => bench::run(&cli, cmd).await,
            Command::Demo(args) => commands::demo::run(&cli, args).await,
            Command::Tasks(cmd) => commands::tasks::run(cmd).await,
            Command::Simulate(args) => commands::simulate::run_command(args).await,
            Command::Refsys(args) => commands::refsys::run(args).await,
            Command::Workflows(cmd) => commands::workflows::run(cmd).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

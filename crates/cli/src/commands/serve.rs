//! `backroom serve`.

use std::fs::File;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use backroom_engine::clock::SystemClock;
use backroom_engine::connector::Connectors;
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_store::Store;

use crate::Cli;

/// Options of `backroom serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Directory of built-in workflow definitions (YAML) and the table files they refer to;
    /// each is saved as a new version when it changed. Default: ./workflows when it exists.
    #[arg(long, env = "BACKROOM_WORKFLOWS")]
    workflows: Option<PathBuf>,
    /// Connectors file (TOML): the systems actions and queries reach, by name.
    #[arg(long, env = "BACKROOM_CONNECTORS")]
    connectors: Option<PathBuf>,
    /// Seconds a process holds claimed engine work before another process may take it over
    /// (PostgreSQL).
    #[arg(long, env = "BACKROOM_ENGINE_LEASE_SECS", default_value_t = 15)]
    engine_lease_secs: u32,
    /// Milliseconds between looks for work no notification announced (other processes'
    /// events, due timers).
    #[arg(long, env = "BACKROOM_ENGINE_POLL_MS", default_value_t = 250)]
    engine_poll_ms: u64,
}

pub async fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let config = cli.load_config(args.listen)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // With the embedded store, one process owns the data directory.
    let _lock = if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        let path = config.data_dir.join("backroom.lock");
        let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        if file.try_lock().is_err() {
            anyhow::bail!(
                "another backroom process is serving the data directory {}: stop it first, or use PostgreSQL to run several",
                config.data_dir.display()
            );
        }
        Some(file)
    } else {
        None
    };
    let connectors = match &args.connectors {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            backroom_connectors::from_toml(&text, &path.display().to_string())?
        }
        None => Connectors::new(),
    };
    let workflows = args.workflows.clone().or_else(|| {
        let default = PathBuf::from("workflows");
        default.is_dir().then_some(default)
    });
    let engine_config = EngineConfig {
        lease: chrono::Duration::seconds(i64::from(args.engine_lease_secs.max(1))),
        poll: std::time::Duration::from_millis(args.engine_poll_ms.max(10)),
        workflows_dir: workflows,
        ..EngineConfig::default()
    };
    let store = Store::open(&config.store()).await?;
    tracing::info!(connectors = ?connectors.names(), "starting the workflow engine");
    let engine = Engine::start(store.clone(), engine_config, connectors, Arc::new(SystemClock)).await?;
    backroom_server::serve(&config, store, engine, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

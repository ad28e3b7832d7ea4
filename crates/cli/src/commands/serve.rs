//! `backroom serve`.

use std::fs::File;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use backroom_store::Store;

use crate::Cli;

/// Options of `backroom serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
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
    let store = Store::open(&config.store()).await?;
    let engine = backroom_engine::runner::Engine::start(
        store.clone(),
        backroom_engine::runner::EngineConfig::default(),
        backroom_engine::connector::Connectors::new(),
        std::sync::Arc::new(backroom_engine::clock::SystemClock),
    )
    .await?;
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

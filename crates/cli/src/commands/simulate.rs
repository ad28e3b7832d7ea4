//! `backroom simulate`: a simulated retailer's days of trading, as NDJSON or sent to a server.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backroom_sim::simulator::{Pace, ServerSink, SimConfig, SimStats, Simulation, run, write_ndjson};

use super::{Remote, api_error};

/// Options of `backroom simulate`.
#[derive(clap::Args)]
pub struct Args {
    /// A simulator configuration (TOML: seed, stores, regions, items, suppliers, days, start,
    /// currency, ecommerce_share, [faults]); the flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Random seed: the same seed gives the same events.
    #[arg(long)]
    seed: Option<u64>,
    /// Number of stores.
    #[arg(long)]
    stores: Option<u32>,
    /// Number of items.
    #[arg(long)]
    items: Option<u32>,
    /// Number of days.
    #[arg(long)]
    days: Option<u32>,
    /// Every fault kind at this rate (0 to 1) instead of the configured rates.
    #[arg(long)]
    fault_rate: Option<f64>,
    /// Where to write NDJSON without --server (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write the ground truth of the injected faults here (NDJSON).
    #[arg(long)]
    ground_truth: Option<PathBuf>,
    /// With --server: simulated minutes per wall-clock second (default: as fast as possible).
    #[arg(long)]
    speed: Option<f64>,
    /// With --server: events per request.
    #[arg(long, default_value_t = 2000)]
    batch: usize,
    #[command(flatten)]
    remote: Remote,
}

/// The configuration the file and flags give.
pub fn config(args: &Args) -> anyhow::Result<SimConfig> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            SimConfig::from_toml(&text).with_context(|| format!("{}", path.display()))?
        }
        None => SimConfig::default(),
    };
    if let Some(v) = args.seed {
        config.seed = v;
    }
    if let Some(v) = args.stores {
        config.stores = v;
    }
    if let Some(v) = args.items {
        config.items = v;
    }
    if let Some(v) = args.days {
        config.days = v;
    }
    if let Some(rate) = args.fault_rate {
        config.faults = backroom_sim::simulator::FaultRates::uniform(rate);
    }
    config.validate()?;
    Ok(config)
}

pub async fn run_command(args: &Args) -> anyhow::Result<ExitCode> {
    let config = config(args)?;
    let mut sim = Simulation::try_new(config)?;
    let stats = match args.remote.target()? {
        Some((server, key)) => {
            put_locations(&server, &key, &sim.retailer().locations_document()).await?;
            let sink = ServerSink::new(&server, &key)?;
            let pace = args.speed.map_or_else(Pace::as_fast_as_possible, Pace::minutes_per_second);
            run(&mut sim, &sink, pace, args.batch).await?
        }
        None => match &args.out {
            Some(path) => {
                let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                let mut out = std::io::BufWriter::new(file);
                let stats = write_ndjson(&mut sim, &mut out)?;
                out.flush()?;
                stats
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                let stats = write_ndjson(&mut sim, &mut out)?;
                out.flush()?;
                stats
            }
        },
    };
    if let Some(path) = &args.ground_truth {
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for fault in sim.ground_truth() {
            serde_json::to_writer(&mut out, fault)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    report(&stats);
    Ok(ExitCode::SUCCESS)
}

/// Sends the simulated retailer's location hierarchy to the server.
pub async fn put_locations(server: &str, key: &str, locations: &serde_json::Value) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .put(format!("{server}/v1/locations"))
        .bearer_auth(key)
        .json(locations)
        .send()
        .await
        .with_context(|| format!("sending the locations to {server}"))?;
    if !response.status().is_success() {
        return Err(api_error(response).await.context("saving the simulated locations"));
    }
    Ok(())
}

fn report(stats: &SimStats) {
    eprintln!("simulated {} days: {} events, {} injected faults", stats.days, stats.events, stats.faults);
    for (kind, n) in &stats.by_type {
        eprintln!("  {kind:<28} {n}");
    }
}

//! `backroom refsys`: the reference ERP, WMS and POS/order-management systems, each on its own
//! port with its own SQLite file, loaded with a simulated retailer's master data.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use backroom_sim::refsys::{Faults, RefSystem, System};
use backroom_sim::simulator::{Retailer, SimConfig};

/// Options of `backroom refsys`.
#[derive(clap::Args)]
pub struct Args {
    /// Which systems to run: erp, wms, pos (default: all three).
    #[arg(long = "system", value_delimiter = ',')]
    systems: Vec<String>,
    /// Directory of the systems' SQLite files (`erp.db`, `wms.db`, `pos.db`).
    #[arg(long, default_value = "./refsys-data")]
    dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The ERP's port.
    #[arg(long, default_value_t = 9100)]
    erp_port: u16,
    /// The WMS's port.
    #[arg(long, default_value_t = 9200)]
    wms_port: u16,
    /// The POS/order-management system's port.
    #[arg(long, default_value_t = 9300)]
    pos_port: u16,
    /// Faults to inject, as JSON (e.g. '{"error_rate":0.1,"latency_ms":50}'); change them later
    /// with PUT /admin/faults.
    #[arg(long)]
    faults: Option<String>,
    /// Load the master data of the simulated retailer of this simulator configuration (TOML);
    /// without it, the default simulated retailer.
    #[arg(long)]
    sim_config: Option<PathBuf>,
}

/// The systems named, in order.
fn systems(names: &[String]) -> anyhow::Result<Vec<System>> {
    if names.is_empty() {
        return Ok(vec![System::Erp, System::Wms, System::Pos]);
    }
    names.iter().map(|n| n.parse::<System>().map_err(|e| anyhow::anyhow!("--system {n:?}: {e}"))).collect()
}

/// Starts the systems and loads the retailer's master data into each.
pub async fn start(
    systems: &[System],
    dir: &std::path::Path,
    addr: impl Fn(System) -> SocketAddr,
    faults: &Faults,
    retailer: &Retailer,
) -> anyhow::Result<Vec<RefSystem>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let master = retailer.master_data();
    let client = reqwest::Client::new();
    let mut running = Vec::new();
    for &system in systems {
        let file = dir.join(format!("{system}.db"));
        let database = file.to_str().context("the data directory is not valid UTF-8")?;
        let started = RefSystem::start(system, database, addr(system), faults.clone()).await?;
        let response = client
            .put(format!("{}/admin/master", started.url()))
            .json(&master)
            .send()
            .await
            .with_context(|| format!("loading master data into the {system}"))?;
        if !response.status().is_success() {
            let body = response.text().await.unwrap_or_default();
            anyhow::bail!("the {system} refused the master data: {body}");
        }
        running.push(started);
    }
    Ok(running)
}

pub async fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let systems = systems(&args.systems)?;
    let faults: Faults = match &args.faults {
        Some(json) => serde_json::from_str(json).context("--faults")?,
        None => Faults::default(),
    };
    let config = match &args.sim_config {
        Some(path) => SimConfig::from_toml(
            &std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        )?,
        None => SimConfig::default(),
    };
    let retailer = Retailer::generate(&config);
    let port = |s: System| match s {
        System::Erp => args.erp_port,
        System::Wms => args.wms_port,
        System::Pos => args.pos_port,
    };
    let running = start(&systems, &args.dir, |s| SocketAddr::new(args.host, port(s)), &faults, &retailer).await?;
    for r in &running {
        println!("{:<4} {}/api   (OpenAPI: {}/api/openapi.json)", r.system(), r.url(), r.url());
    }
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    for r in running {
        r.stop().await;
    }
    Ok(ExitCode::SUCCESS)
}

//! `backroom demo`: a small retailer running end to end on one machine.
//!
//! Starts the reference ERP, WMS and POS systems loaded with a simulated retailer's master data,
//! the server on the embedded store with the built-in workflows and the reference connector
//! profile, and the simulator, which plays the retailer's days: documents the ERP originates
//! (purchase orders, goods receipts) are raised in the reference ERP first, then every event is
//! sent to Backroom, as a real retailer's integration would.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use backroom_engine::clock::SystemClock;
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_sim::refsys::{Faults, System};
use backroom_sim::simulator::{Retailer, ServerSink, SimConfig, SimEvent, Simulation};
use backroom_store::{NewApiKey, Store};
use serde_json::{Value, json};

use crate::Cli;

/// The built-in workflows and approval policies, carried in the binary.
const WORKFLOWS: [(&str, &str); 3] = [
    ("invoice_three_way_match.yaml", include_str!("../../../../workflows/invoice_three_way_match.yaml")),
    ("return_refund.yaml", include_str!("../../../../workflows/return_refund.yaml")),
    ("stockout_replenishment.yaml", include_str!("../../../../workflows/stockout_replenishment.yaml")),
];
const POLICIES: [(&str, &str); 1] = [("refund", include_str!("../../../../workflows/policies/refund.yaml"))];
const CONNECTORS: &str = include_str!("../../../../connectors/reference.toml");

/// Options of `backroom demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Address of the API (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Port of the reference ERP; the WMS listens 100 above it and the POS 200 above (9200, 9300).
    #[arg(long, default_value_t = 9100)]
    refsys_port: u16,
    /// Number of stores.
    #[arg(long, default_value_t = 6)]
    stores: u32,
    /// Number of items.
    #[arg(long, default_value_t = 60)]
    items: u32,
    /// Simulated days.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Simulated minutes per wall-clock second (default 144: a day every ten seconds).
    #[arg(long, default_value_t = 144.0)]
    speed: f64,
    /// Random seed of the simulated retailer.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// The keys the demo creates, by role.
const PEOPLE: [(&str, &str); 4] = [
    ("demo-admin", "admin"),
    ("demo-store-manager", "store_manager"),
    ("demo-ap-clerk", "ap_clerk"),
    ("demo-finance", "finance_controller"),
];

pub async fn run(cli: &Cli, args: &Args) -> anyhow::Result<ExitCode> {
    let config = cli.load_config(args.listen)?;
    let data = config.data_dir.join("demo");
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let sim_config =
        SimConfig { seed: args.seed, stores: args.stores, items: args.items, days: args.days, ..SimConfig::default() };
    sim_config.validate()?;
    let mut sim = Simulation::try_new(sim_config)?;
    let retailer: Retailer = sim.retailer().clone();

    // The reference systems.
    let port = |s: System| match s {
        System::Erp => args.refsys_port,
        System::Wms => args.refsys_port + 100,
        System::Pos => args.refsys_port + 200,
    };
    let host = config.listen.ip();
    let systems = [System::Erp, System::Wms, System::Pos];
    let running = super::refsys::start(
        &systems,
        &data.join("refsys"),
        |s| SocketAddr::new(host, port(s)),
        &Faults::default(),
        &retailer,
    )
    .await?;
    let erp_url = running[0].url();

    // Workflows and connectors, written where the server reads them.
    let workflows = data.join("workflows");
    std::fs::create_dir_all(&workflows)?;
    for (name, text) in WORKFLOWS {
        std::fs::write(workflows.join(name), text)?;
    }
    let connectors = CONNECTORS
        .replace("http://127.0.0.1:9100/api", &format!("{}/api", running[0].url()))
        .replace("http://127.0.0.1:9200/api", &format!("{}/api", running[1].url()))
        .replace("http://127.0.0.1:9300/api", &format!("{}/api", running[2].url()));
    let connectors = backroom_connectors::from_toml(&connectors, "connectors/reference.toml")?;

    // The server on the embedded store, with a key per role.
    let store = Store::open(&config.store()).await?;
    let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S");
    let mut keys = Vec::new();
    for (name, role) in PEOPLE {
        let new = NewApiKey { name: format!("{name}-{stamp}"), roles: vec![role.to_owned()], scopes: Vec::new() };
        let (_, secret) = store.create_key(&new, &super::local_actor()).await?;
        keys.push((role, secret));
    }
    let engine_config = EngineConfig { workflows_dir: Some(workflows), ..EngineConfig::default() };
    let engine = Engine::start(store.clone(), engine_config, connectors, Arc::new(SystemClock)).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_config = config.clone();
    let server = tokio::spawn(async move {
        backroom_server::serve(&server_config, store, engine, async {
            let _ = stop_rx.await;
        })
        .await
    });
    let base = format!("http://{}", config.listen);
    let admin = keys[0].1.clone();
    let http = reqwest::Client::new();
    wait_ready(&http, &base).await?;
    put(&http, &format!("{base}/v1/locations"), &admin, "application/json", retailer.locations_document().to_string())
        .await?;
    for (action, yaml) in POLICIES {
        put(&http, &format!("{base}/v1/policies/{action}"), &admin, "application/yaml", yaml.to_owned()).await?;
    }

    println!("Backroom demo: {} stores, {} items, {} days", args.stores, args.items, args.days);
    println!("  API       {base}  (OpenAPI: {base}/openapi.json)");
    for r in &running {
        println!("  {:<9} {}/api", r.system().title(), r.url());
    }
    for (role, secret) in &keys {
        println!("  key {role:<18} {secret}");
    }
    println!("Try:");
    println!("  backroom tasks list --server {base} --key <store_manager key>");
    println!("  backroom tasks decide TASK approve --server {base} --key <store_manager key>");
    println!("Ctrl-C stops everything.");

    let sink = ServerSink::new(&base, &admin)?;
    let day_pause = Duration::from_secs_f64(24.0 * 60.0 / args.speed.max(0.001));
    let play = async {
        while let Some(events) = sim.next_day() {
            raise_in_erp(&http, &erp_url, &events).await;
            for chunk in events.chunks(2000) {
                sink.send(chunk).await?;
            }
            eprintln!("day {} sent: {} events", sim.current_day(), events.len());
            tokio::time::sleep(day_pause).await;
        }
        eprintln!("the simulated period is over; the server keeps running until Ctrl-C");
        std::future::pending::<anyhow::Result<()>>().await
    };
    tokio::select! {
        result = play => result?,
        _ = tokio::signal::ctrl_c() => {},
    }
    let _ = stop_tx.send(());
    server.await.context("the server task")??;
    for r in running {
        r.stop().await;
    }
    Ok(ExitCode::SUCCESS)
}

async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server at {base} did not become ready")
}

async fn put(http: &reqwest::Client, url: &str, key: &str, content_type: &str, body: String) -> anyhow::Result<()> {
    let response = http
        .put(url)
        .bearer_auth(key)
        .header(reqwest::header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .with_context(|| format!("PUT {url}"))?;
    if !response.status().is_success() {
        return Err(super::api_error(response).await.context(format!("PUT {url}")));
    }
    Ok(())
}

/// Raises in the reference ERP the documents it originates: purchase orders (approved) and
/// goods receipts. A refusal is reported and the day goes on, as in a real integration.
async fn raise_in_erp(http: &reqwest::Client, erp: &str, events: &[SimEvent]) {
    for e in events {
        let data = &e.event["data"];
        let calls: Vec<(String, Value)> = match e.event_type() {
            "po.created" => {
                let po = data["po_number"].as_str().unwrap_or_default();
                vec![
                    (
                        "/purchase-orders".to_owned(),
                        json!({"po_number": po, "supplier": data["supplier"], "location": data["ship_to"],
                               "currency": data["currency"], "lines": erp_lines(&data["lines"], "quantity")}),
                    ),
                    (
                        format!("/purchase-orders/{po}/approval"),
                        json!({"decision": "approved", "level": 1, "approver": "buyer"}),
                    ),
                    (
                        format!("/purchase-orders/{po}/approval"),
                        json!({"decision": "approved", "level": 2, "approver": "finance"}),
                    ),
                ]
            }
            "receipt.posted" if data["po_number"].is_string() => vec![(
                "/goods-receipts".to_owned(),
                json!({"receipt_number": data["receipt_number"], "po_number": data["po_number"],
                       "location": data["location"], "lines": erp_lines(&data["lines"], "received")}),
            )],
            _ => Vec::new(),
        };
        for (n, (path, body)) in calls.into_iter().enumerate() {
            let result = http
                .post(format!("{erp}/api{path}"))
                .header("Idempotency-Key", format!("demo/{}/{n}", e.id()))
                .json(&body)
                .send()
                .await;
            match result {
                // A second approval level is refused for orders that needed one only.
                Ok(r) if r.status().is_success() || path.ends_with("/approval") => {}
                Ok(r) => eprintln!("the ERP refused {path} for {}: {}", e.id(), r.text().await.unwrap_or_default()),
                Err(err) => eprintln!("the ERP is unreachable for {}: {err}", e.id()),
            }
        }
    }
}

/// Document lines in the ERP's shape: item by SKU (or GTIN), quantities and prices as text.
fn erp_lines(lines: &Value, quantity: &str) -> Vec<Value> {
    lines
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    let item = l["item"]["sku"].as_str().or_else(|| l["item"]["gtin"].as_str()).unwrap_or_default();
                    json!({"line": l["line"], "po_line": l["po_line"], "item": item,
                           "quantity": l[quantity]["value"], "unit_price": l["unit_price"]["amount"]})
                })
                .collect()
        })
        .unwrap_or_default()
}

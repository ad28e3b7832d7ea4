//! `backroom bench ingest`: ingest throughput and latency beside their physical references,
//! measured in one run on this machine.
//!
//! - fsync: the raw `fdatasync` rate of the data directory's disk (4 KiB writes);
//! - (a) raw SQLite: multi-row inserts of the event row shape, no validation, no dedupe, no
//!   projections, same pragmas (WAL, synchronous=FULL) and batch size — the reference;
//! - (b) Backroom batch ingest: validation, dedupe, append and projections through the store API;
//! - (c) single-event HTTP requests from 64 concurrent clients over loopback, with the load
//!   generator in this process (it shares the cores with the server);
//! - (d) (b) and (c) against PostgreSQL when `--postgres URL` is given.
//!
//! Each measurement runs `--runs` times, alternating (a) and (b); medians and min–max are printed.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use backroom_model::validate_events;
use backroom_store::{NewApiKey, Store, StoreConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::{ConnectOptions, Connection};

use crate::Cli;

/// Batches a bulk load keeps in flight in (b).
const PIPELINE: usize = 4;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Ingest: raw SQLite reference, batch ingest, single-event HTTP (and PostgreSQL).
    Ingest(IngestArgs),
    /// Workflow engine: instances and transitions per second, event → completion and
    /// event → task latency at half load.
    Engine(crate::bench_engine::EngineArgs),
    /// Document formats: parse throughput (MB/s, documents/s) on the shared samples.
    Formats(crate::bench_formats::FormatsArgs),
}

#[derive(clap::Args)]
pub struct IngestArgs {
    /// Print one JSON object instead of a report.
    #[arg(long)]
    json: bool,
    /// Events per batch measurement.
    #[arg(long, default_value_t = 100_000)]
    events: usize,
    /// Events per transaction in (a) and per append in (b).
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Concurrent HTTP clients in (c).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Seconds of load per HTTP run (after one second of warm-up).
    #[arg(long, default_value_t = 5)]
    http_seconds: u64,
    /// Runs of each measurement; medians are reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also measure PostgreSQL at this URL (a scratch schema is created and dropped).
    #[arg(long, env = "BACKROOM_BENCH_POSTGRES")]
    postgres: Option<String>,
    /// Directory for the scratch databases (default: a temporary directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

pub async fn run(_cli: &Cli, cmd: &Command) -> anyhow::Result<ExitCode> {
    let args = match cmd {
        Command::Ingest(args) => args,
        Command::Engine(args) => {
            if cfg!(debug_assertions) && !args.json {
                eprintln!("warning: this is a debug build; build with --release for meaningful numbers");
            }
            return crate::bench_engine::run(args).await;
        }
        Command::Formats(args) => return crate::bench_formats::run(args),
    };
    if cfg!(debug_assertions) && !args.json {
        eprintln!("warning: this is a debug build; build with --release for meaningful numbers");
    }
    let scratch = match &args.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let events = generate_events(args.events, 42);
    let runs = args.runs.max(1);
    let mut report = serde_json::Map::new();

    let fsync = measure_fsync(scratch.path(), Duration::from_secs(2))?;
    report.insert("fsync_per_s".into(), json!(fsync.round()));

    let (mut raw, mut batch) = (Vec::new(), Vec::new());
    for run in 0..runs {
        raw.push(raw_sqlite(&scratch.path().join(format!("raw-{run}.db")), &events, args.batch).await?);
        let dir = scratch.path().join(format!("batch-{run}"));
        batch.push(store_batch(&StoreConfig::sqlite(&dir), &events, args.batch).await?);
        progress(args.json, &format!("run {}: raw {:.0}/s, batch {:.0}/s", run + 1, raw[run], batch[run]));
    }
    let (raw_m, batch_m) = (Stats::of(&raw), Stats::of(&batch));
    report.insert("raw_sqlite_rows_per_s".into(), json!(raw_m.median.round()));
    report.insert("batch_events_per_s".into(), json!(batch_m.median.round()));
    report.insert("batch_ratio_to_raw".into(), json!(round3(batch_m.median / raw_m.median)));

    let http_runs = runs.min(3);
    let mut http = Vec::new();
    for run in 0..http_runs {
        let dir = scratch.path().join(format!("http-{run}"));
        http.push(http_single(&StoreConfig::sqlite(&dir), args).await?);
        progress(
            args.json,
            &format!("http run {}: {:.0} events/s, p99 {:.2} ms", run + 1, http[run].rate, http[run].p99_ms),
        );
    }
    let http_m = HttpResult::median(&http);
    report.insert("http_single_events_per_s".into(), json!(http_m.rate.round()));
    report.insert("http_p50_ms".into(), json!(round3(http_m.p50_ms)));
    report.insert("http_p99_ms".into(), json!(round3(http_m.p99_ms)));
    report.insert("http_ratio_to_fsync".into(), json!(round3(http_m.rate / fsync)));

    let mut pg_stats = None;
    if let Some(url) = &args.postgres {
        let mut pg_batch = Vec::new();
        let mut pg_http = Vec::new();
        for run in 0..runs.min(3) {
            let schema = format!("bench_{}_{}", std::process::id(), run);
            pg_batch.push(store_batch(&StoreConfig::postgres(url, Some(&schema)), &events, args.batch).await?);
            let schema_http = format!("bench_{}_{}_http", std::process::id(), run);
            pg_http.push(http_single(&StoreConfig::postgres(url, Some(&schema_http)), args).await?);
            drop_schemas(url, &[&schema, &schema_http]).await?;
            progress(
                args.json,
                &format!("postgres run {}: batch {:.0}/s, http {:.0}/s", run + 1, pg_batch[run], pg_http[run].rate),
            );
        }
        let (b, h) = (Stats::of(&pg_batch), HttpResult::median(&pg_http));
        report.insert("postgres_batch_events_per_s".into(), json!(b.median.round()));
        report.insert("postgres_http_single_events_per_s".into(), json!(h.rate.round()));
        report.insert("postgres_http_p50_ms".into(), json!(round3(h.p50_ms)));
        report.insert("postgres_http_p99_ms".into(), json!(round3(h.p99_ms)));
        pg_stats = Some((b, h));
    }

    if args.json {
        println!("{}", Value::Object(report));
        return Ok(ExitCode::SUCCESS);
    }
    println!("machine: {} cores, {}", std::thread::available_parallelism().map_or(0, |n| n.get()), cpu_model());
    println!(
        "events: {} generated retail events (sales, returns, counts, receipts, transfers), batch {}",
        args.events, args.batch
    );
    println!("fsync (4 KiB fdatasync)          {fsync:>12.0} /s");
    println!("(a) raw SQLite batched insert    {:>12.0} rows/s    [{:.0} – {:.0}]", raw_m.median, raw_m.min, raw_m.max);
    println!(
        "(b) Backroom batch ingest        {:>12.0} events/s  [{:.0} – {:.0}]",
        batch_m.median, batch_m.min, batch_m.max
    );
    println!("    ratio (b)/(a)                {:>12.3}", batch_m.median / raw_m.median);
    println!(
        "(c) HTTP single events, {} clients {:>10.0} events/s  p50 {:.2} ms  p99 {:.2} ms  ({:.1}× fsync rate)",
        args.clients,
        http_m.rate,
        http_m.p50_ms,
        http_m.p99_ms,
        http_m.rate / fsync
    );
    if let Some((b, h)) = pg_stats {
        println!("(d) PostgreSQL batch ingest      {:>12.0} events/s", b.median);
        println!(
            "    PostgreSQL HTTP single        {:>12.0} events/s  p50 {:.2} ms  p99 {:.2} ms",
            h.rate, h.p50_ms, h.p99_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn progress(quiet: bool, line: &str) {
    if !quiet {
        eprintln!("{line}");
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(xs: &[f64]) -> Stats {
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        Stats { median: v[v.len() / 2], min: v[0], max: v[v.len() - 1] }
    }
}

#[derive(Clone, Copy)]
struct HttpResult {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl HttpResult {
    fn median(xs: &[HttpResult]) -> HttpResult {
        let mut v = xs.to_vec();
        v.sort_by(|a, b| a.rate.total_cmp(&b.rate));
        v[v.len() / 2]
    }
}

/// A realistic mix: 80% till sales of 1–4 lines, returns, cycle counts, receipts and transfers
/// over 200 stores and 2,000 items.
pub fn generate_events(n: usize, seed: u64) -> Vec<Value> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|i| one_event(&mut rng, i, "bench")).collect()
}

fn one_event(rng: &mut StdRng, i: usize, source: &str) -> Value {
    let store = format!("S{:03}", rng.random_range(0..200));
    let sku = |rng: &mut StdRng| format!("SKU-{:05}", rng.random_range(0..2000));
    let at = format!("2026-11-{:02}T{:02}:{:02}:00Z", 1 + (i / 40_000) % 28, 8 + (i / 1000) % 12, i % 60);
    let day = &at[..10];
    let kind = rng.random_range(0..100);
    let (ty, data) = if !(80..98).contains(&kind) {
        let lines: Vec<Value> = (0..rng.random_range(1..=4))
            .map(|l| {
                let q = rng.random_range(1..4);
                let cents = rng.random_range(99..5000);
                json!({"line": l + 1, "item": {"sku": sku(rng)}, "quantity": {"value": q.to_string()},
                       "unit_price": {"amount": format!("{}.{:02}", cents / 100, cents % 100), "currency": "EUR"},
                       "net_amount": {"amount": format!("{}.{:02}", q * cents / 100, q * cents % 100), "currency": "EUR"}})
            })
            .collect();
        let ty = if kind < 80 { "pos.sale" } else { "pos.return" };
        (
            ty,
            json!({"transaction_id": format!("T{i}"), "location": store, "business_day": day, "currency": "EUR",
                    "lines": lines, "tenders": [{"method": "card", "amount": {"amount": "10.00", "currency": "EUR"}}],
                    "total": {"amount": "10.00", "currency": "EUR"}}),
        )
    } else if kind < 90 {
        (
            "inventory.counted",
            json!({"count_number": format!("C{i}"), "location": store, "scope": "cycle",
            "lines": [{"item": {"sku": sku(rng)}, "counted": {"value": rng.random_range(0..50).to_string()}}]}),
        )
    } else if kind < 95 {
        (
            "receipt.posted",
            json!({"receipt_number": format!("R{i}"), "location": store, "po_number": format!("PO{}", i / 10),
            "lines": [{"line": 1, "item": {"sku": sku(rng)}, "received": {"value": "24"}}]}),
        )
    } else {
        (
            "transfer.shipped",
            json!({"transfer_number": format!("TR{i}"), "from": "DC01", "to": store,
            "lines": [{"line": 1, "item": {"sku": sku(rng)}, "quantity": {"value": "6"}}]}),
        )
    };
    json!({"id": format!("{source}-{i}"), "type": ty, "source": source, "occurred_at": at, "data": data})
}

fn measure_fsync(dir: &Path, budget: Duration) -> anyhow::Result<f64> {
    use std::io::Write;
    let path = dir.join("fsync.probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let started = Instant::now();
    let mut n = 0u64;
    while started.elapsed() < budget && n < 100_000 {
        file.write_all(&block)?;
        file.sync_data()?;
        n += 1;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    std::fs::remove_file(path).ok();
    Ok(rate)
}

/// (a): the events table's row shape, inserted with multi-row statements, nothing else.
async fn raw_sqlite(path: &Path, events: &[Value], batch: usize) -> anyhow::Result<f64> {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let mut options = SqliteConnectOptions::new();
    for (name, value) in backroom_store::SQLITE_PRAGMAS {
        options = options.pragma(name, value);
    }
    let mut conn = options
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::raw_sql(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, \
         occurred_at INTEGER NOT NULL, recorded_at INTEGER NOT NULL, subject TEXT NOT NULL, data TEXT NOT NULL); \
         CREATE UNIQUE INDEX events_source_id ON events (source, id);",
    )
    .execute(&mut conn)
    .await?;
    let rows: Vec<(String, String, String, String)> = events
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (s("source"), s("id"), s("type"), e["data"].to_string())
        })
        .collect();
    let started = Instant::now();
    let mut seq = 0i64;
    for chunk in rows.chunks(batch.min(4000)) {
        let mut tx = conn.begin().await?;
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO events (seq, source, id, type, occurred_at, recorded_at, subject, data) ",
        );
        qb.push_values(chunk, |mut b, (source, id, ty, data)| {
            seq += 1;
            b.push_bind(seq)
                .push_bind(source.clone())
                .push_bind(id.clone())
                .push_bind(ty.clone())
                .push_bind(seq)
                .push_bind(seq)
                .push_bind("{}")
                .push_bind(data.clone());
        });
        qb.build().execute(&mut *tx).await?;
        tx.commit().await?;
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    conn.close().await?;
    Ok(rate)
}

/// (b): validation, dedupe, append and projections through the store API.
async fn store_batch(config: &StoreConfig, events: &[Value], batch: usize) -> anyhow::Result<f64> {
    let store = Store::open(config).await?;
    let batches: Vec<Vec<Value>> = events.chunks(batch).map(<[Value]>::to_vec).collect();
    let started = Instant::now();
    // Like a real bulk loader: a few batches in flight, so that validating the next batch
    // overlaps committing the previous one.
    let mut in_flight = tokio::task::JoinSet::new();
    for chunk in batches {
        if in_flight.len() >= PIPELINE {
            in_flight.join_next().await.context("append task")???;
        }
        let store = store.clone();
        in_flight.spawn(async move {
            let valid = validate_events(&chunk)
                .map_err(|e| anyhow::anyhow!("generated events are invalid: {:?}", e.first()))?;
            store.append(valid).await?;
            anyhow::Ok(())
        });
    }
    while let Some(done) = in_flight.join_next().await {
        done.context("append task")??;
    }
    let rate = events.len() as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}

/// (c): single-event POSTs from concurrent clients, each on its own keep-alive connection.
async fn http_single(config: &StoreConfig, args: &IngestArgs) -> anyhow::Result<HttpResult> {
    let store = Store::open(config).await?;
    let (_, secret) = store
        .create_key(&NewApiKey { name: "bench".into(), roles: vec!["admin".into()], scopes: vec![] }, "bench")
        .await?;
    let engine = backroom_engine::runner::Engine::start(
        store.clone(),
        backroom_engine::runner::EngineConfig::default(),
        backroom_engine::connector::Connectors::new(),
        Arc::new(backroom_engine::clock::SystemClock),
    )
    .await?;
    let app = backroom_server::app(backroom_server::state(store.clone(), engine.clone()), 1 << 20);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await
    });
    let auth: Arc<str> = Arc::from(format!("Bearer {secret}"));
    let warmup = Duration::from_secs(1);
    let measure = Duration::from_secs(args.http_seconds.max(1));
    let started = Instant::now();
    let mut clients = Vec::new();
    for c in 0..args.clients {
        let auth = auth.clone();
        clients.push(tokio::spawn(client_loop(addr, auth, c, started, warmup, measure)));
    }
    let mut latencies = Vec::new();
    for c in clients {
        latencies.extend(c.await.context("client task")??);
    }
    let _ = stop_tx.send(());
    let _ = server.await;
    engine.shutdown().await;
    store.close().await;
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Ok(HttpResult {
        rate: latencies.len() as f64 / measure.as_secs_f64(),
        p50_ms: pct(0.50) as f64 / 1000.0,
        p99_ms: pct(0.99) as f64 / 1000.0,
    })
}

/// One client: posts events one at a time; returns the latencies (µs) of requests that started
/// inside the measured window.
async fn client_loop(
    addr: SocketAddr,
    auth: Arc<str>,
    client: usize,
    started: Instant,
    warmup: Duration,
    measure: Duration,
) -> anyhow::Result<Vec<u32>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut rng = StdRng::seed_from_u64(client as u64);
    let source = format!("http-{client}");
    let mut latencies = Vec::new();
    let mut i = 0usize;
    loop {
        let now = started.elapsed();
        if now >= warmup + measure {
            break;
        }
        let body = Bytes::from(one_event(&mut rng, i, &source).to_string());
        i += 1;
        let request = hyper::Request::post("/v1/events")
            .header("host", "bench")
            .header("content-type", "application/json")
            .header("authorization", &*auth)
            .body(Full::new(body))?;
        sender.ready().await?;
        let t0 = Instant::now();
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        anyhow::ensure!(status.is_success(), "the server answered {status}");
        if now >= warmup {
            latencies.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
    }
    Ok(latencies)
}

async fn drop_schemas(url: &str, schemas: &[&str]) -> anyhow::Result<()> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    for s in schemas {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA IF EXISTS \"{s}\" CASCADE"))).execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}

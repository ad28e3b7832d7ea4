//! `backroom bench engine`: workflow throughput and latency on the embedded store, durable.
//!
//! The workload is a 3-step workflow started by `inventory.stockout_reported` events: enrich
//! (the stock position, read from the projection) → decide (a decision table) → action (to an
//! in-process connector that acknowledges at once, through the outbox) → end. A second workflow
//! stops at a human task, to measure how soon a task is visible after its event.
//!
//! - saturation: `--instances` events appended in batches as fast as the engine takes them;
//!   completed instances per second and step transitions per second, from the first append to
//!   the last completion;
//! - half load: events appended one at a time at half the saturation rate; event → completion
//!   latency (from just before the append to the commit that completes the instance);
//! - task visible: the same pacing for the task workflow; event → commit of the task.
//!
//! Everything runs in this process on the SQLite store in a temporary directory with
//! `synchronous=FULL`; the load generator shares the cores with the engine.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use backroom_engine::clock::SystemClock;
use backroom_engine::connector::{Connectors, InProcessConnector};
use backroom_engine::runner::{Engine, EngineConfig};
use backroom_model::{NewEvent, validate_event};
use backroom_store::{Store, StoreConfig};
use serde_json::json;

const SATURATION_WORKFLOW: &str = r#"
id: bench_replenishment
title: Benchmark - stockout to transfer
trigger:
  event: inventory.stockout_reported
  when: event.data.note == "auto"
inputs:
  location: event.data.location
  sku: event.data.item.sku
tables:
  action:
    hit_policy: FIRST
    inputs: [{ name: on_hand }]
    outputs: [{ name: action }]
    rules:
      - { id: empty, when: { on_hand: "<= 0" }, then: { action: transfer } }
      - { id: stocked, when: { on_hand: "> 0" }, then: { action: recount } }
steps:
  - { id: stock, kind: enrich, projection: stock, location: inputs.location, item: inputs.sku, next: route }
  - { id: route, kind: decide, table: action, inputs: { on_hand: steps.stock.on_hand }, next: act }
  - id: act
    kind: action
    connector: erp
    operation: create_transfer
    with: { sku: inputs.sku, to: inputs.location, action: steps.route.action }
    next: done
  - { id: done, kind: end, outcome: handled }
"#;

const TASK_WORKFLOW: &str = r#"
id: bench_approval
title: Benchmark - stockout to approval task
trigger:
  event: inventory.stockout_reported
  when: event.data.note == "task"
inputs:
  location: event.data.location
  sku: event.data.item.sku
tables:
  action:
    hit_policy: FIRST
    inputs: [{ name: on_hand }]
    outputs: [{ name: action }]
    rules:
      - { id: empty, when: { on_hand: "<= 0" }, then: { action: transfer } }
      - { id: stocked, when: { on_hand: "> 0" }, then: { action: recount } }
steps:
  - { id: stock, kind: enrich, projection: stock, location: inputs.location, item: inputs.sku, next: route }
  - { id: route, kind: decide, table: action, inputs: { on_hand: steps.stock.on_hand }, next: approve }
  - id: approve
    kind: task
    role: store_manager
    location: inputs.location
    title: '"Approve " + steps.route.action + " of " + inputs.sku'
    outcomes: { approve: done, reject: done }
  - { id: done, kind: end, outcome: handled }
"#;

/// Options of `backroom bench engine`.
#[derive(clap::Args)]
pub struct EngineArgs {
    /// Print one JSON object instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Instances per saturation run.
    #[arg(long, default_value_t = 20_000)]
    instances: usize,
    /// Events per append at saturation.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Instances measured at half load (each run).
    #[arg(long, default_value_t = 2_000)]
    paced: usize,
    /// Runs; medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn stockout(n: usize, note: &str) -> anyhow::Result<NewEvent> {
    validate_event(&json!({
        "id": format!("bench-{note}-{n}"), "type": "inventory.stockout_reported", "source": "bench",
        "occurred_at": "2026-11-20T10:00:00Z",
        "data": {
            "location": format!("STORE-{:04}", n % 200),
            "item": {"sku": format!("SKU-{:05}", n % 5000)},
            "note": note,
        },
    }))
    .map_err(|e| anyhow::anyhow!("benchmark event is not valid: {e:?}"))
}

struct Run {
    instances_per_s: f64,
    transitions_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    task_p50_ms: f64,
    task_p99_ms: f64,
}

pub async fn run(args: &EngineArgs) -> anyhow::Result<ExitCode> {
    let mut runs = Vec::new();
    for i in 0..args.runs.max(1) {
        let r = one_run(args).await.with_context(|| format!("run {}", i + 1))?;
        if !args.json {
            eprintln!(
                "run {}: {:.0} instances/s, {:.0} transitions/s; half load p50 {:.2} ms p99 {:.2} ms; task visible p99 {:.2} ms",
                i + 1,
                r.instances_per_s,
                r.transitions_per_s,
                r.p50_ms,
                r.p99_ms,
                r.task_p99_ms
            );
        }
        runs.push(r);
    }
    let median = |f: fn(&Run) -> f64| -> (f64, f64, f64) {
        let mut v: Vec<f64> = runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0], v[v.len() - 1])
    };
    let (ips, ips_min, ips_max) = median(|r| r.instances_per_s);
    let (tps, _, _) = median(|r| r.transitions_per_s);
    let (p50, _, _) = median(|r| r.p50_ms);
    let (p99, _, _) = median(|r| r.p99_ms);
    let (t50, _, _) = median(|r| r.task_p50_ms);
    let (t99, _, _) = median(|r| r.task_p99_ms);
    if args.json {
        println!(
            "{}",
            json!({
                "instances_per_s": ips.round(), "transitions_per_s": tps.round(),
                "latency_p50_ms": round2(p50), "latency_p99_ms": round2(p99),
                "task_visible_p50_ms": round2(t50), "task_visible_p99_ms": round2(t99),
                "spread": {"instances_per_s_min": ips_min.round(), "instances_per_s_max": ips_max.round()},
                "runs": runs.len(), "instances": args.instances, "store": "sqlite (WAL, synchronous=FULL)",
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            })
        );
    } else {
        println!("engine, {} runs (median, min–max):", runs.len());
        println!("  saturation: {ips:.0} instances/s ({ips_min:.0}–{ips_max:.0}), {tps:.0} step transitions/s");
        println!("  half load: event → completion p50 {p50:.2} ms, p99 {p99:.2} ms");
        println!("  half load: event → task visible p50 {t50:.2} ms, p99 {t99:.2} ms");
    }
    Ok(ExitCode::SUCCESS)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

async fn one_run(args: &EngineArgs) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir().context("temporary directory")?;
    let store = Store::open(&StoreConfig::sqlite(dir.path())).await?;
    let connectors = Connectors::new().with("erp", Arc::new(InProcessConnector::acknowledging()));
    let config = EngineConfig { poll: Duration::from_millis(100), ..EngineConfig::default() };
    let engine = Engine::start(store.clone(), config, connectors, Arc::new(SystemClock)).await?;
    engine.save_definition(SATURATION_WORKFLOW, Some("bench")).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    engine.save_definition(TASK_WORKFLOW, Some("bench")).await.map_err(|e| anyhow::anyhow!("{e}"))?;

    // Saturation.
    let mut notices = engine.subscribe();
    let steps_before = engine.counters().steps.load(std::sync::atomic::Ordering::Relaxed);
    let started = Instant::now();
    let events: Vec<NewEvent> = (0..args.instances).map(|n| stockout(n, "auto")).collect::<anyhow::Result<_>>()?;
    let feeder = {
        let store = store.clone();
        let batch = args.batch.max(1);
        tokio::spawn(async move {
            let mut rest = events;
            while !rest.is_empty() {
                let tail = rest.split_off(batch.min(rest.len()));
                store.append(rest).await?;
                rest = tail;
            }
            anyhow::Ok(())
        })
    };
    let mut completed = 0usize;
    let deadline = Instant::now() + Duration::from_secs(600);
    while completed < args.instances {
        anyhow::ensure!(Instant::now() < deadline, "saturation run did not finish in 10 minutes");
        match tokio::time::timeout(Duration::from_secs(30), notices.recv()).await {
            Ok(Ok(n)) if n.status == "completed" => completed += 1,
            Ok(Ok(_)) => {}
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(k))) => {
                anyhow::bail!("the benchmark fell {k} notices behind the engine")
            }
            Ok(Err(e)) => anyhow::bail!("notices ended: {e}"),
            Err(_) => anyhow::bail!("no progress for 30 s at {completed} of {} instances", args.instances),
        }
    }
    feeder.await??;
    let elapsed = started.elapsed().as_secs_f64();
    let steps = engine.counters().steps.load(std::sync::atomic::Ordering::Relaxed) - steps_before;
    let instances_per_s = args.instances as f64 / elapsed;
    let transitions_per_s = steps as f64 / elapsed;

    // Half load, then the task workflow at the same pacing.
    let rate = (instances_per_s / 2.0).max(1.0);
    let (p50_ms, p99_ms) = paced(&engine, &store, args.paced, rate, "auto", |n| n.status == "completed").await?;
    let (task_p50_ms, task_p99_ms) = paced(&engine, &store, args.paced, rate, "task", |n| n.tasks_opened > 0).await?;
    engine.shutdown().await;
    store.close().await;
    Ok(Run { instances_per_s, transitions_per_s, p50_ms, p99_ms, task_p50_ms, task_p99_ms })
}

/// Appends `count` events one at a time at `rate` per second; returns p50 and p99 of the time
/// from just before each append to the first notice for its instance that `done` accepts.
async fn paced(
    engine: &Engine,
    store: &Store,
    count: usize,
    rate: f64,
    note: &str,
    done: fn(&backroom_engine::runner::Notice) -> bool,
) -> anyhow::Result<(f64, f64)> {
    let mut notices = engine.subscribe();
    let sent: Arc<std::sync::Mutex<HashMap<i64, Instant>>> = Arc::default();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let feeder = {
        let store = store.clone();
        let sent = Arc::clone(&sent);
        let note = note.to_owned();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            for n in 0..count {
                ticker.tick().await;
                let event = stockout(1_000_000 + n, &note)?;
                let at = Instant::now();
                let appended = store.append(vec![event]).await?;
                if let (Some(a), Ok(mut s)) = (appended.first(), sent.lock()) {
                    s.insert(a.seq, at);
                }
            }
            anyhow::Ok(())
        })
    };
    let mut latencies = Vec::with_capacity(count);
    let mut early: HashMap<i64, Instant> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(600);
    while latencies.len() < count {
        anyhow::ensure!(Instant::now() < deadline, "paced run did not finish in 10 minutes");
        let n = match tokio::time::timeout(Duration::from_secs(30), notices.recv()).await {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => anyhow::bail!("notices: {e}"),
            Err(_) => anyhow::bail!("no progress for 30 s at {} of {count}", latencies.len()),
        };
        if !done(&n) {
            continue;
        }
        let Some(seq) = n.trigger_seq else { continue };
        let now = Instant::now();
        let start = sent.lock().ok().and_then(|mut s| s.remove(&seq));
        match start {
            Some(at) => latencies.push(now.duration_since(at).as_secs_f64() * 1000.0),
            // The notice beat the feeder's bookkeeping: settle it when the append returns.
            None => {
                early.insert(seq, now);
            }
        }
        let settled: Vec<i64> =
            early.keys().copied().filter(|s| sent.lock().is_ok_and(|m| m.contains_key(s))).collect();
        for seq in settled {
            if let (Some(end), Some(at)) = (early.remove(&seq), sent.lock().ok().and_then(|mut s| s.remove(&seq))) {
                latencies.push(end.duration_since(at).as_secs_f64() * 1000.0);
            }
        }
    }
    feeder.await??;
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Ok((pick(0.50), pick(0.99)))
}

//! Crash safety of the workflow engine as an operator meets it: real `backroom serve` processes
//! run a workflow whose actions reach an "ERP" (an HTTP receiver inside this test process, which
//! honours `Idempotency-Key` as a real system does and answers 503 to some first attempts), while
//! the processes are killed with SIGKILL.
//!
//! 1. SQLite, one process, killed and restarted on the same data directory several times while
//!    stockout reports are ingested and their instances run.
//! 2. PostgreSQL, two processes sharing one schema with a short engine lease; one is killed
//!    mid-run and not restarted, and the other must finish its work.
//!
//! After the load, with the last process(es) left running, every instance must complete (one per
//! event key) and the receiver must have seen exactly two keys per instance
//! (`<instance>/create_transfer`, `<instance>/notify_store`), each applied once; repeated
//! deliveries of a key are allowed (that is what the key is for) and are counted. The instance
//! must carry the receiver's first answer (the transfer id), and the second action the transfer
//! id the first one got.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use support::{ADMIN_KEY, ServeOptions, Server, Storage, http_client, log_tail};

/// The workflow the servers load (copied into a temporary `workflows/` directory).
const WORKFLOW: &str = include_str!("engine_crash/stockout_transfer.yaml");
/// Its id.
const WORKFLOW_ID: &str = "crash_stockout_transfer";
/// The instance statuses the API knows.
const STATUSES: [&str; 6] = ["running", "blocked", "compensating", "completed", "failed", "cancelled"];

/// Test 1: events (and instances) and kills. Kill `k` (from 0) comes once `(k + 1) / (KILLS + 1)`
/// of the events are acknowledged, after a random pause of up to [`KILL_JITTER_MS`]: so every
/// kill lands while events are being ingested and their instances run.
const SQLITE_EVENTS: usize = 600;
const SQLITE_KILLS: usize = 5;
const KILL_JITTER_MS: (u64, u64) = (0, 400);
/// Test 2: events (and instances); the second process is killed once half are acknowledged and
/// it holds at least [`VICTIM_HELD`] leased outbox rows (deliveries in flight), or at least one
/// when that does not happen within [`VICTIM_PATIENCE`].
const POSTGRES_EVENTS: usize = 400;
const VICTIM_HELD: usize = 8;
const VICTIM_PATIENCE: Duration = Duration::from_secs(10);
/// Events per ingest request; concurrent ingest clients; the pause after each acknowledged
/// request (spreads the ingest over the kills).
const BATCH: usize = 10;
const LANES: usize = 3;
const PACE: Duration = Duration::from_millis(60);
/// Longest wait for the loader to get every batch acknowledged, and for every instance to
/// complete after that.
const LOAD_TIMEOUT: Duration = Duration::from_secs(60);
const COMPLETION_TIMEOUT: Duration = Duration::from_secs(90);
/// The engine lease (seconds) the servers run with.
const LEASE_SECS: u32 = 2;
/// The receiver's answer takes this long (ms, by a hash of the key), after the command took
/// effect: a process killed meanwhile has applied the command without knowing it.
const ERP_LATENCY_MS: u64 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_actions_apply_once_across_sigkills_sqlite() {
    let started = Instant::now();
    let erp = Erp::start().await;
    let setup = Setup::new(&erp.url);
    let mut storage = Storage::sqlite();
    let what = storage.describe();
    let mut rng = Rng::seeded();
    eprintln!("{what}: {SQLITE_EVENTS} events, {SQLITE_KILLS} kills, seed {:#x}", rng.seed);

    let mut server = Server::start_with(&mut storage, &setup.options).await;
    let targets = Targets::new(1);
    targets.set(0, Some(server.base.clone()));
    let stats = Arc::new(LoadStats::default());
    let events = stockouts(SQLITE_EVENTS);
    let loader = tokio::spawn(load(Arc::clone(&targets), Arc::clone(&stats), events.clone()));

    let mut kills = Vec::new();
    for k in 0..SQLITE_KILLS {
        let due = (k + 1) * SQLITE_EVENTS / (SQLITE_KILLS + 1);
        let waiting = Instant::now();
        while stats.acked.load(Ordering::SeqCst) < due {
            if let Some(status) = server.exited() {
                panic!("{what}: backroom serve exited on its own ({status}); its stderr:\n{}", server.stderr());
            }
            assert!(
                waiting.elapsed() < LOAD_TIMEOUT,
                "{what}: waiting for {due} events to be acknowledged: {}; the server's stderr:\n{}",
                stats.describe(),
                server.stderr()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(rng.between(KILL_JITTER_MS))).await;
        if let Some(status) = server.exited() {
            panic!("{what}: backroom serve exited on its own ({status}); its stderr:\n{}", server.stderr());
        }
        let record = KillRecord::now(&server, started, &stats, &erp);
        let status = server.kill();
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{what}: server {} ended by SIGKILL: {status}", record.pid);
        targets.set(0, None);
        let restarting = Instant::now();
        server = Server::start_with(&mut storage, &setup.options).await;
        targets.set(0, Some(server.base.clone()));
        kills.push(KillRecord { restart: Some(restarting.elapsed()), ..record });
    }
    let loaded = tokio::time::timeout(LOAD_TIMEOUT + Duration::from_secs(5), loader).await;
    match loaded {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => panic!("{what}: the load failed: {e}; the server's stderr:\n{}", server.stderr()),
        Ok(Err(e)) => panic!("{what}: the load task panicked: {e}"),
        Err(_) => panic!("{what}: the load did not finish; the server's stderr:\n{}", server.stderr()),
    }
    let loaded_at = started.elapsed();

    let http = http_client();
    let instances = wait_until_completed(&server, &http, SQLITE_EVENTS, &erp, &what).await;
    let completed_at = started.elapsed();
    let summary = check(&instances, &events, &erp, &kills, &what);
    check_logs(&storage, &what);
    eprintln!(
        "{what}: loaded in {loaded_at:.1?} ({}), all completed at {completed_at:.1?}; {summary}\n  kills:{}",
        stats.describe(),
        describe_kills(&kills)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surviving_process_finishes_a_killed_ones_work_postgres() {
    let Some(mut storage) = Storage::postgres("engine_crash") else { return };
    let started = Instant::now();
    let erp = Erp::start().await;
    let setup = Setup::new(&erp.url);
    let what = storage.describe();
    eprintln!("{what}: {POSTGRES_EVENTS} events, two processes, one killed");

    let mut survivor = Server::start_with(&mut storage, &setup.options).await;
    let mut victim = Server::start_with(&mut storage, &setup.options).await;
    let targets = Targets::new(2);
    targets.set(0, Some(survivor.base.clone()));
    targets.set(1, Some(victim.base.clone()));
    let stats = Arc::new(LoadStats::default());
    let events = stockouts(POSTGRES_EVENTS);
    let loader = tokio::spawn(load(Arc::clone(&targets), Arc::clone(&stats), events.clone()));

    // Kill the second process once half the events are acknowledged and it holds deliveries in
    // flight (outbox rows leased to it), which the first must then take over.
    let mut db = pg_connect(&storage).await;
    let waiting = Instant::now();
    let mut held = 0;
    let mut half_at = None;
    loop {
        for (name, server) in [("first server", &mut survivor), ("second server", &mut victim)] {
            if let Some(status) = server.exited() {
                panic!("{what}: the {name} exited on its own ({status}); its stderr:\n{}", server.stderr());
            }
        }
        assert!(
            waiting.elapsed() < LOAD_TIMEOUT,
            "{what}: {} in {LOAD_TIMEOUT:?}, the second server holding {held} outbox rows; its stderr:\n{}",
            stats.describe(),
            victim.stderr()
        );
        if stats.acked.load(Ordering::SeqCst) >= POSTGRES_EVENTS / 2 {
            let since = *half_at.get_or_insert_with(Instant::now);
            held = held_by(&mut db, victim.pid()).await.0.len();
            if held >= VICTIM_HELD || (held > 0 && since.elapsed() > VICTIM_PATIENCE) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let kill = KillRecord::now(&victim, started, &stats, &erp);
    let status = victim.kill();
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{what}: server {} ended by SIGKILL: {status}", kill.pid);
    targets.set(1, None);
    let victim_log = victim.log_path().to_owned();
    drop(victim);
    // What the dead process held: outbox rows still pending under its lease, and inbox rows.
    let (orphans, orphan_inbox) = held_by(&mut db, kill.pid).await;

    let loaded = tokio::time::timeout(LOAD_TIMEOUT + Duration::from_secs(5), loader).await;
    match loaded {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => panic!("{what}: the load failed: {e}; the survivor's stderr:\n{}", survivor.stderr()),
        Ok(Err(e)) => panic!("{what}: the load task panicked: {e}"),
        Err(_) => panic!("{what}: the load did not finish; the survivor's stderr:\n{}", survivor.stderr()),
    }
    let loaded_at = started.elapsed();

    let http = http_client();
    let instances = wait_until_completed(&survivor, &http, POSTGRES_EVENTS, &erp, &what).await;
    let completed_at = started.elapsed();
    let kills_at = kill.at;
    let kills = [kill];
    let summary = check(&instances, &events, &erp, &kills, &what);
    check_logs(&storage, &what);

    // The deliveries the dead process held were finished by the survivor, once each.
    let rows: Vec<(String, String, i64, Option<String>)> =
        sqlx::query_as("SELECT key, status, attempts, lease_owner FROM outbox WHERE key = ANY($1) ORDER BY key")
            .bind(&orphans)
            .fetch_all(&mut db)
            .await
            .expect("read the outbox");
    let unfinished: Vec<_> = rows.iter().filter(|(_, status, _, _)| status != "delivered").collect();
    assert!(unfinished.is_empty(), "{what}: deliveries of the killed process not finished: {unfinished:?}");
    assert_eq!(rows.len(), orphans.len(), "{what}: outbox rows of {orphans:?}: {rows:?}");
    let seen = erp.keys();
    let redelivered = orphans.iter().filter(|k| seen.get(*k).is_some_and(|r| r.repeats() > 0)).count();
    // Keys delivered more than once that the killed process did not hold when it died: both
    // processes delivered them while both ran (a lease ran out before its owner settled).
    let mut others: Vec<(&String, &KeyRecord)> =
        seen.iter().filter(|(k, r)| r.repeats() > 0 && !orphans.contains(k)).collect();
    others.sort_by_key(|(k, _)| k.as_str());
    let examples: String = others
        .iter()
        .take(3)
        .map(|(k, r)| format!("\n    {k}: requests at {:.2?} (kill at {:.2?})", r.times, kills_at))
        .collect();
    eprintln!(
        "{what}: loaded in {loaded_at:.1?} ({}), all completed by the survivor at {completed_at:.1?}; {summary}\n  \
         kill:{}\n  the killed process held {held} pending outbox rows under its lease just before the kill, {} \
         after it ({redelivered} of which it had delivered already; the survivor delivered them again) and \
         {orphan_inbox} inbox rows; all delivered\n  {} other keys were delivered more than once{examples}{}",
        stats.describe(),
        describe_kills(&kills),
        orphans.len(),
        others.len(),
        Some(log_tail(&victim_log, 1500))
            .filter(|l| !l.trim().is_empty())
            .map(|l| format!("\n  the killed process's log ends:\n{}", indent(&l)))
            .unwrap_or_default()
    );
    assert!(!orphans.is_empty(), "{what}: the killed process held no deliveries when it died: nothing was taken over");
}

/// A connection to the test's PostgreSQL schema.
async fn pg_connect(storage: &Storage) -> sqlx::PgConnection {
    use sqlx::ConnectOptions;
    let (url, schema) = storage.postgres_target().expect("a PostgreSQL storage");
    let options: sqlx::postgres::PgConnectOptions = url.parse().expect("BACKROOM_TEST_DATABASE_URL");
    options.options([("search_path", schema)]).connect().await.expect("connect to PostgreSQL")
}

/// The keys of the pending outbox rows leased to the process `pid` (engine owners are
/// `<pid>-<uuid>`), and how many inbox rows it holds.
async fn held_by(db: &mut sqlx::PgConnection, pid: u32) -> (Vec<String>, i64) {
    let owner = format!("{pid}-%");
    let keys =
        sqlx::query_scalar("SELECT key FROM outbox WHERE status = 'pending' AND lease_owner LIKE $1 ORDER BY key")
            .bind(&owner)
            .fetch_all(&mut *db)
            .await
            .expect("read the outbox");
    let inbox = sqlx::query_scalar("SELECT count(*) FROM engine_inbox WHERE lease_owner LIKE $1")
        .bind(&owner)
        .fetch_one(&mut *db)
        .await
        .expect("read the inbox");
    (keys, inbox)
}

// ----- the ERP: an HTTP receiver honouring Idempotency-Key ----------------------------------------

/// The systems the workflow's actions reach, as seen by one key.
#[derive(Debug, Clone)]
struct KeyRecord {
    /// The operation (`create_transfer`, `notify_store`).
    operation: String,
    /// Times the command took effect (must be exactly 1 in the end).
    applied: u32,
    /// Requests carrying this key, all answers included.
    seen: u32,
    /// First attempts answered 503 (nothing applied).
    refused: u32,
    /// The answer of the application, repeated to every later request with this key.
    answer: Option<Value>,
    /// The payload of the application.
    payload: Value,
    /// When each request came, since the receiver started.
    times: Vec<Duration>,
}

impl KeyRecord {
    /// Requests answered with the first answer again, without applying.
    fn repeats(&self) -> u32 {
        self.seen - self.refused - self.applied
    }
}

struct ErpState {
    /// When the receiver started (requests are timed from here).
    started: Instant,
    keys: HashMap<String, KeyRecord>,
    /// Transfer and message numbers handed out.
    next_number: u64,
    /// Requests the receiver could not take: no key, an unknown operation, a body that is not JSON.
    refused: Vec<String>,
}

/// The receiver: `POST /api/{operation}` on 127.0.0.1.
struct Erp {
    url: String,
    state: Arc<Mutex<ErpState>>,
}

impl Erp {
    async fn start() -> Erp {
        let state = Arc::new(Mutex::new(ErpState {
            started: Instant::now(),
            keys: HashMap::new(),
            next_number: 0,
            refused: Vec::new(),
        }));
        let app = axum::Router::new()
            .route("/api/{operation}", axum::routing::post(erp_command))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
        let address = listener.local_addr().expect("receiver address");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the receiver failed");
        });
        Erp { url: format!("http://{address}/api"), state }
    }

    /// A copy of every key's record.
    fn keys(&self) -> HashMap<String, KeyRecord> {
        self.state.lock().expect("receiver state").keys.clone()
    }

    /// Keys applied so far.
    fn applied(&self) -> usize {
        self.state.lock().expect("receiver state").keys.values().filter(|k| k.applied > 0).count()
    }

    fn refused(&self) -> Vec<String> {
        self.state.lock().expect("receiver state").refused.clone()
    }

    /// `applied keys, repeats, 503s`, for messages.
    fn describe(&self) -> String {
        let keys = self.keys();
        let applied = keys.values().filter(|k| k.applied > 0).count();
        let repeats: u32 = keys.values().map(KeyRecord::repeats).sum();
        let refused: u32 = keys.values().map(|k| k.refused).sum();
        format!("the receiver saw {} keys, applied {applied}, repeats {repeats}, 503s {refused}", keys.len())
    }
}

/// Whether the first attempt with this key is answered 503: about one key in ten, by a hash of
/// the key (FNV-1a), so the same key always behaves the same.
fn flaky(key: &str) -> bool {
    fnv(key).is_multiple_of(10)
}

/// How long the answer to a request with this key takes.
fn latency(key: &str) -> Duration {
    Duration::from_millis(fnv(key) / 10 % ERP_LATENCY_MS)
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

async fn erp_command(
    State(state): State<Arc<Mutex<ErpState>>>,
    UrlPath(operation): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, axum::Json<Value>) {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let payload = serde_json::from_slice::<Value>(&body);
    let answer = apply(&state, &operation, key.clone(), payload);
    if let Some(key) = key {
        tokio::time::sleep(latency(&key)).await;
    }
    answer
}

/// What the receiver does with one request, at once: the answer is sent after [`latency`].
fn apply(
    state: &Mutex<ErpState>,
    operation: &str,
    key: Option<String>,
    payload: Result<Value, serde_json::Error>,
) -> (StatusCode, axum::Json<Value>) {
    let mut state = state.lock().expect("receiver state");
    let (key, payload) = match (key, payload) {
        (Some(key), Ok(payload)) if matches!(operation, "create_transfer" | "notify_store") => (key, payload),
        (key, payload) => {
            let problem = format!("{operation} with key {key:?}: {payload:?}");
            state.refused.push(problem.clone());
            // A permanent failure: the instance fails, which the checks report.
            return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"error": problem})));
        }
    };
    let number = state.next_number + 1;
    let now = state.started.elapsed();
    let record = state.keys.entry(key.clone()).or_insert_with(|| KeyRecord {
        operation: operation.to_owned(),
        applied: 0,
        seen: 0,
        refused: 0,
        answer: None,
        payload: Value::Null,
        times: Vec::new(),
    });
    record.seen += 1;
    record.times.push(now);
    if let Some(answer) = &record.answer {
        return (StatusCode::CREATED, axum::Json(answer.clone()));
    }
    if record.refused == 0 && flaky(&key) {
        record.refused += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"error": "try again"})));
    }
    let answer = if operation == "create_transfer" {
        json!({"transfer_id": format!("TR-{number}")})
    } else {
        json!({"message_id": format!("MSG-{number}")})
    };
    record.applied += 1;
    record.answer = Some(answer.clone());
    record.payload = payload;
    state.next_number = number;
    (StatusCode::CREATED, axum::Json(answer))
}

// ----- the servers' settings --------------------------------------------------------------------

/// The `workflows/` directory and the connectors file, and the options naming them.
struct Setup {
    _dir: tempfile::TempDir,
    options: ServeOptions,
}

impl Setup {
    fn new(erp_url: &str) -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        let workflows = dir.path().join("workflows");
        std::fs::create_dir(&workflows).expect("workflows dir");
        std::fs::write(workflows.join("stockout_transfer.yaml"), WORKFLOW).expect("write the workflow");
        let connectors = dir.path().join("connectors.toml");
        std::fs::write(&connectors, format!("[erp]\nurl = \"{erp_url}\"\ntimeout_ms = 2000\n"))
            .expect("write the connectors file");
        let options = ServeOptions::new()
            .flag("--workflows", &workflows)
            .flag("--connectors", &connectors)
            .flag("--engine-lease-secs", LEASE_SECS.to_string())
            .flag("--engine-poll-ms", "100");
        Setup { _dir: dir, options }
    }
}

// ----- the load ---------------------------------------------------------------------------------

/// `n` stockout reports, each with its own store and item (so its own instance).
fn stockouts(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({
                "id": format!("stockout-{i}"), "type": "inventory.stockout_reported", "source": "engine-crash-test",
                "occurred_at": "2026-11-23T06:00:00Z",
                "data": {"location": location(i), "item": {"sku": format!("SKU-{i}")}, "reported_by": "associate-7"}
            })
        })
        .collect()
}

fn location(i: usize) -> String {
    format!("S{:02}", i % 20 + 1)
}

/// The correlation key of event `i`'s instance.
fn event_key(event: &Value) -> String {
    format!(
        "{}/{}",
        event["data"]["location"].as_str().unwrap_or("?"),
        event["data"]["item"]["sku"].as_str().unwrap_or("?")
    )
}

/// Where the loader sends: one slot per server, `None` while it is down.
struct Targets {
    slots: Mutex<Vec<Option<String>>>,
}

impl Targets {
    fn new(n: usize) -> Arc<Targets> {
        Arc::new(Targets { slots: Mutex::new(vec![None; n]) })
    }

    fn set(&self, slot: usize, base: Option<String>) {
        self.slots.lock().expect("targets")[slot] = base;
    }

    /// The first server up, starting at slot `i` (modulo their number).
    fn pick(&self, i: usize) -> Option<String> {
        let slots = self.slots.lock().expect("targets");
        (0..slots.len()).find_map(|j| slots[(i + j) % slots.len()].clone())
    }
}

#[derive(Default)]
struct LoadStats {
    /// Events acknowledged (each once, however many attempts its request took).
    acked: AtomicUsize,
    /// Requests sent, answers lost (connection refused or reset, time-outs), and answers other
    /// than 200.
    requests: AtomicUsize,
    lost: AtomicUsize,
    refused: AtomicUsize,
    /// The last refusal, for messages.
    last_refusal: Mutex<Option<String>>,
}

impl LoadStats {
    fn describe(&self) -> String {
        format!(
            "{} events acknowledged, {} requests, {} answers lost, {} refused{}",
            self.acked.load(Ordering::SeqCst),
            self.requests.load(Ordering::SeqCst),
            self.lost.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
            self.last_refusal.lock().expect("stats").as_ref().map(|r| format!(" (last: {r})")).unwrap_or_default()
        )
    }
}

/// Ingests `events` in requests of [`BATCH`] from [`LANES`] concurrent clients, each request
/// retried (on whichever server is up) until it is acknowledged: event ids make a retry a no-op
/// for the events already stored.
async fn load(targets: Arc<Targets>, stats: Arc<LoadStats>, events: Vec<Value>) -> Result<(), String> {
    let batches: Vec<(usize, String, usize)> = events
        .chunks(BATCH)
        .enumerate()
        .map(|(b, chunk)| (b, serde_json::to_string(chunk).expect("serialise events"), chunk.len()))
        .collect();
    let batches = Arc::new(batches);
    let lanes: Vec<_> = (0..LANES)
        .map(|lane| {
            let (targets, stats, batches) = (Arc::clone(&targets), Arc::clone(&stats), Arc::clone(&batches));
            tokio::spawn(async move {
                for (b, body, count) in batches.iter().skip(lane).step_by(LANES) {
                    send_until_acknowledged(&targets, &stats, *b, body, *count).await?;
                    tokio::time::sleep(PACE).await;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    for lane in lanes {
        lane.await.map_err(|e| format!("a load lane panicked: {e}"))??;
    }
    Ok(())
}

async fn send_until_acknowledged(
    targets: &Targets,
    stats: &LoadStats,
    batch: usize,
    body: &str,
    count: usize,
) -> Result<(), String> {
    let http = http_client();
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        if started.elapsed() > LOAD_TIMEOUT {
            return Err(format!("batch {batch} still not acknowledged after {LOAD_TIMEOUT:?}: {}", stats.describe()));
        }
        let base = targets.pick(batch + attempt);
        attempt += 1;
        let Some(base) = base else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        stats.requests.fetch_add(1, Ordering::SeqCst);
        match post_events(&http, &base, body, count).await {
            Ok(()) => {
                stats.acked.fetch_add(count, Ordering::SeqCst);
                return Ok(());
            }
            Err((lost, problem)) => {
                if lost {
                    stats.lost.fetch_add(1, Ordering::SeqCst);
                } else {
                    stats.refused.fetch_add(1, Ordering::SeqCst);
                    *stats.last_refusal.lock().expect("stats") = Some(problem);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Posts one ingest request: `Ok` when the answer is 200 with one result per event; otherwise
/// whether the answer was lost, and what happened.
async fn post_events(http: &reqwest::Client, base: &str, body: &str, events: usize) -> Result<(), (bool, String)> {
    let response = http
        .post(format!("{base}/v1/events"))
        .bearer_auth(ADMIN_KEY)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| (true, format!("{e:?}")))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| (true, format!("{status}, then reading the body: {e:?}")))?;
    if status != reqwest::StatusCode::OK {
        return Err((false, format!("{status}: {text}")));
    }
    let results = serde_json::from_str::<Value>(&text).ok().and_then(|v| v["results"].as_array().map(Vec::len));
    if results == Some(events) {
        Ok(())
    } else {
        Err((false, format!("an answer without one result per event: {text}")))
    }
}

// ----- kills ------------------------------------------------------------------------------------

/// Where things stood when a server was killed.
struct KillRecord {
    pid: u32,
    at: Duration,
    acked: usize,
    applied: usize,
    /// How long the restart took until `/readyz` answered (SQLite).
    restart: Option<Duration>,
}

impl KillRecord {
    fn now(server: &Server, started: Instant, stats: &LoadStats, erp: &Erp) -> KillRecord {
        KillRecord {
            pid: server.pid(),
            at: started.elapsed(),
            acked: stats.acked.load(Ordering::SeqCst),
            applied: erp.applied(),
            restart: None,
        }
    }
}

fn describe_kills(kills: &[KillRecord]) -> String {
    kills
        .iter()
        .map(|k| {
            let restart = k.restart.map(|r| format!("; restarted in {r:.1?}")).unwrap_or_default();
            format!(
                "\n    pid {} at {:.1?}: {} events acknowledged, {} keys applied{restart}",
                k.pid, k.at, k.acked, k.applied
            )
        })
        .collect()
}

// ----- waiting and checking ---------------------------------------------------------------------

/// `GET path`; `Err` with what went wrong instead of panicking (the server may be busy).
async fn get(server: &Server, http: &reqwest::Client, path: &str) -> Result<Value, String> {
    let url = format!("{}{path}", server.base);
    let response = http.get(&url).bearer_auth(ADMIN_KEY).send().await.map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|e| format!("GET {url}: {e}"))?;
    if status != reqwest::StatusCode::OK {
        return Err(format!("GET {url}: {status}: {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("GET {url}: not JSON ({e}): {body}"))
}

/// The instances in `status` (at most 1,000).
async fn instances(server: &Server, http: &reqwest::Client, status: &str) -> Result<Vec<Value>, String> {
    let page = get(server, http, &format!("/v1/instances?workflow={WORKFLOW_ID}&status={status}&limit=1000")).await?;
    page["instances"].as_array().cloned().ok_or_else(|| format!("no instances in {page}"))
}

/// How many instances are in each status.
async fn status_counts(server: &Server, http: &reqwest::Client) -> BTreeMap<&'static str, usize> {
    let mut counts = BTreeMap::new();
    for status in STATUSES {
        counts.insert(status, instances(server, http, status).await.map_or(usize::MAX, |i| i.len()));
    }
    counts
}

/// Waits until `n` instances are completed, and returns them; panics (with the status counts,
/// the history of a few unfinished instances, the receiver's view and the server's stderr) when
/// that takes longer than [`COMPLETION_TIMEOUT`], or when an instance fails, blocks or is
/// cancelled.
async fn wait_until_completed(server: &Server, http: &reqwest::Client, n: usize, erp: &Erp, what: &str) -> Vec<Value> {
    let waiting = Instant::now();
    loop {
        let completed = instances(server, http, "completed").await;
        if let Ok(completed) = &completed
            && completed.len() >= n
        {
            let counts = status_counts(server, http).await;
            let expected: BTreeMap<&str, usize> =
                STATUSES.iter().map(|&s| (s, if s == "completed" { n } else { 0 })).collect();
            assert_eq!(
                counts,
                expected,
                "{what}: instances by status once {n} completed\n{}",
                diagnose(server, http, erp).await
            );
            return completed.clone();
        }
        let mut stuck = Vec::new();
        for status in ["blocked", "failed", "cancelled", "compensating"] {
            if let Ok(found) = instances(server, http, status).await
                && !found.is_empty()
            {
                stuck.push(status);
            }
        }
        if !stuck.is_empty() || waiting.elapsed() > COMPLETION_TIMEOUT {
            let why = if stuck.is_empty() {
                format!("not every instance completed in {COMPLETION_TIMEOUT:?} after the load")
            } else {
                format!("instances ended up {}", stuck.join(", "))
            };
            panic!(
                "{what}: {why}: {} of {n} completed{}\n{}",
                completed.as_ref().map_or(0, Vec::len),
                completed.as_ref().err().map(|e| format!(" (the last look failed: {e})")).unwrap_or_default(),
                diagnose(server, http, erp).await
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The status counts, the history of a few instances that are not completed, the receiver's
/// view and the server's stderr.
async fn diagnose(server: &Server, http: &reqwest::Client, erp: &Erp) -> String {
    let mut out = format!("instances by status: {:?}\n{}\n", status_counts(server, http).await, erp.describe());
    let refused = erp.refused();
    if !refused.is_empty() {
        out.push_str(&format!("requests the receiver refused: {refused:?}\n"));
    }
    let keys = erp.keys();
    for status in ["failed", "blocked", "compensating", "cancelled", "running"] {
        let Ok(found) = instances(server, http, status).await else { continue };
        for instance in found.iter().take(3) {
            let id = instance["id"].as_str().unwrap_or("?");
            out.push_str(&format!("\n{status} instance {id} (key {}):\n", instance["correlation_key"]));
            match get(server, http, &format!("/v1/instances/{id}")).await {
                Ok(detail) => out.push_str(&describe_instance(&detail)),
                Err(e) => out.push_str(&format!("  {e}\n")),
            }
            for (key, record) in keys.iter().filter(|(k, _)| k.starts_with(id)) {
                out.push_str(&format!("  the receiver has {key}: {record:?}\n"));
            }
        }
    }
    out.push_str(&format!("\nthe server's stderr ends:\n{}", indent(&server.stderr())));
    out
}

/// An instance's state, timeline, outbox rows and pending commands, one line each.
fn describe_instance(detail: &Value) -> String {
    let mut out = String::new();
    let state = &detail["instance"]["state"];
    out.push_str(&format!(
        "  status {}, rev {}, tokens {}, error {}\n",
        detail["instance"]["status"], detail["instance"]["rev"], state["tokens"], state["error"]
    ));
    for entry in detail["timeline"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  #{} {} {} {} {}\n",
            entry["n"], entry["at"], entry["kind"], entry["step"], entry["data"]
        ));
    }
    for row in detail["outbox"].as_array().into_iter().flatten() {
        out.push_str(&format!("  outbox {row}\n"));
    }
    for row in detail["pending"].as_array().into_iter().flatten() {
        out.push_str(&format!("  pending {row}\n"));
    }
    out
}

/// The checks once every instance completed; returns the counts for the record.
fn check(instances: &[Value], events: &[Value], erp: &Erp, kills: &[KillRecord], what: &str) -> String {
    let n = events.len();
    let refused = erp.refused();
    assert!(refused.is_empty(), "{what}: the receiver got requests it could not take: {refused:?}");

    // One instance per event key, each completed through the transfer.
    let expected: BTreeSet<String> = events.iter().map(event_key).collect();
    let mut by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for i in instances {
        let id = i["id"].as_str().expect("instance id");
        by_key.entry(i["correlation_key"].as_str().unwrap_or("<none>").to_owned()).or_default().push(id);
        assert_eq!(i["status"], "completed", "{what}: instance {id}: {i}");
        assert_eq!(i["outcome"], "replenished", "{what}: instance {id} ended elsewhere: {i}");
    }
    let doubled: Vec<_> = by_key.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(doubled.is_empty(), "{what}: event keys with more than one instance: {doubled:?}");
    let keys: BTreeSet<String> = by_key.keys().cloned().collect();
    assert_eq!(
        keys,
        expected,
        "{what}: instance keys against event keys: missing {:?}, unexpected {:?}",
        expected.difference(&keys).take(10).collect::<Vec<_>>(),
        keys.difference(&expected).take(10).collect::<Vec<_>>()
    );
    assert_eq!(instances.len(), n, "{what}: instances");

    // Two keys per instance at the receiver, each applied once, with the answer the instance kept.
    let seen = erp.keys();
    let by_id: HashMap<&str, &Value> = instances.iter().map(|i| (i["id"].as_str().expect("id"), i)).collect();
    let expected_keys: BTreeSet<String> =
        by_id.keys().flat_map(|id| [format!("{id}/create_transfer"), format!("{id}/notify_store")]).collect();
    let seen_keys: BTreeSet<String> = seen.keys().cloned().collect();
    assert_eq!(
        seen_keys.len(),
        expected_keys.len(),
        "{what}: the receiver saw {} keys for {n} instances: missing {:?}, unexpected {:?}",
        seen_keys.len(),
        expected_keys.difference(&seen_keys).take(10).collect::<Vec<_>>(),
        seen_keys.difference(&expected_keys).take(10).collect::<Vec<_>>()
    );
    assert_eq!(seen_keys, expected_keys, "{what}: the receiver's keys against the instances");
    let prefixes: BTreeSet<&str> = seen.keys().filter_map(|k| k.split_once('/').map(|(id, _)| id)).collect();
    assert_eq!(prefixes, by_id.keys().copied().collect(), "{what}: key prefixes against instance ids");
    for (key, record) in &seen {
        assert_eq!(record.applied, 1, "{what}: {key} applied {} times: {record:?}", record.applied);
        let (id, step) = key.split_once('/').expect("instance/step");
        assert_eq!(record.operation, step, "{what}: {key} reached operation {}", record.operation);
        let instance = by_id[id];
        let output = &instance["state"]["context"]["steps"][step];
        assert_eq!(
            Some(output),
            record.answer.as_ref(),
            "{what}: instance {id} kept another answer for {step} than the receiver's first one"
        );
        let (location, sku) = instance["correlation_key"].as_str().and_then(|k| k.split_once('/')).expect("key");
        let payload = &record.payload;
        if step == "create_transfer" {
            assert_eq!(payload, &json!({"sku": sku, "to": location, "quantity": 12}), "{what}: {key}");
        } else {
            let transfer = &instance["state"]["context"]["steps"]["create_transfer"]["transfer_id"];
            assert_eq!(payload, &json!({"location": location, "sku": sku, "transfer": transfer}), "{what}: {key}");
        }
    }

    // The kills landed while there was engine work left.
    assert!(
        kills.iter().any(|k| k.applied < 2 * n),
        "{what}: every kill came after all the work was done:{}",
        describe_kills(kills)
    );

    let repeats: u32 = seen.values().map(KeyRecord::repeats).sum();
    let repeated_keys = seen.values().filter(|r| r.repeats() > 0).count();
    let refusals: u32 = seen.values().map(|r| r.refused).sum();
    format!(
        "{n} instances completed; {} kills; the receiver applied {} keys once each, answered {repeats} repeated \
         deliveries (of {repeated_keys} keys) without applying, and 503 to {refusals} first attempts",
        kills.len(),
        seen.len()
    )
}

/// No server log mentions a panic.
fn check_logs(storage: &Storage, what: &str) {
    let mut logs: Vec<_> = std::fs::read_dir(storage.dir())
        .expect("data dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("serve-")))
        .collect();
    logs.sort();
    for log in logs {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(!text.contains("panicked"), "{what}: {} shows a panic:\n{}", log.display(), log_tail(&log, 8 << 10));
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// splitmix64, seeded from the clock (the seed is printed).
struct Rng {
    seed: u64,
    state: u64,
}

impl Rng {
    fn seeded() -> Rng {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        Rng { seed, state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `[low, high)`.
    fn between(&mut self, (low, high): (u64, u64)) -> u64 {
        low + self.next() % (high - low)
    }
}

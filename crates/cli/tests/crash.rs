//! Crash safety as an operator meets it: a `backroom serve` process ingesting goods receipts from
//! several concurrent clients is killed with SIGKILL mid-stream, again and again on the same data
//! (SQLite directory or PostgreSQL schema), with the clients retrying some of their unanswered
//! requests after each restart as a real client would. After a last, clean restart the whole log
//! is read back and checked:
//!
//! 1. every event of every acknowledged request is present exactly once, at the `seq` it was
//!    acknowledged with;
//! 2. a request that was never acknowledged nor retried is in the log whole or not at all, and a
//!    retried one comes back all new or all duplicates;
//! 3. `seq` strictly increases and no `(source, id)` is stored twice; nothing was stored that no
//!    client sent;
//! 4. the stock projection equals what the stored receipts add up to;
//! 5. the server really was killed while requests were in flight.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{ADMIN_KEY, Server, Storage, http_client};
use tokio::sync::Notify;

/// Concurrent clients.
const CLIENTS: usize = 16;
/// Restarts ended by SIGKILL; a last, clean one follows for the checks.
const KILL_CYCLES: usize = 6;
/// Requests acknowledged in a cycle before its kill (plus a few per cycle, so kills land at
/// different points): progress, not time, decides when to kill.
const ACKS_BEFORE_KILL: usize = 80;
/// New requests each client sends after the last restart.
const FINAL_REQUESTS: usize = 3;
/// Most events in one request.
const MAX_EVENTS: u64 = 20;
const LOCATIONS: [&str; 3] = ["S01", "S02", "S03"];
/// Items are SKU-1 … SKU-ITEMS.
const ITEMS: u64 = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill_exactly_once_sqlite() {
    crash_and_check(Storage::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_survive_sigkill_exactly_once_postgres() {
    if let Some(storage) = Storage::postgres("crash") {
        crash_and_check(storage).await;
    }
}

/// One receipt event as sent.
#[derive(Clone, Debug)]
struct SentEvent {
    id: String,
    location: &'static str,
    item: String,
}

/// What one attempt to send a request came to.
#[derive(Debug)]
enum Answer {
    /// 200 with one `(seq, duplicate)` per event.
    Acknowledged(Vec<(i64, bool)>),
    /// No complete answer: the connection failed, was reset or timed out.
    Lost(String),
    /// An error answer (any status but 200).
    Refused(u16, String),
}

#[derive(Debug)]
struct Attempt {
    cycle: usize,
    answer: Answer,
}

/// One ingest request: its events, its exact body (a retry sends the same bytes) and every
/// attempt to send it.
#[derive(Debug)]
struct IngestRequest {
    client: usize,
    number: u64,
    events: Vec<SentEvent>,
    body: String,
    attempts: Vec<Attempt>,
    /// Whether the client retries this request after each restart until it is acknowledged, or
    /// abandons it when it gets no answer (then it shows what a crash leaves of a request).
    retried_when_lost: bool,
}

impl IngestRequest {
    fn source(&self) -> String {
        source(self.client)
    }

    /// The outcomes of the acknowledging attempt, if there was one.
    fn acknowledged(&self) -> Option<&[(i64, bool)]> {
        self.attempts.iter().find_map(|a| match &a.answer {
            Answer::Acknowledged(results) => Some(results.as_slice()),
            _ => None,
        })
    }
}

fn source(client: usize) -> String {
    format!("crash-client-{client}")
}

/// A client: its requests and a deterministic random generator for their sizes and contents.
struct Client {
    index: usize,
    rng: u64,
    next_number: u64,
    requests: Vec<IngestRequest>,
}

impl Client {
    fn new(index: usize) -> Self {
        Self { index, rng: 0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1), next_number: 0, requests: Vec::new() }
    }

    /// splitmix64.
    fn random(&mut self, below: u64) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % below
    }

    /// A new request of 1 to MAX_EVENTS receipts, each adding one unit of one item at one store.
    fn new_request(&mut self) -> IngestRequest {
        let number = self.next_number;
        self.next_number += 1;
        let count = 1 + self.random(MAX_EVENTS);
        let source = source(self.index);
        let mut events = Vec::new();
        let mut raw = Vec::new();
        for e in 0..count {
            let id = format!("c{}-r{number}-e{e}", self.index);
            let location = LOCATIONS[self.random(LOCATIONS.len() as u64) as usize];
            let item = format!("SKU-{}", 1 + self.random(ITEMS));
            raw.push(json!({
                "id": id, "type": "receipt.posted", "source": source, "occurred_at": "2026-11-23T06:00:00Z",
                "data": {"receipt_number": id, "location": location,
                         "lines": [{"line": 1, "item": {"sku": item}, "received": {"value": "1"}}]}
            }));
            events.push(SentEvent { id, location, item });
        }
        let body = serde_json::to_string(&raw).expect("serialise events");
        let retried_when_lost = self.random(2) == 0;
        IngestRequest { client: self.index, number, events, body, attempts: Vec::new(), retried_when_lost }
    }

    /// One cycle against one server: first retry the lost requests that are to be retried, then
    /// send new requests until `stop` (or `limit` of them), stopping at the first lost answer (the
    /// server has gone).
    async fn run(
        mut self,
        cycle: usize,
        http: reqwest::Client,
        base: String,
        load: Arc<Load>,
        limit: Option<usize>,
    ) -> Self {
        let retries: Vec<usize> = (0..self.requests.len())
            .filter(|&i| {
                let r = &self.requests[i];
                r.retried_when_lost && r.acknowledged().is_none()
            })
            .collect();
        for i in retries {
            let answer = post(&http, &base, &self.requests[i].body, self.requests[i].events.len()).await;
            let lost = load.answered(&answer);
            self.requests[i].attempts.push(Attempt { cycle, answer });
            if lost {
                return self;
            }
        }
        let mut sent = 0;
        while !load.stop.load(Ordering::Relaxed) && limit.is_none_or(|l| sent < l) {
            let mut request = self.new_request();
            let answer = post(&http, &base, &request.body, request.events.len()).await;
            let lost = load.answered(&answer);
            request.attempts.push(Attempt { cycle, answer });
            self.requests.push(request);
            sent += 1;
            if lost {
                break;
            }
        }
        self
    }
}

/// What the clients of one cycle share with the test that kills the server.
struct Load {
    /// Set once the server has been killed: send nothing more.
    stop: AtomicBool,
    /// Requests acknowledged in this cycle.
    acknowledged: AtomicUsize,
    /// The acknowledgement after which the server is killed.
    kill_after: usize,
    /// Woken at that acknowledgement, so that the kill lands while the answers to the other
    /// requests of the same group commit are still on their way.
    reached: Notify,
}

impl Load {
    fn new(kill_after: usize) -> Self {
        Self { stop: AtomicBool::new(false), acknowledged: AtomicUsize::new(0), kill_after, reached: Notify::new() }
    }

    /// Counts an answer; true when it was lost (the server has gone).
    fn answered(&self, answer: &Answer) -> bool {
        if matches!(answer, Answer::Acknowledged(_))
            && self.acknowledged.fetch_add(1, Ordering::SeqCst) + 1 == self.kill_after
        {
            self.reached.notify_one();
        }
        matches!(answer, Answer::Lost(_))
    }
}

/// Posts one request body; only a complete 200 answer naming every event is an acknowledgement.
async fn post(http: &reqwest::Client, base: &str, body: &str, events: usize) -> Answer {
    let response = match http
        .post(format!("{base}/v1/events"))
        .bearer_auth(ADMIN_KEY)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_owned())
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return Answer::Lost(format!("{e:?}")),
    };
    let status = response.status();
    let text = match response.text().await {
        Ok(t) => t,
        Err(e) => return Answer::Lost(format!("{status}, then reading the body: {e:?}")),
    };
    if status != reqwest::StatusCode::OK {
        return Answer::Refused(status.as_u16(), text);
    }
    let parsed: Option<Vec<(i64, bool)>> = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
        v["results"].as_array()?.iter().map(|r| Some((r["seq"].as_i64()?, r["duplicate"].as_bool()?))).collect()
    });
    match parsed {
        Some(results) if results.len() == events => Answer::Acknowledged(results),
        _ => Answer::Refused(200, format!("an answer that does not give one result per event ({events}): {text}")),
    }
}

async fn crash_and_check(mut storage: Storage) {
    let started = Instant::now();
    let what = storage.describe();
    let mut clients: Vec<Client> = (0..CLIENTS).map(Client::new).collect();
    let mut kills = Vec::new();
    for cycle in 0..=KILL_CYCLES {
        let last = cycle == KILL_CYCLES;
        let mut server = Server::start(&mut storage).await;
        let http = http_client();
        let load = Arc::new(Load::new(if last { usize::MAX } else { ACKS_BEFORE_KILL + 23 * cycle }));
        let tasks: Vec<_> = clients
            .drain(..)
            .map(|c| {
                let limit = last.then_some(FINAL_REQUESTS);
                tokio::spawn(c.run(cycle, http.clone(), server.base.clone(), load.clone(), limit))
            })
            .collect();
        if !last {
            // Let load build up, then kill the server while every client has a request in flight.
            let waiting = Instant::now();
            loop {
                tokio::select! {
                    () = load.reached.notified() => break,
                    () = tokio::time::sleep(Duration::from_millis(100)) => {}
                }
                if let Some(status) = server.exited() {
                    panic!("{what}: backroom serve exited on its own ({status}); its stderr:\n{}", server.stderr());
                }
                assert!(
                    waiting.elapsed() < Duration::from_secs(60),
                    "{what}: only {} requests acknowledged in a minute; the server's stderr:\n{}",
                    load.acknowledged.load(Ordering::SeqCst),
                    server.stderr()
                );
            }
            let status = server.kill();
            kills.push((server.pid(), status));
            load.stop.store(true, Ordering::SeqCst);
        }
        for task in tasks {
            clients.push(task.await.expect("a client task panicked"));
        }
        if last {
            let requests: Vec<IngestRequest> = clients.into_iter().flat_map(|c| c.requests).collect();
            let summary = summarise(&requests);
            eprintln!("{what}: {summary}");
            check(&server, &http, &requests, &what, &summary).await;
            eprintln!("{what}: checked in {:.1?}", started.elapsed());
            break;
        }
    }
    for (pid, status) in kills {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{what}: server {pid} ended by SIGKILL: {status}");
    }
}

/// Counts per cycle, for the report and for failure messages.
fn summarise(requests: &[IngestRequest]) -> String {
    let mut out = String::new();
    for cycle in 0..=KILL_CYCLES {
        let (mut new_acked, mut new_events, mut new_lost, mut retry_new, mut retry_dup, mut retry_lost) =
            (0, 0, 0, 0, 0, 0);
        for r in requests {
            for (n, a) in r.attempts.iter().enumerate().filter(|(_, a)| a.cycle == cycle) {
                match (&a.answer, n) {
                    (Answer::Acknowledged(_), 0) => {
                        new_acked += 1;
                        new_events += r.events.len();
                    }
                    (Answer::Lost(_), 0) => new_lost += 1,
                    (Answer::Acknowledged(res), _) if res.iter().all(|(_, d)| *d) => retry_dup += 1,
                    (Answer::Acknowledged(_), _) => retry_new += 1,
                    (Answer::Lost(_), _) => retry_lost += 1,
                    (Answer::Refused(..), _) => {}
                }
            }
        }
        let end = if cycle == KILL_CYCLES { "clean" } else { "SIGKILL" };
        out.push_str(&format!(
            "\n  cycle {cycle} ({end}): new requests acknowledged {new_acked} ({new_events} events), lost {new_lost}; \
             retries acknowledged as new {retry_new}, as duplicates {retry_dup}, lost {retry_lost}"
        ));
    }
    out
}

async fn check(server: &Server, http: &reqwest::Client, requests: &[IngestRequest], what: &str, summary: &str) {
    // Every answer was a 200 or no answer at all: nothing in this load is invalid, and a healthy
    // server either commits and answers or dies.
    for r in requests {
        for a in &r.attempts {
            if let Answer::Refused(status, body) = &a.answer {
                panic!("{what}: request {} of client {} was refused with {status}: {body}", r.number, r.client);
            }
        }
    }

    // After the last restart nothing was killed: every request got an answer.
    for r in requests {
        for a in r.attempts.iter().filter(|a| a.cycle == KILL_CYCLES) {
            if let Answer::Lost(e) = &a.answer {
                panic!("{what}: request {} of client {} got no answer from a running server: {e}", r.number, r.client);
            }
        }
    }

    // Read the whole log, page by page.
    let mut log = Vec::new();
    let mut after = 0;
    loop {
        let page = server.get_json(http, &format!("/v1/events?after_seq={after}&limit=10000")).await;
        let events = page["events"].as_array().expect("events").clone();
        if events.is_empty() {
            break;
        }
        after = page["next_after_seq"].as_i64().expect("next_after_seq");
        log.extend(events);
    }

    // 3. seq strictly increases; each (source, id) is stored once; each stored event is one a
    //    client sent, with the data it sent.
    let sent: HashMap<(String, &str), &SentEvent> =
        requests.iter().flat_map(|r| r.events.iter().map(move |e| ((r.source(), e.id.as_str()), e))).collect();
    let mut stored: HashMap<(String, String), i64> = HashMap::new();
    let mut receipts: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let mut previous = 0;
    for e in &log {
        let seq = e["seq"].as_i64().expect("seq");
        let (source, id) = (e["source"].as_str().expect("source"), e["id"].as_str().expect("id"));
        assert!(seq > previous, "{what}: seq {seq} of {source}/{id} follows {previous}");
        previous = seq;
        if let Some(first) = stored.insert((source.to_owned(), id.to_owned()), seq) {
            panic!("{what}: {source}/{id} is stored twice, at seq {first} and {seq}");
        }
        let Some(sent) = sent.get(&(source.to_owned(), id)) else {
            panic!("{what}: the log holds an event no client sent: {e}");
        };
        let data = &e["data"];
        assert_eq!(data["location"], sent.location, "{what}: {source}/{id} stored with other data: {e}");
        assert_eq!(data["lines"][0]["item"]["sku"], sent.item.as_str(), "{what}: {source}/{id}: {e}");
        let counted = receipts.entry((sent.location.to_owned(), sent.item.clone())).or_insert((0, 0));
        counted.0 += 1;
        counted.1 = seq;
    }
    let ready = server.get_json(http, "/readyz").await;
    assert_eq!(ready["last_seq"], previous, "{what}: /readyz names the last seq of the log: {ready}");

    let mut atomic_whole = 0;
    let mut atomic_none = 0;
    for r in requests {
        let present: Vec<Option<i64>> =
            r.events.iter().map(|e| stored.get(&(r.source(), e.id.clone())).copied()).collect();
        let describe = || format!("request {} of client {} ({} events)", r.number, r.client, r.events.len());
        if let Some(results) = r.acknowledged() {
            // 1. Acknowledged: every event present once, at the seq it was acknowledged with.
            for ((e, p), (seq, _)) in r.events.iter().zip(&present).zip(results) {
                assert_eq!(
                    *p,
                    Some(*seq),
                    "{what}: {}: {} was acknowledged at seq {seq} but the log has it at {p:?}{summary}",
                    describe(),
                    e.id
                );
            }
            let first = &r.attempts[0];
            match &first.answer {
                // A first attempt carries ids never sent before: all new, in request order.
                Answer::Acknowledged(results) => {
                    assert!(
                        results.iter().all(|(_, d)| !d),
                        "{what}: {}: fresh ids answered as duplicates",
                        describe()
                    );
                    assert!(results.windows(2).all(|w| w[0].0 < w[1].0), "{what}: {}: seqs {results:?}", describe());
                }
                // 2. A retry of a lost request: its earlier attempt committed whole or not at all.
                _ => assert!(
                    results.iter().all(|(_, d)| *d) || results.iter().all(|(_, d)| !d),
                    "{what}: {} was lost, then its retry found only part of it recorded: {results:?}{summary}",
                    describe()
                ),
            }
        } else {
            assert!(
                !r.retried_when_lost,
                "{what}: {} was retried after the clean restart and still not acknowledged: {:?}",
                describe(),
                r.attempts
            );
            // 2. Lost and abandoned: whole or not at all.
            let found = present.iter().filter(|p| p.is_some()).count();
            assert!(
                found == 0 || found == r.events.len(),
                "{what}: {} was never acknowledged and the log holds {found} of its events: {present:?}{summary}",
                describe()
            );
            if found == 0 {
                atomic_none += 1;
            } else {
                atomic_whole += 1;
            }
        }
    }
    eprintln!(
        "{what}: {} events in the log from {} requests; lost and abandoned requests found whole {atomic_whole}, \
         absent {atomic_none}",
        log.len(),
        requests.len()
    );

    // 4. Stock: each stored receipt added one unit.
    let stock = server.get_json(http, "/v1/stock?limit=100000").await;
    let mut positions: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for p in stock["positions"].as_array().expect("positions") {
        let key = (p["location"].as_str().expect("location").to_owned(), p["item"].as_str().expect("item").to_owned());
        let on_hand = whole_units(p["on_hand"].as_str().expect("on_hand is a decimal string"));
        assert_eq!(whole_units(p["in_transit"].as_str().unwrap_or("0")), 0, "{what}: {p}");
        positions.insert(key, (on_hand, p["last_seq"].as_i64().expect("last_seq")));
    }
    assert_eq!(positions, receipts, "{what}: stock (on hand, last seq) per location and item against the log");

    // 5. The kills landed mid-stream.
    let lost = requests
        .iter()
        .flat_map(|r| &r.attempts)
        .filter(|a| a.cycle < KILL_CYCLES && matches!(a.answer, Answer::Lost(_)))
        .count();
    assert!(lost > 0, "{what}: no request was in flight when the server was killed{summary}");
}

/// A decimal string that must be a whole number, such as "12" or "12.0000".
fn whole_units(s: &str) -> i64 {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    assert!(fraction.bytes().all(|b| b == b'0'), "{s} is not a whole number");
    whole.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

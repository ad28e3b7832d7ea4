//! Where simulated events go: NDJSON files or a running Backroom server.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use serde::Serialize;

use super::envelope::SimEvent;
use super::error::SimError;
use super::simulation::Simulation;

/// Counts of what a run produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SimStats {
    /// Days simulated.
    pub days: u32,
    /// Events produced.
    pub events: u64,
    /// Events per event type.
    pub by_type: BTreeMap<String, u64>,
    /// Faults injected (ground-truth records).
    pub faults: u64,
}

impl SimStats {
    fn count(&mut self, events: &[SimEvent]) {
        self.days += 1;
        self.events += events.len() as u64;
        for e in events {
            *self.by_type.entry(e.event_type().to_owned()).or_insert(0) += 1;
        }
    }
}

/// Runs the remaining days and writes every event as one JSON line (the same events
/// [`Simulation::next_day`] gives, written without building JSON values first).
pub fn write_ndjson(sim: &mut Simulation, out: &mut impl Write) -> std::io::Result<SimStats> {
    let mut stats = SimStats::default();
    let faults_before = sim.ground_truth().len();
    let mut buffer = Vec::with_capacity(1 << 20);
    while let Some(events) = sim.next_day_raw() {
        stats.days += 1;
        stats.events += events.len() as u64;
        for e in &events {
            *stats.by_type.entry(e.event_type.as_str().to_owned()).or_insert(0) += 1;
            e.write_line(&mut buffer)?;
            if buffer.len() >= 1 << 20 {
                out.write_all(&buffer)?;
                buffer.clear();
            }
        }
    }
    out.write_all(&buffer)?;
    out.flush()?;
    stats.faults = (sim.ground_truth().len() - faults_before) as u64;
    Ok(stats)
}

/// Most events sent in one request.
const MAX_REQUEST_EVENTS: usize = 5_000;
/// Largest request body, well under the server's default `max_body_bytes` (16 MiB): a large
/// retailer's counts and orders make events of tens of kilobytes.
const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Attempts per request before giving up.
const MAX_ATTEMPTS: u32 = 10;
/// The longest wait between attempts, whatever `Retry-After` asks.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// The first wait after a connection error, doubled on each further error.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Posts events to a Backroom server's `POST /v1/events` as NDJSON.
#[derive(Clone, Debug)]
pub struct ServerSink {
    client: reqwest::Client,
    url: reqwest::Url,
    authorization: String,
}

impl ServerSink {
    /// A sink for the server at `base_url` (such as `http://127.0.0.1:8080`) using `api_key`.
    pub fn new(base_url: &str, api_key: &str) -> Result<ServerSink, SimError> {
        let base = reqwest::Url::parse(base_url.trim_end_matches('/')).map_err(|e| {
            SimError::sink("base_url", format!("{base_url:?} is not a URL ({e}); use one like http://127.0.0.1:8080"))
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SimError::sink(
                "base_url",
                format!("scheme {:?} is not supported: use http or https", base.scheme()),
            ));
        }
        let url = reqwest::Url::parse(&format!("{}/v1/events", base.as_str().trim_end_matches('/')))
            .map_err(|e| SimError::sink("base_url", format!("cannot form the events address: {e}")))?;
        if api_key.trim().is_empty() || api_key.chars().any(char::is_control) {
            return Err(SimError::sink("api_key", "must be a non-empty key without control characters".to_owned()));
        }
        // TLS runs on ring; installing it is a no-op when the process already has a provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SimError::sink("base_url", format!("cannot build the HTTP client: {e}")))?;
        Ok(ServerSink { client, url, authorization: format!("Bearer {api_key}") })
    }

    /// Sends events in NDJSON batches (at most 5,000 events or 4 MiB each), in order. Retries
    /// answers 429 and 503 after their `Retry-After`, and 502, 504 and connection errors with
    /// exponential backoff: the server dedupes by event id, so a retry is safe. Any other error
    /// answer is returned.
    pub async fn send(&self, events: &[SimEvent]) -> Result<(), SimError> {
        let mut body = Vec::with_capacity(MAX_REQUEST_BYTES);
        let mut count = 0;
        for e in events {
            let mut line = serde_json::to_vec(&e.event).map_err(|err| SimError::Io(std::io::Error::other(err)))?;
            line.push(b'\n');
            if count > 0 && (count == MAX_REQUEST_EVENTS || body.len() + line.len() > MAX_REQUEST_BYTES) {
                self.post(std::mem::take(&mut body)).await?;
                count = 0;
            }
            body.extend_from_slice(&line);
            count += 1;
        }
        if count > 0 {
            self.post(body).await?;
        }
        Ok(())
    }

    async fn post(&self, body: Vec<u8>) -> Result<(), SimError> {
        let mut backoff = FIRST_BACKOFF;
        let mut last = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let request = self
                .client
                .post(self.url.clone())
                .header(CONTENT_TYPE, "application/x-ndjson")
                .header(AUTHORIZATION, &self.authorization)
                .body(body.clone());
            let wait = match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = response
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let text = response.text().await.unwrap_or_default();
                    let text: String = text.chars().take(500).collect();
                    match status {
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                            last = format!("status {status}: {text}");
                            retry_after.unwrap_or(backoff)
                        }
                        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => {
                            last = format!("status {status}: {text}");
                            backoff
                        }
                        _ => return Err(SimError::Rejected { status: status.as_u16(), body: text }),
                    }
                }
                Err(e) => {
                    last = e.to_string();
                    backoff
                }
            };
            if attempt < MAX_ATTEMPTS {
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, problem = %last, "retrying an event batch");
                tokio::time::sleep(wait.min(MAX_WAIT)).await;
                backoff = (backoff * 2).min(MAX_WAIT);
            }
        }
        Err(SimError::Delivery { attempts: MAX_ATTEMPTS, message: last })
    }
}

/// How fast simulated time runs when sending to a server.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pace {
    minutes_per_second: Option<f64>,
}

impl Pace {
    /// Send as fast as the server takes events.
    pub fn as_fast_as_possible() -> Pace {
        Pace { minutes_per_second: None }
    }

    /// Let `minutes` of simulated time pass per second of wall-clock time (60 makes a day last
    /// 24 seconds). Zero, negative or non-finite values mean as fast as possible.
    pub fn minutes_per_second(minutes: f64) -> Pace {
        Pace { minutes_per_second: (minutes.is_finite() && minutes > 0.0).then_some(minutes) }
    }

    /// The wall-clock time simulated time `from`..`to` takes at this pace.
    fn wall(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<Duration> {
        let rate = self.minutes_per_second?;
        let minutes = (to - from).num_milliseconds() as f64 / 60_000.0;
        (minutes > 0.0).then(|| Duration::from_secs_f64(minutes / rate))
    }
}

impl Default for Pace {
    fn default() -> Self {
        Pace::as_fast_as_possible()
    }
}

fn occurred_at(e: &SimEvent) -> Option<DateTime<Utc>> {
    e.event["occurred_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
}

/// Runs the remaining days, sending events to the server in batches of at most `batch` events.
/// At a paced run, events are sent when simulated time reaches them.
pub async fn run(sim: &mut Simulation, sink: &ServerSink, pace: Pace, batch: usize) -> Result<SimStats, SimError> {
    let batch = batch.max(1);
    let mut stats = SimStats::default();
    let faults_before = sim.ground_truth().len();
    let mut clock: Option<DateTime<Utc>> = None;
    while let Some(events) = sim.next_day() {
        let mut pending: Vec<SimEvent> = Vec::with_capacity(batch);
        for e in &events {
            let at = occurred_at(e);
            if let (Some(now), Some(at)) = (clock, at)
                && let Some(wait) = pace.wall(now, at)
            {
                if !pending.is_empty() {
                    sink.send(&pending).await?;
                    pending.clear();
                }
                tokio::time::sleep(wait).await;
            }
            if at.is_some() && clock.is_none_or(|now| at > Some(now)) {
                clock = at;
            }
            pending.push(e.clone());
            if pending.len() >= batch {
                sink.send(&pending).await?;
                pending.clear();
            }
        }
        if !pending.is_empty() {
            sink.send(&pending).await?;
        }
        stats.count(&events);
    }
    stats.faults = (sim.ground_truth().len() - faults_before) as u64;
    Ok(stats)
}

//! Outbound notifications: one task per subscriber tails the audit chain from its durable
//! cursor `webhook:<name>` and posts each entry of a kind it subscribed to, signed, with
//! `Idempotency-Key: audit-<seq>`.
//!
//! Delivery is at least once and in chain order: an entry is retried (with exponential
//! backoff, or after the `Retry-After` a `429` or `503` names) until the subscriber answers
//! 2xx, and only then does the cursor move past it, so a restart resumes at the first entry not
//! acknowledged. On PostgreSQL, one process at a time holds a lease on each subscriber's cursor
//! and delivers for it; the cursor moves compare-and-set, so a process that lost its lease
//! never moves it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backroom_store::{AuditQuery, AuditRecord, EngineWrite, Store, StoreError};
use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header};
use super::{OutboundWebhook, display_url};

/// The longest `Retry-After` honoured; longer waits are cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How the notifier paces itself.
#[derive(Clone, Debug)]
pub struct NotifierOptions {
    /// How often an idle subscriber looks for new entries.
    pub poll: Duration,
    /// How long a process holds a subscriber's cursor without renewing it (PostgreSQL).
    pub lease: Duration,
    /// The wait after the first failed attempt; doubled after each further failure.
    pub first_backoff: Duration,
    /// The longest wait between attempts (unless `Retry-After` asks for longer).
    pub max_backoff: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
    /// Entries read from the chain at a time.
    pub batch: i64,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            timeout: Duration::from_secs(10),
            batch: 100,
        }
    }
}

/// What this process knows of a subscriber's deliveries beyond its durable cursor.
#[derive(Clone, Debug, Default)]
pub struct DeliveryState {
    /// Why the last attempt failed, while the entry it tried is not delivered.
    pub last_error: Option<String>,
    /// When that attempt failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Failed attempts at the entry being delivered.
    pub failed_attempts: u32,
    /// When an entry was last delivered.
    pub last_delivered_at: Option<DateTime<Utc>>,
}

/// The delivery state of every subscriber, shared with `GET /v1/webhooks`.
#[derive(Default)]
pub struct DeliveryBoard {
    states: Mutex<HashMap<String, DeliveryState>>,
}

impl DeliveryBoard {
    /// The state of a subscriber (empty when this process has not tried it).
    pub fn get(&self, name: &str) -> DeliveryState {
        self.states.lock().ok().and_then(|s| s.get(name).cloned()).unwrap_or_default()
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut DeliveryState)) {
        if let Ok(mut states) = self.states.lock() {
            change(states.entry(name.to_owned()).or_default());
        }
    }
}

/// The notifier could not start.
#[derive(Debug, thiserror::Error)]
#[error("the webhook notifier cannot start: {0}")]
pub struct NotifyError(String);

/// The running subscriber tasks.
pub struct Notifier {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Notifier {
    /// Starts one task per subscriber.
    pub fn start(
        store: Store,
        subscribers: Vec<OutboundWebhook>,
        board: Arc<DeliveryBoard>,
        options: NotifierOptions,
    ) -> Result<Notifier, NotifyError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("backroom/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NotifyError(e.to_string()))?;
        let (stop, stopped) = watch::channel(false);
        let owner = format!("{}-{}", std::process::id(), Utc::now().timestamp_micros());
        let tasks = subscribers
            .into_iter()
            .map(|hook| {
                let subscriber = Subscriber {
                    store: store.clone(),
                    client: client.clone(),
                    board: Arc::clone(&board),
                    options: options.clone(),
                    owner: owner.clone(),
                    cursor: hook.cursor(),
                    shown_url: display_url(&hook.url),
                    hook,
                };
                tokio::spawn(subscriber.run(stopped.clone()))
            })
            .collect();
        Ok(Notifier { stop, tasks })
    }

    /// Stops every subscriber task: an attempt in flight is finished (within the attempt
    /// timeout) and, when it succeeded, the cursor moved past its entry; no new attempt starts.
    /// Returns when all have ended.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

struct Subscriber {
    store: Store,
    client: reqwest::Client,
    board: Arc<DeliveryBoard>,
    options: NotifierOptions,
    owner: String,
    cursor: String,
    shown_url: String,
    hook: OutboundWebhook,
}

/// Sleeps, or returns `false` as soon as the notifier is stopped.
async fn pause(stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep(wait) => !*stop.borrow(),
        _ = stop.changed() => false,
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::seconds(30))
}

impl Subscriber {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(webhook = %self.hook.name, url = %self.shown_url, "notifying a webhook subscriber");
        loop {
            let progressed = match self.step(&mut stop).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(webhook = %self.hook.name, error = %e, "reading the audit chain failed; retrying");
                    false
                }
            };
            if *stop.borrow() || (!progressed && !pause(&mut stop, self.options.poll).await) {
                break;
            }
        }
        if let Err(e) = self.store.release_cursor(&self.cursor, &self.owner).await {
            tracing::debug!(webhook = %self.hook.name, error = %e, "could not release the cursor lease");
        }
    }

    async fn lease(&self) -> Result<bool, StoreError> {
        let now = Utc::now();
        self.store.lease_cursor(&self.cursor, &self.owner, now, now + to_chrono(self.options.lease)).await
    }

    /// Delivers what follows the cursor; returns whether the cursor moved.
    async fn step(&self, stop: &mut watch::Receiver<bool>) -> Result<bool, StoreError> {
        if !self.lease().await? {
            return Ok(false);
        }
        let at = self.store.cursor(&self.cursor).await?;
        let q = AuditQuery { after_seq: at, limit: self.options.batch, ..AuditQuery::default() };
        let entries = self.store.audit(&q).await?;
        let Some(last) = entries.last().map(|r| r.seq) else {
            return Ok(false);
        };
        let mut from = at;
        for record in entries.iter().filter(|r| self.hook.wants(&r.entry.kind)) {
            if !self.deliver(record, stop).await {
                return Ok(from > at);
            }
            if !self.advance(from, record.seq).await? {
                return Ok(false);
            }
            from = record.seq;
        }
        if from < last && !self.advance(from, last).await? {
            return Ok(false);
        }
        Ok(true)
    }

    /// Moves the cursor from `from` to `to`; `false` when another process moved it meanwhile.
    async fn advance(&self, from: i64, to: i64) -> Result<bool, StoreError> {
        let write = EngineWrite { cursors: vec![(self.cursor.clone(), from, to)], ..EngineWrite::default() };
        match self.store.commit_engine(write, Vec::new()).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => {
                tracing::info!(webhook = %self.hook.name, "another process moved the cursor; reading it again");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Posts one entry until the subscriber answers 2xx; `false` when stopped first.
    async fn deliver(&self, record: &AuditRecord, stop: &mut watch::Receiver<bool>) -> bool {
        let body = serde_json::to_vec(record).unwrap_or_default();
        let key = format!("audit-{}", record.seq);
        let mut backoff = self.options.first_backoff;
        loop {
            if *stop.borrow() {
                return false;
            }
            if let Err(e) = self.lease().await {
                tracing::debug!(webhook = %self.hook.name, error = %e, "could not renew the cursor lease");
            }
            let timestamp = Utc::now().timestamp();
            let request = self
                .client
                .post(&self.hook.url)
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(TIMESTAMP_HEADER, timestamp.to_string())
                .header(SIGNATURE_HEADER, signature_header(&self.hook.secrets, timestamp, &body))
                .header("idempotency-key", &key)
                .body(body.clone())
                .send();
            // An attempt in flight is finished (within `timeout`) even when stopping, so that a
            // delivered entry is recorded as delivered and not sent again after a restart.
            let (error, wait) = match request.await {
                Ok(r) if r.status().is_success() => {
                    self.board.update(&self.hook.name, |s| {
                        *s = DeliveryState { last_delivered_at: Some(Utc::now()), ..DeliveryState::default() };
                    });
                    return true;
                }
                Ok(r) => {
                    let retry_after = r
                        .headers()
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s).min(MAX_RETRY_AFTER));
                    (format!("{} answered {}", self.shown_url, r.status()), retry_after.unwrap_or(backoff))
                }
                Err(e) if e.is_timeout() => {
                    (format!("{} did not answer within {:?}", self.shown_url, self.options.timeout), backoff)
                }
                Err(e) => (format!("{} could not be reached: {}", self.shown_url, e.without_url()), backoff),
            };
            tracing::warn!(webhook = %self.hook.name, seq = record.seq, error = %error, retry_in = ?wait, "webhook delivery failed");
            self.board.update(&self.hook.name, |s| {
                s.last_error = Some(error);
                s.last_error_at = Some(Utc::now());
                s.failed_attempts = s.failed_attempts.saturating_add(1);
            });
            if !pause(stop, wait).await {
                return false;
            }
            backoff = (backoff * 2).min(self.options.max_backoff);
        }
    }
}

//! The writer: one thread per process, group-committing every append request waiting for it.

use std::sync::Mutex;
use std::time::Instant;

use backroom_model::NewEvent;
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use crate::postgres::PgStore;
use crate::sqlite::SqliteWriter;
use crate::write::GroupPlan;
use crate::{Appended, Result, StoreError};

/// Requests queued before callers wait for room.
const QUEUE: usize = 4096;

/// What commits a group.
pub(crate) enum Committer {
    /// The embedded database, written synchronously on the writer thread.
    Sqlite(SqliteWriter),
    /// PostgreSQL, driven from the writer thread on the runtime that opened the store.
    Postgres(PgStore, tokio::runtime::Handle),
}

impl Committer {
    fn commit(&mut self, events: &[NewEvent]) -> Result<GroupPlan> {
        let recorded_at = Utc::now().timestamp_micros();
        match self {
            Committer::Sqlite(w) => w.commit_group(events, recorded_at),
            Committer::Postgres(pg, runtime) => runtime.block_on(pg.commit_group(events, recorded_at)),
        }
    }
}

struct Request {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Vec<Appended>>>,
}

/// The handle callers append through.
pub(crate) struct WriterHandle {
    sender: Mutex<Option<mpsc::Sender<Request>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl WriterHandle {
    pub(crate) fn spawn(mut committer: Committer, max_group_events: usize) -> Result<Self> {
        let (tx, mut rx) = mpsc::channel::<Request>(QUEUE);
        let max = max_group_events.max(1);
        let thread = std::thread::Builder::new()
            .name("backroom-writer".to_owned())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut group = vec![first];
                    let mut size = group[0].events.len();
                    while size < max {
                        match rx.try_recv() {
                            Ok(r) => {
                                size += r.events.len();
                                group.push(r);
                            }
                            Err(_) => break,
                        }
                    }
                    commit(&mut committer, group);
                }
            })
            .map_err(|e| StoreError::Config(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { sender: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    pub(crate) async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>> {
        let sender = self.sender.lock().map_err(|_| StoreError::Closed)?.clone().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender.send(Request { events, reply }).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Stops taking requests; the thread commits what is queued, then ends.
    pub(crate) async fn close(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Commits a group; if it fails as a whole, commits each request alone so that one request's
/// failure is reported to that request only.
fn commit(committer: &mut Committer, group: Vec<Request>) {
    let lengths: Vec<usize> = group.iter().map(|r| r.events.len()).collect();
    let (events, replies): (Vec<Vec<NewEvent>>, Vec<_>) = group.into_iter().map(|r| (r.events, r.reply)).unzip();
    let all: Vec<NewEvent> = events.into_iter().flatten().collect();
    let started = Instant::now();
    match committer.commit(&all) {
        Ok(plan) => {
            record_metrics(started, &plan, all.len());
            let mut outcomes = plan.outcomes.into_iter();
            for (reply, n) in replies.into_iter().zip(lengths) {
                let _ = reply.send(Ok(outcomes.by_ref().take(n).collect()));
            }
        }
        Err(e) if replies.len() == 1 => {
            tracing::error!(error = %e, events = all.len(), "append failed");
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, requests = replies.len(), "group commit failed; committing its requests one by one");
            let mut rest = all.into_iter();
            for (reply, n) in replies.into_iter().zip(lengths) {
                let events: Vec<NewEvent> = rest.by_ref().take(n).collect();
                let started = Instant::now();
                let result = committer.commit(&events).map(|plan| {
                    record_metrics(started, &plan, events.len());
                    plan.outcomes
                });
                let _ = reply.send(result);
            }
        }
    }
}

fn record_metrics(started: Instant, plan: &GroupPlan, events: usize) {
    metrics::histogram!("backroom_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("backroom_commit_group_events").record(events as f64);
    metrics::counter!("backroom_events_appended_total").increment(plan.appended as u64);
    metrics::counter!("backroom_events_duplicate_total").increment((events - plan.appended) as u64);
}

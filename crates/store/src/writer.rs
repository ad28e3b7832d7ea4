//! The writer: one thread per process, group-committing every append request waiting for it.

use std::sync::Mutex;
use std::time::Instant;

use backroom_model::NewEvent;
use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use crate::engine::EngineWrite;
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
    fn commit(&mut self, events: &[NewEvent], engine: &[&EngineWrite]) -> Result<GroupPlan> {
        let recorded_at = Utc::now().timestamp_micros();
        match self {
            Committer::Sqlite(w) => w.commit_group(events, engine, recorded_at),
            Committer::Postgres(pg, runtime) => runtime.block_on(pg.commit_group(events, engine, recorded_at)),
        }
    }
}

struct Request {
    events: Vec<NewEvent>,
    engine: Option<Box<EngineWrite>>,
    reply: oneshot::Sender<Result<Vec<Appended>>>,
}

impl Request {
    /// Its weight against the group limit.
    fn size(&self) -> usize {
        self.events.len() + self.engine.as_ref().map_or(0, |e| 1 + e.instances.len() + e.history.len() / 4)
    }
}

/// The handle callers append through.
pub(crate) struct WriterHandle {
    sender: Mutex<Option<mpsc::Sender<Request>>>,
    appended: tokio::sync::watch::Receiver<i64>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl WriterHandle {
    pub(crate) fn spawn(mut committer: Committer, max_group_events: usize) -> Result<Self> {
        let (tx, mut rx) = mpsc::channel::<Request>(QUEUE);
        let (appended_tx, appended) = tokio::sync::watch::channel(0i64);
        let max = max_group_events.max(1);
        let thread = std::thread::Builder::new()
            .name("backroom-writer".to_owned())
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut size = first.size();
                    let mut group = vec![first];
                    while size < max {
                        match rx.try_recv() {
                            Ok(r) => {
                                size += r.size();
                                group.push(r);
                            }
                            Err(_) => break,
                        }
                    }
                    if let Some(seq) = commit(&mut committer, group) {
                        appended_tx.send_if_modified(|last| {
                            let newer = seq > *last;
                            *last = (*last).max(seq);
                            newer
                        });
                    }
                }
            })
            .map_err(|e| StoreError::Config(format!("cannot start the writer thread: {e}")))?;
        Ok(Self { sender: Mutex::new(Some(tx)), appended, thread: Mutex::new(Some(thread)) })
    }

    /// The highest `seq` this process has committed, updated after each commit.
    pub(crate) fn appended(&self) -> tokio::sync::watch::Receiver<i64> {
        self.appended.clone()
    }

    pub(crate) async fn append(&self, events: Vec<NewEvent>) -> Result<Vec<Appended>> {
        self.submit(events, None).await
    }

    pub(crate) async fn commit_engine(&self, write: EngineWrite, events: Vec<NewEvent>) -> Result<Vec<Appended>> {
        self.submit(events, Some(Box::new(write))).await
    }

    async fn submit(&self, events: Vec<NewEvent>, engine: Option<Box<EngineWrite>>) -> Result<Vec<Appended>> {
        let sender = self.sender.lock().map_err(|_| StoreError::Closed)?.clone().ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender.send(Request { events, engine, reply }).await.map_err(|_| StoreError::Closed)?;
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
/// failure is reported to that request only. Returns the highest `seq` appended, if any.
fn commit(committer: &mut Committer, group: Vec<Request>) -> Option<i64> {
    let lengths: Vec<usize> = group.iter().map(|r| r.events.len()).collect();
    let mut engines: Vec<Option<Box<EngineWrite>>> = Vec::with_capacity(group.len());
    let mut replies = Vec::with_capacity(group.len());
    let mut all: Vec<NewEvent> = Vec::new();
    for r in group {
        all.extend(r.events);
        engines.push(r.engine);
        replies.push(r.reply);
    }
    let writes: Vec<&EngineWrite> = engines.iter().flatten().map(|b| &**b).collect();
    let started = Instant::now();
    let mut highest = None;
    match committer.commit(&all, &writes) {
        Ok(plan) => {
            record_metrics(started, &plan, all.len());
            highest = last_fresh(&plan.outcomes);
            let mut outcomes = plan.outcomes.into_iter();
            for (reply, n) in replies.into_iter().zip(lengths) {
                let _ = reply.send(Ok(outcomes.by_ref().take(n).collect()));
            }
        }
        Err(e) if replies.len() == 1 => {
            if !matches!(e, StoreError::Conflict(_)) {
                tracing::error!(error = %e, events = all.len(), "append failed");
            }
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
        Err(e) => {
            if !matches!(e, StoreError::Conflict(_)) {
                tracing::warn!(error = %e, requests = replies.len(), "group commit failed; committing its requests one by one");
            }
            let mut rest = all.into_iter();
            for ((reply, n), engine) in replies.into_iter().zip(lengths).zip(engines) {
                let events: Vec<NewEvent> = rest.by_ref().take(n).collect();
                let started = Instant::now();
                let writes: Vec<&EngineWrite> = engine.as_deref().into_iter().collect();
                let result = committer.commit(&events, &writes).map(|plan| {
                    record_metrics(started, &plan, events.len());
                    highest = highest.max(last_fresh(&plan.outcomes));
                    plan.outcomes
                });
                let _ = reply.send(result);
            }
        }
    }
    highest
}

fn last_fresh(outcomes: &[Appended]) -> Option<i64> {
    outcomes.iter().filter(|a| !a.duplicate).map(|a| a.seq).max()
}

fn record_metrics(started: Instant, plan: &GroupPlan, events: usize) {
    metrics::histogram!("backroom_commit_seconds").record(started.elapsed().as_secs_f64());
    metrics::histogram!("backroom_commit_group_events").record(events as f64);
    metrics::counter!("backroom_events_appended_total").increment(plan.appended as u64);
    metrics::counter!("backroom_events_duplicate_total").increment((events - plan.appended) as u64);
}

//! The runner's three loops: triggers, inbox, outbox.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration as StdDuration;

use backroom_model::EventEnvelope;
use backroom_store::{EngineWrite, EventQuery, InboxRecord, OutboxRecord, OutboxUpdate, StoreError};
use chrono::Duration;
use futures::StreamExt;
use futures::future::join_all;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};

use super::drive::Driven;
use super::{Breaker, Inner};
use crate::connector::{Call, CallKind, ConnectorError};
use crate::core::{ActionOutcome, Command, Instance};
use crate::workflow::Workflow;

/// The cursor the trigger loop moves.
const TRIGGERS: &str = "triggers";
/// Instances of one trigger batch started side by side (their reads overlap).
const STARTS_IN_FLIGHT: usize = 32;

/// Sleeps for `d` unless the engine stops first; returns whether it is stopping.
async fn pause(inner: &Inner, d: StdDuration) -> bool {
    let mut stop = inner.shutdown.subscribe();
    tokio::select! {
        _ = tokio::time::sleep(d) => {}
        _ = stop.changed() => {}
    }
    inner.stopping()
}

// ----- triggers --------------------------------------------------------------------------------

pub(crate) async fn triggers(inner: Arc<Inner>) {
    let mut appended = inner.store.appended();
    let mut stop = inner.shutdown.subscribe();
    let mut last_refresh = std::time::Instant::now();
    loop {
        if inner.stopping() {
            return;
        }
        if last_refresh.elapsed() > StdDuration::from_secs(2) {
            // Definitions saved by another process.
            let _ = inner.refresh_definitions().await;
            last_refresh = std::time::Instant::now();
        }
        match trigger_batch(&inner).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "trigger batch failed; retrying");
                if pause(&inner, StdDuration::from_millis(500)).await {
                    return;
                }
                continue;
            }
        }
        tokio::select! {
            _ = appended.changed() => {}
            _ = tokio::time::sleep(inner.config.poll) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Consumes one batch of events after the cursor; returns whether there were any.
async fn trigger_batch(inner: &Arc<Inner>) -> Result<bool, StoreError> {
    let cursor = inner.store.cursor(TRIGGERS).await?;
    let q = EventQuery { after_seq: cursor, limit: inner.config.batch as i64, ..Default::default() };
    let events = inner.store.events(&q).await?;
    let Some(last) = events.last().map(|e| e.seq) else { return Ok(false) };
    let mut driven: Vec<Driven> = Vec::new();
    let mut deliveries: Vec<InboxRecord> = Vec::new();
    if inner.any_active() {
        let contexts: Vec<Value> = events.iter().map(event_json).collect();
        // Open instances by workflow and key, with the seq of the event that started them (0 for
        // instances older than this batch), filled from the store as keys come up.
        let mut open: HashMap<String, HashMap<String, (String, i64)>> = HashMap::new();
        let mut delivered: HashSet<String> = HashSet::new();
        let triggered = triggered_instances(inner, &events, &contexts);
        for (workflow, matches) in triggered {
            let keys: Vec<String> = matches.iter().filter_map(|(_, k)| k.clone()).collect();
            load_open(inner, &mut open, &workflow.id, keys).await?;
            // Decide in log order which events start instances and which go to open ones (an
            // instance started earlier in this batch included), then start them side by side.
            let mut starts: Vec<(usize, String, Option<String>)> = Vec::new();
            for (i, key) in matches {
                let event = &events[i];
                let held = key.as_ref().and_then(|k| open.get(&workflow.id).and_then(|m| m.get(k)));
                if let Some((target, _)) = held {
                    push_delivery(inner, &mut deliveries, &mut delivered, target, event.seq, &contexts[i]);
                    continue;
                }
                let id = uuid::Uuid::now_v7().to_string();
                if let Some(k) = &key {
                    open.entry(workflow.id.clone()).or_default().insert(k.clone(), (id.clone(), event.seq));
                }
                starts.push((i, id, key));
            }
            let runs = starts.into_iter().map(|(i, id, key)| {
                let workflow = Arc::clone(&workflow);
                let start = Command::Start { event: contexts[i].clone() };
                let seq = events[i].seq;
                async move {
                    let instance = Instance::new(id, &workflow.id, workflow.version, key, inner.now());
                    (workflow.id.clone(), inner.drive(&workflow, instance, 0, vec![start], Some(seq)).await)
                }
            });
            let results: Vec<_> = futures::stream::iter(runs).buffered(STARTS_IN_FLIGHT).collect().await;
            for (workflow, result) in results {
                match result {
                    Ok(d) => {
                        inner.counters.started.fetch_add(1, Ordering::Relaxed);
                        driven.push(d);
                    }
                    Err(rejection) => tracing::error!(workflow = %workflow, error = %rejection, "start refused"),
                }
            }
        }
        // Events that `wait` steps correlate by their own key.
        let mut wanted: Vec<(usize, String, String)> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            for (workflow, key) in inner.correlated_by(&e.event_type) {
                match key.compiled.evaluate(&json!({"event": contexts[i]})) {
                    Ok(Value::String(k)) => wanted.push((i, workflow, k)),
                    Ok(Value::Null) => {}
                    Ok(other) => wanted.push((i, workflow, other.to_string())),
                    Err(err) => {
                        tracing::debug!(workflow = %workflow, event = %e.id, error = %err, "no correlation key")
                    }
                }
            }
        }
        let mut keys_by_workflow: HashMap<String, Vec<String>> = HashMap::new();
        for (_, w, k) in &wanted {
            keys_by_workflow.entry(w.clone()).or_default().push(k.clone());
        }
        for (w, keys) in keys_by_workflow {
            load_open(inner, &mut open, &w, keys).await?;
        }
        for (i, w, k) in wanted {
            if let Some((target, since)) = open.get(&w).and_then(|m| m.get(&k))
                && events[i].seq > *since
            {
                push_delivery(inner, &mut deliveries, &mut delivered, target, events[i].seq, &contexts[i]);
            }
        }
    }
    // One transaction: the new instances, the deliveries, and the cursor (compare-and-set).
    let mut write =
        EngineWrite { cursors: vec![(TRIGGERS.to_owned(), cursor, last)], inbox: deliveries, ..Default::default() };
    let mut emitted = Vec::new();
    let mut outbox = Vec::new();
    let mut finished = Vec::new();
    let wake = !write.inbox.is_empty();
    for d in driven {
        outbox.extend(d.write.outbox.iter().cloned());
        wake_if_due(inner, &d.write);
        write.merge(d.write);
        emitted.extend(d.events);
        finished.push((d.instance, d.rev, d.steps, d.tasks_opened));
    }
    inner.store.commit_engine(write, emitted).await?;
    for (instance, rev, steps, tasks) in finished {
        inner.committed(instance, rev, steps, tasks);
    }
    for o in outbox {
        let _ = inner.outbox_tx.send(o);
    }
    if wake {
        inner.wake_inbox.notify_one();
    }
    Ok(true)
}

/// The workflows each event starts (by trigger type and condition), with its correlation key.
type Triggered = Vec<(Arc<Workflow>, Vec<(usize, Option<String>)>)>;

fn triggered_instances(inner: &Inner, events: &[EventEnvelope], contexts: &[Value]) -> Triggered {
    let mut out: Triggered = Vec::new();
    for (i, e) in events.iter().enumerate() {
        for w in inner.triggered_by(&e.event_type) {
            let context = json!({"event": contexts[i]});
            if let Some(when) = &w.trigger.when {
                match when.compiled.evaluate_bool(&context) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(err) => {
                        tracing::warn!(workflow = %w.id, event = %e.id, error = %err, "trigger condition failed; event skipped");
                        continue;
                    }
                }
            }
            let key = match &w.trigger.key {
                Some(k) => match k.compiled.evaluate(&context) {
                    Ok(Value::String(s)) => Some(s),
                    Ok(Value::Null) => None,
                    Ok(other) => Some(other.to_string()),
                    Err(err) => {
                        tracing::warn!(workflow = %w.id, event = %e.id, error = %err, "correlation key failed; event skipped");
                        continue;
                    }
                },
                None => None,
            };
            match out.iter_mut().find(|(x, _)| x.id == w.id && x.version == w.version) {
                Some((_, list)) => list.push((i, key)),
                None => out.push((w, vec![(i, key)])),
            }
        }
    }
    out
}

/// Fills `open` with the open instances of `workflow` holding these keys.
async fn load_open(
    inner: &Inner,
    open: &mut HashMap<String, HashMap<String, (String, i64)>>,
    workflow: &str,
    keys: Vec<String>,
) -> Result<(), StoreError> {
    let known = open.entry(workflow.to_owned()).or_default();
    let missing: Vec<String> =
        keys.into_iter().filter(|k| !known.contains_key(k)).collect::<HashSet<_>>().into_iter().collect();
    for r in inner.store.open_instances(workflow, &missing).await? {
        if let Some(k) = r.correlation_key {
            known.insert(k, (r.id, 0));
        }
    }
    Ok(())
}

fn push_delivery(
    inner: &Inner,
    deliveries: &mut Vec<InboxRecord>,
    delivered: &mut HashSet<String>,
    target: &str,
    seq: i64,
    event: &Value,
) {
    let id = format!("{target}/event/{seq}");
    if delivered.insert(id.clone()) {
        deliveries.push(InboxRecord {
            id,
            instance: target.to_owned(),
            due_at: inner.now(),
            command: serde_json::to_value(Command::Deliver { event: event.clone() }).unwrap_or(Value::Null),
        });
    }
}

fn wake_if_due(inner: &Inner, write: &EngineWrite) {
    if write.inbox.iter().any(|r| r.due_at <= inner.now()) {
        inner.wake_inbox.notify_one();
    }
}

/// An event as workflow expressions see it.
pub(crate) fn event_json(e: &EventEnvelope) -> Value {
    json!({
        "id": e.id, "type": e.event_type, "source": e.source, "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at, "seq": e.seq, "subject": e.subject, "data": e.data,
    })
}

// ----- inbox -----------------------------------------------------------------------------------

pub(crate) async fn inbox(inner: Arc<Inner>) {
    let mut stop = inner.shutdown.subscribe();
    loop {
        if inner.stopping() {
            return;
        }
        let now = inner.now();
        let claimed = inner
            .store
            .claim_inbox(&inner.config.owner, now, now + inner.config.lease, inner.config.batch as i64)
            .await;
        let rows = match claimed {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "claiming inbox rows failed");
                if pause(&inner, StdDuration::from_millis(500)).await {
                    return;
                }
                continue;
            }
        };
        if !rows.is_empty() {
            let full = rows.len() >= inner.config.batch;
            run_inbox(&inner, rows).await;
            if full {
                continue;
            }
        }
        // Sleep until the next due timer, a notification, or the poll interval.
        let wait = match inner.store.next_due().await {
            Ok(Some(due)) => (due - inner.now()).to_std().unwrap_or(StdDuration::ZERO).min(inner.config.poll),
            _ => inner.config.poll,
        };
        tokio::select! {
            _ = inner.wake_inbox.notified() => {}
            _ = tokio::time::sleep(wait.max(StdDuration::from_millis(1))) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Applies claimed inbox rows, instance by instance, each instance in one transaction.
async fn run_inbox(inner: &Arc<Inner>, rows: Vec<InboxRecord>) {
    let mut by_instance: Vec<(String, Vec<InboxRecord>)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in rows {
        let i = *index.entry(r.instance.clone()).or_insert_with(|| {
            by_instance.push((r.instance.clone(), Vec::new()));
            by_instance.len() - 1
        });
        by_instance[i].1.push(r);
    }
    let jobs = by_instance.into_iter().map(|(id, rows)| {
        let inner = Arc::clone(inner);
        async move { run_instance_inbox(&inner, &id, rows).await }
    });
    join_all(jobs).await;
}

async fn run_instance_inbox(inner: &Arc<Inner>, id: &str, rows: Vec<InboxRecord>) {
    let done: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let (workflow, instance, rev) = match inner.load(id).await {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::warn!(instance = %id, error = %e, "inbox rows for an instance that cannot be loaded are dropped");
            let write = EngineWrite { inbox_done: done, ..Default::default() };
            let _ = inner.store.commit_engine(write, Vec::new()).await;
            return;
        }
    };
    let mut commands = Vec::new();
    for r in &rows {
        match serde_json::from_value::<Command>(r.command.clone()) {
            Ok(c) => commands.push(c),
            Err(e) => tracing::error!(row = %r.id, error = %e, "inbox row is not a command; dropped"),
        }
    }
    // Commands refused one by one are dropped with a log line; the rest apply together.
    let driven = match inner.drive(&workflow, instance, rev, commands.clone(), None).await {
        Ok(d) => d,
        Err(_) => {
            let Ok((_, mut state, rev)) = inner.load(id).await else { return };
            let mut accepted = Vec::new();
            for c in commands {
                match inner.drive(&workflow, state.clone(), rev, vec![c.clone()], None).await {
                    Ok(d) => {
                        state = d.instance;
                        accepted.push(c);
                    }
                    Err(e) => tracing::warn!(instance = %id, error = %e, "queued command refused"),
                }
            }
            let Ok((_, fresh, rev)) = inner.load(id).await else { return };
            match inner.drive(&workflow, fresh, rev, accepted, None).await {
                Ok(d) => d,
                Err(_) => return,
            }
        }
    };
    let mut driven = driven;
    driven.write.inbox_done = done;
    match inner.commit(driven).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {} // another writer moved it; the rows stay and run again
        Err(e) => tracing::warn!(instance = %id, error = %e, "inbox transition not persisted; it will run again"),
    }
}

// ----- outbox ----------------------------------------------------------------------------------

/// The result of one delivery attempt.
struct Delivery {
    record: OutboxRecord,
    result: Result<Value, ConnectorError>,
}

pub(crate) async fn outbox(inner: Arc<Inner>, mut fresh: mpsc::UnboundedReceiver<OutboxRecord>) {
    let mut stop = inner.shutdown.subscribe();
    let in_flight: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();
    let permits = Arc::new(Semaphore::new(inner.config.deliveries_in_flight.max(1)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Delivery>();
    let mut deferred: Vec<OutboxRecord> = Vec::new();
    let mut next_poll = std::time::Instant::now();
    let renew_every = (inner.config.lease / 3).to_std().unwrap_or(StdDuration::from_secs(5));
    let mut next_renewal = std::time::Instant::now() + renew_every;
    loop {
        if inner.stopping() {
            return;
        }
        if inner.lease_new_work && std::time::Instant::now() >= next_renewal {
            // Keep the rows this process holds (queued, in flight, waiting to settle) its own, so
            // that no other process delivers them again while this one is slow.
            next_renewal = std::time::Instant::now() + renew_every;
            let mut held: Vec<String> = in_flight.lock().map(|f| f.iter().cloned().collect()).unwrap_or_default();
            held.extend(deferred.iter().map(|r| r.key.clone()));
            let until = inner.now() + inner.config.lease;
            if let Err(e) = inner.store.renew_outbox_leases(&inner.config.owner, &held, until).await {
                tracing::warn!(error = %e, "renewing outbox leases failed");
            }
        }
        let mut batch: Vec<OutboxRecord> = std::mem::take(&mut deferred);
        while let Ok(r) = fresh.try_recv() {
            batch.push(r);
        }
        if std::time::Instant::now() >= next_poll {
            next_poll = std::time::Instant::now() + inner.config.poll;
            let now = inner.now();
            match inner
                .store
                .claim_outbox(&inner.config.owner, now, now + inner.config.lease, inner.config.batch as i64)
                .await
            {
                Ok(rows) => batch.extend(rows),
                Err(e) => tracing::warn!(error = %e, "claiming outbox rows failed"),
            }
        }
        for record in batch {
            if record.next_attempt_at > inner.now() + Duration::milliseconds(5) {
                continue; // a later poll takes it when due
            }
            if !in_flight.lock().map(|mut f| f.insert(record.key.clone())).unwrap_or(false) {
                continue;
            }
            if !breaker_allows(&inner, &record.connector) {
                // The breaker is open: the row waits in memory (it stays pending in the store).
                if let Ok(mut f) = in_flight.lock() {
                    f.remove(&record.key);
                }
                deferred.push(record);
                continue;
            }
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { return };
            let inner2 = Arc::clone(&inner);
            let tx = done_tx.clone();
            tokio::spawn(async move {
                let result = deliver(&inner2, &record).await;
                let _ = tx.send(Delivery { record, result });
                drop(permit);
            });
        }
        // Collect finished deliveries and persist their results together.
        let mut finished = Vec::new();
        while let Ok(d) = done_rx.try_recv() {
            finished.push(d);
        }
        if !finished.is_empty() {
            let keys: Vec<String> = finished.iter().map(|d| d.record.key.clone()).collect();
            settle(&inner, finished).await;
            if let Ok(mut f) = in_flight.lock() {
                for k in keys {
                    f.remove(&k);
                }
            }
            continue;
        }
        let idle = if deferred.is_empty() { inner.config.poll } else { StdDuration::from_millis(50) };
        tokio::select! {
            Some(r) = fresh.recv() => deferred.push(r),
            Some(d) = done_rx.recv() => {
                let key = d.record.key.clone();
                settle(&inner, vec![d]).await;
                if let Ok(mut f) = in_flight.lock() {
                    f.remove(&key);
                }
            }
            _ = tokio::time::sleep(idle.min(next_poll.saturating_duration_since(std::time::Instant::now()).max(StdDuration::from_millis(1)))) => {}
            _ = stop.changed() => return,
        }
    }
}

fn breaker_allows(inner: &Inner, connector: &str) -> bool {
    let now = inner.now();
    let Ok(mut breakers) = inner.breakers.lock() else { return true };
    breakers.entry(connector.to_owned()).or_insert_with(|| Breaker::new(inner.config.breaker)).allow(now).is_ok()
}

fn breaker_record(inner: &Inner, connector: &str, result: &Result<Value, ConnectorError>) {
    let now = inner.now();
    let Ok(mut breakers) = inner.breakers.lock() else { return };
    let b = breakers.entry(connector.to_owned()).or_insert_with(|| Breaker::new(inner.config.breaker));
    match result {
        Err(ConnectorError::Retryable { .. }) => b.failure(now),
        _ => b.success(),
    }
}

async fn deliver(inner: &Inner, record: &OutboxRecord) -> Result<Value, ConnectorError> {
    let Some(connector) = inner.connectors.get(&record.connector) else {
        return Err(ConnectorError::Permanent { message: format!("no connector is named {}", record.connector) });
    };
    let call = Call {
        operation: record.operation.clone(),
        kind: CallKind::Command,
        payload: record.payload.clone(),
        idempotency_key: Some(record.key.clone()),
    };
    let result = match tokio::time::timeout(inner.config.call_timeout, connector.call(call)).await {
        Ok(r) => r,
        Err(_) => Err(ConnectorError::Retryable {
            message: format!(
                "{}.{} did not answer within {:?}",
                record.connector, record.operation, inner.config.call_timeout
            ),
            retry_after: None,
        }),
    };
    breaker_record(inner, &record.connector, &result);
    result
}

/// Persists delivery results: retries are rescheduled; final results go to their instances in
/// the same transaction as the outbox row's new status.
async fn settle(inner: &Arc<Inner>, deliveries: Vec<Delivery>) {
    let now = inner.now();
    let mut reschedule = EngineWrite::default();
    let mut finals: Vec<(OutboxRecord, OutboxUpdate, ActionOutcome)> = Vec::new();
    for Delivery { record, result } in deliveries {
        let attempts = record.attempts + 1;
        match result {
            Ok(response) => {
                inner.counters.delivered.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("backroom_outbox_delivered_total", "connector" => record.connector.clone())
                    .increment(1);
                let update = OutboxUpdate {
                    key: record.key.clone(),
                    status: "delivered".to_owned(),
                    attempts: Some(attempts),
                    next_attempt_at: None,
                    last_error: None,
                    response: Some(response.clone()),
                    only_pending: true,
                };
                finals.push((record, update, ActionOutcome::Done { response }));
            }
            Err(ConnectorError::Retryable { message, retry_after }) if attempts < record.max_attempts => {
                metrics::counter!("backroom_outbox_retries_total", "connector" => record.connector.clone())
                    .increment(1);
                let backoff = Duration::milliseconds(record.backoff_ms.max(1))
                    .checked_mul(1 << (attempts - 1).clamp(0, 20) as i32)
                    .unwrap_or(Duration::milliseconds(record.max_interval_ms))
                    .min(Duration::milliseconds(record.max_interval_ms.max(1)));
                let wait = retry_after.and_then(|d| Duration::from_std(d).ok()).map_or(backoff, |r| r.max(backoff));
                reschedule.outbox_updates.push(OutboxUpdate {
                    key: record.key.clone(),
                    status: "pending".to_owned(),
                    attempts: Some(attempts),
                    next_attempt_at: Some(now + wait),
                    last_error: Some(message),
                    response: None,
                    only_pending: true,
                });
            }
            Err(e) => {
                metrics::counter!("backroom_outbox_failed_total", "connector" => record.connector.clone()).increment(1);
                let error =
                    if e.is_retryable() { format!("{e} (gave up after {attempts} attempts)") } else { e.to_string() };
                let update = OutboxUpdate {
                    key: record.key.clone(),
                    status: "failed".to_owned(),
                    attempts: Some(attempts),
                    next_attempt_at: None,
                    last_error: Some(error.clone()),
                    response: None,
                    only_pending: true,
                };
                finals.push((record, update, ActionOutcome::Failed { error }));
            }
        }
    }
    let mut commits = Vec::new();
    if !reschedule.is_empty() {
        let store = inner.store.clone();
        commits.push(tokio::spawn(async move {
            if let Err(e) = store.commit_engine(reschedule, Vec::new()).await {
                tracing::warn!(error = %e, "rescheduling deliveries failed; they run again after their lease");
            }
        }));
    }
    for (record, update, outcome) in finals {
        let inner = Arc::clone(inner);
        commits.push(tokio::spawn(async move {
            let command = Command::ActionResult { key: record.key.clone(), result: outcome };
            if let Err(e) = inner.command_now(&record.instance, command, Some(update)).await {
                tracing::warn!(key = %record.key, error = %e, "delivery result not persisted; it will be delivered again");
            }
        }));
    }
    join_all(commits).await;
}

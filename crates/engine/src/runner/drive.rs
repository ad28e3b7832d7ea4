//! Driving instances: applying commands, answering reads, and turning transitions into one
//! store write.

use std::sync::Arc;

use backroom_model::{NewEvent, validate_event};
use backroom_store::{
    AuditEntry, EngineWrite, EventQuery, HistoryRecord, InboxRecord, InstanceRecord, InstanceWrite, LedgerRecord,
    OutboxRecord, OutboxUpdate, SalesQuery, StockQuery, TaskRecord, TaskUpdate,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Inner;
use crate::clock::UuidIds;

/// Most events a `documents` read returns.
const DOCUMENT_EVENTS_MAX: i64 = 1000;
use crate::connector::{Call, CallKind};
use crate::core::{
    Command, Effect, Env, Instance, ReadOutcome, ReadRequest, ReadSource, Rejection, TaskChange, Transition, apply,
};
use crate::workflow::Workflow;

/// What one instance's commands produced, ready to commit.
pub(crate) struct Driven {
    pub write: EngineWrite,
    pub events: Vec<NewEvent>,
    pub instance: Instance,
    /// The instance's revision once committed.
    pub rev: i64,
    pub steps: u32,
    pub tasks_opened: usize,
}

impl Inner {
    /// Applies `commands` to `instance` (at revision `rev`, 0 for a new one), answering reads
    /// as they come, and builds the write that persists the result. Commands refused are
    /// returned as the error of the first refusal; nothing is written then.
    pub(crate) async fn drive(
        &self,
        workflow: &Arc<Workflow>,
        mut instance: Instance,
        rev: i64,
        commands: Vec<Command>,
        trigger_seq: Option<i64>,
    ) -> Result<Driven, Rejection> {
        let now = self.clock.now();
        let policies = self.policy_snapshot(workflow, now).await;
        let mut transitions = Vec::new();
        for command in commands {
            let mut queue = vec![command];
            while let Some(command) = queue.pop() {
                let t = {
                    let directory = self.directory();
                    let mut ids = UuidIds;
                    let mut env = Env { now, ids: &mut ids, directory: &directory, policies: &policies };
                    apply(workflow, &mut instance, command, &mut env)?
                };
                for read in t.reads.iter().rev() {
                    queue.push(Command::ReadResult { token: read.token, result: self.read(read).await });
                }
                transitions.push(t);
            }
        }
        Ok(self.persist(workflow, instance, rev, transitions, trigger_seq, now))
    }

    fn persist(
        &self,
        workflow: &Workflow,
        mut instance: Instance,
        rev: i64,
        transitions: Vec<Transition>,
        trigger_seq: Option<i64>,
        now: DateTime<Utc>,
    ) -> Driven {
        let mut w = EngineWrite { now: Some(now), ..EngineWrite::default() };
        let mut events = Vec::new();
        let mut steps = 0;
        let mut tasks_opened = 0;
        for t in transitions {
            steps += t.steps_completed;
            for h in t.history {
                if let Some(entry) = audit_entry(workflow, &instance, &h) {
                    w.audit.push(entry);
                }
                instance.history_len += 1;
                w.history.push(HistoryRecord {
                    instance: instance.id.clone(),
                    n: instance.history_len,
                    at: h.at,
                    kind: h.kind,
                    step: h.step,
                    actor: h.actor,
                    data: h.data,
                });
            }
            for effect in t.effects {
                match effect {
                    Effect::OpenTask(task) => {
                        tasks_opened += 1;
                        w.new_tasks.push(TaskRecord {
                            id: task.id,
                            instance: instance.id.clone(),
                            workflow: workflow.id.clone(),
                            step: task.step,
                            role: task.role,
                            location: task.location,
                            status: "open".to_owned(),
                            priority: task.priority,
                            title: task.title,
                            due_at: task.due_at,
                            overdue: false,
                            escalation_level: 0,
                            evidence: task.evidence,
                            outcomes: task.outcomes,
                            claimed_by: None,
                            decided_by: None,
                            decided_at: None,
                            outcome: None,
                            reminded_at: None,
                            created_at: task.created_at,
                            updated_at: now,
                        });
                    }
                    Effect::UpdateTask { task, change } => w.task_updates.push((task, task_update(change))),
                    Effect::Send(m) => w.outbox.push(OutboxRecord {
                        key: m.key,
                        instance: instance.id.clone(),
                        connector: m.connector,
                        operation: m.operation,
                        payload: m.payload,
                        status: "pending".to_owned(),
                        attempts: 0,
                        max_attempts: i64::from(m.attempts.max(1)),
                        backoff_ms: m.backoff_ms,
                        max_interval_ms: m.max_interval_ms,
                        next_attempt_at: now,
                        last_error: None,
                        response: None,
                        created_at: now,
                        updated_at: now,
                    }),
                    Effect::DeadLetter { key, error } => w.outbox_updates.push(OutboxUpdate {
                        key,
                        status: "dead".to_owned(),
                        attempts: None,
                        next_attempt_at: None,
                        last_error: Some(error),
                        response: None,
                        only_pending: false,
                    }),
                    Effect::Withdraw { key } => w.outbox_updates.push(OutboxUpdate {
                        key,
                        status: "withdrawn".to_owned(),
                        attempts: None,
                        next_attempt_at: None,
                        last_error: None,
                        response: None,
                        only_pending: true,
                    }),
                    Effect::RecordAutomatic(d) => w.ledger.push(LedgerRecord {
                        instance: instance.id.clone(),
                        step: d.step,
                        policy: d.policy,
                        policy_scope: d.policy_scope,
                        policy_version: d.policy_version,
                        location: d.location,
                        day: d.day,
                        amount: d.amount,
                        at: d.at,
                        overturned: false,
                        overturned_at: None,
                        overturned_by: None,
                        overturn_reason: None,
                    }),
                    Effect::Arm(timer) => w.inbox.push(InboxRecord {
                        id: timer.id.clone(),
                        instance: instance.id.clone(),
                        due_at: timer.due_at,
                        command: serde_json::to_value(Command::TimerFired { timer }).unwrap_or(Value::Null),
                    }),
                    Effect::Emit { id, event_type, data } => {
                        let event = json!({
                            "id": id, "type": event_type, "source": format!("backroom/{}", workflow.id),
                            "occurred_at": now, "data": data,
                        });
                        // The core checked the event; one that fails here is dropped with a log line.
                        match validate_event(&event) {
                            Ok(e) => events.push(e),
                            Err(problems) => {
                                tracing::error!(instance = %instance.id, ?problems, "emitted event is not valid")
                            }
                        }
                    }
                }
            }
        }
        if self.lease_new_work {
            w.lease_owner = Some(self.config.owner.clone());
            w.lease_until = Some(now + self.config.lease);
        }
        w.instances.push(InstanceWrite {
            record: InstanceRecord {
                id: instance.id.clone(),
                workflow: instance.workflow.clone(),
                version: i64::from(instance.version),
                status: instance.status.as_str().to_owned(),
                is_open: instance.status.is_open(),
                correlation_key: instance.key.clone(),
                outcome: instance.outcome.clone(),
                state: Value::Null,
                rev: rev + 1,
                trigger_seq,
                created_at: instance.started_at,
                updated_at: now,
            },
            state_json: serde_json::to_string(&instance).unwrap_or_else(|_| "null".to_owned()),
            expected_rev: rev,
        });
        Driven { write: w, events, instance, rev: rev + 1, steps, tasks_opened }
    }

    /// Answers a read.
    pub(crate) async fn read(&self, read: &ReadRequest) -> ReadOutcome {
        let retryable = |e: backroom_store::StoreError| ReadOutcome::Retryable { error: e.to_string() };
        match &read.source {
            ReadSource::Stock { location, item } => {
                let q =
                    StockQuery { location: Some(location.clone()), item: Some(item.clone()), limit: 1, within: None };
                match self.store.stock(&q).await {
                    Ok(rows) => ReadOutcome::Ok {
                        data: match rows.first() {
                            Some(p) => json!({
                                "found": true, "location": p.location, "item": p.item, "unit": p.unit,
                                "on_hand": p.on_hand.normalize().to_string(),
                                "in_transit": p.in_transit.normalize().to_string(),
                                "last_counted_at": p.last_counted_at,
                            }),
                            None => json!({
                                "found": false, "location": location, "item": item,
                                "on_hand": "0", "in_transit": "0", "last_counted_at": null,
                            }),
                        },
                    },
                    Err(e) => retryable(e),
                }
            }
            ReadSource::DailySales { location, item, days, until } => {
                let to = until.date_naive();
                let from = to - chrono::Days::new(u64::from(days.saturating_sub(1)));
                let q = SalesQuery {
                    location: Some(location.clone()),
                    item: Some(item.clone()),
                    from: Some(from),
                    to: Some(to),
                    limit: 100_000,
                    within: None,
                };
                match self.store.daily_sales(&q).await {
                    Ok(rows) => {
                        let sum =
                            |f: fn(&backroom_store::DailySales) -> Decimal| -> Decimal { rows.iter().map(f).sum() };
                        let sold = sum(|r| r.sold);
                        let average = if *days > 0 { sold / Decimal::from(*days) } else { Decimal::ZERO };
                        ReadOutcome::Ok {
                            data: json!({
                                "days": days, "from": from, "to": to,
                                "sold": sold.normalize().to_string(),
                                "returned": sum(|r| r.returned).normalize().to_string(),
                                "revenue": sum(|r| r.revenue).normalize().to_string(),
                                "transactions": rows.iter().map(|r| r.transactions).sum::<i64>(),
                                "average_daily_sold": average.round_dp(4).normalize().to_string(),
                            }),
                        }
                    }
                    Err(e) => retryable(e),
                }
            }
            ReadSource::Documents { numbers, exclude_seq } => {
                if numbers.is_empty() {
                    return ReadOutcome::Ok { data: json!({"found": false, "count": 0, "events": []}) };
                }
                let q = EventQuery { limit: DOCUMENT_EVENTS_MAX, documents: numbers.clone(), ..EventQuery::default() };
                match self.store.events(&q).await {
                    Ok(rows) => {
                        let events: Vec<Value> = rows
                            .into_iter()
                            .filter(|e| Some(e.seq) != *exclude_seq)
                            .map(|e| {
                                json!({"seq": e.seq, "id": e.id, "type": e.event_type, "source": e.source,
                                       "occurred_at": e.occurred_at, "data": e.data})
                            })
                            .collect();
                        ReadOutcome::Ok {
                            data: json!({"found": !events.is_empty(), "count": events.len(), "events": events}),
                        }
                    }
                    Err(e) => retryable(e),
                }
            }
            ReadSource::Query { connector, operation, request } => {
                let Some(c) = self.connectors.get(connector) else {
                    return ReadOutcome::Permanent { error: format!("no connector is named {connector}") };
                };
                let call = Call {
                    operation: operation.clone(),
                    kind: CallKind::Query,
                    payload: request.clone(),
                    idempotency_key: None,
                };
                match tokio::time::timeout(self.config.call_timeout, c.call(call)).await {
                    Ok(Ok(data)) => ReadOutcome::Ok { data },
                    Ok(Err(e)) if e.is_retryable() => ReadOutcome::Retryable { error: e.to_string() },
                    Ok(Err(e)) => ReadOutcome::Permanent { error: e.to_string() },
                    Err(_) => ReadOutcome::Retryable {
                        error: format!("{connector}.{operation} did not answer within {:?}", self.config.call_timeout),
                    },
                }
            }
        }
    }
}

fn task_update(change: TaskChange) -> TaskUpdate {
    match change {
        TaskChange::Claimed { actor } => TaskUpdate::Claimed { actor },
        TaskChange::Decided { actor, outcome } => TaskUpdate::Decided { actor, outcome },
        TaskChange::Escalated { role, location, level } => {
            TaskUpdate::Escalated { role, location, level: i64::from(level) }
        }
        TaskChange::Overdue => TaskUpdate::Overdue,
        TaskChange::Reminded => TaskUpdate::Reminded,
        TaskChange::Cancelled => TaskUpdate::Cancelled,
    }
}

/// The audit entry a history line calls for: every decision a person makes (claims, task
/// decisions, cancellations, dead-letter actions), every automatic decision (decision tables
/// and classifiers, with the rows matched) and every external effect (actions completed,
/// compensated or dead-lettered). Other lines (steps reached, timers) are history only.
fn audit_entry(workflow: &Workflow, instance: &Instance, h: &crate::core::HistoryEntry) -> Option<AuditEntry> {
    let kind = match h.kind.as_str() {
        "task_claimed" => "task.claimed",
        "task_decided" => "task.decided",
        "cancelled" => "instance.cancelled",
        "dead_letter_retried" => "dead_letter.retried",
        "action_skipped" => "dead_letter.skipped",
        "compensation_requested" => "dead_letter.compensated",
        "action_completed" | "late_action_completed" => "action.completed",
        "compensated" => "action.compensated",
        "dead_lettered" => "action.dead_lettered",
        "step_completed"
            if h.data.get("matched").is_some() || h.data.get("label").is_some() || h.data.get("receipt").is_some() =>
        {
            "decision.automatic"
        }
        _ => return None,
    };
    let subject = match &h.step {
        Some(step) => format!("instance/{}/{step}", instance.id),
        None => format!("instance/{}", instance.id),
    };
    let reason = h.data.get("reason").or_else(|| h.data.get("comment")).and_then(Value::as_str).map(str::to_owned);
    // A decision's receipt is its whole output: the outcome with the table and rows matched,
    // or the classifier's label, confidence, reasons and model.
    let mut after = match (kind, &h.step) {
        ("decision.automatic", Some(step)) => instance.context["steps"].get(step).cloned().unwrap_or(h.data.clone()),
        _ => h.data.clone(),
    };
    if let Value::Object(map) = &mut after {
        map.insert("workflow".into(), json!(format!("{}@{}", workflow.id, instance.version)));
    }
    Some(AuditEntry {
        after: Some(after),
        reason,
        ..AuditEntry::new(h.at, h.actor.as_deref().unwrap_or("system"), kind, &subject)
    })
}

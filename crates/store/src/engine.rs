//! The workflow engine's records: definitions, instances and their history, the inbox of
//! commands and timers, tasks, the outbox, the log cursors, and locations.
//!
//! The engine writes through [`crate::Store::commit_engine`]: one [`EngineWrite`] holds
//! everything one or more transitions change, and it is committed by the writer thread in one
//! transaction (grouped with other writers' requests). Instance updates carry the revision they
//! were computed from; if another process moved the instance on in the meantime, the whole write
//! fails with [`crate::StoreError::Conflict`] and changes nothing.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::keys::micros_to_time;
use crate::query::{Param, Sql};
use crate::rows::RowExt;

/// A saved workflow definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionRecord {
    /// Workflow id.
    pub workflow: String,
    /// Version, from 1.
    pub version: i64,
    /// Title.
    pub title: String,
    /// The YAML text.
    pub source: String,
    /// Hex SHA-256 of the text.
    pub digest: String,
    /// Whether new instances may start on it.
    pub active: bool,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Who saved it.
    pub created_by: Option<String>,
}

/// An instance as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceRecord {
    /// Id.
    pub id: String,
    /// Workflow id.
    pub workflow: String,
    /// Workflow version.
    pub version: i64,
    /// `running`, `blocked`, `compensating`, `completed`, `failed`, `cancelled`.
    pub status: String,
    /// Whether it is open.
    pub is_open: bool,
    /// Correlation key.
    pub correlation_key: Option<String>,
    /// The end's outcome.
    pub outcome: Option<String>,
    /// The executor's state.
    pub state: Value,
    /// Revision: the number of transitions persisted.
    pub rev: i64,
    /// The `seq` of the event that started it.
    pub trigger_seq: Option<i64>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// One line of an instance's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRecord {
    /// The instance.
    #[serde(skip)]
    pub instance: String,
    /// Its number within the instance, from 1.
    pub n: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// What.
    pub kind: String,
    /// The step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Who.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Details.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

/// A command waiting for an instance (a correlated event, a timer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboxRecord {
    /// Unique id.
    pub id: String,
    /// The instance.
    pub instance: String,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// The command, JSON.
    pub command: Value,
}

/// A human task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskRecord {
    /// Id.
    pub id: String,
    /// The instance.
    pub instance: String,
    /// The workflow.
    pub workflow: String,
    /// The step.
    pub step: String,
    /// The role that decides.
    pub role: String,
    /// The location scope; none = company.
    pub location: Option<String>,
    /// `open`, `claimed`, `decided`, `cancelled`.
    pub status: String,
    /// Higher first.
    pub priority: i64,
    /// Title.
    pub title: String,
    /// Due time.
    pub due_at: Option<DateTime<Utc>>,
    /// Whether the due time has passed while open.
    pub overdue: bool,
    /// Escalation rungs passed.
    pub escalation_level: i64,
    /// What the decider sees.
    pub evidence: Value,
    /// The allowed outcomes.
    pub outcomes: Value,
    /// Who claimed it.
    pub claimed_by: Option<String>,
    /// Who decided it.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The outcome chosen.
    pub outcome: Option<String>,
    /// Last reminder.
    pub reminded_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A change to a task row.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskUpdate {
    /// Claimed.
    Claimed {
        /// Who.
        actor: String,
    },
    /// Decided.
    Decided {
        /// Who.
        actor: String,
        /// Outcome.
        outcome: String,
    },
    /// Moved up the ladder.
    Escalated {
        /// New role.
        role: String,
        /// New scope.
        location: Option<String>,
        /// Rungs passed.
        level: i64,
    },
    /// Past due.
    Overdue,
    /// Reminded.
    Reminded,
    /// No longer needed.
    Cancelled,
}

/// An action in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRecord {
    /// The idempotency key.
    pub key: String,
    /// The instance.
    pub instance: String,
    /// Connector.
    pub connector: String,
    /// Operation.
    pub operation: String,
    /// Request.
    pub payload: Value,
    /// `pending`, `delivered`, `failed`, `dead`, `skipped`.
    pub status: String,
    /// Deliveries tried.
    pub attempts: i64,
    /// Deliveries allowed before it fails.
    pub max_attempts: i64,
    /// First backoff, ms.
    pub backoff_ms: i64,
    /// Longest backoff, ms.
    pub max_interval_ms: i64,
    /// When the next delivery may be tried.
    pub next_attempt_at: DateTime<Utc>,
    /// The last failure.
    pub last_error: Option<String>,
    /// The system's answer.
    pub response: Option<Value>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A change to an outbox row after a delivery attempt or a person's decision.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxUpdate {
    /// The key.
    pub key: String,
    /// New status.
    pub status: String,
    /// Deliveries tried (unchanged when `None`).
    pub attempts: Option<i64>,
    /// Next try (unchanged when `None`).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Last failure.
    pub last_error: Option<String>,
    /// The answer.
    pub response: Option<Value>,
    /// Change the row only while it is still pending (taking back an action not yet sent).
    pub only_pending: bool,
}

/// An instance to insert (`expected_rev` 0) or update (from `expected_rev`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceWrite {
    /// The new row (its `rev` is the new revision). Its `state` is not written: `state_json` is.
    pub record: InstanceRecord,
    /// The state as JSON text (serialised once by the engine).
    pub state_json: String,
    /// The revision it was computed from; 0 for a new instance.
    pub expected_rev: i64,
}

/// Everything one engine commit writes.
#[derive(Debug, Clone, Default)]
pub struct EngineWrite {
    /// New definitions.
    pub definitions: Vec<DefinitionRecord>,
    /// Activation changes: (workflow, version, active).
    pub activations: Vec<(String, i64, bool)>,
    /// Instances, checked against their revision.
    pub instances: Vec<InstanceWrite>,
    /// History lines.
    pub history: Vec<HistoryRecord>,
    /// Commands and timers to queue.
    pub inbox: Vec<InboxRecord>,
    /// Inbox rows consumed.
    pub inbox_done: Vec<String>,
    /// Tasks to open.
    pub new_tasks: Vec<TaskRecord>,
    /// Task changes, at `now`.
    pub task_updates: Vec<(String, TaskUpdate)>,
    /// Actions to queue; `lease_owner` holds them for the writing process first.
    pub outbox: Vec<OutboxRecord>,
    /// Outbox changes.
    pub outbox_updates: Vec<OutboxUpdate>,
    /// Log cursors to move: (name, from, to). The move fails the write unless the cursor
    /// still stands at `from`, so two processes never consume the same events.
    pub cursors: Vec<(String, i64, i64)>,
    /// Locations to save: (code, JSON).
    pub locations: Vec<(String, Value)>,
    /// The process that holds the new outbox rows (so no other process takes them at once).
    pub lease_owner: Option<String>,
    /// How long it holds them.
    pub lease_until: Option<DateTime<Utc>>,
    /// The time of the write.
    pub now: Option<DateTime<Utc>>,
    /// Entries for the audit chain, recorded in the same transaction as the rest.
    pub audit: Vec<crate::audit::AuditEntry>,
    /// API keys created or revoked.
    pub keys: Vec<KeyChange>,
    /// People's accounts and sessions created or changed.
    pub users: Vec<crate::users::UserChange>,
    /// Receipts of signed inbound webhook deliveries; a receipt already recorded fails the
    /// write with a conflict.
    pub webhook_receipts: Vec<crate::webhooks::WebhookReceipt>,
    /// Approval policy versions to save.
    pub policies: Vec<crate::governance::PolicyRecord>,
    /// Delegations created or revoked.
    pub delegations: Vec<crate::governance::DelegationChange>,
    /// Automatic approvals to record in the autonomy ledger.
    pub ledger: Vec<crate::governance::LedgerRecord>,
    /// Automatic approvals people overturned.
    pub overturns: Vec<crate::governance::Overturn>,
}

/// A change to the API keys, committed with its audit entry.
#[derive(Clone, Debug)]
pub enum KeyChange {
    /// A new key and the hash of its secret.
    Create(crate::ApiKey, String),
    /// Revokes the key with this id at this time; fails with a conflict if it is not active.
    Revoke(String, DateTime<Utc>),
}

impl EngineWrite {
    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
            && self.activations.is_empty()
            && self.instances.is_empty()
            && self.history.is_empty()
            && self.inbox.is_empty()
            && self.inbox_done.is_empty()
            && self.new_tasks.is_empty()
            && self.task_updates.is_empty()
            && self.outbox.is_empty()
            && self.outbox_updates.is_empty()
            && self.cursors.is_empty()
            && self.locations.is_empty()
            && self.audit.is_empty()
            && self.keys.is_empty()
            && self.users.is_empty()
            && self.webhook_receipts.is_empty()
            && self.policies.is_empty()
            && self.delegations.is_empty()
            && self.ledger.is_empty()
            && self.overturns.is_empty()
    }

    /// Adds another write's rows to this one.
    pub fn merge(&mut self, other: EngineWrite) {
        self.definitions.extend(other.definitions);
        self.activations.extend(other.activations);
        self.instances.extend(other.instances);
        self.history.extend(other.history);
        self.inbox.extend(other.inbox);
        self.inbox_done.extend(other.inbox_done);
        self.new_tasks.extend(other.new_tasks);
        self.task_updates.extend(other.task_updates);
        self.outbox.extend(other.outbox);
        self.outbox_updates.extend(other.outbox_updates);
        self.cursors.extend(other.cursors);
        self.locations.extend(other.locations);
        self.audit.extend(other.audit);
        self.keys.extend(other.keys);
        self.users.extend(other.users);
        self.webhook_receipts.extend(other.webhook_receipts);
        self.policies.extend(other.policies);
        self.delegations.extend(other.delegations);
        self.ledger.extend(other.ledger);
        self.overturns.extend(other.overturns);
        self.lease_owner = self.lease_owner.take().or(other.lease_owner);
        self.lease_until = self.lease_until.max(other.lease_until);
        self.now = self.now.max(other.now);
    }
}

/// Filters for listing instances.
#[derive(Debug, Clone, Default)]
pub struct InstanceQuery {
    /// Only this workflow.
    pub workflow: Option<String>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this correlation key.
    pub key: Option<String>,
    /// Only this instance.
    pub id: Option<String>,
    /// Only instances whose trigger event names one of these locations (a caller's scope);
    /// `None` for any.
    pub within: Option<Vec<String>>,
    /// At most this many (default 100, at most 1,000).
    pub limit: i64,
}

/// Filters for the task inbox.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// Only this role.
    pub role: Option<String>,
    /// Only tasks scoped to one of these locations (none = any scope).
    pub locations: Option<Vec<String>>,
    /// Only this status; `open` includes claimed tasks.
    pub status: Option<String>,
    /// Only tasks due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Only this instance.
    pub instance: Option<String>,
    /// At most this many (default 100, at most 1,000).
    pub limit: i64,
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

fn opt_text(v: Option<String>) -> Param {
    match v {
        Some(s) => Param::Text(s),
        None => Param::OptText(None),
    }
}

/// Rows per multi-row statement.
const CHUNK: usize = 500;

/// The statements of an engine write, in the order they must run. Instance updates are marked
/// `must_change`: if one changes no row, the transaction is abandoned.
pub(crate) fn statements(w: &EngineWrite, now: i64) -> Vec<Sql> {
    let now = w.now.map_or(now, micros);
    let mut out = Vec::new();
    for k in &w.keys {
        let mut s = Sql::default();
        match k {
            KeyChange::Create(k, hash) => {
                s.push("INSERT INTO api_keys (id, name, prefix, hash, roles, scopes, created_at) VALUES (");
                s.bind("?", Param::Text(k.id.clone()));
                s.bind(", ?", Param::Text(k.name.clone()));
                s.bind(", ?", Param::Text(k.prefix.clone()));
                s.bind(", ?", Param::Text(hash.clone()));
                s.bind(", ?", Param::Text(serde_json::to_string(&k.roles).unwrap_or_default()));
                s.bind(", ?", Param::Text(serde_json::to_string(&k.scopes).unwrap_or_default()));
                s.bind(", ?)", Param::Int(k.created_at.timestamp_micros()));
            }
            KeyChange::Revoke(id, at) => {
                s.bind("UPDATE api_keys SET revoked_at = ?", Param::Int(micros(*at)));
                s.bind(" WHERE id = ? AND revoked_at IS NULL", Param::Text(id.clone()));
                s.must_change = true;
            }
        }
        out.push(s);
    }
    out.extend(crate::users::statements(&w.users));
    for d in &w.definitions {
        let mut s = Sql::default();
        s.push("INSERT INTO workflow_definitions (workflow, version, title, source, digest, active, created_at, created_by) VALUES (");
        s.bind("?", Param::Text(d.workflow.clone()));
        s.bind(", ?", Param::Int(d.version));
        s.bind(", ?", Param::Text(d.title.clone()));
        s.bind(", ?", Param::Text(d.source.clone()));
        s.bind(", ?", Param::Text(d.digest.clone()));
        s.bind(", ?", Param::Int(i64::from(d.active)));
        s.bind(", ?", Param::Int(micros(d.created_at)));
        s.bind(", ?)", opt_text(d.created_by.clone()));
        s.must_change = true;
        out.push(s);
    }
    for (workflow, version, active) in &w.activations {
        let mut s = Sql::default();
        s.bind("UPDATE workflow_definitions SET active = ?", Param::Int(i64::from(*active)));
        s.bind(" WHERE workflow = ?", Param::Text(workflow.clone()));
        s.bind(" AND version = ?", Param::Int(*version));
        s.must_change = true;
        out.push(s);
    }
    let (inserts, updates): (Vec<&InstanceWrite>, Vec<&InstanceWrite>) =
        w.instances.iter().partition(|i| i.expected_rev == 0);
    for chunk in inserts.chunks(CHUNK) {
        let mut s = Sql::default();
        s.push(
            "INSERT INTO workflow_instances (id, workflow, version, status, is_open, correlation_key, outcome, state, \
             rev, trigger_seq, created_at, updated_at) VALUES ",
        );
        for (i, iw) in chunk.iter().enumerate() {
            let r = &iw.record;
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(r.id.clone()));
            s.bind(", ?", Param::Text(r.workflow.clone()));
            s.bind(", ?", Param::Int(r.version));
            s.bind(", ?", Param::Text(r.status.clone()));
            s.bind(", ?", Param::Int(i64::from(r.is_open)));
            s.bind(", ?", opt_text(r.correlation_key.clone()));
            s.bind(", ?", opt_text(r.outcome.clone()));
            s.bind(", ?", Param::Text(iw.state_json.clone()));
            s.bind(", ?", Param::Int(r.rev));
            s.bind(", ?", Param::OptInt(r.trigger_seq));
            s.bind(", ?", Param::Int(micros(r.created_at)));
            s.bind(", ?)", Param::Int(micros(r.updated_at)));
        }
        out.push(s);
    }
    for iw in updates {
        let r = &iw.record;
        let mut s = Sql::default();
        s.bind("UPDATE workflow_instances SET status = ?", Param::Text(r.status.clone()));
        s.bind(", is_open = ?", Param::Int(i64::from(r.is_open)));
        s.bind(", outcome = ?", opt_text(r.outcome.clone()));
        s.bind(", state = ?", Param::Text(iw.state_json.clone()));
        s.bind(", rev = ?", Param::Int(r.rev));
        s.bind(", updated_at = ?", Param::Int(micros(r.updated_at)));
        s.bind(" WHERE id = ?", Param::Text(r.id.clone()));
        s.bind(" AND rev = ?", Param::Int(iw.expected_rev));
        s.must_change = true;
        out.push(s);
    }
    for chunk in w.history.chunks(CHUNK) {
        let mut s = Sql::default();
        s.push("INSERT INTO instance_history (instance, n, at, kind, step, actor, data) VALUES ");
        for (i, h) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(h.instance.clone()));
            s.bind(", ?", Param::Int(h.n));
            s.bind(", ?", Param::Int(micros(h.at)));
            s.bind(", ?", Param::Text(h.kind.clone()));
            s.bind(", ?", opt_text(h.step.clone()));
            s.bind(", ?", opt_text(h.actor.clone()));
            s.bind(", ?)", Param::Text(json_text(&h.data)));
        }
        out.push(s);
    }
    for chunk in w.inbox_done.chunks(CHUNK) {
        let mut s = Sql::default();
        s.push("DELETE FROM engine_inbox WHERE id IN (");
        for (i, id) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "?" } else { ", ?" }, Param::Text(id.clone()));
        }
        s.push(")");
        out.push(s);
    }
    for chunk in w.inbox.chunks(CHUNK) {
        let mut s = Sql::default();
        s.push("INSERT INTO engine_inbox (id, instance, due_at, command) VALUES ");
        for (i, r) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(r.id.clone()));
            s.bind(", ?", Param::Text(r.instance.clone()));
            s.bind(", ?", Param::Int(micros(r.due_at)));
            s.bind(", ?)", Param::Text(json_text(&r.command)));
        }
        s.push(" ON CONFLICT (id) DO NOTHING");
        out.push(s);
    }
    for chunk in w.new_tasks.chunks(CHUNK) {
        let mut s = Sql::default();
        s.push(
            "INSERT INTO tasks (id, instance, workflow, step, role, location, status, priority, title, due_at, \
             overdue, escalation_level, evidence, outcomes, created_at, updated_at) VALUES ",
        );
        for (i, t) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(t.id.clone()));
            s.bind(", ?", Param::Text(t.instance.clone()));
            s.bind(", ?", Param::Text(t.workflow.clone()));
            s.bind(", ?", Param::Text(t.step.clone()));
            s.bind(", ?", Param::Text(t.role.clone()));
            s.bind(", ?", opt_text(t.location.clone()));
            s.bind(", ?", Param::Text(t.status.clone()));
            s.bind(", ?", Param::Int(t.priority));
            s.bind(", ?", Param::Text(t.title.clone()));
            s.bind(", ?", Param::OptInt(t.due_at.map(micros)));
            s.bind(", ?", Param::Int(i64::from(t.overdue)));
            s.bind(", ?", Param::Int(t.escalation_level));
            s.bind(", ?", Param::Text(json_text(&t.evidence)));
            s.bind(", ?", Param::Text(json_text(&t.outcomes)));
            s.bind(", ?", Param::Int(micros(t.created_at)));
            s.bind(", ?)", Param::Int(micros(t.updated_at)));
        }
        out.push(s);
    }
    for (id, update) in &w.task_updates {
        let mut s = Sql::default();
        s.bind("UPDATE tasks SET updated_at = ?", Param::Int(now));
        match update {
            TaskUpdate::Claimed { actor } => {
                s.bind(", status = 'claimed', claimed_by = ?", Param::Text(actor.clone()));
            }
            TaskUpdate::Decided { actor, outcome } => {
                s.bind(", status = 'decided', decided_by = ?", Param::Text(actor.clone()));
                s.bind(", decided_at = ?", Param::Int(now));
                s.bind(", outcome = ?", Param::Text(outcome.clone()));
            }
            TaskUpdate::Escalated { role, location, level } => {
                s.bind(", status = 'open', claimed_by = NULL, role = ?", Param::Text(role.clone()));
                s.bind(", location = ?", opt_text(location.clone()));
                s.bind(", escalation_level = ?", Param::Int(*level));
            }
            TaskUpdate::Overdue => s.push(", overdue = 1"),
            TaskUpdate::Reminded => s.bind(", reminded_at = ?", Param::Int(now)),
            TaskUpdate::Cancelled => s.push(", status = 'cancelled'"),
        }
        s.bind(" WHERE id = ?", Param::Text(id.clone()));
        out.push(s);
    }
    for chunk in w.outbox.chunks(CHUNK) {
        let mut s = Sql::default();
        s.push(
            "INSERT INTO outbox (key, instance, connector, operation, payload, status, attempts, max_attempts, \
             backoff_ms, max_interval_ms, next_attempt_at, lease_owner, lease_until, created_at, updated_at) VALUES ",
        );
        for (i, o) in chunk.iter().enumerate() {
            s.bind(if i == 0 { "(?" } else { ", (?" }, Param::Text(o.key.clone()));
            s.bind(", ?", Param::Text(o.instance.clone()));
            s.bind(", ?", Param::Text(o.connector.clone()));
            s.bind(", ?", Param::Text(o.operation.clone()));
            s.bind(", ?", Param::Text(json_text(&o.payload)));
            s.bind(", ?", Param::Text(o.status.clone()));
            s.bind(", ?", Param::Int(o.attempts));
            s.bind(", ?", Param::Int(o.max_attempts));
            s.bind(", ?", Param::Int(o.backoff_ms));
            s.bind(", ?", Param::Int(o.max_interval_ms));
            s.bind(", ?", Param::Int(micros(o.next_attempt_at)));
            s.bind(", ?", opt_text(w.lease_owner.clone()));
            s.bind(", ?", Param::OptInt(w.lease_until.map(micros)));
            s.bind(", ?", Param::Int(micros(o.created_at)));
            s.bind(", ?)", Param::Int(micros(o.updated_at)));
        }
        // A key already queued (a transition recomputed after a crash) keeps its first row.
        s.push(" ON CONFLICT (key) DO NOTHING");
        out.push(s);
    }
    for u in &w.outbox_updates {
        let mut s = Sql::default();
        s.bind("UPDATE outbox SET status = ?", Param::Text(u.status.clone()));
        s.bind(", attempts = COALESCE(?, attempts)", Param::OptInt(u.attempts));
        s.bind(", next_attempt_at = COALESCE(?, next_attempt_at)", Param::OptInt(u.next_attempt_at.map(micros)));
        s.bind(", last_error = COALESCE(?, last_error)", opt_text(u.last_error.clone()));
        s.bind(", response = COALESCE(?, response)", opt_text(u.response.as_ref().map(json_text)));
        s.push(", lease_owner = NULL, lease_until = NULL");
        s.bind(", updated_at = ?", Param::Int(now));
        s.bind(" WHERE key = ?", Param::Text(u.key.clone()));
        if u.only_pending {
            s.push(" AND status = 'pending'");
        }
        out.push(s);
    }
    for (name, from, to) in &w.cursors {
        let mut s = Sql::default();
        s.bind(
            "INSERT INTO engine_cursors (name, seq) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
            Param::Text(name.clone()),
        );
        out.push(s);
        let mut s = Sql::default();
        s.bind("UPDATE engine_cursors SET seq = ?", Param::Int(*to));
        s.bind(" WHERE name = ?", Param::Text(name.clone()));
        s.bind(" AND seq = ?", Param::Int(*from));
        s.must_change = true;
        out.push(s);
    }
    out.extend(crate::webhooks::receipt_statements(&w.webhook_receipts));
    for (code, data) in &w.locations {
        let mut s = Sql::default();
        s.bind("INSERT INTO locations (id, data, updated_at) VALUES (?", Param::Text(code.clone()));
        s.bind(", ?", Param::Text(json_text(data)));
        s.bind(
            ", ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
            Param::Int(now),
        );
        out.push(s);
    }
    out.extend(crate::governance::statements(w));
    out
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} is not valid: {e}").into())
}

fn json_col(r: &impl RowExt, col: &str) -> sqlx::Result<Value> {
    serde_json::from_str(&r.text(col)?).map_err(|e| corrupt(col, e))
}

fn opt_json_col(r: &impl RowExt, col: &str) -> sqlx::Result<Option<Value>> {
    r.opt_text(col)?.map(|t| serde_json::from_str(&t).map_err(|e| corrupt(col, e))).transpose()
}

pub(crate) fn definition_row(r: &impl RowExt) -> sqlx::Result<DefinitionRecord> {
    Ok(DefinitionRecord {
        workflow: r.text("workflow")?,
        version: r.int("version")?,
        title: r.text("title")?,
        source: r.text("source")?,
        digest: r.text("digest")?,
        active: r.int("active")? != 0,
        created_at: micros_to_time(r.int("created_at")?),
        created_by: r.opt_text("created_by")?,
    })
}

pub(crate) fn instance_row(r: &impl RowExt) -> sqlx::Result<InstanceRecord> {
    Ok(InstanceRecord {
        id: r.text("id")?,
        workflow: r.text("workflow")?,
        version: r.int("version")?,
        status: r.text("status")?,
        is_open: r.int("is_open")? != 0,
        correlation_key: r.opt_text("correlation_key")?,
        outcome: r.opt_text("outcome")?,
        state: json_col(r, "state")?,
        rev: r.int("rev")?,
        trigger_seq: r.opt_int("trigger_seq")?,
        created_at: micros_to_time(r.int("created_at")?),
        updated_at: micros_to_time(r.int("updated_at")?),
    })
}

pub(crate) fn history_row(r: &impl RowExt) -> sqlx::Result<HistoryRecord> {
    Ok(HistoryRecord {
        instance: r.text("instance")?,
        n: r.int("n")?,
        at: micros_to_time(r.int("at")?),
        kind: r.text("kind")?,
        step: r.opt_text("step")?,
        actor: r.opt_text("actor")?,
        data: json_col(r, "data")?,
    })
}

pub(crate) fn inbox_row(r: &impl RowExt) -> sqlx::Result<InboxRecord> {
    Ok(InboxRecord {
        id: r.text("id")?,
        instance: r.text("instance")?,
        due_at: micros_to_time(r.int("due_at")?),
        command: json_col(r, "command")?,
    })
}

pub(crate) fn task_row(r: &impl RowExt) -> sqlx::Result<TaskRecord> {
    Ok(TaskRecord {
        id: r.text("id")?,
        instance: r.text("instance")?,
        workflow: r.text("workflow")?,
        step: r.text("step")?,
        role: r.text("role")?,
        location: r.opt_text("location")?,
        status: r.text("status")?,
        priority: r.int("priority")?,
        title: r.text("title")?,
        due_at: r.opt_int("due_at")?.map(micros_to_time),
        overdue: r.int("overdue")? != 0,
        escalation_level: r.int("escalation_level")?,
        evidence: json_col(r, "evidence")?,
        outcomes: json_col(r, "outcomes")?,
        claimed_by: r.opt_text("claimed_by")?,
        decided_by: r.opt_text("decided_by")?,
        decided_at: r.opt_int("decided_at")?.map(micros_to_time),
        outcome: r.opt_text("outcome")?,
        reminded_at: r.opt_int("reminded_at")?.map(micros_to_time),
        created_at: micros_to_time(r.int("created_at")?),
        updated_at: micros_to_time(r.int("updated_at")?),
    })
}

pub(crate) fn outbox_row(r: &impl RowExt) -> sqlx::Result<OutboxRecord> {
    Ok(OutboxRecord {
        key: r.text("key")?,
        instance: r.text("instance")?,
        connector: r.text("connector")?,
        operation: r.text("operation")?,
        payload: json_col(r, "payload")?,
        status: r.text("status")?,
        attempts: r.int("attempts")?,
        max_attempts: r.int("max_attempts")?,
        backoff_ms: r.int("backoff_ms")?,
        max_interval_ms: r.int("max_interval_ms")?,
        next_attempt_at: micros_to_time(r.int("next_attempt_at")?),
        last_error: r.opt_text("last_error")?,
        response: opt_json_col(r, "response")?,
        created_at: micros_to_time(r.int("created_at")?),
        updated_at: micros_to_time(r.int("updated_at")?),
    })
}

pub(crate) fn instances_sql(q: &InstanceQuery) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT * FROM workflow_instances WHERE 1 = 1");
    if let Some(w) = &q.workflow {
        s.bind(" AND workflow = ?", Param::Text(w.clone()));
    }
    if let Some(st) = &q.status {
        s.bind(" AND status = ?", Param::Text(st.clone()));
    }
    if let Some(k) = &q.key {
        s.bind(" AND correlation_key = ?", Param::Text(k.clone()));
    }
    if let Some(id) = &q.id {
        s.bind(" AND id = ?", Param::Text(id.clone()));
    }
    if q.within.is_some() {
        s.push(" AND trigger_seq IN (SELECT seq FROM event_subjects WHERE 1 = 1");
        crate::query::within(&mut s, "key", q.within.as_deref(), crate::query::location_key);
        s.push(")");
    }
    let limit = if q.limit <= 0 { 100 } else { q.limit.min(1000) };
    s.bind(" ORDER BY created_at DESC, id DESC LIMIT ?", Param::Int(limit));
    s
}

pub(crate) fn tasks_sql(q: &TaskQuery) -> Sql {
    let mut s = Sql::default();
    s.push("SELECT * FROM tasks WHERE 1 = 1");
    if let Some(r) = &q.role {
        s.bind(" AND role = ?", Param::Text(r.clone()));
    }
    match q.status.as_deref() {
        Some("open") => s.push(" AND status IN ('open', 'claimed')"),
        Some(st) => s.bind(" AND status = ?", Param::Text(st.to_owned())),
        None => {}
    }
    if let Some(locations) = &q.locations {
        if locations.is_empty() {
            s.push(" AND 1 = 0");
        } else {
            s.push(" AND location IN (");
            for (i, l) in locations.iter().enumerate() {
                s.bind(if i == 0 { "?" } else { ", ?" }, Param::Text(l.clone()));
            }
            s.push(")");
        }
    }
    if let Some(t) = q.due_before {
        s.bind(" AND due_at < ?", Param::Int(micros(t)));
    }
    if let Some(i) = &q.instance {
        s.bind(" AND instance = ?", Param::Text(i.clone()));
    }
    let limit = if q.limit <= 0 { 100 } else { q.limit.min(1000) };
    // Highest priority first, then the earliest due (tasks without a due time last).
    s.bind(
        " ORDER BY priority DESC, CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at, created_at, id LIMIT ?",
        Param::Int(limit),
    );
    s
}

/// Expands the engine's reads and work claims for a backend (see `common_operations`).
macro_rules! engine_operations {
    ($store:ty, $claim_inbox:expr, $claim_outbox:expr) => {
        impl $store {
            pub(crate) async fn definitions(
                &self,
                workflow: Option<&str>,
            ) -> $crate::Result<Vec<$crate::engine::DefinitionRecord>> {
                let mut s = $crate::query::Sql::default();
                s.push("SELECT * FROM workflow_definitions");
                if let Some(w) = workflow {
                    s.bind(" WHERE workflow = ?", $crate::query::Param::Text(w.to_owned()));
                }
                s.push(" ORDER BY workflow, version");
                let rows = Self::query(s).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::definition_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn instance(&self, id: &str) -> $crate::Result<Option<$crate::engine::InstanceRecord>> {
                let mut s = $crate::query::Sql::default();
                s.bind("SELECT * FROM workflow_instances WHERE id = ?", $crate::query::Param::Text(id.to_owned()));
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map($crate::engine::instance_row).transpose()?)
            }

            pub(crate) async fn instances(
                &self,
                q: &$crate::engine::InstanceQuery,
            ) -> $crate::Result<Vec<$crate::engine::InstanceRecord>> {
                let rows = Self::query($crate::engine::instances_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::instance_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn open_instances(
                &self,
                workflow: &str,
                keys: &[String],
            ) -> $crate::Result<Vec<$crate::engine::InstanceRecord>> {
                let mut out = Vec::new();
                for chunk in keys.chunks(500) {
                    let mut s = $crate::query::Sql::default();
                    s.bind(
                        "SELECT * FROM workflow_instances WHERE is_open = 1 AND workflow = ?",
                        $crate::query::Param::Text(workflow.to_owned()),
                    );
                    s.push(" AND correlation_key IN (");
                    for (i, k) in chunk.iter().enumerate() {
                        s.bind(if i == 0 { "?" } else { ", ?" }, $crate::query::Param::Text(k.clone()));
                    }
                    s.push(")");
                    let rows = Self::query(s).fetch_all(&self.pool).await?;
                    for r in &rows {
                        out.push($crate::engine::instance_row(r)?);
                    }
                }
                Ok(out)
            }

            pub(crate) async fn history(&self, instance: &str) -> $crate::Result<Vec<$crate::engine::HistoryRecord>> {
                let mut s = $crate::query::Sql::default();
                s.bind(
                    "SELECT * FROM instance_history WHERE instance = ? ORDER BY n",
                    $crate::query::Param::Text(instance.to_owned()),
                );
                let rows = Self::query(s).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::history_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn tasks(
                &self,
                q: &$crate::engine::TaskQuery,
            ) -> $crate::Result<Vec<$crate::engine::TaskRecord>> {
                let rows = Self::query($crate::engine::tasks_sql(q)).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::task_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn task(&self, id: &str) -> $crate::Result<Option<$crate::engine::TaskRecord>> {
                let mut s = $crate::query::Sql::default();
                s.bind("SELECT * FROM tasks WHERE id = ?", $crate::query::Param::Text(id.to_owned()));
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map($crate::engine::task_row).transpose()?)
            }

            pub(crate) async fn outbox_for(
                &self,
                instance: Option<&str>,
                status: Option<&str>,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::engine::OutboxRecord>> {
                let mut s = $crate::query::Sql::default();
                s.push("SELECT * FROM outbox WHERE 1 = 1");
                if let Some(i) = instance {
                    s.bind(" AND instance = ?", $crate::query::Param::Text(i.to_owned()));
                }
                if let Some(st) = status {
                    s.bind(" AND status = ?", $crate::query::Param::Text(st.to_owned()));
                }
                s.bind(" ORDER BY created_at, key LIMIT ?", $crate::query::Param::Int(limit.clamp(1, 10_000)));
                let rows = Self::query(s).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::outbox_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn outbox_entry(&self, key: &str) -> $crate::Result<Option<$crate::engine::OutboxRecord>> {
                let mut s = $crate::query::Sql::default();
                s.bind("SELECT * FROM outbox WHERE key = ?", $crate::query::Param::Text(key.to_owned()));
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                Ok(row.as_ref().map($crate::engine::outbox_row).transpose()?)
            }

            pub(crate) async fn inbox_for(&self, instance: &str) -> $crate::Result<Vec<$crate::engine::InboxRecord>> {
                let mut s = $crate::query::Sql::default();
                s.bind(
                    "SELECT * FROM engine_inbox WHERE instance = ? ORDER BY due_at, id",
                    $crate::query::Param::Text(instance.to_owned()),
                );
                let rows = Self::query(s).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::inbox_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn claim_inbox(
                &self,
                owner: &str,
                now: i64,
                until: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::engine::InboxRecord>> {
                let s: $crate::query::Sql = $claim_inbox(owner, now, until, limit);
                let rows = Self::query(s).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::inbox_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn claim_outbox(
                &self,
                owner: &str,
                now: i64,
                until: i64,
                limit: i64,
            ) -> $crate::Result<Vec<$crate::engine::OutboxRecord>> {
                let s: $crate::query::Sql = $claim_outbox(owner, now, until, limit);
                let rows = Self::query(s).fetch_all(&self.pool).await?;
                Ok(rows.iter().map($crate::engine::outbox_row).collect::<sqlx::Result<_>>()?)
            }

            pub(crate) async fn next_due(&self) -> $crate::Result<Option<i64>> {
                let row = sqlx::query(
                    "SELECT MIN(t) AS t FROM (SELECT MIN(due_at) AS t FROM engine_inbox \
                     UNION ALL SELECT MIN(next_attempt_at) AS t FROM outbox WHERE status = 'pending') AS d",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok($crate::rows::RowExt::opt_int(&row, "t")?)
            }

            pub(crate) async fn cursor(&self, name: &str) -> $crate::Result<i64> {
                let mut s = $crate::query::Sql::default();
                s.bind("SELECT seq FROM engine_cursors WHERE name = ?", $crate::query::Param::Text(name.to_owned()));
                let row = Self::query(s).fetch_optional(&self.pool).await?;
                Ok(match row {
                    Some(r) => $crate::rows::RowExt::int(&r, "seq")?,
                    None => 0,
                })
            }

            pub(crate) async fn locations(&self) -> $crate::Result<Vec<(String, serde_json::Value)>> {
                let rows = sqlx::query("SELECT id, data FROM locations ORDER BY id").fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(($crate::rows::RowExt::text(r, "id")?, $crate::engine::json_value(r, "data")?));
                }
                Ok(out)
            }
        }
    };
}

pub(crate) use engine_operations;

pub(crate) fn json_value(r: &impl RowExt, col: &str) -> sqlx::Result<Value> {
    json_col(r, col)
}

/// Due inbox rows, oldest first. SQLite: one process owns the file, so a read is a claim.
pub(crate) fn sqlite_claim_inbox(_owner: &str, now: i64, _until: i64, limit: i64) -> Sql {
    let mut s = Sql::default();
    s.bind("SELECT * FROM engine_inbox WHERE due_at <= ?", Param::Int(now));
    s.bind(" ORDER BY due_at, id LIMIT ?", Param::Int(limit));
    s
}

/// Due outbox rows not held by a live lease. SQLite: one process, a read is a claim.
pub(crate) fn sqlite_claim_outbox(_owner: &str, now: i64, _until: i64, limit: i64) -> Sql {
    let mut s = Sql::default();
    s.bind("SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?", Param::Int(now));
    s.bind(" AND (lease_until IS NULL OR lease_until < ?)", Param::Int(now));
    s.bind(" ORDER BY next_attempt_at, key LIMIT ?", Param::Int(limit));
    s
}

/// PostgreSQL: due inbox rows whose lease is free or expired, leased to `owner` with
/// `FOR UPDATE SKIP LOCKED` so that processes never take the same row at once.
pub(crate) fn pg_claim_inbox(owner: &str, now: i64, until: i64, limit: i64) -> Sql {
    let mut s = Sql::default();
    s.bind("UPDATE engine_inbox SET lease_owner = ?", Param::Text(owner.to_owned()));
    s.bind(", lease_until = ?", Param::Int(until));
    s.bind(
        " WHERE id IN (SELECT id FROM engine_inbox WHERE due_at <= ? AND (lease_until IS NULL OR lease_until < ",
        Param::Int(now),
    );
    s.bind("?) ORDER BY due_at LIMIT ", Param::Int(now));
    s.bind("? FOR UPDATE SKIP LOCKED) RETURNING *", Param::Int(limit));
    s
}

/// PostgreSQL: due pending outbox rows, leased as [`pg_claim_inbox`] does.
pub(crate) fn pg_claim_outbox(owner: &str, now: i64, until: i64, limit: i64) -> Sql {
    let mut s = Sql::default();
    s.bind("UPDATE outbox SET lease_owner = ?", Param::Text(owner.to_owned()));
    s.bind(", lease_until = ?", Param::Int(until));
    s.bind(
        " WHERE key IN (SELECT key FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? \
         AND (lease_until IS NULL OR lease_until < ",
        Param::Int(now),
    );
    s.bind("?) ORDER BY next_attempt_at LIMIT ", Param::Int(now));
    s.bind("? FOR UPDATE SKIP LOCKED) RETURNING *", Param::Int(limit));
    s
}

/// What a conflicting statement was about, for the error.
pub(crate) fn conflict_message(s: &Sql) -> String {
    let what = s.text.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    format!("the record changed since it was read ({what}): retry with the current state")
}

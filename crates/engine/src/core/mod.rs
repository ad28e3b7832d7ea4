//! The functional core of the executor: `apply(state, command) -> (state, effects)`.
//!
//! [`apply`] takes an instance's state and one [`Command`] (the trigger event, a correlated
//! event, a task decision, an action result, a fired timer, a read result, a cancellation) and
//! returns the new state with the [`Effect`]s that must follow: history entries, tasks to open or
//! update, outbox messages, timers, events to append. The runner persists all of it in one store
//! transaction. Nothing in here awaits, reads the wall clock or draws randomness: time and ids
//! come from the [`Env`], so every run can be replayed exactly.
//!
//! Reads (`enrich` steps) are the one thing the core cannot do alone: it asks for them with
//! [`Transition::reads`], and the runner answers each with [`Command::ReadResult`] before it
//! persists anything, so a persisted state never waits on a read.

mod apply;
mod state;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use backroom_model::Location;

pub use crate::policy::Exclusion;
pub use apply::{apply, validate_decision};
pub use state::{Approval, ApprovalChain, Instance, InstanceStatus, PolicyUsed, Token, TokenState};

use crate::policy::PolicyBook;
use crate::workflow::{ProjectionKind, RetryPolicy};

/// Where time and ids come from: the wall clock and uuids in production, a manual clock and a
/// counter in tests.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// Makes unique ids (for tasks).
pub trait IdGen: Send {
    /// A new id.
    fn next_id(&mut self) -> String;
}

/// The locations the core knows, for task scopes, calendars and escalation.
pub trait Directory: Send + Sync {
    /// The location with this code.
    fn location(&self, id: &str) -> Option<Location>;
}

/// What [`apply`] may use besides the state and the command.
pub struct Env<'a> {
    /// The time of the command.
    pub now: DateTime<Utc>,
    /// Id generator.
    pub ids: &'a mut dyn IdGen,
    /// Locations.
    pub directory: &'a dyn Directory,
    /// Approval policies and today's automatic totals (for `approval` steps).
    pub policies: &'a dyn PolicyBook,
}

/// A person acting for another through a delegation of the other's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegated {
    /// The person whose authority is used.
    pub delegator: String,
    /// The delegation's id.
    pub delegation: String,
}

/// What happens to an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Command {
    /// The trigger event started the instance.
    Start {
        /// The event (as the API shows events).
        event: Value,
    },
    /// A correlated event arrived.
    Deliver {
        /// The event.
        event: Value,
    },
    /// A person decided a task.
    TaskDecided {
        /// The task.
        task: String,
        /// The outcome chosen.
        outcome: String,
        /// Fields sent with a `modify` outcome.
        #[serde(default)]
        fields: Map<String, Value>,
        /// The decider's comment.
        #[serde(default)]
        comment: Option<String>,
        /// Who decided.
        actor: String,
        /// The delegation the decider acts through, when the role is not their own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<Delegated>,
    },
    /// A person claimed a task.
    TaskClaimed {
        /// The task.
        task: String,
        /// Who claimed it.
        actor: String,
        /// The delegation the claimant acts through, when the role is not their own.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on_behalf_of: Option<Delegated>,
    },
    /// The outbox finished with an action (or a person acted on its dead letter).
    ActionResult {
        /// The outbox key (`instance/step`).
        key: String,
        /// What came of it.
        result: ActionOutcome,
    },
    /// A person sent a dead-lettered action back to the outbox.
    ActionRetried {
        /// The outbox key.
        key: String,
        /// Who.
        actor: String,
    },
    /// A timer fell due.
    TimerFired {
        /// The timer.
        timer: Timer,
    },
    /// A read asked for in [`Transition::reads`] was answered.
    ReadResult {
        /// The token that asked.
        token: u32,
        /// The data, or why it could not be read.
        result: ReadOutcome,
    },
    /// A person cancelled the instance.
    Cancel {
        /// Who.
        actor: String,
        /// Why.
        reason: Option<String>,
    },
}

/// The result of an action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ActionOutcome {
    /// The system applied it; its response.
    Done {
        /// The response body.
        response: Value,
    },
    /// It failed for good (a permanent error, or retries used up).
    Failed {
        /// What the system said.
        error: String,
    },
    /// A person skipped the dead-lettered action: the instance continues as if it had succeeded.
    Skipped {
        /// Who.
        actor: String,
    },
    /// A person chose to compensate the dead-lettered action: the instance fails and undoes what
    /// took effect.
    Compensate {
        /// Who.
        actor: String,
    },
}

/// The answer to a read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReadOutcome {
    /// The data.
    Ok {
        /// The step's output.
        data: Value,
    },
    /// A failure that may pass (database busy, connector timeout): the step is retried.
    Retryable {
        /// What happened.
        error: String,
    },
    /// A failure that will not pass (the connector refused the query).
    Permanent {
        /// What happened.
        error: String,
    },
}

/// A read the runner must answer (see [`Command::ReadResult`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadRequest {
    /// The token waiting for it.
    pub token: u32,
    /// The step.
    pub step: String,
    /// What to read.
    pub source: ReadSource,
}

/// What an `enrich` step reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ReadSource {
    /// A stock position.
    Stock {
        /// Location code.
        location: String,
        /// GTIN or SKU.
        item: String,
    },
    /// Sales over the days before `until`.
    DailySales {
        /// Location code.
        location: String,
        /// GTIN or SKU.
        item: String,
        /// Days back.
        days: u32,
        /// The end of the period (the instance's time).
        until: DateTime<Utc>,
    },
    /// The events naming any of these document numbers, oldest first.
    Documents {
        /// Document numbers.
        numbers: Vec<String>,
        /// The instance's trigger event, left out.
        exclude_seq: Option<i64>,
    },
    /// A connector query.
    Query {
        /// Connector.
        connector: String,
        /// Operation.
        operation: String,
        /// Request.
        request: Value,
    },
}

impl ReadSource {
    pub(crate) fn projection(kind: ProjectionKind, location: String, item: String, now: DateTime<Utc>) -> Self {
        match kind {
            ProjectionKind::Stock => ReadSource::Stock { location, item },
            ProjectionKind::DailySales { days } => ReadSource::DailySales { location, item, days, until: now },
        }
    }
}

/// A durable timer: fires [`Command::TimerFired`] at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timer {
    /// Unique within the instance.
    pub id: String,
    /// When it fires.
    pub due_at: DateTime<Utc>,
    /// What it is for.
    pub purpose: TimerPurpose,
}

/// What a timer is for. A timer whose purpose no longer applies when it fires (the wait ended,
/// the task was decided) does nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimerPurpose {
    /// Retry the step the token is on.
    Retry {
        /// The token.
        token: u32,
    },
    /// A `wait` for an event timed out.
    WaitTimeout {
        /// The token.
        token: u32,
    },
    /// A `wait` until a time is over.
    WaitUntil {
        /// The token.
        token: u32,
    },
    /// A task's due time.
    TaskDue {
        /// The task.
        task: String,
    },
    /// A task's escalation rung.
    TaskEscalation {
        /// The task.
        task: String,
        /// The rung (0-based).
        rung: usize,
    },
    /// A task's reminder.
    TaskReminder {
        /// The task.
        task: String,
    },
}

/// What must happen because of a transition, persisted with the new state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    /// Open a task.
    OpenTask(NewTask),
    /// Change a task.
    UpdateTask {
        /// The task.
        task: String,
        /// The change.
        change: TaskChange,
    },
    /// Put a message in the outbox.
    Send(OutboxMessage),
    /// The action failed for good and nothing routes the failure: it waits in the dead-letter
    /// list for a person.
    DeadLetter {
        /// The outbox key.
        key: String,
        /// Why.
        error: String,
    },
    /// Take back an action not delivered yet (its instance was cancelled or failed); only for
    /// actions without a compensation (those are left to finish and then undone).
    Withdraw {
        /// The outbox key.
        key: String,
    },
    /// Arm a timer.
    Arm(Timer),
    /// Record an automatic approval in the autonomy ledger.
    RecordAutomatic(AutomaticDecision),
    /// Append an event to the log.
    Emit {
        /// The event id (deterministic: `instance/step`).
        id: String,
        /// Event type.
        event_type: String,
        /// The event's data.
        data: Value,
    },
}

/// An approval the system gave alone, for the autonomy ledger (daily totals, demotion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutomaticDecision {
    /// The policy's action type.
    pub policy: String,
    /// The scope of the policy version used (`None`: the company).
    pub policy_scope: Option<String>,
    /// The version used.
    pub policy_version: i64,
    /// The location the amount was approved for.
    pub location: Option<String>,
    /// The UTC day.
    pub day: chrono::NaiveDate,
    /// The amount approved.
    pub amount: rust_decimal::Decimal,
    /// The step.
    pub step: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A task to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTask {
    /// Its id.
    pub id: String,
    /// The step.
    pub step: String,
    /// The role that decides.
    pub role: String,
    /// The location scope (none = the company).
    pub location: Option<String>,
    /// Title.
    pub title: String,
    /// Higher first.
    pub priority: i64,
    /// Due time.
    pub due_at: Option<DateTime<Utc>>,
    /// What the decider sees.
    pub evidence: Value,
    /// The allowed outcomes: `[{name, fields: [{name, type, required}]}]`.
    pub outcomes: Value,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
}

/// A change to a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum TaskChange {
    /// Someone claimed it.
    Claimed {
        /// Who.
        actor: String,
    },
    /// Someone decided it.
    Decided {
        /// Who.
        actor: String,
        /// The outcome.
        outcome: String,
    },
    /// It moved up the ladder.
    Escalated {
        /// The new role.
        role: String,
        /// The new scope.
        location: Option<String>,
        /// The rung reached (1 = first escalation).
        level: u32,
    },
    /// Its due time passed.
    Overdue,
    /// Its assignees were reminded.
    Reminded,
    /// It is no longer needed (instance cancelled, branch lost a race).
    Cancelled,
}

/// A message for the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The idempotency key, `instance/step` (with `#n` for the n-th visit of a step in a loop,
    /// `/compensate` for a compensation).
    pub key: String,
    /// Connector.
    pub connector: String,
    /// Operation.
    pub operation: String,
    /// Request.
    pub payload: Value,
    /// Delivery retries.
    pub attempts: u32,
    /// Backoff in milliseconds.
    pub backoff_ms: i64,
    /// Longest backoff in milliseconds.
    pub max_interval_ms: i64,
}

impl OutboxMessage {
    pub(crate) fn new(key: String, connector: &str, operation: &str, payload: Value, retry: &RetryPolicy) -> Self {
        OutboxMessage {
            key,
            connector: connector.to_owned(),
            operation: operation.to_owned(),
            payload,
            attempts: retry.attempts,
            backoff_ms: retry.backoff.num_milliseconds(),
            max_interval_ms: retry.max_interval.num_milliseconds(),
        }
    }
}

/// One line of an instance's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When.
    pub at: DateTime<Utc>,
    /// What: `started`, `step_completed`, `task_opened`, `task_decided`, `action_sent`, …
    pub kind: String,
    /// The step it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The person or system that acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Details (outputs, matched rules, errors, keys).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub data: Value,
}

/// The outcome of [`apply`].
#[derive(Debug, Clone, Default)]
pub struct Transition {
    /// History entries to append, in order.
    pub history: Vec<HistoryEntry>,
    /// Effects to persist with the state.
    pub effects: Vec<Effect>,
    /// Reads to answer before persisting.
    pub reads: Vec<ReadRequest>,
    /// Steps that ran to completion (for throughput metrics).
    pub steps_completed: u32,
}

/// Why a command was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The instance has ended.
    #[error("instance {0} has ended")]
    Ended(String),
    /// The instance is already undoing its actions (after a failure or a cancellation).
    #[error("instance {0} is already compensating its actions")]
    Ending(String),
    /// No such open task on this instance.
    #[error("task {0} is not open on this instance")]
    NoSuchTask(String),
    /// The outcome is not allowed.
    #[error("outcome {outcome:?} is not allowed for this task; allowed: {allowed}")]
    Outcome {
        /// What was sent.
        outcome: String,
        /// The allowed outcomes.
        allowed: String,
    },
    /// A field is wrong.
    #[error("field {field}: {message}")]
    Field {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The actor may not claim or decide this task: they requested what it approves, or
    /// approved an earlier level of the chain.
    #[error("{actor} may not act on task {task}: {reason}")]
    SegregationOfDuties {
        /// The task.
        task: String,
        /// Who tried.
        actor: String,
        /// Why not ("alice requested this refund").
        reason: String,
    },
    /// The task is claimed by someone else.
    #[error("task {task} is claimed by {by}")]
    Claimed {
        /// The task.
        task: String,
        /// Who holds it.
        by: String,
    },
}

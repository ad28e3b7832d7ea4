//! The checked, compiled form of a workflow definition: what the executor runs.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Duration;
use serde_json::Value;

use crate::classify::Classifier;
use crate::decision::{DecisionTable, Position};
use crate::expr::Expression;

/// A compiled expression and where it was written.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The compiled expression.
    pub compiled: Arc<dyn Expression>,
    /// Where it is in the definition's source.
    pub position: Option<Position>,
}

impl Expr {
    /// The expression's text.
    pub fn source(&self) -> &str {
        self.compiled.source()
    }
}

/// A value built from the instance context: a YAML string is an expression, other scalars are
/// themselves, and mappings and lists are built member by member.
#[derive(Debug, Clone)]
pub enum Template {
    /// An expression (a YAML string).
    Expr(Expr),
    /// A literal number, boolean or null.
    Literal(Value),
    /// A JSON object, member by member, in source order.
    Object(Vec<(String, Template)>),
    /// A JSON array.
    List(Vec<Template>),
}

/// A workflow definition, checked and compiled.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Its id, e.g. `replenishment_exception`.
    pub id: String,
    /// Its version, assigned by the store when the definition is saved (1 for a definition
    /// read from a file that has not been saved).
    pub version: u32,
    /// A title for people.
    pub title: String,
    /// What it is for, for people.
    pub description: Option<String>,
    /// When an instance starts (and which events reach an open one).
    pub trigger: Trigger,
    /// Values computed from the trigger event when an instance starts, in order; later ones may
    /// read earlier ones as `inputs.<name>`.
    pub inputs: Vec<(String, Expr)>,
    /// The id of the first step.
    pub start: String,
    /// The steps, in source order.
    pub steps: Vec<Step>,
    /// Step id → index into `steps`.
    pub index: HashMap<String, usize>,
    /// The decision tables its `decide` steps use, by table id.
    pub tables: HashMap<String, Arc<DecisionTable>>,
    /// The classifiers its `classify` steps use, by name (defined in the workflow).
    pub classifiers: HashMap<String, Arc<dyn Classifier>>,
    /// The YAML text it was read from.
    pub source: String,
}

impl Workflow {
    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.index.get(id).and_then(|&i| self.steps.get(i))
    }
}

/// When an instance starts.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// The event type that starts it, e.g. `inventory.stockout_reported`.
    pub event: String,
    /// A condition over `event`; the event starts an instance only when it holds.
    pub when: Option<Expr>,
    /// The correlation key over `event` (a string): while an instance with the same key is open,
    /// a matching event is delivered to it instead of starting another.
    pub key: Option<Expr>,
}

/// One step of a workflow.
#[derive(Debug, Clone)]
pub struct Step {
    /// Its id, unique in the workflow; its outputs are `steps.<id>` in the context.
    pub id: String,
    /// A title for people.
    pub title: Option<String>,
    /// What it does.
    pub kind: StepKind,
    /// The step that follows when it succeeds. `None` on a step inside a `parallel` branch ends
    /// the branch; `end`, `branch` and `task` (routing per outcome) steps have none.
    pub next: Option<String>,
    /// Where to go when the step fails (after its retries); without it, the instance fails and
    /// its compensations run.
    pub on_error: Option<String>,
    /// How often and how fast a failing step is retried.
    pub retry: RetryPolicy,
    /// Where the step is defined.
    pub position: Option<Position>,
}

/// Retries of a failing step: `attempts` in all (1 = no retry), waiting `backoff`, doubled after
/// each attempt, never more than `max_interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The wait before the second attempt.
    pub backoff: Duration,
    /// The longest wait between attempts.
    pub max_interval: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 1 s then 2 s apart, at most 1 min.
    fn default() -> Self {
        RetryPolicy { attempts: 3, backoff: Duration::seconds(1), max_interval: Duration::minutes(1) }
    }
}

impl RetryPolicy {
    /// The wait before attempt `next_attempt` (2 for the first retry).
    pub fn delay_before(&self, next_attempt: u32) -> Duration {
        let doublings = next_attempt.saturating_sub(2).min(30);
        let factor = 1i32 << doublings;
        let delay = self.backoff.checked_mul(factor).unwrap_or(self.max_interval);
        delay.min(self.max_interval)
    }
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Reads a projection or queries a connector; the result is the step's output.
    Enrich(Enrich),
    /// Runs a classifier over the context; outputs `label`, `confidence`, `reasons`.
    Classify {
        /// The classifier's name (in [`Workflow::classifiers`]).
        classifier: String,
    },
    /// Evaluates a decision table; outputs the table's outputs and `matched` (the rule ids).
    Decide(Decide),
    /// Checks a document against the documents related to it by a built-in retail rule.
    Check(CheckSpec),
    /// Asks a person to decide.
    Task(Box<TaskSpec>),
    /// Approves an amount under an approval policy: automatically within the policy's autonomy
    /// limits, or through a chain of tasks, one per level the amount reaches.
    Approval(Box<ApprovalSpec>),
    /// Sends a command to a connector through the outbox.
    Action(ActionSpec),
    /// Waits for a correlated event or a time.
    Wait(WaitSpec),
    /// Goes to the first case whose condition holds.
    Branch(Branch),
    /// Runs branches side by side and joins them.
    Parallel(Parallel),
    /// Appends an event to the log.
    Emit(Emit),
    /// Ends the instance with an outcome.
    End {
        /// The outcome, e.g. `resolved`, `rejected`.
        outcome: String,
    },
}

impl StepKind {
    /// The kind's name as written in YAML (`enrich`, `classify`, …).
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Enrich(_) => "enrich",
            StepKind::Classify { .. } => "classify",
            StepKind::Decide(_) => "decide",
            StepKind::Check(_) => "check",
            StepKind::Task(_) => "task",
            StepKind::Approval(_) => "approval",
            StepKind::Action(_) => "action",
            StepKind::Wait(_) => "wait",
            StepKind::Branch(_) => "branch",
            StepKind::Parallel(_) => "parallel",
            StepKind::Emit(_) => "emit",
            StepKind::End { .. } => "end",
        }
    }
}

/// Where an `enrich` step reads from.
#[derive(Debug, Clone)]
pub enum Enrich {
    /// A projection of the local store.
    Projection {
        /// Which projection.
        projection: ProjectionKind,
        /// The location (an expression giving a location code).
        location: Expr,
        /// The item (an expression giving a GTIN or SKU).
        item: Expr,
    },
    /// A query to a connector (safe to repeat: it changes nothing).
    Query {
        /// The connector's name.
        connector: String,
        /// The query operation.
        operation: String,
        /// The request.
        with: Template,
    },
    /// The events of the log that name any of these document numbers (other than the
    /// instance's own trigger event), oldest first.
    Documents {
        /// Expressions giving document numbers; a null number is skipped.
        numbers: Vec<Expr>,
    },
}

/// The projections an `enrich` step can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionKind {
    /// The stock position: outputs `found`, `on_hand`, `in_transit`, `unit`, `last_counted_at`.
    Stock,
    /// Sales over the last `days` business days: outputs `days`, `sold`, `returned`, `revenue`,
    /// `transactions`, `average_daily_sold`.
    DailySales {
        /// How many days back from the instance's current time.
        days: u32,
    },
}

/// The built-in rules a `check` step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckRule {
    /// A supplier invoice against its purchase order, goods receipts and earlier invoices and
    /// credit notes (`backroom_model::three_way_match`). Settings per line: `over_receipt_percent`,
    /// `over_billing_percent`, `price_percent`, from inputs `supplier`, `item`, `location`, `region`.
    ThreeWayMatch,
    /// A return request against the original sale and till returns (`backroom_model::check_return`).
    /// Settings: `window_days`, from inputs `location`, `region`.
    ReturnPolicy,
}

impl CheckRule {
    /// The rule's name as written in YAML.
    pub fn name(self) -> &'static str {
        match self {
            CheckRule::ThreeWayMatch => "three_way_match",
            CheckRule::ReturnPolicy => "return_policy",
        }
    }
}

/// A `check` step.
#[derive(Debug, Clone)]
pub struct CheckSpec {
    /// The rule.
    pub rule: CheckRule,
    /// The document checked (e.g. `event.data`).
    pub document: Expr,
    /// The related events (e.g. `steps.history.events`): objects with `type` and `data`.
    pub related: Expr,
    /// When the document was made (defaults to the instance's time).
    pub on: Option<Expr>,
    /// A decision table giving the rule's settings (see [`CheckRule`]); without it, the defaults.
    pub settings: Option<String>,
}

/// A `decide` step.
#[derive(Debug, Clone)]
pub struct Decide {
    /// The table's id (in [`Workflow::tables`]).
    pub table: String,
    /// The table's inputs, by input name. An input not listed is read from the context by its
    /// (dotted) name.
    pub inputs: Vec<(String, Expr)>,
}

/// A `task` step: what a person must decide.
#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// The role that decides, e.g. `store_manager`.
    pub role: String,
    /// The location whose people may decide (an expression giving a location code); `None` for
    /// the whole company.
    pub location: Option<Expr>,
    /// The task's title (an expression giving text).
    pub title: Template,
    /// Priority, higher first (an expression giving an integer); 0 when absent.
    pub priority: Option<Expr>,
    /// What the decider sees; `None` snapshots the whole context.
    pub evidence: Option<Template>,
    /// The outcomes the decider may choose, and where each goes.
    pub outcomes: Vec<Outcome>,
    /// Business time (on the location's calendar) from creation to the due time.
    pub due: Option<Duration>,
    /// After how much business time since creation the task moves to which role, one level up
    /// the location hierarchy per rung.
    pub escalation: Vec<Escalation>,
    /// Remind the assignees this often (business time) while the task is open.
    pub remind_every: Option<Duration>,
    /// Who asked for what the task approves (an expression giving a name): that person may not
    /// claim or decide it.
    pub requester: Option<Expr>,
}

/// Which policy an `approval` step uses.
#[derive(Debug, Clone)]
pub enum PolicyName {
    /// An action type written as it is (`refund`).
    Named(String),
    /// An expression giving the action type.
    Expr(Expr),
}

/// An `approval` step.
#[derive(Debug, Clone)]
pub struct ApprovalSpec {
    /// The policy: its action type.
    pub policy: PolicyName,
    /// The amount to approve (an expression giving a decimal, as text or a number).
    pub amount: Expr,
    /// The location the amount is for (an expression giving a location code); `None` for the
    /// company. It picks the policy (the most specific scope up the hierarchy) and scopes the
    /// tasks.
    pub location: Option<Expr>,
    /// Who asked for it (an expression giving a name): that person may approve no level.
    pub requester: Option<Expr>,
    /// A model's confidence in the recommendation (an expression giving a number from 0 to 1).
    pub confidence: Option<Expr>,
    /// Where to go when approved.
    pub approved: String,
    /// Where to go when rejected.
    pub rejected: String,
    /// Where to go when the policy only suggests; `None`: the `rejected` route.
    pub suggested: Option<String>,
}

/// One allowed outcome of a task.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Its name as the decider sends it: `approve`, `reject`, `modify`, or an option's name.
    pub name: String,
    /// What it carries.
    pub kind: OutcomeKind,
    /// The step it leads to.
    pub next: String,
}

/// What an outcome carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    /// A plain choice (approve, reject, or one option among several).
    Choice,
    /// The decider changes fields; each listed field may (or, if required, must) be sent.
    Modify(Vec<Field>),
}

/// A field a decider may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its name.
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// Whether it must be sent.
    pub required: bool,
}

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Text.
    Text,
    /// A decimal number, sent as a string or a number (kept as a string).
    Decimal,
    /// An integer.
    Integer,
    /// true or false.
    Boolean,
}

/// One rung of an escalation ladder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// Business time since the task was created.
    pub after: Duration,
    /// The role the task moves to (at the next location up).
    pub role: String,
}

/// An `action` step: a command to a connector, delivered through the outbox.
#[derive(Debug, Clone)]
pub struct ActionSpec {
    /// The connector's name, e.g. `erp`.
    pub connector: String,
    /// The command, e.g. `create_transfer`.
    pub operation: String,
    /// The request.
    pub with: Template,
    /// What undoes it, when the instance fails after it took effect.
    pub compensate: Option<Compensation>,
}

/// The command that undoes an action (same connector).
#[derive(Debug, Clone)]
pub struct Compensation {
    /// The command, e.g. `cancel_transfer`.
    pub operation: String,
    /// The request; it can read the action's result as `steps.<id>`.
    pub with: Template,
}

/// A `wait` step.
#[derive(Debug, Clone)]
pub enum WaitSpec {
    /// For an event delivered to the instance (by its correlation key).
    Event {
        /// The event type.
        event: String,
        /// A condition over `received` (the arriving event) and the context it must meet.
        matches: Option<Expr>,
        /// How an arriving event of this type names its instance: an expression over `event`
        /// (the arriving event) giving the correlation key. An event whose key is the key of an
        /// open instance of this workflow is delivered to it. Without it, only events of the
        /// trigger's type reach the instance (by the trigger's key).
        key: Option<Expr>,
        /// How long to wait (wall-clock time).
        timeout: Option<Duration>,
        /// Where to go on timeout; without it, a timeout fails the step.
        on_timeout: Option<String>,
    },
    /// Until a time (an expression giving an RFC 3339 timestamp).
    Until {
        /// The time.
        at: Expr,
    },
}

/// A `branch` step.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Conditions and the step each leads to, tried in order.
    pub cases: Vec<(Expr, String)>,
    /// Where to go when no case holds; without it, that is an error.
    pub otherwise: Option<String>,
}

/// A `parallel` step.
#[derive(Debug, Clone)]
pub struct Parallel {
    /// The first step of each branch; a branch ends at a step without `next`.
    pub branches: Vec<String>,
    /// When the parallel step is done.
    pub join: Join,
}

/// How a `parallel` step joins its branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Join {
    /// When every branch has ended.
    All,
    /// When the first branch ends (the others are cancelled).
    Any,
}

/// An `emit` step.
#[derive(Debug, Clone)]
pub struct Emit {
    /// The event type (one of the catalogue's).
    pub event: String,
    /// The event's data.
    pub data: Template,
}

//! The functional core under random interleavings of events, task decisions, action results,
//! timer firings and crashes, checked against a small reference model.
//!
//! A simulated runner drives [`apply`] with a durable part (what the store holds: the instance
//! JSON, the armed timers, the outbox, the tasks, the history length, the event log) and a
//! volatile part (the instance in memory and the transitions computed since the last commit). A
//! commit persists the instance through a JSON round trip together with the effects of every
//! transition since the last commit, at once; a crash throws the volatile part away, so the same
//! command runs again, as a real runner runs it again. A downstream system applies each outbox
//! key at most once and answers a redelivery with its first response.
//!
//! [`Model`], a hand-written state machine over the same inputs, predicts after every command
//! whether it is refused, the status, the outcome and what the instance waits for. After the
//! random operations a drain delivers, fires and decides whatever is left until nothing moves;
//! the model then predicts the final status and outcome and the keys the downstream system
//! applied (actions and compensations). Along the way: no effect is committed twice, a key is
//! never issued with two payloads, a refused command changes nothing, and every state survives
//! serialization.
//!
//! An action that can be undone is never taken back: when the instance is cancelled or fails
//! while it is pending, it is delivered all the same and its late result is compensated. One that
//! cannot be undone is withdrawn if still pending (a delivery whose result a crash lost may have
//! applied it all the same). A cancellation while the instance compensates is refused.
//!
//! The property found three engine bugs, now fixed; their shrunk cases are the regression tests
//! at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use backroom_engine::clock::SequentialIds;
use backroom_engine::core::{
    ActionOutcome, Command, Directory, Effect, Env, Instance, InstanceStatus, OutboxMessage, ReadOutcome, Rejection,
    TaskChange, Timer, TimerPurpose, TokenState, Transition, apply,
};
use backroom_engine::policy::NoPolicies;
use backroom_engine::workflow::{Workflow, load};
use backroom_model::Location;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

const WORKFLOW: &str = include_str!("interleavings/stockout.yaml");
/// The one instance every case runs.
const ID: &str = "inst-1";
/// The people who claim and decide tasks.
const ACTORS: [&str; 2] = ["manager-a", "manager-b"];
/// The transfer number the ERP answers with; shipment events carry it or another one.
const TRANSFER_NUMBER: &str = "TR-1";
const OTHER_NUMBER: &str = "TR-2";

static WF: LazyLock<Workflow> = LazyLock::new(|| {
    load("stockout.yaml", WORKFLOW, &|f| Err(format!("{f}: no files here"))).unwrap_or_else(|p| panic!("{p}"))
});

/// No location is known: due times and escalations are plain durations.
struct NoLocations;

impl Directory for NoLocations {
    fn location(&self, _: &str) -> Option<Location> {
        None
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 17, 9, 0, 0).single().expect("a time")
}

// ----- what a case is made of ------------------------------------------------------------------

/// The answer to the stock read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    OnHand(i64),
    /// The projection cannot be read (a permanent failure).
    Broken,
}

/// What a decision says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Approve,
    Reject,
    /// Not an outcome of the task: refused.
    Unknown,
    /// `approve` with a field it does not take: refused.
    WithField,
}

/// What a person does with a dead letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Person {
    Retry,
    Skip,
    Compensate,
}

/// What the runner does after an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    Commit,
    /// Keep the transition in memory: the next operation joins the same transaction.
    Hold,
    /// Die before committing: everything since the last commit is lost.
    Crash,
}

#[derive(Debug, Clone)]
enum Op {
    /// An event is appended to the log; the oldest event not consumed yet is delivered.
    Event {
        shipped: bool,
        matching: bool,
    },
    Claim {
        other_task: bool,
        actor: usize,
    },
    Decide {
        other_task: bool,
        outcome: Outcome,
        actor: usize,
    },
    /// A pending outbox row is delivered; the downstream system applies it or fails for good.
    Deliver {
        row: usize,
        fail: bool,
    },
    /// A delivered row is delivered again (a lease that ran out) and its result fed back again.
    Redeliver {
        row: usize,
    },
    /// An armed timer fires (the clock moves to its due time if it is not there yet).
    FireDue {
        timer: usize,
    },
    /// A timer that fired already fires again.
    FireStale {
        timer: usize,
    },
    Cancel,
    /// A person acts on a dead-lettered row.
    DeadLetter {
        row: usize,
        person: Person,
    },
}

#[derive(Debug, Clone)]
struct Case {
    /// The stock read of each attempt to start the instance; every attempt but the last crashes.
    starts: Vec<Read>,
    ops: Vec<(Op, After)>,
    /// Whether what is held in memory at the end is committed (or lost) before the drain.
    commit_at_end: bool,
}

fn read() -> impl Strategy<Value = Read> {
    prop_oneof![
        6 => (-2i64..=0).prop_map(Read::OnHand),
        2 => (1i64..=3).prop_map(Read::OnHand),
        1 => Just(Read::Broken),
    ]
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => Just(Outcome::Approve),
        2 => Just(Outcome::Reject),
        1 => Just(Outcome::Unknown),
        1 => Just(Outcome::WithField),
    ]
}

fn person() -> impl Strategy<Value = Person> {
    prop_oneof![Just(Person::Retry), Just(Person::Skip), Just(Person::Compensate)]
}

fn after() -> impl Strategy<Value = After> {
    prop_oneof![6 => Just(After::Commit), 2 => Just(After::Hold), 2 => Just(After::Crash)]
}

fn op() -> impl Strategy<Value = Op> {
    let other = || prop::bool::weighted(0.15);
    prop_oneof![
        3 => (any::<bool>(), any::<bool>()).prop_map(|(shipped, matching)| Op::Event { shipped, matching }),
        1 => (other(), 0..ACTORS.len()).prop_map(|(other_task, actor)| Op::Claim { other_task, actor }),
        4 => (other(), outcome(), 0..ACTORS.len())
            .prop_map(|(other_task, outcome, actor)| Op::Decide { other_task, outcome, actor }),
        6 => (pick(), prop::bool::weighted(0.4)).prop_map(|(row, fail)| Op::Deliver { row, fail }),
        1 => pick().prop_map(|row| Op::Redeliver { row }),
        3 => pick().prop_map(|timer| Op::FireDue { timer }),
        1 => pick().prop_map(|timer| Op::FireStale { timer }),
        1 => Just(Op::Cancel),
        3 => (pick(), person()).prop_map(|(row, person)| Op::DeadLetter { row, person }),
    ]
}

/// Which of the candidates an operation takes (modulo their number).
fn pick() -> impl Strategy<Value = usize> {
    0usize..4
}

fn pick_from<T: Clone>(n: usize, candidates: &[T]) -> T {
    candidates[n % candidates.len()].clone()
}

fn case() -> impl Strategy<Value = Case> {
    (prop::collection::vec(read(), 1..=3), prop::collection::vec((op(), after()), 0..=40), any::<bool>())
        .prop_map(|(starts, ops, commit_at_end)| Case { starts, ops, commit_at_end })
}

// ----- the reference model ---------------------------------------------------------------------

/// The workflow's actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Act {
    Transfer,
    Book,
    Expedite,
}

impl Act {
    const ALL: [Act; 3] = [Act::Transfer, Act::Book, Act::Expedite];

    fn step(self) -> &'static str {
        match self {
            Act::Transfer => "transfer",
            Act::Book => "book",
            Act::Expedite => "expedite",
        }
    }

    fn compensable(self) -> bool {
        self != Act::Expedite
    }

    fn key(self) -> String {
        format!("{ID}/{}", self.step())
    }

    fn undo_key(self) -> String {
        format!("{ID}/{}/compensate", self.step())
    }
}

/// The action an outbox key is for, and whether it is its compensation. Any other key (a second
/// visit `#2`, another instance) is a bug: the workflow sends each action once.
fn parse_key(key: &str) -> (Act, bool) {
    for act in Act::ALL {
        if key == act.key() {
            return (act, false);
        }
        if key == act.undo_key() {
            return (act, true);
        }
    }
    panic!("unexpected outbox key {key}")
}

/// What the instance waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Waiting {
    Nothing,
    Task {
        claimed: Option<usize>,
        escalated: bool,
    },
    Action(Act),
    Shipment,
    /// The compensation of this action.
    Undo(Act),
}

/// Why the model expects a command to be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Ended,
    NoSuchTask,
    Claimed,
    Outcome,
    Field,
    /// A cancellation while compensating.
    Ending,
}

fn refusal_of(rejection: &Rejection) -> Refusal {
    match rejection {
        Rejection::Ended(_) => Refusal::Ended,
        Rejection::Ending(_) => Refusal::Ending,
        Rejection::NoSuchTask(_) => Refusal::NoSuchTask,
        Rejection::Claimed { .. } => Refusal::Claimed,
        Rejection::Outcome { .. } => Refusal::Outcome,
        Rejection::Field { .. } => Refusal::Field,
        Rejection::SegregationOfDuties { .. } => unreachable!("the model's workflow names no requester"),
    }
}

/// What an action's delivery (or a person) said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Res {
    Done,
    Failed,
    Skipped,
    Compensate,
}

/// The inputs of the model: the commands, with what the model needs to know about them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Input {
    Start(Read),
    Event {
        shipped: bool,
        number: &'static str,
    },
    /// `real`: the task is the instance's task (not some other id).
    Claim {
        real: bool,
        actor: usize,
    },
    Decide {
        real: bool,
        outcome: Outcome,
        actor: usize,
    },
    Result {
        act: Act,
        undo: bool,
        result: Res,
    },
    Retried {
        act: Act,
        undo: bool,
    },
    TaskDue,
    Escalation,
    WaitTimeout,
    Cancel,
}

/// The workflow as a state machine, written from its YAML and the documented semantics, not
/// from the engine's code.
#[derive(Debug, Clone)]
struct Model {
    status: InstanceStatus,
    outcome: Option<&'static str>,
    waiting: Waiting,
    /// Actions that took effect and are not compensated yet, oldest first.
    to_undo: Vec<Act>,
    /// Every action that took effect.
    took_effect: BTreeSet<Act>,
    /// Compensations a person skipped (they never take effect).
    undo_skipped: BTreeSet<Act>,
    /// Actions without a compensation a cancellation took back before their result came: a
    /// delivery whose result a crash lost may have applied them all the same.
    withdrawn: BTreeSet<Act>,
    /// What the transfer answered (none when a person skipped it).
    transfer_number: Option<&'static str>,
    /// Transfer numbers of shipment events that arrived while the instance did not wait for one.
    mailbox: Vec<&'static str>,
}

impl Model {
    fn new() -> Self {
        Model {
            status: InstanceStatus::Running,
            outcome: None,
            waiting: Waiting::Nothing,
            to_undo: Vec::new(),
            took_effect: BTreeSet::new(),
            undo_skipped: BTreeSet::new(),
            withdrawn: BTreeSet::new(),
            transfer_number: None,
            mailbox: Vec::new(),
        }
    }

    fn open(&self) -> bool {
        self.status.is_open()
    }

    /// Ended for a failure or a cancellation: what took effect must be undone.
    fn undoing_ending(&self) -> bool {
        matches!(self.outcome, Some("failed" | "cancelled"))
    }

    /// Applies an input; a refused input changes nothing.
    fn apply(&mut self, input: Input) -> Result<(), Refusal> {
        match input {
            Input::Start(Read::OnHand(n)) if n <= 0 => {
                self.waiting = Waiting::Task { claimed: None, escalated: false };
            }
            Input::Start(Read::OnHand(_)) => self.end("recount_requested"),
            Input::Start(Read::Broken) => self.fail(),
            Input::Event { shipped, number } => {
                if !self.open() || !shipped {
                    return Ok(());
                }
                if self.waiting == Waiting::Shipment && self.transfer_number == Some(number) {
                    self.end("replenished");
                } else {
                    self.mailbox.push(number);
                }
            }
            Input::Claim { real, actor } => {
                self.task_check(real, actor)?;
                if let Waiting::Task { claimed, .. } = &mut self.waiting {
                    *claimed = Some(actor);
                }
            }
            Input::Decide { real, outcome, actor } => {
                self.task_check(real, actor)?;
                match outcome {
                    Outcome::Unknown => return Err(Refusal::Outcome),
                    Outcome::WithField => return Err(Refusal::Field),
                    Outcome::Approve => self.waiting = Waiting::Action(Act::Transfer),
                    Outcome::Reject => self.end("rejected"),
                }
            }
            Input::Result { act, undo: false, result } if self.open() && self.waiting == Waiting::Action(act) => {
                match result {
                    Res::Done => {
                        self.unblock();
                        self.took_effect(act);
                        self.carry_on_after(act);
                    }
                    // `on_error: late`.
                    Res::Failed if act == Act::Expedite => self.end("late"),
                    // Dead letter: a person must act.
                    Res::Failed => self.status = InstanceStatus::Blocked,
                    Res::Skipped => {
                        self.unblock();
                        self.carry_on_after(act);
                    }
                    Res::Compensate => {
                        self.unblock();
                        self.fail();
                    }
                }
            }
            // The result of an action nobody waits for (any more; a cancellation leaves a
            // compensable action pending, so it comes): one that took effect for the first time
            // is undone if the instance ended in failure or cancellation: at once, or after the
            // compensation under way. A duplicate (a redelivery) changes nothing, even once the
            // compensation was sent.
            Input::Result { act, undo: false, result: Res::Done } => {
                if self.took_effect.contains(&act) {
                    return Ok(());
                }
                self.took_effect(act);
                if act.compensable() && self.undoing_ending() && !matches!(self.waiting, Waiting::Undo(_)) {
                    self.status = InstanceStatus::Compensating;
                    self.undo_next();
                }
            }
            Input::Result { undo: false, .. } => {}
            Input::Result { act, undo: true, result } if self.open() && self.waiting == Waiting::Undo(act) => {
                match result {
                    Res::Done => {
                        self.unblock();
                        self.undo_next();
                    }
                    Res::Failed => self.status = InstanceStatus::Blocked,
                    Res::Skipped | Res::Compensate => {
                        self.undo_skipped.insert(act);
                        self.unblock();
                        self.undo_next();
                    }
                }
            }
            Input::Result { act, undo: true, result: Res::Skipped | Res::Compensate } => {
                self.undo_skipped.insert(act);
            }
            Input::Result { undo: true, .. } => {}
            Input::Retried { act, undo } => {
                let waits = if undo { Waiting::Undo(act) } else { Waiting::Action(act) };
                if self.waiting == waits {
                    self.unblock();
                }
            }
            Input::TaskDue => {}
            Input::Escalation => {
                if let Waiting::Task { claimed, escalated } = &mut self.waiting
                    && !*escalated
                {
                    *escalated = true;
                    *claimed = None;
                }
            }
            Input::WaitTimeout => {
                if self.waiting == Waiting::Shipment {
                    self.waiting = Waiting::Action(Act::Expedite);
                }
            }
            Input::Cancel => {
                if !self.open() {
                    return Err(Refusal::Ended);
                }
                // Compensating, or blocked on a compensation that failed for good.
                if self.status == InstanceStatus::Compensating || matches!(self.waiting, Waiting::Undo(_)) {
                    return Err(Refusal::Ending);
                }
                // An action that can be undone is left pending: delivered, its late result is
                // compensated (above). One that cannot is withdrawn.
                if let Waiting::Action(act) = self.waiting
                    && !act.compensable()
                {
                    self.withdrawn.insert(act);
                }
                self.waiting = Waiting::Nothing;
                self.outcome = Some("cancelled");
                self.stop();
            }
        }
        Ok(())
    }

    fn task_check(&self, real: bool, actor: usize) -> Result<(), Refusal> {
        match self.waiting {
            Waiting::Task { claimed: Some(by), .. } if real && by != actor => Err(Refusal::Claimed),
            Waiting::Task { .. } if real => Ok(()),
            _ if self.open() => Err(Refusal::NoSuchTask),
            _ => Err(Refusal::Ended),
        }
    }

    fn took_effect(&mut self, act: Act) {
        self.took_effect.insert(act);
        if act == Act::Transfer {
            self.transfer_number = Some(TRANSFER_NUMBER);
        }
        if act.compensable() {
            self.to_undo.push(act);
        }
    }

    fn carry_on_after(&mut self, act: Act) {
        match act {
            Act::Transfer => self.waiting = Waiting::Action(Act::Book),
            Act::Book => match self.mailbox.iter().position(|n| Some(*n) == self.transfer_number) {
                Some(i) => {
                    self.mailbox.remove(i);
                    self.end("replenished");
                }
                None => self.waiting = Waiting::Shipment,
            },
            Act::Expedite => self.end("late"),
        }
    }

    fn end(&mut self, outcome: &'static str) {
        self.waiting = Waiting::Nothing;
        self.status = InstanceStatus::Completed;
        self.outcome = Some(outcome);
    }

    fn fail(&mut self) {
        self.waiting = Waiting::Nothing;
        self.outcome = Some("failed");
        self.stop();
    }

    /// Ends after a failure or a cancellation: undoes what took effect, newest first.
    fn stop(&mut self) {
        self.status = InstanceStatus::Compensating;
        self.undo_next();
    }

    fn undo_next(&mut self) {
        match self.to_undo.pop() {
            Some(act) => self.waiting = Waiting::Undo(act),
            None => {
                self.waiting = Waiting::Nothing;
                self.status =
                    if self.outcome == Some("cancelled") { InstanceStatus::Cancelled } else { InstanceStatus::Failed };
            }
        }
    }

    fn unblock(&mut self) {
        if self.status == InstanceStatus::Blocked {
            self.status = match self.waiting {
                Waiting::Undo(_) => InstanceStatus::Compensating,
                _ => InstanceStatus::Running,
            };
        }
    }

    /// The keys the downstream system must have applied once everything settled: the actions
    /// that took effect and, when the instance failed or was cancelled, their compensations
    /// (but those a person skipped). It may have applied the withdrawn ones too.
    fn expected_applied(&self) -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = self.took_effect.iter().map(|a| a.key()).collect();
        if self.undoing_ending() {
            for act in self.took_effect.iter().filter(|a| a.compensable() && !self.undo_skipped.contains(a)) {
                keys.insert(act.undo_key());
            }
        }
        keys
    }
}

/// What the engine's instance waits for, in the model's terms.
fn observe(inst: &Instance) -> Waiting {
    match inst.tokens.as_slice() {
        [] => Waiting::Nothing,
        [token] => match &token.state {
            TokenState::Task { claimed_by, level, .. } => Waiting::Task {
                claimed: claimed_by.as_ref().map(|by| ACTORS.iter().position(|a| a == by).expect("a known actor")),
                escalated: *level > 0,
            },
            TokenState::Action { key } => match parse_key(key) {
                (act, false) if act.step() == token.step => Waiting::Action(act),
                _ => panic!("token on {} waits for {key}", token.step),
            },
            TokenState::Compensation { key } => match parse_key(key) {
                (act, true) if act.step() == token.step => Waiting::Undo(act),
                _ => panic!("compensation token on {} waits for {key}", token.step),
            },
            TokenState::Event { .. } if token.step == "shipped" => Waiting::Shipment,
            other => panic!("unexpected token state {other:?} on {}", token.step),
        },
        tokens => panic!("more than one token: {tokens:?}"),
    }
}

// ----- the simulated runner --------------------------------------------------------------------

/// An outbox row's status, as the store keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowStatus {
    Pending,
    Delivered,
    Failed,
    Dead,
    Withdrawn,
    Skipped,
    Abandoned,
}

#[derive(Debug, Clone)]
struct Row {
    message: OutboxMessage,
    status: RowStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskStatus {
    Open,
    Decided,
    Cancelled,
}

#[derive(Debug, Clone)]
struct TaskRow {
    status: TaskStatus,
    claimed_by: Option<String>,
}

/// One write of a transaction not committed yet, in order.
#[derive(Debug, Clone)]
enum Write {
    Transition(Transition),
    /// The runner's own update of an outbox row (a delivery's result, a person's action).
    Row {
        key: String,
        status: RowStatus,
    },
    TimerFired(String),
    EventConsumed(usize),
}

#[derive(Debug, Clone)]
struct LogEvent {
    event: Value,
    shipped: bool,
    number: &'static str,
    consumed: bool,
}

/// The system the actions go to: it applies a key once and answers again with the same response.
#[derive(Debug, Default)]
struct Downstream {
    /// Key → the payload applied.
    applied: BTreeMap<String, Value>,
    /// Operation → times applied.
    operations: BTreeMap<String, u32>,
}

fn response(key: &str) -> Value {
    match parse_key(key) {
        (Act::Transfer, false) => json!({"transfer_number": TRANSFER_NUMBER}),
        (Act::Book, false) => json!({"booking": "BK-1"}),
        (Act::Expedite, false) => json!({"expedited": true}),
        (_, true) => json!({"undone": key}),
    }
}

impl Downstream {
    fn call(&mut self, message: &OutboxMessage, fail: bool) -> Result<ActionOutcome, String> {
        if let Some(first) = self.applied.get(&message.key) {
            if *first != message.payload {
                return Err(format!(
                    "key {} delivered with payload {} after {first} was applied",
                    message.key, message.payload
                ));
            }
            return Ok(ActionOutcome::Done { response: response(&message.key) });
        }
        if fail {
            return Ok(ActionOutcome::Failed { error: format!("{} refused for good", message.operation) });
        }
        self.applied.insert(message.key.clone(), message.payload.clone());
        *self.operations.entry(message.operation.clone()).or_insert(0) += 1;
        Ok(ActionOutcome::Done { response: response(&message.key) })
    }
}

fn res_of(outcome: &ActionOutcome) -> Res {
    match outcome {
        ActionOutcome::Done { .. } => Res::Done,
        ActionOutcome::Failed { .. } => Res::Failed,
        ActionOutcome::Skipped { .. } => Res::Skipped,
        ActionOutcome::Compensate { .. } => Res::Compensate,
    }
}

struct Sim {
    now: DateTime<Utc>,
    ids: SequentialIds,
    // Durable.
    stored: Option<String>,
    history_len: i64,
    timers: BTreeMap<String, Timer>,
    fired: Vec<Timer>,
    outbox: BTreeMap<String, Row>,
    tasks: BTreeMap<String, TaskRow>,
    log: Vec<LogEvent>,
    model: Model,
    // Volatile.
    inst: Option<Instance>,
    batch: Vec<Write>,
    pending_model: Model,
    // Outside.
    downstream: Downstream,
    /// Every message ever issued (committed or not), by key: a recomputation must issue the same.
    issued: BTreeMap<String, OutboxMessage>,
    trace: Vec<String>,
    /// How often each history kind was committed, each outcome reached, each crash lost work.
    seen: BTreeMap<String, usize>,
}

impl Sim {
    fn new() -> Self {
        Sim {
            now: t0(),
            ids: SequentialIds::new("task"),
            stored: None,
            history_len: 0,
            timers: BTreeMap::new(),
            fired: Vec::new(),
            outbox: BTreeMap::new(),
            tasks: BTreeMap::new(),
            log: Vec::new(),
            model: Model::new(),
            inst: None,
            batch: Vec::new(),
            pending_model: Model::new(),
            downstream: Downstream::default(),
            issued: BTreeMap::new(),
            trace: Vec::new(),
            seen: BTreeMap::new(),
        }
    }

    fn fail(&self, message: String) -> ! {
        panic!("{message}\n--- trace ---\n{}", self.trace.join("\n"))
    }

    /// Runs a case; returns what it went through.
    fn run(mut self, case: &Case) -> BTreeMap<String, usize> {
        self.play(case);
        self.finish();
        self.seen
    }

    /// Starts the instance and runs the operations of a case.
    fn play(&mut self, case: &Case) {
        self.start(&case.starts);
        for (op, after) in &case.ops {
            self.op(op);
            match after {
                After::Commit => self.commit(),
                After::Hold => {}
                After::Crash => self.crash(),
            }
        }
        if case.commit_at_end {
            self.commit();
        } else {
            self.crash();
        }
    }

    /// Drains and checks the end.
    fn finish(&mut self) {
        self.drain();
        self.check_end();
        let outcome = self.model.outcome.unwrap_or("none");
        *self.seen.entry(format!("outcome {outcome}")).or_default() += 1;
    }

    // ----- transactions -----------------------------------------------------------------------

    fn start(&mut self, starts: &[Read]) {
        for (i, &read) in starts.iter().enumerate() {
            let mut inst = Instance::new(ID.into(), &WF.id, WF.version, Some("STORE-1/SKU-1".into()), self.now);
            let event = json!({"id": "so-1", "type": "inventory.stockout_reported", "source": "store-app",
                               "data": {"location": "STORE-1", "item": {"sku": "SKU-1"}}});
            let mut queue = vec![Command::Start { event }];
            while let Some(command) = queue.pop() {
                let mut env = Env { now: self.now, ids: &mut self.ids, directory: &NoLocations, policies: &NoPolicies };
                let t = apply(&WF, &mut inst, command, &mut env).unwrap_or_else(|e| self.fail(format!("start: {e}")));
                for r in &t.reads {
                    let result = match read {
                        Read::OnHand(n) => ReadOutcome::Ok {
                            data: json!({"found": true, "on_hand": n.to_string(), "in_transit": "0"}),
                        },
                        Read::Broken => ReadOutcome::Permanent { error: "stock projection unavailable".into() },
                    };
                    queue.push(Command::ReadResult { token: r.token, result });
                }
                self.check_issued(&t);
                self.batch.push(Write::Transition(t));
            }
            let mut model = Model::new();
            model.apply(Input::Start(read)).unwrap_or_else(|r| self.fail(format!("model refused start: {r:?}")));
            self.trace.push(format!("start reading {read:?}"));
            self.inst = Some(inst);
            self.pending_model = model;
            self.compare();
            if i + 1 < starts.len() {
                self.crash();
            } else {
                self.commit();
            }
        }
    }

    /// Applies a command to the instance in memory and the input to the model in memory.
    fn command(&mut self, command: Command, input: Input) -> bool {
        let Some(inst) = self.inst.as_mut() else { self.fail("no instance in memory".into()) };
        let before = inst.clone();
        let mut env = Env { now: self.now, ids: &mut self.ids, directory: &NoLocations, policies: &NoPolicies };
        let result = apply(&WF, inst, command.clone(), &mut env);
        let expected = self.pending_model.apply(input);
        self.trace.push(format!(
            "  {} -> {}",
            describe(&command),
            match &result {
                Ok(_) => "ok".to_owned(),
                Err(e) => format!("refused: {e}"),
            }
        ));
        let accepted = match (result, expected) {
            (Ok(t), Ok(())) => {
                if !t.reads.is_empty() {
                    self.fail(format!("reads outside the start: {:?}", t.reads));
                }
                self.check_issued(&t);
                self.batch.push(Write::Transition(t));
                true
            }
            (Err(e), Err(refusal)) => {
                if refusal_of(&e) != refusal {
                    self.fail(format!("refused with {e}, the model expected {refusal:?}"));
                }
                if self.inst.as_ref() != Some(&before) {
                    self.fail(format!("the refused {input:?} changed the instance"));
                }
                *self.seen.entry(format!("refused {refusal:?}")).or_default() += 1;
                false
            }
            (Ok(_), Err(refusal)) => self.fail(format!("{input:?} accepted; the model refuses it ({refusal:?})")),
            (Err(e), Ok(())) => self.fail(format!("{input:?} refused ({e}); the model accepts it")),
        };
        self.compare();
        accepted
    }

    /// A message issued under a key issued before must be the same message.
    fn check_issued(&mut self, t: &Transition) {
        for effect in &t.effects {
            if let Effect::Send(m) = effect {
                match self.issued.get(&m.key) {
                    Some(first) if first != m => {
                        self.fail(format!("key {} issued twice with different content: {first:?} then {m:?}", m.key))
                    }
                    Some(_) => {}
                    None => {
                        self.issued.insert(m.key.clone(), m.clone());
                    }
                }
            }
        }
    }

    fn compare(&self) {
        let Some(inst) = &self.inst else { return };
        let m = &self.pending_model;
        let seen = (inst.status, inst.outcome.as_deref(), observe(inst));
        let expected = (m.status, m.outcome, m.waiting.clone());
        if seen != expected {
            self.fail(format!("engine is {seen:?}, the model expects {expected:?}"));
        }
    }

    fn commit(&mut self) {
        let Some(mut inst) = self.inst.take() else {
            self.batch.clear();
            return;
        };
        let batch = std::mem::take(&mut self.batch);
        let lines: usize = batch.iter().map(|w| if let Write::Transition(t) = w { t.history.len() } else { 0 }).sum();
        inst.history_len += lines as i64;
        let json = serde_json::to_string(&inst).unwrap_or_else(|e| self.fail(format!("serialize: {e}")));
        let back: Instance = serde_json::from_str(&json).unwrap_or_else(|e| self.fail(format!("deserialize: {e}")));
        if back != inst {
            self.fail(format!("the instance does not survive serialization:\n{inst:?}\n{back:?}"));
        }
        for write in batch {
            match write {
                Write::Transition(t) => {
                    for h in &t.history {
                        *self.seen.entry(h.kind.clone()).or_default() += 1;
                    }
                    let kinds: Vec<&str> = t.history.iter().map(|h| h.kind.as_str()).collect();
                    if kinds.contains(&"event_consumed") {
                        let path = if kinds.contains(&"action_completed") { "from the mailbox" } else { "waited for" };
                        *self.seen.entry(format!("shipment {path}")).or_default() += 1;
                    }
                    for effect in t.effects {
                        self.persist(effect);
                    }
                }
                Write::Row { key, status } => match self.outbox.get_mut(&key) {
                    Some(row) => row.status = status,
                    None => self.fail(format!("no outbox row {key}")),
                },
                Write::TimerFired(id) => {
                    if let Some(timer) = self.timers.remove(&id) {
                        self.fired.push(timer);
                    }
                }
                Write::EventConsumed(i) => self.log[i].consumed = true,
            }
        }
        self.history_len += lines as i64;
        if self.history_len != back.history_len {
            self.fail(format!("{} history lines written, the instance counts {}", self.history_len, back.history_len));
        }
        self.stored = Some(json);
        self.inst = Some(back);
        self.model = self.pending_model.clone();
        self.trace.push("commit".into());
    }

    fn crash(&mut self) {
        if self.batch.iter().any(|w| matches!(w, Write::Transition(t) if !t.history.is_empty())) {
            *self.seen.entry("crash losing work".into()).or_default() += 1;
        }
        if self.batch.iter().any(|w| matches!(w, Write::Row { status: RowStatus::Delivered, .. })) {
            *self.seen.entry("crash after a delivery".into()).or_default() += 1;
        }
        self.batch.clear();
        self.inst = self.stored.as_ref().map(|json| serde_json::from_str(json).expect("the stored instance"));
        self.pending_model = self.model.clone();
        self.trace.push("crash".into());
    }

    /// Persists one effect of a committed transition.
    fn persist(&mut self, effect: Effect) {
        match effect {
            Effect::OpenTask(task) => {
                if self.tasks.contains_key(&task.id) {
                    self.fail(format!("task {} opened twice", task.id));
                }
                self.tasks.insert(task.id, TaskRow { status: TaskStatus::Open, claimed_by: None });
            }
            Effect::UpdateTask { task, change } => {
                let Some(row) = self.tasks.get_mut(&task) else { self.fail(format!("update of unknown task {task}")) };
                if row.status != TaskStatus::Open {
                    let status = row.status;
                    self.fail(format!("{change:?} on task {task}, which is {status:?}"));
                }
                match change {
                    TaskChange::Claimed { actor } => row.claimed_by = Some(actor),
                    TaskChange::Decided { .. } => row.status = TaskStatus::Decided,
                    TaskChange::Escalated { .. } => row.claimed_by = None,
                    TaskChange::Cancelled => row.status = TaskStatus::Cancelled,
                    TaskChange::Overdue | TaskChange::Reminded => {}
                }
            }
            Effect::Send(message) => {
                if let Some(row) = self.outbox.get(&message.key) {
                    // The store keeps the first row (ON CONFLICT DO NOTHING): a second Send under
                    // a committed key is an effect issued twice.
                    self.fail(format!(
                        "Send {} committed again (the row is {:?}; same content: {})",
                        message.key,
                        row.status,
                        row.message == message
                    ));
                }
                self.outbox.insert(message.key.clone(), Row { message, status: RowStatus::Pending });
            }
            Effect::DeadLetter { key, .. } => match self.outbox.get_mut(&key) {
                Some(row) => row.status = RowStatus::Dead,
                None => self.fail(format!("dead letter for unknown key {key}")),
            },
            Effect::Withdraw { key } => match self.outbox.get_mut(&key) {
                Some(row) if row.status == RowStatus::Pending => {
                    row.status = RowStatus::Withdrawn;
                    *self.seen.entry("withdrawn".into()).or_default() += 1;
                }
                Some(_) => {}
                None => self.fail(format!("withdrawal of unknown key {key}")),
            },
            Effect::Arm(timer) => {
                if self.timers.contains_key(&timer.id) || self.fired.iter().any(|t| t.id == timer.id) {
                    self.fail(format!("timer {} armed twice", timer.id));
                }
                self.timers.insert(timer.id.clone(), timer);
            }
            Effect::Emit { id, .. } => self.fail(format!("unexpected event {id}")),
            Effect::RecordAutomatic(d) => self.fail(format!("unexpected automatic approval at step {}", d.step)),
        }
    }

    // ----- operations -------------------------------------------------------------------------

    fn op(&mut self, op: &Op) {
        self.trace.push(format!("{op:?}"));
        match *op {
            Op::Event { shipped, matching } => {
                let number = if matching { TRANSFER_NUMBER } else { OTHER_NUMBER };
                let event = json!({
                    "id": format!("ev-{}", self.log.len() + 1),
                    "type": if shipped { "transfer.shipped" } else { "transfer.received" },
                    "source": "carrier",
                    "data": {"transfer_number": number},
                });
                self.log.push(LogEvent { event, shipped, number, consumed: false });
                self.next_event();
            }
            Op::Claim { other_task, actor } => {
                let (task, real) = self.task(other_task);
                let command = Command::TaskClaimed { task, actor: ACTORS[actor].into(), on_behalf_of: None };
                self.command(command, Input::Claim { real, actor });
            }
            Op::Decide { other_task, outcome, actor } => {
                let (task, real) = self.task(other_task);
                self.decide(task, real, outcome, actor);
            }
            Op::Deliver { row, fail } => {
                let keys = self.untouched(RowStatus::Pending);
                if !keys.is_empty() {
                    self.deliver(pick_from(row, &keys), fail);
                }
            }
            Op::Redeliver { row } => {
                let keys = self.rows(RowStatus::Delivered);
                if !keys.is_empty() {
                    self.deliver(pick_from(row, &keys), false);
                }
            }
            Op::FireDue { timer } => {
                let fired: BTreeSet<&String> = self
                    .batch
                    .iter()
                    .filter_map(|w| if let Write::TimerFired(id) = w { Some(id) } else { None })
                    .collect();
                let due: Vec<Timer> = self.timers.values().filter(|t| !fired.contains(&t.id)).cloned().collect();
                if !due.is_empty() {
                    self.fire(pick_from(timer, &due));
                }
            }
            Op::FireStale { timer } => {
                if !self.fired.is_empty() {
                    let timer = pick_from(timer, &self.fired);
                    let input = timer_input(&timer);
                    self.command(Command::TimerFired { timer }, input);
                }
            }
            Op::Cancel => {
                let command = Command::Cancel { actor: "ops-lead".into(), reason: Some("not needed".into()) };
                self.command(command, Input::Cancel);
            }
            Op::DeadLetter { row, person } => {
                let keys = self.untouched(RowStatus::Dead);
                if !keys.is_empty() {
                    self.dead_letter(pick_from(row, &keys), person);
                }
            }
        }
    }

    /// The instance's task (the latest the store knows), or an id no task has.
    fn task(&self, other: bool) -> (String, bool) {
        match self.tasks.keys().next_back() {
            Some(id) if !other => (id.clone(), true),
            _ => ("task-404".into(), false),
        }
    }

    fn decide(&mut self, task: String, real: bool, outcome: Outcome, actor: usize) -> bool {
        let (name, fields) = match outcome {
            Outcome::Approve => ("approve", Map::new()),
            Outcome::Reject => ("reject", Map::new()),
            Outcome::Unknown => ("escalate", Map::new()),
            Outcome::WithField => ("approve", Map::from_iter([("quantity".to_owned(), json!("5"))])),
        };
        let command = Command::TaskDecided {
            task,
            outcome: name.into(),
            fields,
            comment: None,
            actor: ACTORS[actor].into(),
            on_behalf_of: None,
        };
        self.command(command, Input::Decide { real, outcome, actor })
    }

    /// Rows with this status the transaction in memory has not touched yet: a runner does not
    /// deliver a row again while the result of its delivery is on its way to the store, and a
    /// dead letter is resolved once.
    fn untouched(&self, status: RowStatus) -> Vec<String> {
        let touched: BTreeSet<&String> =
            self.batch.iter().filter_map(|w| if let Write::Row { key, .. } = w { Some(key) } else { None }).collect();
        self.rows(status).into_iter().filter(|k| !touched.contains(k)).collect()
    }

    fn rows(&self, status: RowStatus) -> Vec<String> {
        self.outbox.iter().filter(|(_, r)| r.status == status).map(|(k, _)| k.clone()).collect()
    }

    /// Delivers a row downstream and feeds the result back, recording the row's new status.
    fn deliver(&mut self, key: String, fail: bool) {
        let message = self.outbox[&key].message.clone();
        let result = self.downstream.call(&message, fail).unwrap_or_else(|e| self.fail(e));
        let status =
            if matches!(result, ActionOutcome::Done { .. }) { RowStatus::Delivered } else { RowStatus::Failed };
        let (act, undo) = parse_key(&key);
        let input = Input::Result { act, undo, result: res_of(&result) };
        self.batch.push(Write::Row { key: key.clone(), status });
        self.command(Command::ActionResult { key, result }, input);
    }

    fn dead_letter(&mut self, key: String, person: Person) {
        let (act, undo) = parse_key(&key);
        let actor = "ops-admin".to_owned();
        let (command, status, input) = match person {
            Person::Retry => {
                (Command::ActionRetried { key: key.clone(), actor }, RowStatus::Pending, Input::Retried { act, undo })
            }
            Person::Skip => (
                Command::ActionResult { key: key.clone(), result: ActionOutcome::Skipped { actor } },
                RowStatus::Skipped,
                Input::Result { act, undo, result: Res::Skipped },
            ),
            Person::Compensate => (
                Command::ActionResult { key: key.clone(), result: ActionOutcome::Compensate { actor } },
                RowStatus::Abandoned,
                Input::Result { act, undo, result: Res::Compensate },
            ),
        };
        self.batch.push(Write::Row { key, status });
        self.command(command, input);
    }

    fn fire(&mut self, timer: Timer) {
        self.now = self.now.max(timer.due_at);
        self.batch.push(Write::TimerFired(timer.id.clone()));
        let input = timer_input(&timer);
        self.command(Command::TimerFired { timer }, input);
    }

    /// Delivers the oldest event of the log not consumed yet; false when there is none.
    fn next_event(&mut self) -> bool {
        let taken: BTreeSet<usize> =
            self.batch.iter().filter_map(|w| if let Write::EventConsumed(i) = w { Some(*i) } else { None }).collect();
        let Some(i) = (0..self.log.len()).find(|i| !self.log[*i].consumed && !taken.contains(i)) else {
            return false;
        };
        let LogEvent { event, shipped, number, .. } = self.log[i].clone();
        self.batch.push(Write::EventConsumed(i));
        self.command(Command::Deliver { event }, Input::Event { shipped, number });
        true
    }

    // ----- the end ----------------------------------------------------------------------------

    /// Delivers every pending row (done), retries every dead letter, fires every timer and
    /// decides every open task (approve) until nothing moves; each in its own transaction.
    fn drain(&mut self) {
        self.trace.push("--- drain ---".into());
        for _ in 0..20 {
            let mut moved = false;
            while self.next_event() {
                self.commit();
                moved = true;
            }
            for key in self.rows(RowStatus::Pending) {
                self.deliver(key, false);
                self.commit();
                moved = true;
            }
            for key in self.rows(RowStatus::Dead) {
                self.dead_letter(key, Person::Retry);
                self.commit();
                moved = true;
            }
            let mut timers: Vec<Timer> = self.timers.values().cloned().collect();
            timers.sort_by_key(|t| t.due_at);
            for timer in timers {
                self.fire(timer);
                self.commit();
                moved = true;
            }
            let open: Vec<(String, Option<String>)> = self
                .tasks
                .iter()
                .filter(|(_, t)| t.status == TaskStatus::Open)
                .map(|(id, t)| (id.clone(), t.claimed_by.clone()))
                .collect();
            for (task, claimed_by) in open {
                let actor = claimed_by.and_then(|by| ACTORS.iter().position(|a| *a == by)).unwrap_or(0);
                moved |= self.decide(task, true, Outcome::Approve, actor);
                self.commit();
            }
            if !moved {
                return;
            }
        }
        self.fail("still moving after 20 rounds of draining".into());
    }

    fn check_end(&self) {
        let inst: Instance = serde_json::from_str(self.stored.as_ref().expect("stored")).expect("the instance");
        let m = &self.model;
        if (inst.status, inst.outcome.as_deref()) != (m.status, m.outcome) {
            self.fail(format!(
                "ends {:?}/{:?}, the model expects {:?}/{:?}",
                inst.status, inst.outcome, m.status, m.outcome
            ));
        }
        if inst.status.is_open() {
            self.fail(format!("still {:?} after the drain", inst.status));
        }
        let stuck: Vec<(&String, RowStatus)> = self
            .outbox
            .iter()
            .filter(|(_, r)| matches!(r.status, RowStatus::Pending | RowStatus::Dead))
            .map(|(k, r)| (k, r.status))
            .collect();
        if !stuck.is_empty() || !self.timers.is_empty() || self.log.iter().any(|e| !e.consumed) {
            self.fail(format!("not quiescent: rows {stuck:?}, timers {:?}", self.timers.keys()));
        }
        if let Some((id, _)) = self.tasks.iter().find(|(_, t)| t.status == TaskStatus::Open) {
            self.fail(format!("task {id} is still open"));
        }
        let applied: BTreeSet<String> = self.downstream.applied.keys().cloned().collect();
        // The saga, on the ground truth: what took effect is undone exactly when the instance
        // failed or was cancelled (but for compensations a person skipped).
        for act in Act::ALL.into_iter().filter(|a| a.compensable()) {
            let done = applied.contains(&act.key());
            let undone = applied.contains(&act.undo_key());
            let skipped = self
                .outbox
                .get(&act.undo_key())
                .is_some_and(|r| matches!(r.status, RowStatus::Skipped | RowStatus::Abandoned));
            let should = done && matches!(inst.outcome.as_deref(), Some("failed" | "cancelled")) && !skipped;
            if undone != should {
                self.fail(format!("{}: applied {done}, compensated {undone}, ending {:?}", act.step(), inst.outcome));
            }
        }
        let expected = m.expected_applied();
        let maybe: BTreeSet<String> = m.withdrawn.iter().map(|a| a.key()).collect();
        if !expected.is_subset(&applied) || applied.difference(&expected).any(|k| !maybe.contains(k)) {
            self.fail(format!(
                "the downstream system applied {applied:?}, the model expects {expected:?} (and maybe {maybe:?})"
            ));
        }
        if let Some((op, n)) = self.downstream.operations.iter().find(|(_, n)| **n > 1) {
            self.fail(format!("{op} applied {n} times"));
        }
    }
}

fn timer_input(timer: &Timer) -> Input {
    match timer.purpose {
        TimerPurpose::TaskDue { .. } => Input::TaskDue,
        TimerPurpose::TaskEscalation { rung: 0, .. } => Input::Escalation,
        TimerPurpose::WaitTimeout { .. } => Input::WaitTimeout,
        ref other => panic!("unexpected timer {other:?}"),
    }
}

fn describe(command: &Command) -> String {
    match command {
        Command::Deliver { event } => format!("Deliver {} {}", event["type"], event["data"]["transfer_number"]),
        Command::TaskDecided { task, outcome, fields, actor, .. } => {
            format!("TaskDecided {task} {outcome} {fields:?} by {actor}")
        }
        Command::ActionResult { key, result } => format!("ActionResult {key} {:?}", res_of(result)),
        Command::TimerFired { timer } => format!("TimerFired {} {:?}", timer.id, timer.purpose),
        other => format!("{other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    /// Every interleaving ends where the model says, with the keys it says applied once each.
    #[test]
    fn interleavings_end_where_the_model_says(case in case()) {
        Sim::new().run(&case);
    }
}

/// The operations reach every ending and every path of the workflow (a fixed sample of the
/// cases the property draws; only compensations a person skips need more cases than this).
#[test]
fn the_operations_reach_every_path() {
    let mut runner = TestRunner::deterministic();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..256 {
        let case = case().new_tree(&mut runner).expect("a case").current();
        for (k, n) in Sim::new().run(&case) {
            *seen.entry(k).or_default() += n;
        }
    }
    let outcomes =
        ["replenished", "rejected", "recount_requested", "late", "cancelled", "failed"].map(|o| format!("outcome {o}"));
    let paths = [
        "task_claimed",
        "task_escalated",
        "task_overdue",
        "shipment from the mailbox",
        "shipment waited for",
        "wait_timed_out",
        "step_failed",
        "dead_lettered",
        "dead_letter_retried",
        "action_skipped",
        "compensation_requested",
        "compensated",
        "compensation_failed",
        "late_action_completed",
        "withdrawn",
        "refused Ending",
        "crash losing work",
        "crash after a delivery",
    ];
    let missing: Vec<&str> =
        outcomes.iter().map(String::as_str).chain(paths).filter(|k| !seen.contains_key(*k)).collect();
    assert!(missing.is_empty(), "never reached: {missing:?}\n{seen:#?}");
}

// ----- regressions ------------------------------------------------------------------------------
//
// The shrunk cases of the engine bugs the property found, with what the fix guarantees, and the
// withdrawal that remains for actions without a compensation.

const APPROVE: Op = Op::Decide { other_task: false, outcome: Outcome::Approve, actor: 0 };
const DELIVER: Op = Op::Deliver { row: 0, fail: false };
const TRANSFER: &str = "inst-1/transfer";
const UNDO_TRANSFER: &str = "inst-1/transfer/compensate";
const BOOK: &str = "inst-1/book";
const UNDO_BOOK: &str = "inst-1/book/compensate";
const EXPEDITE: &str = "inst-1/expedite";

/// Starts the instance with an empty shelf and runs `ops` (checked against the model as in the
/// property); not drained.
fn play(ops: &[(Op, After)]) -> Sim {
    let mut sim = Sim::new();
    sim.play(&Case { starts: vec![Read::OnHand(0)], ops: ops.to_vec(), commit_at_end: true });
    sim
}

impl Sim {
    /// The committed instance.
    fn stored(&self) -> Instance {
        serde_json::from_str(self.stored.as_ref().expect("stored")).expect("the instance")
    }

    /// The committed status, outcome and what the instance waits for.
    fn state(&self) -> (InstanceStatus, Option<String>, Waiting) {
        let inst = self.stored();
        (inst.status, inst.outcome.clone(), observe(&inst))
    }

    fn row(&self, key: &str) -> RowStatus {
        self.outbox.get(key).unwrap_or_else(|| panic!("no outbox row {key}")).status
    }

    fn applied(&self) -> Vec<&str> {
        self.downstream.applied.keys().map(String::as_str).collect()
    }

    fn seen(&self, kind: &str) -> usize {
        self.seen.get(kind).copied().unwrap_or(0)
    }
}

fn cancelled() -> (InstanceStatus, Option<String>, Waiting) {
    (InstanceStatus::Cancelled, Some("cancelled".into()), Waiting::Nothing)
}

/// A second `Done` for the transfer after its compensation was sent (a delivery that ran twice)
/// used to put it back into `done_actions`: once the compensation was done, it was sent again
/// under a key the store already had, nothing answered it, and the instance stayed
/// `compensating` for good. The instance now remembers what it compensated and ignores it.
#[test]
fn a_duplicate_result_after_compensation_is_ignored() {
    let mut sim = play(&[(APPROVE, After::Commit), (DELIVER, After::Commit), (Op::Cancel, After::Commit)]);
    let compensating = (InstanceStatus::Compensating, Some("cancelled".into()), Waiting::Undo(Act::Transfer));
    assert_eq!(sim.state(), compensating);
    assert_eq!(sim.stored().compensated, [TRANSFER]);
    assert_eq!(sim.row(BOOK), RowStatus::Pending, "the booking can be undone: not withdrawn");
    let lines = sim.history_len;

    sim.op(&Op::Redeliver { row: 0 });
    sim.commit();
    assert_eq!(sim.state(), compensating, "the duplicate changed nothing");
    assert_eq!(sim.history_len, lines, "the duplicate wrote no history");
    assert!(sim.stored().done_actions.is_empty());

    // The booking, delivered after the transfer's compensation, is undone in turn.
    sim.finish();
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.seen("compensation_sent"), 2);
    assert_eq!(sim.applied(), [BOOK, UNDO_BOOK, TRANSFER, UNDO_TRANSFER]);
}

/// The transfer takes effect downstream but the runner dies before recording the result: the
/// row stays pending. The cancellation used to withdraw it, so its result never came and the
/// transfer was never undone. The row now stays pending, is delivered (the downstream system
/// answers with its first response), and the late result is compensated.
#[test]
fn an_action_that_took_effect_before_a_crash_is_compensated_after_a_cancellation() {
    let mut sim = play(&[(APPROVE, After::Commit), (DELIVER, After::Crash), (Op::Cancel, After::Commit)]);
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.row(TRANSFER), RowStatus::Pending, "not withdrawn");
    assert_eq!(sim.applied(), [TRANSFER]);

    sim.finish();
    assert_eq!(sim.seen("late_action_completed"), 1);
    assert_eq!(sim.seen("compensated"), 1);
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.applied(), [TRANSFER, UNDO_TRANSFER]);
}

/// The same without the crash: an approved transfer that was not delivered yet when the instance
/// is cancelled is delivered all the same, then undone.
#[test]
fn an_approved_transfer_cancelled_before_its_delivery_takes_effect_and_is_undone() {
    let mut sim = play(&[(APPROVE, After::Commit), (Op::Cancel, After::Commit)]);
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.row(TRANSFER), RowStatus::Pending, "not withdrawn");
    assert!(sim.applied().is_empty());

    sim.finish();
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.applied(), [TRANSFER, UNDO_TRANSFER]);
}

/// A second cancellation while the first one compensated used to be accepted: it dropped the
/// compensation's token, so when the compensation then failed for good its result was ignored,
/// nobody was told, and the instance ended `cancelled` with the transfer in effect. It is now
/// refused (`Ending`), the failure is dead-lettered, and a cancellation of the instance blocked
/// on it is refused too.
#[test]
fn a_compensation_that_fails_after_a_second_cancellation_is_dead_lettered() {
    let mut sim = play(&[
        (APPROVE, After::Commit),
        (DELIVER, After::Commit),
        (Op::Cancel, After::Commit),
        (Op::Cancel, After::Commit),
        // The pending rows: the booking (left to finish), then the transfer's compensation.
        (Op::Deliver { row: 1, fail: true }, After::Commit),
        (Op::Cancel, After::Commit),
    ]);
    assert_eq!(sim.seen("refused Ending"), 2);
    assert_eq!(sim.state(), (InstanceStatus::Blocked, Some("cancelled".into()), Waiting::Undo(Act::Transfer)));
    assert_eq!(sim.row(UNDO_TRANSFER), RowStatus::Dead);

    sim.finish();
    assert_eq!(sim.seen("dead_letter_retried"), 1);
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.applied(), [BOOK, UNDO_BOOK, TRANSFER, UNDO_TRANSFER]);
}

/// An action without a compensation is still withdrawn when the instance is cancelled before its
/// result came; if a crash lost the result of a delivery, it took effect all the same, and the
/// instance never learns it (nothing could undo it anyway).
#[test]
fn an_action_without_compensation_is_withdrawn_on_cancellation() {
    let mut sim = play(&[
        (APPROVE, After::Commit),
        (DELIVER, After::Commit),
        (DELIVER, After::Commit),
        // The timers, by id: the task's due time and escalation (stale), then the wait's timeout.
        (Op::FireDue { timer: 2 }, After::Commit),
    ]);
    assert_eq!(sim.state(), (InstanceStatus::Running, None, Waiting::Action(Act::Expedite)));
    sim.op(&DELIVER);
    sim.crash();
    sim.op(&Op::Cancel);
    sim.commit();
    assert_eq!(sim.row(EXPEDITE), RowStatus::Withdrawn);
    assert_eq!(sim.state(), (InstanceStatus::Compensating, Some("cancelled".into()), Waiting::Undo(Act::Book)));

    sim.finish();
    assert_eq!(sim.state(), cancelled());
    assert_eq!(sim.row(EXPEDITE), RowStatus::Withdrawn);
    assert_eq!(sim.applied(), [BOOK, UNDO_BOOK, EXPEDITE, TRANSFER, UNDO_TRANSFER]);
    assert_eq!(sim.seen("late_action_completed"), 0);
}

//! The functional core stepped by hand: every step kind, timers, SLA escalation over closing
//! hours and a holiday, retries, dead letters and compensation, with a manual clock and the
//! history asserted line by line.

use std::collections::HashMap;

use backroom_engine::clock::SequentialIds;
use backroom_engine::core::{
    ActionOutcome, Command, Directory, Effect, Env, Instance, InstanceStatus, ReadOutcome, ReadSource, Rejection,
    TaskChange, Timer, TimerPurpose, Transition, apply,
};
use backroom_engine::policy::NoPolicies;
use backroom_engine::workflow::{Workflow, load};
use backroom_model::Location;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Map, Value, json};

const EVERY_STEP: &str = include_str!("executor/every_step.yaml");

struct Locations(HashMap<String, Location>);

impl Directory for Locations {
    fn location(&self, id: &str) -> Option<Location> {
        self.0.get(id).cloned()
    }
}

/// The Lyon store (Mon–Sat 09:00–20:00 Paris time, closed on 2026-12-25) in district D-RHONE.
fn locations() -> Locations {
    let weekly: Vec<Value> = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        .iter()
        .map(|d| json!({"day": d, "opens": "09:00:00", "closes": "20:00:00"}))
        .collect();
    let all = [
        json!({"id": "ACME", "kind": "company", "name": "Acme Retail", "time_zone": "Europe/Paris"}),
        json!({"id": "R-SOUTH", "kind": "region", "name": "South", "parent": "ACME", "time_zone": "Europe/Paris"}),
        json!({"id": "D-RHONE", "kind": "district", "name": "Rhône", "parent": "R-SOUTH", "time_zone": "Europe/Paris"}),
        json!({"id": "STORE-LYON", "kind": "store", "name": "Lyon Part-Dieu", "parent": "D-RHONE",
               "time_zone": "Europe/Paris", "opening_hours": {"weekly": weekly, "closed_on": ["2026-12-25"]}}),
    ];
    Locations(
        all.into_iter()
            .map(|v| {
                let l: Location = serde_json::from_value(v).expect("location");
                (l.id.to_string(), l)
            })
            .collect(),
    )
}

fn workflow(text: &str) -> Workflow {
    load("test.yaml", text, &|f| Err(format!("{f}: no files here"))).unwrap_or_else(|p| panic!("{p}"))
}

/// One instance stepped by hand, with everything it produced.
struct Case {
    wf: Workflow,
    inst: Instance,
    now: DateTime<Utc>,
    ids: SequentialIds,
    dir: Locations,
    history: Vec<(String, Option<String>)>,
    effects: Vec<Effect>,
}

impl Case {
    fn new(text: &str, now: DateTime<Utc>) -> Self {
        let wf = workflow(text);
        let inst = Instance::new("inst-1".into(), &wf.id, wf.version, Some("STORE-LYON/SKU-1".into()), now);
        Case {
            wf,
            inst,
            now,
            ids: SequentialIds::new("task"),
            dir: locations(),
            history: Vec::new(),
            effects: Vec::new(),
        }
    }

    fn try_apply(&mut self, command: Command) -> Result<Transition, Rejection> {
        let mut env = Env { now: self.now, ids: &mut self.ids, directory: &self.dir, policies: &NoPolicies };
        let t = apply(&self.wf, &mut self.inst, command, &mut env)?;
        self.history.extend(t.history.iter().map(|h| (h.kind.clone(), h.step.clone())));
        self.effects.extend(t.effects.iter().cloned());
        Ok(t)
    }

    fn apply(&mut self, command: Command) -> Transition {
        self.try_apply(command).unwrap_or_else(|e| panic!("refused: {e}"))
    }

    /// Answers every read of a transition with `data`, as the runner does.
    fn answer(&mut self, t: Transition, data: Value) -> Transition {
        let mut last = t;
        while let Some(read) = last.reads.first().cloned() {
            last =
                self.apply(Command::ReadResult { token: read.token, result: ReadOutcome::Ok { data: data.clone() } });
        }
        last
    }

    fn kinds_since(&self, from: usize) -> Vec<String> {
        self.history[from..]
            .iter()
            .map(|(k, s)| match s {
                Some(s) => format!("{k}:{s}"),
                None => k.clone(),
            })
            .collect()
    }

    fn timers(&self) -> Vec<Timer> {
        self.effects.iter().filter_map(|e| if let Effect::Arm(t) = e { Some(t.clone()) } else { None }).collect()
    }

    fn fire(&mut self, purpose: impl Fn(&TimerPurpose) -> bool) -> Transition {
        let timer = self.timers().into_iter().rev().find(|t| purpose(&t.purpose)).expect("such a timer");
        self.now = timer.due_at;
        self.apply(Command::TimerFired { timer })
    }

    fn open_task(&self) -> String {
        self.effects
            .iter()
            .rev()
            .find_map(|e| if let Effect::OpenTask(t) = e { Some(t.id.clone()) } else { None })
            .expect("a task was opened")
    }

    fn sent(&self) -> Vec<(String, String)> {
        self.effects
            .iter()
            .filter_map(|e| if let Effect::Send(m) = e { Some((m.key.clone(), m.operation.clone())) } else { None })
            .collect()
    }
}

fn stockout_event() -> Value {
    json!({"id": "so-1", "type": "inventory.stockout_reported", "seq": 7, "source": "store-app",
           "data": {"location": "STORE-LYON", "item": {"sku": "SKU-1"}}})
}

fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Paris.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("a Paris time").with_timezone(&Utc)
}

#[test]
fn every_step_kind_in_order() {
    // Tuesday 10:00 in Lyon.
    let mut case = Case::new(EVERY_STEP, paris(2026, 11, 17, 10, 0));
    let t = case.apply(Command::Start { event: stockout_event() });
    assert_eq!(t.reads.len(), 1);
    assert!(
        matches!(&t.reads[0].source, ReadSource::Stock { location, item } if location == "STORE-LYON" && item == "SKU-1")
    );
    case.answer(t, json!({"found": true, "on_hand": "0", "in_transit": "0"}));
    assert_eq!(
        case.kinds_since(0),
        [
            "started",
            "step_completed:stock",
            "step_completed:cause",
            "step_completed:route",
            "branch_taken:check",
            "task_opened:approve"
        ]
    );
    let steps = case.inst.steps().expect("steps").clone();
    assert_eq!(steps["cause"]["label"], "true_stockout");
    assert_eq!(steps["route"]["matched"], json!(["empty"]), "the decision records the rule that matched");
    let Some(Effect::OpenTask(task)) = case.effects.iter().find(|e| matches!(e, Effect::OpenTask(_))) else {
        panic!("no task")
    };
    assert_eq!((task.role.as_str(), task.location.as_deref(), task.priority), ("store_manager", Some("STORE-LYON"), 2));
    assert_eq!(task.due_at, Some(paris(2026, 11, 17, 14, 0)), "4 business hours on an open Tuesday");
    assert_eq!(task.evidence["steps"]["stock"]["on_hand"], "0", "the evidence is the context at creation");
    let task_id = task.id.clone();

    // A decision with a field the outcome does not take, then one missing a required field, are refused whole.
    let before = case.inst.clone();
    let wrong = case.try_apply(Command::TaskDecided {
        task: task_id.clone(),
        outcome: "approve".into(),
        fields: Map::from_iter([("quantity".to_owned(), json!("5"))]),
        comment: None,
        actor: "manager-1".into(),
        on_behalf_of: None,
    });
    assert!(matches!(wrong, Err(Rejection::Field { .. })), "{wrong:?}");
    let missing = case.try_apply(Command::TaskDecided {
        task: task_id.clone(),
        outcome: "modify".into(),
        fields: Map::new(),
        comment: None,
        actor: "manager-1".into(),
        on_behalf_of: None,
    });
    assert!(matches!(missing, Err(Rejection::Field { ref field, .. }) if field == "quantity"), "{missing:?}");
    assert_eq!(case.inst, before, "a refused command changes nothing");

    let mark = case.history.len();
    case.apply(Command::TaskDecided {
        task: task_id.clone(),
        outcome: "modify".into(),
        fields: Map::from_iter([("quantity".to_owned(), json!(8.50))]),
        comment: Some("only 8.5 cases fit the shelf".into()),
        actor: "manager-1".into(),
        on_behalf_of: None,
    });
    assert_eq!(case.kinds_since(mark), ["task_decided:approve", "action_sent:transfer"]);
    assert_eq!(case.sent(), [("inst-1/transfer".to_owned(), "create_transfer".to_owned())]);
    let Some(Effect::Send(message)) = case.effects.iter().find(|e| matches!(e, Effect::Send(_))) else { panic!() };
    assert_eq!(message.payload, json!({"sku": "SKU-1", "quantity": "8.5"}), "the modified field reaches the action");

    // The action succeeds; the parallel step waits for the shipment and the settlement time.
    let mark = case.history.len();
    let settle_at = case.now + Duration::hours(1);
    case.apply(Command::ActionResult {
        key: "inst-1/transfer".into(),
        result: ActionOutcome::Done { response: json!({"transfer_id": "TR-9", "settle_at": settle_at}) },
    });
    assert_eq!(
        case.kinds_since(mark),
        ["action_completed:transfer", "step_completed:transfer", "parallel_started:both"]
    );

    // A correlated event of another type is kept in the mailbox; the shipment is consumed.
    let mark = case.history.len();
    case.apply(Command::Deliver { event: json!({"id": "c-1", "type": "inventory.counted", "data": {}}) });
    assert_eq!(case.kinds_since(mark), ["event_received"]);
    let mark = case.history.len();
    case.apply(Command::Deliver {
        event: json!({"id": "sh-1", "type": "transfer.shipped", "data": {"transfer_number": "TR-9"}}),
    });
    assert_eq!(case.kinds_since(mark), ["event_received", "event_consumed:shipped", "step_completed:shipped"]);
    let mark = case.history.len();
    case.fire(|p| matches!(p, TimerPurpose::WaitUntil { .. }));
    assert_eq!(
        case.kinds_since(mark),
        [
            "step_completed:settle",
            "parallel_joined:both",
            "step_completed:both",
            "step_completed:announce",
            "completed:done"
        ]
    );
    assert_eq!(case.inst.status, InstanceStatus::Completed);
    assert_eq!(case.inst.outcome.as_deref(), Some("resolved"));
    let emitted: Vec<&Effect> = case.effects.iter().filter(|e| matches!(e, Effect::Emit { .. })).collect();
    assert!(
        matches!(emitted[..], [Effect::Emit { id, event_type, .. }] if id == "inst-1/announce" && event_type == "inventory.adjusted")
    );

    // Timers that fire after the end change nothing.
    let stale = case.fire(|p| matches!(p, TimerPurpose::WaitTimeout { .. }));
    assert!(stale.history.is_empty() && stale.effects.is_empty());
}

#[test]
fn escalation_runs_on_business_hours_across_closing_time_and_a_holiday() {
    // Thursday 24 December 2026, 17:00 in Lyon: 3 business hours left today, Christmas closed.
    let mut case = Case::new(EVERY_STEP, paris(2026, 12, 24, 17, 0));
    let t = case.apply(Command::Start { event: stockout_event() });
    case.answer(t, json!({"found": false, "on_hand": "0"}));
    let timers = case.timers();
    let due = timers.iter().find(|t| matches!(t.purpose, TimerPurpose::TaskDue { .. })).expect("due timer");
    assert_eq!(due.due_at, paris(2026, 12, 26, 10, 0), "3 h on Thursday, closed on Christmas, 1 h on Saturday");
    let escalation =
        timers.iter().find(|t| matches!(t.purpose, TimerPurpose::TaskEscalation { .. })).expect("escalation");
    assert_eq!(escalation.due_at, paris(2026, 12, 24, 19, 0), "2 business hours after 17:00 is 19:00 the same evening");

    let mark = case.history.len();
    case.fire(|p| matches!(p, TimerPurpose::TaskEscalation { .. }));
    assert_eq!(case.kinds_since(mark), ["task_escalated:approve"]);
    let escalated = case.effects.iter().rev().find_map(|e| match e {
        Effect::UpdateTask { change: TaskChange::Escalated { role, location, level }, .. } => {
            Some((role.clone(), location.clone(), *level))
        }
        _ => None,
    });
    assert_eq!(escalated, Some(("district_manager".to_owned(), Some("D-RHONE".to_owned()), 1)), "one level up");

    let mark = case.history.len();
    case.fire(|p| matches!(p, TimerPurpose::TaskDue { .. }));
    assert_eq!(case.kinds_since(mark), ["task_overdue:approve"]);
    // The store manager no longer holds the task; the district manager decides it.
    let task = case.open_task();
    case.apply(Command::TaskDecided {
        task,
        outcome: "reject".into(),
        fields: Map::new(),
        comment: None,
        actor: "district-lead-2".into(),
        on_behalf_of: None,
    });
    assert_eq!(case.inst.outcome.as_deref(), Some("resolved"));
}

const RETRIES: &str = r#"
id: availability_check
title: DC availability with retries
trigger: { event: inventory.stockout_reported }
inputs: { sku: event.data.item.sku }
steps:
  - id: availability
    kind: enrich
    connector: wms
    query: availability
    with: { sku: inputs.sku }
    retry: { attempts: 3, backoff: 10s, max_interval: 15s }
    on_error: manual
    next: reserve
  - id: reserve
    kind: action
    connector: wms
    operation: reserve
    with: { sku: inputs.sku }
    compensate: { operation: release, with: { sku: inputs.sku } }
    next: pick
  - id: pick
    kind: action
    connector: wms
    operation: pick
    with: { sku: inputs.sku }
    compensate: { operation: unpick, with: { sku: inputs.sku } }
    next: ship
  - id: ship
    kind: action
    connector: wms
    operation: ship
    with: { sku: inputs.sku }
    next: done
  - { id: manual, kind: end, outcome: manual_check }
  - { id: done, kind: end, outcome: shipped }
"#;

#[test]
fn retries_back_off_then_route_the_failure() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 17, 9, 0, 0).single().expect("time");
    let mut case = Case::new(RETRIES, t0);
    let mut t = case.apply(Command::Start { event: stockout_event() });
    let mut delays = Vec::new();
    for _ in 0..3 {
        let read = t.reads.first().cloned().expect("a read");
        assert!(matches!(read.source, ReadSource::Query { ref operation, .. } if operation == "availability"));
        case.apply(Command::ReadResult { token: read.token, result: ReadOutcome::Retryable { error: "503".into() } });
        if case.inst.status != InstanceStatus::Running || case.inst.tokens.is_empty() {
            break;
        }
        if case.kinds_since(case.history.len() - 1) == ["retry_scheduled:availability"] {
            let before = case.now;
            t = case.fire(|p| matches!(p, TimerPurpose::Retry { .. }));
            delays.push(case.now - before);
        } else {
            break;
        }
    }
    assert_eq!(delays, [Duration::seconds(10), Duration::seconds(15)], "10 s, then doubled but capped at 15 s");
    assert_eq!(case.inst.outcome.as_deref(), Some("manual_check"), "after 3 attempts the failure goes to on_error");
    let kinds = case.kinds_since(0);
    assert_eq!(kinds.iter().filter(|k| *k == "retry_scheduled:availability").count(), 2);
    assert!(kinds.contains(&"step_failed:availability".to_owned()));
}

#[test]
fn a_dead_letter_blocks_until_a_person_acts_and_compensation_runs_in_reverse() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 17, 9, 0, 0).single().expect("time");
    let mut case = Case::new(RETRIES, t0);
    let t = case.apply(Command::Start { event: stockout_event() });
    case.answer(t, json!({"available": 40}));
    case.apply(Command::ActionResult {
        key: "inst-1/reserve".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    case.apply(Command::ActionResult {
        key: "inst-1/pick".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });

    // Shipping fails for good and nothing routes it: dead letter, blocked.
    let mark = case.history.len();
    case.apply(Command::ActionResult {
        key: "inst-1/ship".into(),
        result: ActionOutcome::Failed { error: "carrier refused: address incomplete".into() },
    });
    assert_eq!(case.kinds_since(mark), ["action_failed:ship", "dead_lettered:ship"]);
    assert_eq!(case.inst.status, InstanceStatus::Blocked);
    assert!(case.effects.iter().any(|e| matches!(e, Effect::DeadLetter { key, .. } if key == "inst-1/ship")));

    // A person retries it (unblocked, still waiting), it fails again, and she chooses to compensate.
    case.apply(Command::ActionRetried { key: "inst-1/ship".into(), actor: "wms-admin".into() });
    assert_eq!(case.inst.status, InstanceStatus::Running);
    case.apply(Command::ActionResult {
        key: "inst-1/ship".into(),
        result: ActionOutcome::Failed { error: "again".into() },
    });
    let mark = case.history.len();
    case.apply(Command::ActionResult {
        key: "inst-1/ship".into(),
        result: ActionOutcome::Compensate { actor: "wms-admin".into() },
    });
    assert_eq!(case.inst.status, InstanceStatus::Compensating);
    assert_eq!(case.kinds_since(mark), ["compensation_requested:ship", "failed:ship", "compensation_sent:pick"]);

    // Compensations go newest first: unpick, then release.
    case.apply(Command::ActionResult {
        key: "inst-1/pick/compensate".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    case.apply(Command::ActionResult {
        key: "inst-1/reserve/compensate".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    let sent: Vec<String> = case.sent().into_iter().map(|(_, op)| op).collect();
    assert_eq!(sent, ["reserve", "pick", "ship", "unpick", "release"]);
    assert_eq!(case.inst.status, InstanceStatus::Failed);
    assert_eq!(case.kinds_since(case.history.len() - 1), ["compensation_finished"]);
    // Every key was issued once.
    let keys: Vec<String> = case.sent().into_iter().map(|(k, _)| k).collect();
    let unique: std::collections::HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
}

#[test]
fn cancelling_undoes_actions_that_took_effect() {
    let t0 = Utc.with_ymd_and_hms(2026, 11, 17, 9, 0, 0).single().expect("time");
    let mut case = Case::new(RETRIES, t0);
    let t = case.apply(Command::Start { event: stockout_event() });
    case.answer(t, json!({"available": 40}));
    case.apply(Command::ActionResult {
        key: "inst-1/reserve".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    case.apply(Command::Cancel { actor: "ops-lead".into(), reason: Some("customer collected elsewhere".into()) });
    assert_eq!(case.inst.status, InstanceStatus::Compensating);
    assert!(
        !case.effects.iter().any(|e| matches!(e, Effect::Withdraw { .. })),
        "the pick can be undone, so it is left to finish: it may already have taken effect"
    );
    // Its result arrives after the cancellation: it is recorded and undone too.
    let mark = case.history.len();
    case.apply(Command::ActionResult {
        key: "inst-1/pick".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    assert_eq!(case.kinds_since(mark), ["late_action_completed:pick"]);
    case.apply(Command::ActionResult {
        key: "inst-1/reserve/compensate".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    assert_eq!(case.inst.status, InstanceStatus::Compensating);
    case.apply(Command::ActionResult {
        key: "inst-1/pick/compensate".into(),
        result: ActionOutcome::Done { response: json!({}) },
    });
    let sent: Vec<String> = case.sent().into_iter().map(|(_, op)| op).collect();
    assert_eq!(sent, ["reserve", "pick", "release", "unpick"]);
    assert_eq!(case.inst.status, InstanceStatus::Cancelled);
    assert!(matches!(case.try_apply(Command::Cancel { actor: "x".into(), reason: None }), Err(Rejection::Ended(_))));
}

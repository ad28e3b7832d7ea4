//! Approval steps stepped by hand: policies picked up the location hierarchy, approval chains by
//! amount (at and around the thresholds), four eyes, segregation of duties, automatic decisions
//! within the autonomy limits and the fallbacks outside them, and suggestions.

use std::collections::HashMap;

use backroom_engine::clock::SequentialIds;
use backroom_engine::core::{
    Command, Delegated, Directory, Effect, Env, Instance, InstanceStatus, Rejection, Transition, apply,
};
use backroom_engine::policy::{ApprovalPolicy, PolicyCatalog, PolicyVersion};
use backroom_engine::workflow::{Workflow, load};
use backroom_model::Location;
use chrono::{DateTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

const REFUND: &str = r#"
id: refund_approval
title: Refund approval
trigger: { event: return.requested }
inputs:
  location: event.data.location
classifiers:
  refund_risk:
    rules:
      - { label: low_risk, when: 'true', confidence: 0.95, reason: a small refund to a known customer }
steps:
  - { id: risk, kind: classify, classifier: refund_risk, next: approve }
  - id: approve
    kind: approval
    policy: refund
    amount: event.data.amount
    location: inputs.location
    requester: event.data.requested_by
    confidence: event.data.confidence
    outcomes: { approved: refunded, rejected: refused, suggested: review }
  - { id: refunded, kind: end, outcome: refunded }
  - { id: refused, kind: end, outcome: refused }
  - { id: review, kind: end, outcome: reviewed }
"#;

struct Locations(HashMap<String, Location>);

impl Directory for Locations {
    fn location(&self, id: &str) -> Option<Location> {
        self.0.get(id).cloned()
    }
}

/// ACME > R-NORTH > D-1 > S1, and ACME > R-SOUTH > S9.
fn locations() -> Locations {
    let all = [
        json!({"id": "ACME", "kind": "company", "name": "Acme", "time_zone": "UTC"}),
        json!({"id": "R-NORTH", "kind": "region", "name": "North", "parent": "ACME", "time_zone": "UTC"}),
        json!({"id": "D-1", "kind": "district", "name": "One", "parent": "R-NORTH", "time_zone": "UTC"}),
        json!({"id": "S1", "kind": "store", "name": "Store 1", "parent": "D-1", "time_zone": "UTC"}),
        json!({"id": "R-SOUTH", "kind": "region", "name": "South", "parent": "ACME", "time_zone": "UTC"}),
        json!({"id": "S9", "kind": "store", "name": "Store 9", "parent": "R-SOUTH", "time_zone": "UTC"}),
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

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single().expect("time")
}

/// The region's refund policy: store manager above 0, finance controller above 500, four eyes
/// above 2000; autonomy as given.
fn north_policy(autonomy: Value) -> Value {
    json!({
        "action": "refund", "scope": "R-NORTH",
        "levels": [{"above": "0", "role": "store_manager"}, {"above": "500", "role": "finance_controller"}],
        "four_eyes_above": "2000",
        "autonomy": autonomy,
    })
}

fn catalog(documents: &[Value]) -> PolicyCatalog {
    let mut c = PolicyCatalog::default();
    for (i, d) in documents.iter().enumerate() {
        let policy = ApprovalPolicy::from_json(d).unwrap_or_else(|e| panic!("{e}"));
        c.add(PolicyVersion { version: i as i64 + 1, policy, created_at: now(), created_by: "test".into() });
    }
    c
}

struct Case {
    wf: Workflow,
    inst: Instance,
    ids: SequentialIds,
    dir: Locations,
    book: PolicyCatalog,
    history: Vec<(String, Value)>,
    effects: Vec<Effect>,
}

impl Case {
    fn new(book: PolicyCatalog) -> Self {
        let wf = load("refund.yaml", REFUND, &|f| Err(format!("{f}: no files"))).unwrap_or_else(|p| panic!("{p}"));
        let inst = Instance::new("inst-1".into(), &wf.id, wf.version, None, now());
        Case {
            wf,
            inst,
            ids: SequentialIds::new("task"),
            dir: locations(),
            book,
            history: Vec::new(),
            effects: Vec::new(),
        }
    }

    /// Starts a refund of `amount` at `location`, requested by `requester`.
    fn start(book: PolicyCatalog, amount: &str, location: &str, requester: &str, confidence: Value) -> Case {
        let mut case = Case::new(book);
        let event = json!({"id": "ret-1", "type": "return.requested", "data": {
            "amount": amount, "location": location, "requested_by": requester, "confidence": confidence,
        }});
        case.apply(Command::Start { event });
        case
    }

    fn try_apply(&mut self, command: Command) -> Result<Transition, Rejection> {
        let mut env = Env { now: now(), ids: &mut self.ids, directory: &self.dir, policies: &self.book };
        let t = apply(&self.wf, &mut self.inst, command, &mut env)?;
        self.history.extend(t.history.iter().map(|h| (h.kind.clone(), h.data.clone())));
        self.effects.extend(t.effects.iter().cloned());
        Ok(t)
    }

    fn apply(&mut self, command: Command) -> Transition {
        self.try_apply(command).unwrap_or_else(|e| panic!("refused: {e}"))
    }

    /// The tasks opened so far: (id, role, location, title).
    fn tasks(&self) -> Vec<(String, String, Option<String>, String)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::OpenTask(t) => Some((t.id.clone(), t.role.clone(), t.location.clone(), t.title.clone())),
                _ => None,
            })
            .collect()
    }

    fn open_task(&self) -> String {
        self.tasks().last().expect("a task is open").0.clone()
    }

    fn decide(&mut self, task: &str, outcome: &str, actor: &str) -> Result<Transition, Rejection> {
        self.try_apply(Command::TaskDecided {
            task: task.to_owned(),
            outcome: outcome.to_owned(),
            fields: Map::new(),
            comment: None,
            actor: actor.to_owned(),
            on_behalf_of: None,
        })
    }

    fn output(&self) -> &Value {
        &self.inst.context["steps"]["approve"]
    }

    fn ledger(&self) -> Vec<(String, Decimal, Option<String>, i64)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::RecordAutomatic(d) => Some((d.policy.clone(), d.amount, d.location.clone(), d.policy_version)),
                _ => None,
            })
            .collect()
    }

    fn fallback_reason(&self) -> Option<String> {
        self.history
            .iter()
            .find(|(k, _)| k == "autonomy_fallback")
            .and_then(|(_, d)| d["reason"].as_str().map(str::to_owned))
    }
}

fn approve_only() -> PolicyCatalog {
    catalog(&[north_policy(json!({"level": "approve"}))])
}

fn sod_reason(result: Result<Transition, Rejection>) -> String {
    match result {
        Err(Rejection::SegregationOfDuties { reason, .. }) => reason,
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("accepted, but segregation of duties should refuse it"),
    }
}

#[test]
fn the_requester_may_not_claim_or_approve_their_own_refund() {
    let mut case = Case::start(approve_only(), "120", "S1", "alice", Value::Null);
    let task = case.open_task();
    let claim = case.try_apply(Command::TaskClaimed { task: task.clone(), actor: "Alice".into(), on_behalf_of: None });
    assert_eq!(sod_reason(claim), "alice requested this refund");
    assert_eq!(sod_reason(case.decide(&task, "approve", "ALICE")), "alice requested this refund");
    // Acting for alice through a delegation is refused as well.
    let through = case.try_apply(Command::TaskDecided {
        task: task.clone(),
        outcome: "approve".into(),
        fields: Map::new(),
        comment: None,
        actor: "bob".into(),
        on_behalf_of: Some(Delegated { delegator: "alice".into(), delegation: "d-7".into() }),
    });
    let reason = sod_reason(through);
    assert!(reason.contains("bob acts for alice") && reason.contains("alice requested this refund"), "{reason}");
    assert_eq!(case.inst.status, InstanceStatus::Running, "nothing changed");

    case.decide(&task, "approve", "bob").expect("bob approves");
    assert_eq!(case.inst.outcome.as_deref(), Some("refunded"));
    let out = case.output();
    assert_eq!(out["outcome"], "approved");
    assert_eq!(out["automatic"], false);
    assert_eq!(out["policy"], json!({"action": "refund", "version": 1, "scope": "R-NORTH"}));
    assert_eq!(out["approvals"][0]["actor"], "bob");
    assert_eq!(out["approvals"][0]["role"], "store_manager");
    assert!(case.ledger().is_empty(), "a person approved: nothing in the autonomy ledger");
}

#[test]
fn the_same_person_may_not_approve_two_levels() {
    let mut case = Case::start(approve_only(), "800", "S1", "alice", Value::Null);
    let first = case.open_task();
    case.decide(&first, "approve", "bob").expect("level 1");
    let tasks = case.tasks();
    assert_eq!(tasks.len(), 2);
    assert_eq!((tasks[1].1.as_str(), tasks[1].2.as_deref()), ("finance_controller", Some("S1")));
    let second = case.open_task();
    assert_eq!(sod_reason(case.decide(&second, "approve", "Bob")), "bob approved level 1 of this chain");
    case.decide(&second, "approve", "carol").expect("level 2");
    assert_eq!(case.inst.outcome.as_deref(), Some("refunded"));
    let approvals: Vec<(u64, &str)> = case.output()["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .map(|a| (a["level"].as_u64().expect("level"), a["actor"].as_str().expect("actor")))
        .collect();
    assert_eq!(approvals, [(1, "bob"), (2, "carol")]);
}

#[test]
fn above_four_eyes_the_last_level_needs_a_second_different_approver() {
    let mut case = Case::start(approve_only(), "2500", "S1", "alice", Value::Null);
    case.decide(&case.open_task(), "approve", "bob").expect("level 1");
    case.decide(&case.open_task(), "approve", "carol").expect("level 2");
    let tasks = case.tasks();
    assert_eq!(tasks.len(), 3, "one more task for the second pair of eyes");
    assert_eq!(tasks[2].1, "finance_controller");
    assert!(tasks[2].3.contains("second approver"), "{}", tasks[2].3);
    let reason = sod_reason(case.decide(&case.open_task(), "approve", "carol"));
    assert!(reason.starts_with("carol approved level 2 of this chain"), "{reason}");
    assert_eq!(case.inst.status, InstanceStatus::Running);
    case.decide(&case.open_task(), "approve", "dave").expect("second approver");
    assert_eq!(case.inst.outcome.as_deref(), Some("refunded"));
    assert_eq!(case.output()["approvals"].as_array().map(Vec::len), Some(3));

    // At exactly the four-eyes threshold, two approvals are enough.
    let mut at = Case::start(approve_only(), "2000", "S1", "alice", Value::Null);
    at.decide(&at.open_task(), "approve", "bob").expect("level 1");
    at.decide(&at.open_task(), "approve", "carol").expect("level 2");
    assert_eq!((at.tasks().len(), at.inst.outcome.as_deref()), (2, Some("refunded")));
}

#[test]
fn a_rejection_at_any_level_ends_the_chain() {
    let mut case = Case::start(approve_only(), "800", "S1", "alice", Value::Null);
    case.decide(&case.open_task(), "approve", "bob").expect("level 1");
    case.decide(&case.open_task(), "reject", "carol").expect("level 2 rejects");
    assert_eq!(case.inst.outcome.as_deref(), Some("refused"));
    assert_eq!(case.output()["outcome"], "rejected");
    assert_eq!(case.output()["rejected_by"]["actor"], "carol");
    assert_eq!(case.tasks().len(), 2);
}

#[test]
fn thresholds_are_strictly_greater() {
    for (amount, levels) in [("499.99", 1), ("500", 1), ("500.01", 2), ("0.01", 1)] {
        let case = Case::start(approve_only(), amount, "S1", "alice", Value::Null);
        let tasks = case.tasks();
        assert_eq!(tasks.len(), 1, "{amount}: the first level's task");
        assert!(tasks[0].3.ends_with(&format!("level 1 of {levels}")), "{amount}: {}", tasks[0].3);
    }
    // An amount that reaches no level needs no one: approved with a receipt.
    let case = Case::start(approve_only(), "0", "S1", "alice", Value::Null);
    assert!(case.tasks().is_empty());
    assert_eq!(case.inst.outcome.as_deref(), Some("refunded"));
    assert_eq!(case.output()["receipt"]["outcome"], "approved");
}

#[test]
fn the_most_specific_policy_up_the_hierarchy_wins() {
    let company = json!({"action": "refund", "levels": [{"above": "0", "role": "regional_ops"}]});
    let book = catalog(&[company, north_policy(json!({"level": "approve"}))]);
    let s1 = Case::start(book.clone(), "10", "S1", "alice", Value::Null);
    assert_eq!(s1.tasks()[0].1, "store_manager", "S1 is under R-NORTH");
    let s9 = Case::start(book, "10", "S9", "alice", Value::Null);
    assert_eq!(s9.tasks()[0].1, "regional_ops", "S9 falls back to the company's policy");

    let none = Case::start(PolicyCatalog::default(), "10", "S1", "alice", Value::Null);
    assert_eq!(none.inst.status, InstanceStatus::Failed);
    assert!(
        none.inst.error.as_deref().unwrap_or("").contains("no approval policy for refund"),
        "{:?}",
        none.inst.error
    );
}

fn auto() -> Value {
    json!({"level": "auto", "max_amount": "50", "max_daily_amount": "400", "min_confidence": "0.9"})
}

#[test]
fn auto_within_the_limits_decides_with_a_receipt_and_a_ledger_row() {
    let case = Case::start(catalog(&[north_policy(auto())]), "50", "S1", "alice", json!(0.95));
    assert!(case.tasks().is_empty(), "no one is asked");
    assert_eq!(case.inst.outcome.as_deref(), Some("refunded"));
    let out = case.output();
    assert_eq!(out["outcome"], "approved");
    assert_eq!(out["automatic"], true);
    let receipt = &out["receipt"];
    assert_eq!(
        receipt["inputs"],
        json!({"amount": "50", "location": "S1", "requester": "alice", "confidence": "0.95"})
    );
    assert_eq!(receipt["policy"], json!({"action": "refund", "version": 1, "scope": "R-NORTH"}));
    assert_eq!(receipt["outcome"], "approved");
    assert_eq!(receipt["classifications"][0]["label"], "low_risk");
    assert_eq!(receipt["classifications"][0]["model"], "rules:refund_risk");
    assert_eq!(case.ledger(), [("refund".to_owned(), Decimal::from(50), Some("S1".to_owned()), 1)]);
    let completed = case.history.iter().find(|(k, d)| k == "step_completed" && d.get("receipt").is_some());
    assert!(completed.is_some(), "the receipt is in the history: {:?}", case.history);
}

#[test]
fn auto_falls_back_to_people_outside_each_limit() {
    let over_amount = Case::start(catalog(&[north_policy(auto())]), "50.01", "S1", "alice", json!(0.95));
    let reason = over_amount.fallback_reason().expect("a fallback");
    assert!(reason.contains("over the automatic limit of 50"), "{reason}");
    assert_eq!(over_amount.tasks().len(), 1, "a person approves instead");
    assert!(over_amount.ledger().is_empty());

    let mut book = catalog(&[north_policy(auto())]);
    book.totals.insert(("refund".into(), Some("S1".into()), now().date_naive()), Decimal::from(380));
    let within_day = Case::start(book.clone(), "20", "S1", "alice", json!(0.95));
    assert_eq!(within_day.output()["automatic"], true, "380 + 20 = 400 is within the daily limit");
    let over_day = Case::start(book, "20.01", "S1", "alice", json!(0.95));
    let reason = over_day.fallback_reason().expect("a fallback");
    assert!(reason.contains("daily limit of 400") && reason.contains("380"), "{reason}");
    assert_eq!(over_day.tasks().len(), 1);

    let unsure = Case::start(catalog(&[north_policy(auto())]), "10", "S1", "alice", json!(0.89));
    let reason = unsure.fallback_reason().expect("a fallback");
    assert!(reason.contains("confidence 0.89 is under the policy's minimum of 0.9"), "{reason}");
    let unknown = Case::start(catalog(&[north_policy(auto())]), "10", "S1", "alice", Value::Null);
    assert!(unknown.fallback_reason().expect("a fallback").contains("no model confidence"));

    // The fallback chain keeps segregation of duties and records why it was not automatic.
    let mut case = Case::start(catalog(&[north_policy(auto())]), "60", "S1", "alice", json!(0.99));
    assert!(matches!(case.decide(&case.open_task(), "approve", "alice"), Err(Rejection::SegregationOfDuties { .. })));
    case.decide(&case.open_task(), "approve", "bob").expect("bob");
    assert_eq!(case.output()["automatic"], false);
    assert!(case.output()["fallback"].as_str().unwrap_or("").contains("automatic limit"));
}

#[test]
fn suggest_completes_at_once_with_a_recommendation() {
    let case = Case::start(catalog(&[north_policy(json!({"level": "suggest"}))]), "800", "S1", "alice", json!(0.5));
    assert!(case.tasks().is_empty(), "no task for approval");
    assert_eq!(case.inst.outcome.as_deref(), Some("reviewed"), "the suggested route");
    let out = case.output();
    assert_eq!(out["outcome"], "suggested");
    assert_eq!(out["automatic"], false);
    assert_eq!(out["recommendation"]["approvals_a_person_would_need"].as_array().map(Vec::len), Some(2));
    assert!(case.ledger().is_empty());
}

#[test]
fn an_approval_task_takes_approve_or_reject_only() {
    let mut case = Case::start(approve_only(), "100", "S1", "alice", Value::Null);
    let task = case.open_task();
    match case.decide(&task, "modify", "bob") {
        Err(Rejection::Outcome { allowed, .. }) => assert_eq!(allowed, "approve, reject"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_task_step_with_a_requester_excludes_them() {
    let text = r#"
id: write_off
title: Write-off
trigger: { event: return.requested }
steps:
  - id: check
    kind: task
    role: store_manager
    title: '"Write off"'
    requester: event.data.requested_by
    outcomes: { approve: done }
  - { id: done, kind: end, outcome: written_off }
"#;
    let wf = load("w.yaml", text, &|f| Err(f.to_owned())).unwrap_or_else(|p| panic!("{p}"));
    let mut inst = Instance::new("i".into(), &wf.id, 1, None, now());
    let mut ids = SequentialIds::new("t");
    let dir = locations();
    let book = PolicyCatalog::default();
    let mut run = |inst: &mut Instance, command| {
        let mut env = Env { now: now(), ids: &mut ids, directory: &dir, policies: &book };
        apply(&wf, inst, command, &mut env)
    };
    let event = json!({"id": "e", "type": "return.requested", "data": {"requested_by": "Erin"}});
    run(&mut inst, Command::Start { event }).expect("start");
    let claim = run(&mut inst, Command::TaskClaimed { task: "t-1".into(), actor: "erin".into(), on_behalf_of: None });
    match claim {
        Err(Rejection::SegregationOfDuties { reason, actor, task }) => {
            assert_eq!((task.as_str(), actor.as_str()), ("t-1", "erin"));
            assert!(reason.starts_with("Erin requested"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn policy_documents_name_the_wrong_field() {
    let cases = [
        (json!({"action": "Refund", "levels": [{"above": "0", "role": "store_manager"}]}), "action"),
        (json!({"action": "refund", "levels": []}), "levels"),
        (json!({"action": "refund", "levels": [{"above": "ten", "role": "store_manager"}]}), "levels[0].above"),
        (
            json!({"action": "refund", "levels": [{"above": "500", "role": "a"}, {"above": "100", "role": "b"}]}),
            "levels[1].above",
        ),
        (
            json!({"action": "refund", "levels": [{"above": "0", "role": "a"}], "autonomy": {"level": "auto"}}),
            "autonomy.max_amount",
        ),
        (
            json!({"action": "refund", "levels": [{"above": "0", "role": "a"}], "autonomy": {"level": "always"}}),
            "autonomy.level",
        ),
        (json!({"action": "refund", "levels": [{"above": "0", "role": "a"}], "limit": "5"}), "limit"),
    ];
    for (doc, field) in cases {
        let e = ApprovalPolicy::from_json(&doc).expect_err("refused");
        assert_eq!(e.field, field, "{doc}: {e}");
    }
    let yaml = "action: refund\nlevels:\n  - { above: '0', role: store_manager }\n";
    assert_eq!(ApprovalPolicy::parse(yaml).expect("yaml").levels.len(), 1);
}

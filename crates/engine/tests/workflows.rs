//! Workflow definitions: a realistic one loaded into the model, broken ones and the exact
//! problems they give, and random mutations that must never make the loader panic.

use backroom_engine::decision::HitPolicy;
use backroom_engine::workflow::{
    Enrich, FieldKind, Join, OutcomeKind, Problem, Problems, ProjectionKind, RetryPolicy, StepKind, Template, WaitSpec,
    Workflow, load,
};
use chrono::Duration;
use proptest::prelude::*;
use serde_json::json;

const VALID: &str = include_str!("workflows/replenishment_exception.yaml");
const TRANSFER_APPROVAL: &str = include_str!("workflows/tables/transfer_approval.yaml");
const REPLENISHMENT_DMN: &str = include_str!("workflows/tables/replenishment_action.dmn");
const OVERLAPPING: &str = include_str!("workflows/tables/overlapping.yaml");
const BROKEN_TABLE: &str = include_str!("workflows/tables/broken.yaml");
const REFUNDS_DMN: &str = include_str!("workflows/tables/refunds.dmn");

const FILE: &str = "workflows/replenishment_exception.yaml";

fn resolve(path: &str) -> Result<String, String> {
    match path {
        "tables/transfer_approval.yaml" => Ok(TRANSFER_APPROVAL.to_owned()),
        "tables/replenishment_action.dmn" => Ok(REPLENISHMENT_DMN.to_owned()),
        "tables/overlapping.yaml" => Ok(OVERLAPPING.to_owned()),
        "tables/broken.yaml" => Ok(BROKEN_TABLE.to_owned()),
        "tables/refunds.dmn" => Ok(REFUNDS_DMN.to_owned()),
        other => Err(format!("no such file: {other}")),
    }
}

fn load_ok(text: &str) -> Workflow {
    match load(FILE, text, &resolve) {
        Ok(workflow) => workflow,
        Err(problems) => panic!("{problems}"),
    }
}

fn problems(text: &str) -> Problems {
    match load(FILE, text, &resolve) {
        Ok(_) => panic!("the definition loaded, but problems were expected:\n{text}"),
        Err(problems) => problems,
    }
}

/// An expected problem: line, column, step, and a part of the message.
type Expected<'a> = (usize, usize, Option<&'a str>, &'a str);

/// Asserts the problems, all in the definition's file, in order.
#[track_caller]
fn assert_problems(text: &str, expected: &[Expected<'_>]) {
    let expected: Vec<(&str, usize, usize, Option<&str>, &str)> =
        expected.iter().map(|&(line, column, step, message)| (FILE, line, column, step, message)).collect();
    assert_problems_in(text, &expected);
}

/// Asserts the problems (file, line, column, step, a part of the message), in order.
#[track_caller]
fn assert_problems_in(text: &str, expected: &[(&str, usize, usize, Option<&str>, &str)]) {
    let found = problems(text);
    let matches = found.len() == expected.len()
        && found.iter().zip(expected).all(|(p, (file, line, column, step, message))| {
            p.file == *file
                && p.line == *line
                && p.column == *column
                && p.step.as_deref() == *step
                && p.message.contains(message)
        });
    assert!(
        matches,
        "expected:\n{}\nfound:\n{found}",
        expected.iter().map(|e| format!("{e:?}")).collect::<Vec<_>>().join("\n")
    );
}

/// A small definition whose steps start on line 6.
fn with_steps(steps: &str) -> String {
    format!(
        "id: broken\n\
         title: Broken\n\
         trigger: {{ event: inventory.stockout_reported }}\n\
         inputs: {{ location: event.data.location, sku: event.data.item.sku }}\n\
         steps:\n{steps}"
    )
}

// ---- the valid definition ----

#[test]
fn a_realistic_definition_compiles_into_the_model() {
    let w = load_ok(VALID);
    assert_eq!(w.id, "replenishment_exception");
    assert_eq!(w.version, 3);
    assert_eq!(w.title, "Replenishment exception");
    assert!(w.description.as_deref().is_some_and(|d| d.starts_with("Handles a stockout report")));
    assert_eq!(w.source, VALID);
    assert_eq!(w.trigger.event, "inventory.stockout_reported");
    let event = json!({ "event": { "data": { "location": "S042", "item": { "sku": "SKU-1" } } } });
    let when = w.trigger.when.as_ref().map(|e| e.compiled.evaluate_bool(&event));
    assert_eq!(when, Some(Ok(true)));
    let key = w.trigger.key.as_ref().map(|e| e.compiled.evaluate(&event));
    assert_eq!(key, Some(Ok(json!("S042/SKU-1"))));
    let inputs: Vec<(&str, &str)> = w.inputs.iter().map(|(n, e)| (n.as_str(), e.source())).collect();
    assert_eq!(
        inputs,
        [
            ("location", "event.data.location"),
            ("sku", "event.data.item.sku"),
            ("subject", r#"inputs.location + "/" + inputs.sku"#)
        ]
    );

    let ids: Vec<&str> = w.steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "stock",
            "sales",
            "availability",
            "cause",
            "urgency",
            "action",
            "route",
            "approval",
            "approval_needed",
            "approve",
            "transfer",
            "follow_up",
            "record_request",
            "wait_shipped",
            "wait_received",
            "expedite",
            "recount",
            "counted",
            "investigate",
            "resolved",
            "rejected"
        ]
    );
    assert_eq!(w.start, "stock");
    assert_eq!(w.index.len(), 21);
    assert!(w.steps.iter().enumerate().all(|(i, s)| w.index.get(&s.id) == Some(&i)));
    let kinds: Vec<&str> = w.steps.iter().map(|s| s.kind.name()).collect();
    for kind in ["enrich", "classify", "decide", "task", "action", "wait", "branch", "parallel", "emit", "end"] {
        assert!(kinds.contains(&kind), "{kind}");
    }

    let stock = w.step("stock").unwrap();
    assert_eq!(stock.title.as_deref(), Some("Read the stock position"));
    assert_eq!(stock.next.as_deref(), Some("sales"));
    assert_eq!(stock.on_error.as_deref(), Some("investigate"));
    assert_eq!(
        stock.retry,
        RetryPolicy { attempts: 5, backoff: Duration::seconds(2), max_interval: Duration::minutes(1) }
    );
    assert_eq!(stock.position.map(|p| (p.line, p.column)), Some((58, 5)));
    match &stock.kind {
        StepKind::Enrich(Enrich::Projection { projection, location, item }) => {
            assert_eq!(*projection, ProjectionKind::Stock);
            assert_eq!((location.source(), item.source()), ("inputs.location", "inputs.sku"));
            assert_eq!(location.position.map(|p| (p.line, p.column)), Some((62, 15)));
        }
        other => panic!("{other:?}"),
    }
    match &w.step("sales").unwrap().kind {
        StepKind::Enrich(Enrich::Projection { projection, .. }) => {
            assert_eq!(*projection, ProjectionKind::DailySales { days: 14 });
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.step("sales").unwrap().retry, RetryPolicy::default());
    match &w.step("availability").unwrap().kind {
        StepKind::Enrich(Enrich::Query { connector, operation, with }) => {
            assert_eq!((connector.as_str(), operation.as_str()), ("erp", "item_availability"));
            assert_eq!(
                shape(with),
                json!({ "location": "inputs.location", "sku": "inputs.sku", "radius_km": { "literal": 25 } })
            );
        }
        other => panic!("{other:?}"),
    }
    match &w.step("cause").unwrap().kind {
        StepKind::Classify { classifier } => assert_eq!(classifier, "stockout_cause"),
        other => panic!("{other:?}"),
    }
    match &w.step("action").unwrap().kind {
        StepKind::Decide(decide) => {
            assert_eq!(decide.table, "replenishment_action");
            let names: Vec<&str> = decide.inputs.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(names, ["stock_on_hand", "donor_available", "lead_time_days", "days_since_count"]);
        }
        other => panic!("{other:?}"),
    }
    match &w.step("route").unwrap().kind {
        StepKind::Branch(branch) => {
            let cases: Vec<(&str, &str)> = branch.cases.iter().map(|(e, n)| (e.source(), n.as_str())).collect();
            assert_eq!(
                cases,
                [
                    (r#"steps.action.action == "transfer""#, "approval"),
                    (r#"steps.action.action == "expedite_po""#, "expedite"),
                    (r#"steps.action.action == "recount""#, "recount")
                ]
            );
            assert_eq!(branch.otherwise.as_deref(), Some("investigate"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.step("route").unwrap().next, None);

    let approve = w.step("approve").unwrap();
    assert_eq!(approve.title, None, "a task's title is its template");
    match &approve.kind {
        StepKind::Task(task) => {
            assert_eq!(task.role, "store_manager");
            assert_eq!(task.location.as_ref().map(|e| e.source()), Some("inputs.location"));
            assert_eq!(
                shape(&task.title),
                json!(r#""Approve a transfer of " + inputs.sku + " from " + steps.availability.donor_location"#)
            );
            assert_eq!(task.priority.as_ref().map(|e| e.source()), Some(r#"steps.urgency.urgency == "high" ? 2 : 1"#));
            assert_eq!(
                task.evidence.as_ref().map(shape),
                Some(json!({
                    "on_hand": "steps.stock.on_hand",
                    "average_daily_sold": "steps.sales.average_daily_sold",
                    "cause": "steps.cause.label",
                    "donor": { "location": "steps.availability.donor_location", "available": "steps.availability.donor_available" }
                }))
            );
            assert_eq!(task.due, Some(Duration::hours(4)));
            assert_eq!(task.remind_every, Some(Duration::hours(1)));
            let ladder: Vec<(Duration, &str)> = task.escalation.iter().map(|e| (e.after, e.role.as_str())).collect();
            assert_eq!(ladder, [(Duration::hours(2), "district_manager"), (Duration::hours(6), "regional_ops")]);
            let outcomes: Vec<(&str, &str)> =
                task.outcomes.iter().map(|o| (o.name.as_str(), o.next.as_str())).collect();
            assert_eq!(outcomes, [("approve", "transfer"), ("reject", "rejected"), ("modify", "transfer")]);
            assert_eq!(task.outcomes[0].kind, OutcomeKind::Choice);
            match &task.outcomes[2].kind {
                OutcomeKind::Modify(fields) => {
                    let fields: Vec<(&str, FieldKind, bool)> =
                        fields.iter().map(|f| (f.name.as_str(), f.kind, f.required)).collect();
                    assert_eq!(fields, [("quantity", FieldKind::Decimal, true), ("note", FieldKind::Text, false)]);
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }

    let transfer = w.step("transfer").unwrap();
    assert_eq!(
        transfer.retry,
        RetryPolicy { attempts: 4, backoff: Duration::seconds(30), max_interval: Duration::minutes(1) }
    );
    match &transfer.kind {
        StepKind::Action(action) => {
            assert_eq!((action.connector.as_str(), action.operation.as_str()), ("erp", "create_transfer"));
            assert_eq!(
                shape(&action.with),
                json!({
                    "from": "steps.availability.donor_location",
                    "to": "inputs.location",
                    "sku": "inputs.sku",
                    "quantity": "steps.?approve.?fields.?quantity.orValue(steps.availability.donor_available)",
                    "reason": "\"stockout\"",
                    "urgent": true,
                    "cost": { "literal": 12.5 }
                })
            );
            let keys: Vec<&str> = match &action.with {
                Template::Object(members) => members.iter().map(|(k, _)| k.as_str()).collect(),
                _ => Vec::new(),
            };
            assert_eq!(keys, ["from", "to", "sku", "quantity", "reason", "urgent", "cost"], "source order");
            let compensate = action.compensate.as_ref().unwrap();
            assert_eq!(compensate.operation, "cancel_transfer");
            assert_eq!(shape(&compensate.with), json!({ "transfer_number": "steps.transfer.transfer_number" }));
        }
        other => panic!("{other:?}"),
    }
    match &w.step("follow_up").unwrap().kind {
        StepKind::Parallel(parallel) => {
            assert_eq!(parallel.branches, ["record_request", "wait_shipped"]);
            assert_eq!(parallel.join, Join::All);
        }
        other => panic!("{other:?}"),
    }
    match &w.step("record_request").unwrap().kind {
        StepKind::Emit(emit) => {
            assert_eq!(emit.event, "transfer.requested");
            assert_eq!(
                shape(&emit.data),
                json!({
                    "transfer_number": "steps.transfer.transfer_number",
                    "from": "steps.availability.donor_location",
                    "to": "inputs.location",
                    "reason": "\"stockout\"",
                    "lines": [{ "line": { "literal": 1 }, "item": { "sku": "inputs.sku" }, "quantity": { "value": "steps.transfer.quantity", "unit": "\"EA\"" } }]
                })
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(w.step("record_request").unwrap().next, None, "a branch ends at a step without next");
    match &w.step("wait_received").unwrap().kind {
        StepKind::Wait(WaitSpec::Event { event, matches, key, timeout, on_timeout }) => {
            assert_eq!(event, "transfer.received");
            assert_eq!(key.as_ref().map(|k| k.source()), Some(r#"event.data.to + "/" + event.data.lines[0].item.sku"#));
            assert_eq!(
                matches.as_ref().map(|m| m.source()),
                Some("received.data.transfer_number == steps.transfer.transfer_number")
            );
            assert_eq!(*timeout, Some(Duration::days(3)));
            assert_eq!(on_timeout.as_deref(), Some("investigate"));
        }
        other => panic!("{other:?}"),
    }
    match &w.step("counted").unwrap().kind {
        StepKind::Wait(WaitSpec::Until { at }) => assert_eq!(at.source(), "steps.recount.scheduled_for"),
        other => panic!("{other:?}"),
    }
    match &w.step("rejected").unwrap().kind {
        StepKind::End { outcome } => assert_eq!(outcome, "rejected"),
        other => panic!("{other:?}"),
    }

    // Tables: inline (positions in the definition), YAML file, DMN file.
    let mut keys: Vec<&str> = w.tables.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["replenishment_action", "transfer_approval", "urgency"]);
    let urgency = &w.tables["urgency"];
    assert_eq!(urgency.id, "urgency");
    assert_eq!(urgency.hit_policy, HitPolicy::Unique);
    let rules: Vec<(&str, Option<(usize, usize)>)> =
        urgency.rules.iter().map(|r| (r.id.as_str(), r.position.map(|p| (p.line, p.column)))).collect();
    assert_eq!(rules, [("u1", Some((32, 9))), ("u2", Some((35, 9))), ("u3", Some((38, 9)))]);
    assert_eq!(w.tables["replenishment_action"].hit_policy, HitPolicy::Priority);
    assert_eq!(w.tables["replenishment_action"].rules.len(), 4);
    assert_eq!(w.tables["transfer_approval"].id, "transfer_approval");
    assert_eq!(w.tables["transfer_approval"].inputs.len(), 2);
    let evaluation = w.tables["urgency"].evaluate(json!({ "days_of_cover": 1.5 }).as_object().unwrap()).unwrap();
    assert_eq!(evaluation.matched, ["u1"]);

    // The classifier runs.
    let classifier = &w.classifiers["stockout_cause"];
    assert_eq!(classifier.model(), "rules:stockout_cause");
    let classification = classifier.classify(&json!({ "steps": { "stock": { "on_hand": "3" } } })).unwrap();
    assert_eq!(classification.label, "phantom_inventory");
    assert!((classification.confidence - 0.8).abs() < 1e-9);
}

/// A template's shape: expressions as their source text, literals as `{ "literal": value }`
/// (a bare literal string would look like an expression), objects and lists as themselves.
fn shape(template: &Template) -> serde_json::Value {
    match template {
        Template::Expr(e) => json!(e.source()),
        Template::Literal(serde_json::Value::Bool(b)) => json!(b),
        Template::Literal(v) => json!({ "literal": v }),
        Template::Object(members) => {
            serde_json::Value::Object(members.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Template::List(items) => serde_json::Value::Array(items.iter().map(shape).collect()),
    }
}

#[test]
fn version_defaults_to_one_and_start_to_the_first_step() {
    let w = load_ok(&with_steps("  - { id: only, kind: end, outcome: done }\n"));
    assert_eq!((w.version, w.start.as_str(), w.steps.len()), (1, "only", 1));
    assert!(w.tables.is_empty() && w.classifiers.is_empty() && w.description.is_none());
}

// ---- problems ----

#[test]
fn problems_display_with_file_position_and_step() {
    let problem = Problem {
        file: "w.yaml".to_owned(),
        line: 3,
        column: 7,
        step: Some("route".to_owned()),
        message: "bad".to_owned(),
    };
    assert_eq!(problem.to_string(), "w.yaml:3:7: step route: bad");
    let unplaced = Problem { line: 0, column: 0, step: None, ..problem.clone() };
    assert_eq!(unplaced.to_string(), "w.yaml: bad");
    let bare = Problem { file: String::new(), ..unplaced.clone() };
    assert_eq!(bare.to_string(), "bad");
    let problems = Problems(vec![problem, unplaced]);
    assert_eq!(problems.to_string(), "w.yaml:3:7: step route: bad\nw.yaml: bad");
    let error: &dyn std::error::Error = &problems;
    assert!(error.to_string().contains("route"));
}

#[test]
fn unknown_step_kind_lists_the_kinds() {
    let text =
        with_steps("  - { id: stock, kind: enrichh, next: done }\n  - { id: done, kind: end, outcome: resolved }\n");
    assert_problems(
        &text,
        &[(
            6,
            24,
            Some("stock"),
            "`enrichh` is not a step kind; the kinds are enrich, classify, decide, check, task, approval, action, wait, branch, parallel, emit, end",
        )],
    );
}

#[test]
fn keys_that_do_not_fit_the_kind() {
    let text = with_steps(
        "  - id: stock\n    kind: enrich\n    projection: stock\n    location: inputs.location\n    item: inputs.sku\n    operation: create_transfer\n    next: done\n  - { id: done, kind: end, outcome: resolved, next: stock }\n",
    );
    assert_problems(
        &text,
        &[
            (
                11,
                5,
                Some("stock"),
                "`operation` is not a key of an enrich step; it takes id, kind, title, next, on_error, retry, projection, days, location, item, connector, query, with",
            ),
            (13, 47, Some("done"), "an end step takes no `next`: it ends the instance"),
        ],
    );
}

#[test]
fn dangling_references_name_the_missing_step() {
    let text = with_steps(concat!(
        "  - { id: stock, kind: enrich, projection: stock, location: inputs.location, item: inputs.sku, next: rout, on_error: nowhere }\n",
        "  - id: route\n",
        "    kind: branch\n",
        "    cases: [ { when: 'inputs.sku == \"A\"', next: aprove } ]\n",
        "    otherwise: gone\n",
        "  - id: approve\n",
        "    kind: task\n",
        "    role: store_manager\n",
        "    title: '\"Approve\"'\n",
        "    outcomes: { approve: done, reject: rejectd }\n",
        "  - { id: both, kind: parallel, branches: [done, lost], next: done }\n",
        "  - { id: wait, kind: wait, event: transfer.shipped, timeout: 1d, on_timeout: late, next: done }\n",
        "  - { id: done, kind: end, outcome: resolved }\n",
    ));
    let text = text.replace("steps:\n", "start: stok\nsteps:\n");
    assert_problems(
        &text,
        &[
            (5, 8, None, "`start`: no step has the id `stok` (did you mean `stock`?)"),
            (7, 102, Some("stock"), "`next`: no step has the id `rout` (did you mean `route`?)"),
            (
                7,
                118,
                Some("stock"),
                "`on_error`: no step has the id `nowhere` (steps: stock, route, approve, both, wait, done)",
            ),
            (10, 49, Some("route"), "`cases[0].next`: no step has the id `aprove` (did you mean `approve`?)"),
            (11, 16, Some("route"), "`otherwise`: no step has the id `gone` (did you mean `done`?)"),
            (16, 40, Some("approve"), "`outcomes.reject`: no step has the id `rejectd`"),
            (17, 50, Some("both"), "`branches[1]`: no step has the id `lost`"),
            (18, 79, Some("wait"), "`on_timeout`: no step has the id `late`"),
        ],
    );
}

#[test]
fn unreachable_steps_and_steps_without_next() {
    let text = with_steps(concat!(
        "  - { id: stock, kind: enrich, projection: stock, location: inputs.location, item: inputs.sku, next: both }\n",
        "  - { id: both, kind: parallel, branches: [left, right] }\n",
        "  - { id: left, kind: emit, event: order.exception, data: { note: '\"x\"' } }\n",
        "  - { id: right, kind: emit, event: order.exception, data: { note: '\"y\"' }, next: right_2 }\n",
        "  - { id: right_2, kind: classify, classifier: nothing }\n",
        "  - { id: orphan, kind: end, outcome: lost }\n",
    ));
    assert_problems(
        &text,
        &[
            (7, 5, Some("both"), "a parallel step needs `next`: only the steps of a parallel branch may leave it out"),
            (
                10,
                48,
                Some("right_2"),
                "`classifier`: no classifier `nothing` is defined in `classifiers` (defined: none)",
            ),
            (11, 5, Some("orphan"), "the step is unreachable: no path from the start step `stock` leads to it"),
        ],
    );
}

#[test]
fn next_on_steps_that_route_otherwise_and_a_missing_next() {
    let text = with_steps(concat!(
        "  - id: check\n",
        "    kind: branch\n",
        "    cases: [ { when: 'true', next: ask } ]\n",
        "    next: ask\n",
        "  - id: ask\n",
        "    kind: task\n",
        "    role: store_manager\n",
        "    title: '\"Check the shelf\"'\n",
        "    outcomes: { done: record }\n",
        "    next: record\n",
        "  - { id: record, kind: emit, event: order.exception, data: {} }\n",
    ));
    assert_problems(
        &text,
        &[
            (9, 5, Some("check"), "a branch step takes no `next`: it goes where its `cases` (or `otherwise`) say"),
            (15, 5, Some("ask"), "a task step takes no `next`: it goes where the chosen outcome says (`outcomes`)"),
            (16, 5, Some("record"), "an emit step needs `next`"),
        ],
    );
}

#[test]
fn duplicate_and_malformed_step_ids() {
    let text = with_steps(concat!(
        "  - { id: Stock-1, kind: end, outcome: a }\n",
        "  - { id: done, kind: end, outcome: b }\n",
        "  - { id: done, kind: end, outcome: c }\n",
        "  - { kind: end, outcome: d }\n",
    ));
    assert_problems(
        &text,
        &[
            (6, 11, Some("Stock-1"), "`id`: `Stock-1` is not a valid step id: use a lower-case letter"),
            (7, 5, Some("done"), "the step is unreachable"),
            (8, 11, Some("done"), "the id `done` is already used by the step at line 7"),
            (9, 5, None, "a step needs `id`"),
        ],
    );
}

#[test]
fn expressions_that_do_not_compile_point_at_the_exact_column() {
    let text = with_steps(concat!(
        "  - id: check\n",
        "    kind: branch\n",
        "    cases:\n",
        "      - when: 'inputs.sku = \"A\"'\n",
        "        next: done\n",
        "      - when: inputs.sku == \"B\" &&\n",
        "        next: done\n",
        "      - when: |\n",
        "          inputs.sku == \"C\" &&\n",
        "            (inputs.location = \"S1\")\n",
        "        next: done\n",
        "  - id: done\n",
        "    kind: task\n",
        "    role: store_manager\n",
        "    title: Check the shelf\n",
        "    outcomes: { ok: end }\n",
        "  - { id: end, kind: end, outcome: ok }\n",
    ));
    assert_problems(
        &text,
        &[
            // `=` is the 12th character of the expression, which starts after the quote in column 15.
            (9, 27, Some("check"), "`cases[0].when`: `inputs.sku = \"A\"` is not a valid expression: Syntax error: "),
            // A plain scalar: the end of the expression, where `&&` lacks its right side.
            (
                11,
                35,
                Some("check"),
                "`cases[1].when`: `inputs.sku == \"B\" &&` is not a valid expression: Syntax error: mismatched input '<EOF>'",
            ),
            // A literal block: the second line of the expression, after the block's indentation.
            (15, 30, Some("check"), "`cases[2].when`: "),
            // A task's title is a template, where a string is an expression: the message says so.
            (
                20,
                18,
                Some("done"),
                "in a template, text is a CEL expression: write literal text in quotes inside the YAML string",
            ),
        ],
    );
}

#[test]
fn expressions_may_read_only_the_context() {
    let text = with_steps(concat!(
        "  - id: check\n",
        "    kind: branch\n",
        "    cases:\n",
        "      - { when: 'decimal(stock.on_hand) > 0.0', next: wait }\n",
        "      - { when: 'received.data.ok', next: wait }\n",
        "      - { when: 'steps.stok.on_hand == \"0\"', next: wait }\n",
        "      - { when: 'inputs.skuu == \"A\" && [1].exists(steps, steps > 0)', next: wait }\n",
        "  - id: wait\n",
        "    kind: wait\n",
        "    event: transfer.shipped\n",
        "    matches: received.data.to == inputs.location && steps.check.matched == []\n",
        "    next: done\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ))
    .replace(
        "trigger: { event: inventory.stockout_reported }",
        "trigger: { event: inventory.stockout_reported, key: inputs.location }",
    )
    .replace("sku: event.data.item.sku", "sku: event.data.item.sku, area: inputs.location + inputs.zone");
    assert_problems(
        &text,
        &[
            (
                3,
                53,
                None,
                "`trigger.key` reads `inputs`, which is not in its context: the trigger's expressions can read only `event`",
            ),
            (
                4,
                99,
                None,
                "`inputs.area` reads `inputs.zone`, which is not an input before it (before it: location, sku)",
            ),
            (
                9,
                26,
                Some("check"),
                "`cases[0].when` reads `stock`, which is not in its context: expressions can read event, inputs, steps, instance and location",
            ),
            (10, 18, Some("check"), "`cases[1].when` reads `received`"),
            (
                11,
                24,
                Some("check"),
                "`cases[2].when` reads `steps.stok`, but no step has the id `stok` (steps: check, wait, done)",
            ),
            (
                12,
                25,
                Some("check"),
                "`cases[3].when` reads `inputs.skuu`, which is not an input of the workflow (inputs: location, sku, area)",
            ),
        ],
    );
}

#[test]
fn table_problems_point_into_the_table_and_name_the_steps_using_it() {
    let text = with_steps(concat!(
        "  - { id: price, kind: decide, table: markdown, inputs: { days_on_hand: inputs.sku, colour: '\"red\"' }, next: clear }\n",
        "  - { id: clear, kind: decide, table: overlapping, next: again }\n",
        "  - { id: again, kind: decide, table: markdown, next: missing }\n",
        "  - { id: missing, kind: decide, table: nowhere, next: done }\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ))
    .replace(
        "steps:\n",
        concat!(
            "tables:\n",
            "  markdown:\n",
            "    inputs: [ { name: days_on_hand } ]\n",
            "    outputs: [ { name: markdown } ]\n",
            "    rules:\n",
            "      - { id: m1, when: { days_on_hand: \"< 30\" }, then: { markdown: 0 } }\n",
            "      - { id: m2, when: { days_on_hand: \">= 20\" }, then: { markdown: 0.2 } }\n",
            "  overlapping: { file: tables/overlapping.yaml }\n",
            "  unused: { inputs: [ { name: x } ], outputs: [ { name: y } ],\n",
            "            rules: [ { id: a, when: { x: \"< 5\" }, then: { y: 1 } }, { id: b, when: { x: \"> 3\" }, then: { y: 2 } } ] }\n",
            "steps:\n",
        ),
    );
    assert_problems_in(
        &text,
        &[
            (FILE, 10, 9, Some("price"), "table `markdown`: rules m1 and m2 overlap: both match days_on_hand = "),
            (FILE, 14, 22, None, "table `unused`: rules a and b overlap: both match x = "),
            (
                FILE,
                16,
                85,
                Some("price"),
                "`inputs`: `colour` is not an input of the table `markdown` (its inputs: days_on_hand)",
            ),
            (
                FILE,
                19,
                41,
                Some("missing"),
                "`table`: no table `nowhere` is defined in `tables` (defined: markdown, overlapping, unused)",
            ),
            (
                "workflows/tables/overlapping.yaml",
                12,
                5,
                Some("clear"),
                "table `overlapping`: rules r2 and r3 overlap: both match days_on_hand = 60",
            ),
        ],
    );
    let found = problems(&text);
    assert!(found.0[0].message.ends_with("(the table is also used by again)"), "{found}");
}

#[test]
fn table_files_that_cannot_be_read_or_do_not_fit() {
    let text = with_steps("  - { id: done, kind: end, outcome: ok }\n").replace(
        "steps:\n",
        concat!(
            "tables:\n",
            "  gone: { file: tables/missing.yaml }\n",
            "  broken: { file: tables/broken.yaml }\n",
            "  refunds: { file: tables/refunds.dmn, decision: refund_rules }\n",
            "  wrong_id: { file: tables/transfer_approval.yaml, decision: t }\n",
            "  own_id: { id: other, outputs: [ { name: y } ] }\n",
            "  inline_broken:\n",
            "    outputs: [ { name: y } ]\n",
            "    rules:\n",
            "      - { id: r1, when: { z: \"1\" }, then: { y: 1 } }\n",
            "steps:\n",
        ),
    );
    assert_problems_in(
        &text,
        &[
            (
                FILE,
                6,
                17,
                None,
                "table `gone`: `tables/missing.yaml` cannot be read: no such file: tables/missing.yaml",
            ),
            (
                FILE,
                8,
                50,
                None,
                "table `refunds`: `tables/refunds.dmn` has no decision table `refund_rules` (it has: refund_approval)",
            ),
            (
                FILE,
                9,
                21,
                None,
                "table `wrong_id`: `tables/transfer_approval.yaml` holds the table `transfer_approval`: a table's key must be its id",
            ),
            (
                FILE,
                9,
                62,
                None,
                "table `wrong_id`: `decision` picks a decision of a DMN file, and `tables/transfer_approval.yaml` is YAML",
            ),
            (
                FILE,
                10,
                17,
                None,
                "table `own_id`: an inline table's id is its key: leave `id` out, or make it `own_id`",
            ),
            (
                FILE,
                14,
                27,
                None,
                "table `inline_broken`: rule r1: when: `z` is not an input of the table: expected one of (none: the table has no such column)",
            ),
            (
                "workflows/tables/broken.yaml",
                8,
                29,
                None,
                "table `broken`: rule b1: when: amount: `[0..500` is not a unary test",
            ),
        ],
    );
}

#[test]
fn dmn_tables_are_found_by_decision_or_alone_and_inline_tables_may_be_flow_mappings() {
    let text = with_steps(concat!(
        "  - { id: refund, kind: decide, table: refunds, inputs: { refund_amount: '12', channel: '\"store\"' }, next: size }\n",
        "  - { id: size, kind: decide, table: size, next: done }\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ))
    .replace(
        "steps:\n",
        concat!(
            "tables:\n",
            "  refunds: { file: tables/refunds.dmn }\n",
            "  size: {\n",
            "    hit_policy: FIRST, inputs: [ { name: quantity } ], outputs: [ { name: size } ], # comment }\n",
            "    rules: [ { id: s1, when: { quantity: \"< 10\" }, then: { size: small } },\n",
            "             { id: s2, when: { quantity: '-' }, then: { size: large } } ] }\n",
            "steps:\n",
        ),
    );
    let w = load_ok(&text);
    assert_eq!(w.tables["refunds"].id, "refund_approval", "a DMN table keeps its decision's id");
    let size = &w.tables["size"];
    assert_eq!((size.id.as_str(), size.hit_policy), ("size", HitPolicy::First));
    let rules: Vec<(&str, Option<(usize, usize)>)> =
        size.rules.iter().map(|r| (r.id.as_str(), r.position.map(|p| (p.line, p.column)))).collect();
    assert_eq!(rules, [("s1", Some((9, 14))), ("s2", Some((10, 14)))]);
}

#[test]
fn classifier_problems() {
    let text = with_steps(
        "  - { id: cause, kind: classify, classifier: cause, next: done }\n  - { id: done, kind: end, outcome: ok }\n",
    )
    .replace(
        "steps:\n",
        concat!(
            "classifiers:\n",
            "  cause:\n",
            "    rules:\n",
            "      - { label: phantom, when: 'inputs.sku == \"A\"', confidence: 1.5, reason: looks odd }\n",
            "      - { label: gap, when: 'true', confidence: high }\n",
            "    otherwise: { label: unknown, confidence: -0.1 }\n",
            "steps:\n",
        ),
    );
    assert_problems(
        &text,
        &[
            (8, 66, None, "`classifiers.cause.rules[0].confidence` must be a number from 0 to 1, not a number (1.5)"),
            (9, 9, None, "rule 2 of classifier `cause` needs `reason` (why, for people)"),
            (9, 49, None, "`classifiers.cause.rules[1].confidence` must be a number from 0 to 1, not text (\"high\")"),
            (
                10,
                46,
                None,
                "`classifiers.cause.otherwise.confidence` must be a number from 0 to 1, not a number (-0.1)",
            ),
        ],
    );
}

#[test]
fn task_problems() {
    let text = with_steps(concat!(
        "  - id: approve\n",
        "    kind: task\n",
        "    title: '\"Approve\"'\n",
        "    escalation: [ { after: 4h, role: district_manager }, { after: 2h, role: regional_ops } ]\n",
        "    outcomes:\n",
        "      approve: done\n",
        "      approve: done\n",
        "      modify: { next: done, fields: [ { name: quantity, type: number } ] }\n",
        "  - id: ask\n",
        "    kind: task\n",
        "    role: store_manager\n",
        "    title: '\"Ask\"'\n",
        "    outcomes: {}\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ))
    .replace("steps:\n", "start: approve\nsteps:\n");
    assert_problems(
        &text,
        &[
            (7, 5, Some("approve"), "a task step needs `role` (the role that decides, e.g. store_manager)"),
            (10, 60, Some("approve"), "`escalation[1].after` must be later than the rung before it"),
            (13, 7, Some("approve"), "`outcomes`: the outcome `approve` appears twice"),
            (
                14,
                63,
                Some("approve"),
                "`outcomes.modify.fields[0].type` must be text, decimal, integer or boolean, not text (\"number\")",
            ),
            (15, 5, Some("ask"), "the step is unreachable"),
            (19, 15, Some("ask"), "`outcomes` is empty: a task needs at least one outcome"),
        ],
    );
    let without_outcomes = with_steps("  - { id: ask, kind: task, role: store_manager, title: '\"Ask\"' }\n");
    assert_problems(&without_outcomes, &[(6, 5, Some("ask"), "a task step needs `outcomes`")]);
}

#[test]
fn action_problems() {
    let text = with_steps(concat!(
        "  - { id: transfer, kind: action, connector: erp, with: { sku: inputs.sku }, next: undo }\n",
        "  - { id: undo, kind: action, operation: cancel_transfer, compensate: { with: {} }, next: done }\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ));
    assert_problems(
        &text,
        &[
            (6, 5, Some("transfer"), "an action step needs `operation` (the command, e.g. create_transfer)"),
            (7, 5, Some("undo"), "an action step needs `connector` (the connector's name, e.g. erp)"),
            (7, 71, Some("undo"), "`compensate` needs `operation` (the command that undoes the action)"),
        ],
    );
}

#[test]
fn wait_parallel_and_emit_problems() {
    let text = with_steps(concat!(
        "  - { id: both, kind: wait, event: transfer.shipped, until: 'steps.x.at', next: neither }\n",
        "  - { id: neither, kind: wait, next: typo }\n",
        "  - { id: typo, kind: wait, event: transfer.shiped, next: early }\n",
        "  - { id: early, kind: wait, event: transfer.shipped, on_timeout: done, next: until }\n",
        "  - { id: until, kind: wait, until: 'string(now)', timeout: 1h, next: one }\n",
        "  - { id: one, kind: parallel, branches: [done], join: some, next: announce }\n",
        "  - { id: announce, kind: emit, event: store.announced, data: { text: '\"x\"' }, next: done }\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ));
    assert_problems(
        &text,
        &[
            (6, 54, Some("both"), "a wait step waits for an `event` or `until` a time, not both"),
            (
                7,
                5,
                Some("neither"),
                "a wait step needs `event` (the event type to wait for) or `until` (an expression giving a time)",
            ),
            (
                8,
                36,
                Some("typo"),
                "`event`: `transfer.shiped` is not an event type of the catalogue (pos.sale, pos.return",
            ),
            (9, 55, Some("early"), "`on_timeout` needs `timeout`"),
            (10, 45, Some("until"), "`until` reads `now`, which is not in its context"),
            (10, 52, Some("until"), "`timeout` goes with `event`, not with `until`"),
            (11, 42, Some("one"), "`branches` has 1 branch: a parallel step needs at least two"),
            (
                11,
                56,
                Some("one"),
                "`join` must be all (when every branch has ended) or any (when the first has), not text (\"some\")",
            ),
            (12, 40, Some("announce"), "`event`: `store.announced` is not an event type of the catalogue"),
        ],
    );
}

#[test]
fn enrich_retry_and_duration_problems() {
    let text = with_steps(concat!(
        "  - { id: both, kind: enrich, projection: stock, connector: erp, next: neither }\n",
        "  - { id: neither, kind: enrich, next: odd }\n",
        "  - { id: odd, kind: enrich, projection: prices, days: 7, location: inputs.location, item: inputs.sku, next: query }\n",
        "  - { id: query, kind: enrich, connector: erp, location: inputs.location, next: stock }\n",
        "  - id: stock\n",
        "    kind: enrich\n",
        "    projection: stock\n",
        "    days: 7\n",
        "    location: inputs.location\n",
        "    item: inputs.sku\n",
        "    retry: { attempts: 0, backoff: 1m, max_interval: 30s, jitter: true }\n",
        "    next: ask\n",
        "  - id: ask\n",
        "    kind: task\n",
        "    role: store_manager\n",
        "    title: '\"Check\"'\n",
        "    due: 90\n",
        "    remind_every: 1h1h\n",
        "    outcomes: { ok: done }\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ));
    assert_problems(
        &text,
        &[
            (6, 50, Some("both"), "an enrich step reads either a `projection` or a `connector`, not both"),
            (
                7,
                5,
                Some("neither"),
                "an enrich step needs `projection` (stock or daily_sales, with `location` and `item`) or `connector` (with `query`)",
            ),
            (8, 42, Some("odd"), "`projection` must be stock or daily_sales, not text (\"prices\")"),
            (9, 5, Some("query"), "an enrich step with a connector needs `query` (the query operation)"),
            (9, 48, Some("query"), "`location` goes with `projection`, not with `connector`"),
            (13, 5, Some("stock"), "`days` goes with the daily_sales projection, not with stock"),
            (16, 24, Some("stock"), "`retry.attempts` must be a whole number from 1 to 100, not a number (0)"),
            (
                16,
                59,
                Some("stock"),
                "`jitter` is not a key of a retry policy; it takes attempts, backoff, max_interval",
            ),
            (22, 10, Some("ask"), "`due` must be a duration such as 90s, 30m, 4h, 2d or 1h30m, not a number (90)"),
            (
                23,
                19,
                Some("ask"),
                "`remind_every`: `1h1h` is not a positive duration: whole numbers with the units d, h, m, s and ms, largest first, each at most once",
            ),
        ],
    );
}

#[test]
fn yaml_syntax_errors_have_a_position() {
    let text = with_steps("  - { id: done, kind: end, outcome: ok\n  - { id: more, kind: end }\n");
    assert_problems(&text, &[(6, 5, None, "this is not valid YAML: unclosed bracket '{'")]);

    let unquoted =
        with_steps("  - id: ask\n    kind: task\n    role: store_manager\n    title: \"Approve \" + inputs.sku\n");
    let found = problems(&unquoted);
    assert_eq!(found.len(), 1, "{found}");
    assert_eq!(found.0[0].line, 9, "{found}");
    assert!(
        found.0[0].message.ends_with(
            r#"quote the whole of it, as YAML reads `"` at the start of a value differently: '"Approve " + inputs.sku'"#
        ),
        "{found}"
    );
}

#[test]
fn top_level_problems_missing_keys_and_wrong_types() {
    assert_problems(
        "id: Replenishment\nversion: one\ndescription: [a]\nowner: ops\ntrigger: { event: stock.low, when: 'event.data.x >' }\ninputs: { 9: event.data.x, a: event.data.a, a: event.data.b }\nsteps: []\n",
        &[
            (1, 1, None, "a workflow definition needs `title`"),
            (1, 5, None, "`id`: `Replenishment` is not a valid workflow id"),
            (2, 10, None, "`version` must be a whole number from 1 to 4294967295, not text (\"one\")"),
            (3, 14, None, "`description` must be text, not a list"),
            (
                4,
                1,
                None,
                "`owner` is not a key of a workflow definition; it takes id, version, title, description, trigger, inputs, start, tables, classifiers, steps",
            ),
            (5, 19, None, "`trigger.event`: `stock.low` is not an event type of the catalogue"),
            (5, 51, None, "`trigger.when`: `event.data.x >` is not a valid expression"),
            (6, 11, None, "`inputs`: the keys are names, not a number (9)"),
            (6, 45, None, "input `a` is defined twice"),
            (7, 8, None, "`steps` is empty: a workflow needs at least one step"),
        ],
    );
    assert_problems("[1, 2]\n", &[(1, 1, None, "a workflow definition is a mapping with the keys id, version, title")]);
    assert_problems("", &[(1, 1, None, "a workflow definition is a mapping with the keys id, version, title")]);
}

#[test]
fn repeated_keys_are_reported_with_the_first() {
    let text = with_steps("  - id: done\n    kind: end\n    outcome: ok\n    outcome: fine\n")
        .replace("title: Broken\n", "title: Broken\ntitle: Again\n");
    assert_problems(
        &text,
        &[
            (3, 1, None, "`title` appears twice in a workflow definition (first at line 2)"),
            (10, 5, Some("done"), "`outcome` appears twice in an end step (first at line 9)"),
        ],
    );
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let broken = VALID
        .replace(
            "kind: classify, classifier: stockout_cause, next: urgency",
            "kind: classify, classifier: stockout_causes, next: urgency",
        )
        .replace("    role: store_manager\n", "")
        .replace("    operation: create_transfer\n", "")
        .replace("next: counted", "next: countd");
    let found = problems(&broken);
    let messages: Vec<(Option<&str>, &str)> =
        found.iter().map(|p| (p.step.as_deref(), p.message.split(':').next().unwrap_or(""))).collect();
    assert_eq!(
        messages,
        [
            (Some("cause"), "`classifier`"),
            (Some("approve"), "a task step needs `role` (the role that decides, e.g. store_manager)"),
            (Some("transfer"), "an action step needs `operation` (the command, e.g. create_transfer)"),
            (Some("recount"), "`next`"),
            (Some("counted"), "the step is unreachable"),
        ],
        "{found}"
    );
    assert!(found.iter().all(|p| p.file == FILE && p.line > 0 && p.column > 0), "{found}");
}

// ---- robustness ----

/// Text that means something in YAML or CEL, to splice into a valid definition.
const SPLICE: &[&str] = &[
    ":", "- ", "{", "}", "[", "]", "'", "\"", "#", "&a ", "*a", "|", ">", "\n", "  ", "\t", "!", "?", ",", "é", "0",
    "~", "%", "@", "`", "\\", "next: ", "kind: ", "id: ", "<<: ",
];

/// Words to put in place of a word of a valid definition.
const WORDS: &[&str] = &[
    "next", "kind", "end", "task", "wait", "branch", "parallel", "emit", "stock", "done", "resolved", "2h", "0", "1.5",
    "true", "null", "steps", "received", "inputs", "event", "approve", "branches", "outcomes", "table", "file", "x",
    "",
];

/// Applies one edit to `text`: `op` chooses the kind, `at` the place, `n` the length or the text.
fn mutate(text: &mut Vec<char>, op: usize, at: usize, n: usize) {
    let at = at % (text.len() + 1);
    let line_start = text[..at].iter().rposition(|c| *c == '\n').map_or(0, |i| i + 1);
    let line_end = text[at..].iter().position(|c| *c == '\n').map_or(text.len(), |i| at + i + 1);
    match op % 6 {
        0 => {
            text.splice(at..at, SPLICE[n % SPLICE.len()].chars());
        }
        1 => {
            let end = (at + n % 12).min(text.len());
            text.drain(at..end);
        }
        2 => {
            let line: Vec<char> = text[line_start..line_end].to_vec();
            text.splice(line_start..line_start, line);
        }
        3 => {
            text.drain(line_start..line_end);
        }
        4 => {
            let next_end = text[line_end..].iter().position(|c| *c == '\n').map_or(text.len(), |i| line_end + i + 1);
            let mut swapped: Vec<char> = text[line_end..next_end].to_vec();
            swapped.extend_from_slice(&text[line_start..line_end]);
            text.splice(line_start..next_end, swapped);
        }
        _ => {
            let word = |c: &char| c.is_ascii_alphanumeric() || *c == '_' || *c == '.';
            let begin = text[..at].iter().rposition(|c| !word(c)).map_or(0, |i| i + 1);
            let end = text[at..].iter().position(|c| !word(c)).map_or(text.len(), |i| at + i);
            text.splice(begin..end, WORDS[n % WORDS.len()].chars());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, max_shrink_iters: 64, ..ProptestConfig::default() })]

    /// Random edits of a valid definition never make the loader panic: it loads, or reports
    /// problems that each say something.
    #[test]
    fn mutations_never_panic(edits in prop::collection::vec((0usize..6, 0usize..usize::MAX, 0usize..64), 1..5)) {
        let mut text: Vec<char> = VALID.chars().collect();
        for (op, at, n) in edits {
            mutate(&mut text, op, at, n);
        }
        let text: String = text.into_iter().collect();
        if let Err(problems) = load(FILE, &text, &resolve) {
            prop_assert!(!problems.is_empty());
            for problem in &problems {
                prop_assert!(!problem.message.is_empty());
                // The loader's safety net: a part that failed without saying why.
                prop_assert!(!problem.message.contains("could not be compiled"), "{problem}\n{text}");
            }
        }
    }
}

#[test]
fn the_documented_example_loads() {
    let doc = include_str!("../src/workflow/mod.rs");
    let yaml: String = doc
        .lines()
        .filter_map(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .skip_while(|line| *line != "```yaml")
        .skip(1)
        .take_while(|line| *line != "```")
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(yaml.contains("kind: parallel"), "{yaml}");
    let resolve = |path: &str| match path {
        "tables/price_tolerance.yaml" => Ok(include_str!("tables/price_tolerance.yaml").to_owned()),
        "tables/refunds.dmn" => Ok(REFUNDS_DMN.to_owned()),
        other => Err(format!("no such file: {other}")),
    };
    let workflow = match load("replenishment_exception.yaml", &yaml, &resolve) {
        Ok(workflow) => workflow,
        Err(problems) => panic!("{problems}\n{yaml}"),
    };
    let mut kinds: Vec<&str> = workflow.steps.iter().map(|s| s.kind.name()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), 11, "every kind: {kinds:?}");
    assert_eq!(workflow.tables.len(), 3);
}

#[test]
fn a_cel_negation_read_as_a_yaml_tag_is_explained() {
    let text = with_steps(concat!(
        "  - id: check\n",
        "    kind: branch\n",
        "    cases:\n",
        "      - when: !has(event.data.note)\n",
        "        next: done\n",
        "      - { when: '!has(event.data.note)', next: done }\n",
        "  - { id: done, kind: end, outcome: ok }\n",
    ));
    assert_problems(
        &text,
        &[(
            9,
            15,
            Some("check"),
            "`cases[0].when` is empty: YAML read `!has(event.data.note)` as a tag, as it reads `!` at the start of a value; quote the expression: '!has(event.data.note)'",
        )],
    );
}

#[test]
fn the_id_of_the_validation_route_is_reserved() {
    let text =
        "id: validate\ntitle: T\ntrigger: { event: pos.sale }\nsteps:\n  - { id: done, kind: end, outcome: ok }\n";
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found}");
    assert!(found.to_string().contains("1:5: `validate` is reserved"), "{found}");
}

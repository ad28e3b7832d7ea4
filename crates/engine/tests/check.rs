//! `DecisionTable::check`: overlapping rules under UNIQUE with a witness, and the other problems.

mod common;

use backroom_engine::decision::{
    DecisionTable, HitPolicy, InputClause, OutputClause, Position, ProblemKind, Rule, UnaryTest, parse_unary_tests,
};
use common::*;
use serde_json::json;

fn kinds(table: &DecisionTable) -> Vec<(ProblemKind, Vec<String>)> {
    table.check().into_iter().map(|p| (p.kind, p.rules)).collect()
}

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn the_retail_tables_have_no_problems() {
    for text in [REFUND_YAML, PRICE_YAML, REPLENISHMENT_YAML, SURCHARGE_YAML] {
        let table = yaml(text);
        assert_eq!(table.check(), vec![], "{}", table.id);
    }
}

#[test]
fn overlapping_unique_rules_are_reported_with_both_ids_and_a_witness() {
    let table = yaml(
        r#"
id: refund_approval
inputs: [{ name: refund_amount }, { name: channel }]
outputs: [{ name: approver }]
rules:
  - { id: r1, when: { refund_amount: "[0..100)" }, then: { approver: auto } }
  - id: r2
    when: { refund_amount: "[100..500)", channel: store }
    then: { approver: store_manager }
  - { id: r3, when: { refund_amount: "[500..5000)" }, then: { approver: store_manager } }
  - { id: r4, when: { refund_amount: ">= 5000" }, then: { approver: finance } }
  - id: r5
    when: { refund_amount: "[200..300]", channel: "store, online" }
    then: { approver: auto }
"#,
    );
    let problems = table.check();
    assert_eq!(problems.len(), 1, "{problems:?}");
    let problem = &problems[0];
    assert_eq!(problem.kind, ProblemKind::Overlap);
    assert_eq!(problem.rules, ids(&["r2", "r5"]));
    assert_eq!(problem.message, r#"rules r2 and r5 overlap: both match refund_amount = 200, channel = "store""#);
    // The problem points at the first rule's line in the YAML.
    assert_eq!(problem.position, Some(Position { line: 7, column: 5 }));
    assert!(problem.to_string().starts_with("line 7, column 5: rules r2 and r5 overlap"));
    // The witness is real: evaluating it is the UNIQUE violation.
    let err = table.evaluate(&context(json!({"refund_amount": 200, "channel": "store"}))).unwrap_err();
    assert!(err.to_string().contains("rules r2, r5 all match"), "{err}");
}

#[test]
fn adjacent_half_open_ranges_do_not_overlap_but_shared_endpoints_do() {
    let table = |a: &str, b: &str| {
        yaml(&format!(
            "id: t\ninputs: [{{name: x}}]\noutputs: [{{name: y}}]\nrules:\n  - {{id: a, when: {{x: '{a}'}}, then: {{y: 1}}}}\n  - {{id: b, when: {{x: '{b}'}}, then: {{y: 2}}}}\n"
        ))
    };
    for (a, b) in [
        ("[0..500)", "[500..5000)"),
        ("< 500", ">= 500"),
        ("[0..499.99]", "(499.99..500]"),
        ("<= 0", "(0..1)"),
        ("(0..1)", "[1..2]"),
        ("\"A\", \"B\"", "not(\"A\", \"B\")"),
        ("[\"a\"..\"m\")", "[\"m\"..\"z\"]"),
        ("true", "false"),
        ("null", "not(null)"),
        ("< 0", "\"text\""),
        ("[5..1]", "-"),
    ] {
        let overlaps: Vec<_> = table(a, b).check().into_iter().filter(|p| p.kind == ProblemKind::Overlap).collect();
        assert_eq!(overlaps, vec![], "{a} / {b}");
    }
    for (a, b, witness) in [
        ("[0..500]", "[500..5000)", "x = 500"),
        ("< 500", "> 499.99", "x = 499.995"),
        ("(0..1)", "(0..1)", "x = 0.5"),
        ("not(\"store\")", "\"online\"", "x = \"online\""),
        ("-", "null", "x = null"),
        ("-", "-", ""),
        ("not(5)", "[1..10]", "x = 1"),
        ("\"A\", > 10", "[8..12]", "x = 11"),
    ] {
        let problems = table(a, b).check();
        assert_eq!(problems.len(), 1, "{a} / {b}: {problems:?}");
        assert_eq!(problems[0].kind, ProblemKind::Overlap);
        if witness.is_empty() {
            assert_eq!(problems[0].message, "rules a and b overlap: both match every input");
        } else {
            assert_eq!(problems[0].message, format!("rules a and b overlap: both match {witness}"), "{a} / {b}");
        }
    }
}

#[test]
fn overlaps_are_judged_within_the_allowed_input_values() {
    let text = r#"
id: t
inputs: [{ name: channel, allowed: [store, online] }]
outputs: [{ name: y }]
rules:
  - { id: a, when: { channel: store }, then: { y: 1 } }
  - { id: b, when: { channel: online }, then: { y: 2 } }
  - { id: c, when: { channel: "not(store, online)" }, then: { y: 3 } }
"#;
    let table = yaml(text);
    let problems = table.check();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].kind, ProblemKind::NeverMatches);
    assert_eq!(problems[0].rules, ids(&["c"]));
    assert_eq!(
        problems[0].message,
        "rule c never matches: its test `not(\"store\", \"online\")` on channel matches no allowed value"
    );
}

#[test]
fn only_unique_and_any_forbid_overlaps() {
    let text = |policy: &str, second: &str| {
        format!(
            "id: t\nhit_policy: {policy}\ninputs: [{{name: x}}]\noutputs: [{{name: y, allowed: [1, 2]}}]\nrules:\n  - {{id: a, when: {{x: \"< 10\"}}, then: {{y: 1}}}}\n  - {{id: b, when: {{x: \"> 5\"}}, then: {{y: {second}}}}}\n"
        )
    };
    for policy in ["FIRST", "PRIORITY", "COLLECT", "RULE ORDER"] {
        assert_eq!(yaml(&text(policy, "2")).check(), vec![], "{policy}");
    }
    assert_eq!(kinds(&yaml(&text("UNIQUE", "1"))), vec![(ProblemKind::Overlap, ids(&["a", "b"]))]);
    // ANY allows overlapping rules that agree.
    assert_eq!(yaml(&text("ANY", "1")).check(), vec![]);
    let problems = yaml(&text("ANY", "2")).check();
    assert_eq!(problems[0].message, "rules a and b overlap with different outputs under ANY: both match x = 6");
}

#[test]
fn value_and_shape_problems_name_the_rules() {
    let text = r#"
id: replenishment_action
hit_policy: PRIORITY
inputs: [{ name: stock_on_hand }, { name: channel, allowed: [store, online] }]
outputs: [{ name: action }]
rules:
  - { id: a1, when: { stock_on_hand: "[5..1]" }, then: { action: transfer } }
  - { id: a2, when: { channel: "stor" }, then: { action: recount } }
  - { id: a2, when: { stock_on_hand: "< 0" }, then: { action: recount } }
"#;
    let table = yaml(text);
    let problems = table.check();
    let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "rule id a2 is used by more than one rule",
            "the hit policy PRIORITY ranks rules by the outputs' allowed values, and no output has any",
            "rule a2 tests channel for \"stor\", which is not among its allowed values \"store\", \"online\"",
            "rule a1 never matches: its test `[5..1]` on stock_on_hand matches no value",
            "rule a2 never matches: its test `\"stor\"` on channel matches no allowed value",
        ]
    );
    assert_eq!(problems[0].kind, ProblemKind::Shape);
    assert_eq!(problems[1].kind, ProblemKind::NoPriorities);
    assert_eq!(problems[2].kind, ProblemKind::NotAllowed);
    assert_eq!(problems[3].kind, ProblemKind::NeverMatches);

    let text = r#"
id: t
hit_policy: COLLECT
aggregation: SUM
inputs: [{ name: x }]
outputs: [{ name: fee, allowed: [1, 2.5], default: 3 }]
rules:
  - { id: f1, when: { x: "> 0" }, then: { fee: 2.50 } }
  - { id: f2, when: { x: "> 1" }, then: { fee: waived } }
"#;
    let messages: Vec<String> = yaml(text).check().into_iter().map(|p| p.message).collect();
    assert_eq!(
        messages,
        [
            "the default of output fee is 3, which is not among its allowed values 1, 2.5",
            "rule f2 gives fee = \"waived\", which is not among its allowed values 1, 2.5",
            "rule f2 gives fee = \"waived\", which is not a number, but SUM needs numbers",
        ]
    );
}

#[test]
fn tables_built_in_code_are_checked_for_width() {
    let table = DecisionTable {
        id: "t".into(),
        name: None,
        hit_policy: HitPolicy::Unique,
        inputs: vec![InputClause { name: "x".into(), label: None, allowed: None }],
        outputs: vec![OutputClause { name: "y".into(), label: None, allowed: None, default: None }],
        rules: vec![Rule {
            id: "r1".into(),
            when: vec![UnaryTest::Any, parse_unary_tests("< 5").unwrap()],
            then: vec![],
            description: None,
            position: None,
        }],
    };
    assert_eq!(kinds(&table), vec![(ProblemKind::Shape, ids(&["r1"])), (ProblemKind::Shape, ids(&["r1"]))]);
    let err = table.evaluate(&context(json!({"x": 1}))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "decision table t is not well formed: rule r1 has 2 tests and 0 outputs, but the table has 1 inputs and 1 outputs"
    );
}

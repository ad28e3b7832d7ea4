//! DMN 1.3/1.4 files written by hand in the structure DMN modelers produce: imported, they are
//! the same tables as their YAML twins and evaluate the same on a grid of inputs.

mod common;

use backroom_engine::decision::{DecisionTable, HitPolicy, Position, UnaryTest, parse_unary_tests, tables_from_dmn};
use common::*;
use serde_json::{Value, json};

fn dmn(text: &str) -> DecisionTable {
    let mut tables = match tables_from_dmn(text) {
        Ok(tables) => tables,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(tables.len(), 1, "one decision table per file");
    tables.remove(0)
}

fn without_positions(mut table: DecisionTable) -> DecisionTable {
    for rule in &mut table.rules {
        rule.position = None;
    }
    table
}

/// Every combination of the given values for the named inputs (a missing key for `None`).
fn grid(columns: &[(&str, Vec<Value>)]) -> Vec<Value> {
    let mut contexts = vec![json!({})];
    for (name, values) in columns {
        let mut next = Vec::new();
        for context in &contexts {
            for value in values {
                let mut context = context.clone();
                if !value.is_null() {
                    context[*name] = value.clone();
                }
                next.push(context);
            }
        }
        contexts = next;
    }
    contexts
}

fn assert_twins(dmn_text: &str, yaml_text: &str, columns: &[(&str, Vec<Value>)]) -> usize {
    let from_dmn = dmn(dmn_text);
    let from_yaml = yaml(yaml_text);
    assert_eq!(from_dmn.check(), vec![]);
    assert_eq!(without_positions(from_dmn.clone()), without_positions(from_yaml.clone()));
    let contexts = grid(columns);
    let mut matched = 0;
    for context in &contexts {
        let map = common::context(context.clone());
        let a = from_dmn.evaluate(&map);
        let b = from_yaml.evaluate(&map);
        assert_eq!(a, b, "{context}");
        if a.is_ok_and(|e| !e.matched.is_empty()) {
            matched += 1;
        }
    }
    matched
}

#[test]
fn refund_approval_unique_matches_its_yaml_twin() {
    let amounts = [-1.0, 0.0, 0.01, 99.99, 100.0, 100.01, 499.99, 500.0, 500.01, 4999.99, 5000.0, 5000.01, 1e6];
    let mut amounts: Vec<Value> = amounts.iter().map(|a| json!(a)).collect();
    amounts.extend([json!("250.00"), Value::Null]);
    let channels = vec![json!("store"), json!("online"), json!("kiosk"), Value::Null];
    let matched = assert_twins(REFUND_DMN, REFUND_YAML, &[("refund_amount", amounts), ("channel", channels)]);
    assert!(matched > 20, "{matched}");
    let table = dmn(REFUND_DMN);
    assert_eq!(table.hit_policy, HitPolicy::Unique);
    assert_eq!(table.name.as_deref(), Some("Refund approval"));
    assert_eq!(table.rules[0].description.as_deref(), Some("Small in-store refunds are automatic"));
    // Rules know where they are in the file.
    assert_eq!(table.rules[0].position, Some(Position { line: 26, column: 7 }));
    // `-` and an empty cell are both "any".
    assert_eq!(table.rules[3].when[1], UnaryTest::Any);
    assert_eq!(table.rules[4].when[1], UnaryTest::Any);
    assert_eq!(table.rules[4].when[0], parse_unary_tests(">= 5000").unwrap());
}

#[test]
fn price_tolerance_first_matches_its_yaml_twin() {
    let differences = [-1.0, -0.021, -0.02, -0.019, 0.0, 0.019, 0.02, 0.021, 0.3, 0.5, 0.5001, 0.51, 12.0];
    let differences: Vec<Value> = differences.iter().map(|d| json!(d)).chain([Value::Null]).collect();
    let tiers = vec![json!("strategic"), json!("standard"), Value::Null];
    let matched = assert_twins(PRICE_DMN, PRICE_YAML, &[("price_difference", differences), ("supplier_tier", tiers)]);
    assert!(matched > 30, "{matched}");
    let evaluation = evaluate(&dmn(PRICE_DMN), json!({"price_difference": 0.3, "supplier_tier": "strategic"}));
    assert_eq!(evaluation.outputs, vec![out(json!({"outcome": "within_tolerance", "response_code": "CA"}))]);
    assert_eq!(evaluation.matched, ["p3"]);
}

#[test]
fn replenishment_action_priority_in_the_dmn_1_4_namespace_matches_its_yaml_twin() {
    assert!(REPLENISHMENT_DMN.contains("https://www.omg.org/spec/DMN/20211108/MODEL/"));
    let small = |values: &[i64]| values.iter().map(|v| json!(v)).chain([Value::Null]).collect::<Vec<_>>();
    let matched = assert_twins(
        REPLENISHMENT_DMN,
        REPLENISHMENT_YAML,
        &[
            ("stock_on_hand", small(&[-1, 0, 2, 3])),
            ("donor_available", small(&[0, 5, 6])),
            ("lead_time_days", small(&[3, 4])),
            ("days_since_count", small(&[7, 8])),
        ],
    );
    assert!(matched > 100, "{matched}");
    let table = dmn(REPLENISHMENT_DMN);
    assert_eq!(table.outputs[0].allowed, Some(vec![json!("transfer"), json!("expedite_po"), json!("recount")]));
    let evaluation = evaluate(
        &table,
        json!({"stock_on_hand": 0, "donor_available": 8, "lead_time_days": 1, "days_since_count": 30}),
    );
    assert_eq!(evaluation.outputs, vec![out(json!({"action": "transfer"}))]);
    assert_eq!(evaluation.matched, ["a1"]);
}

#[test]
fn delivery_surcharge_collect_sum_matches_its_yaml_twin() {
    let weights: Vec<Value> = [0.5, 20.0, 20.01, 50.0, 50.01, 75.0].iter().map(|w| json!(w)).collect();
    let zones = vec![json!("local"), json!("regional"), json!("remote"), json!("moon"), Value::Null];
    let express = vec![json!(true), json!(false), Value::Null];
    let matched = assert_twins(
        SURCHARGE_DMN,
        SURCHARGE_YAML,
        &[("order_weight_kg", weights), ("delivery_zone", zones), ("express", express)],
    );
    assert!(matched > 50, "{matched}");
    let evaluation =
        evaluate(&dmn(SURCHARGE_DMN), json!({"order_weight_kg": 60, "delivery_zone": "remote", "express": true}));
    assert_eq!(evaluation.outputs, vec![out(json!({"surcharge": 31.74}))]);
    assert_eq!(evaluation.matched, ["s1", "s2", "s3", "s4"]);
}

#[test]
fn older_namespaces_missing_ids_and_unnamed_outputs() {
    // DMN 1.1 as Camunda 7 writes it, with a prefixed namespace, no rule ids and an output
    // without a name; a second decision is a literal expression, which is skipped.
    let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<dmn:definitions xmlns:dmn="http://www.omg.org/spec/DMN/20151101/dmn.xsd" id="defs" name="Defs" namespace="http://camunda.org/schema/1.0/dmn">
  <dmn:decision id="shrink_alert" name="Shrink alert">
    <dmn:decisionTable id="t" hitPolicy="COLLECT" aggregation="COUNT">
      <dmn:input id="i1"><dmn:inputExpression id="e1" typeRef="double"><dmn:text>shrink_pct</dmn:text></dmn:inputExpression></dmn:input>
      <dmn:output id="o1" typeRef="integer" />
      <dmn:rule><dmn:inputEntry id="a"><dmn:text>&gt; 2</dmn:text></dmn:inputEntry><dmn:outputEntry id="b"><dmn:text>1</dmn:text></dmn:outputEntry></dmn:rule>
      <dmn:rule><dmn:inputEntry id="c"><dmn:text>&gt; 5</dmn:text></dmn:inputEntry><dmn:outputEntry id="d"><dmn:text>1</dmn:text></dmn:outputEntry></dmn:rule>
    </dmn:decisionTable>
  </dmn:decision>
  <dmn:decision id="note"><dmn:literalExpression id="l"><dmn:text>"x"</dmn:text></dmn:literalExpression></dmn:decision>
</dmn:definitions>"#;
    let table = dmn(text);
    assert_eq!(table.outputs[0].name, "shrink_alert");
    assert_eq!(table.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    let evaluation = evaluate(&table, json!({"shrink_pct": 6.5}));
    assert_eq!(evaluation.outputs, vec![out(json!({"shrink_alert": 2}))]);
    assert_eq!(evaluation.matched, ["1", "2"]);

    // DMN 1.2, default hit policy (UNIQUE), defaults and an output entry left empty (null).
    let text = r#"<definitions xmlns="http://www.omg.org/spec/DMN/20180521/MODEL/" id="d" name="d" namespace="n">
  <decision id="markdown" name="Markdown">
    <decisionTable id="t">
      <input id="i"><inputExpression id="e"><text>days_to_expiry</text></inputExpression></input>
      <output id="o" name="percent"><defaultOutputEntry id="z"><text>0</text></defaultOutputEntry></output>
      <rule id="m1"><inputEntry id="a"><text>&lt;= 1</text></inputEntry><outputEntry id="b"><text>50</text></outputEntry></rule>
      <rule id="m2"><inputEntry id="c"><text>[2..3]</text></inputEntry><outputEntry id="d"><text>25</text></outputEntry></rule>
      <rule id="m3"><inputEntry id="f"><text>null</text></inputEntry><outputEntry id="g"><text/></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"#;
    let table = dmn(text);
    assert_eq!(table.hit_policy, HitPolicy::Unique);
    assert_eq!(evaluate(&table, json!({"days_to_expiry": 3})).outputs, vec![out(json!({"percent": 25}))]);
    let evaluation = evaluate(&table, json!({"days_to_expiry": 10}));
    assert_eq!((evaluation.outputs, evaluation.matched), (vec![out(json!({"percent": 0}))], vec![]));
    assert_eq!(evaluate(&table, json!({})).outputs, vec![out(json!({"percent": null}))]);
}

#[test]
fn a_file_without_decision_tables_gives_none() {
    let text = r#"<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="d" namespace="n">
  <decision id="note" name="Note"><literalExpression id="l"><text>"x"</text></literalExpression></decision>
</definitions>"#;
    assert_eq!(tables_from_dmn(text), Ok(vec![]));
}
